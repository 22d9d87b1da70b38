package render

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
)

func TestScratchBook(t *testing.T) {
	f, _ := os.Create("/tmp/book.pdf")
	defer f.Close()
	err := Book(context.Background(), f, BookOptions{Organisation: "حزب التقدم والاشتراكية — الأمانة العامة", Register: archive.Outgoing, Year: 2026, Hijri: true, Now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}, sampleRecords(60))
	if err != nil {
		t.Fatal(err)
	}
}
