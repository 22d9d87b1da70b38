package render

import (
	"context"
	"io"
	"testing"

	"github.com/sijill/sijill/archive"
)

// BenchmarkBook10000 prints a 10,000-entry book to io.Discard. For wall time
// and peak RSS beside Chromium, run `go run ./render/bench`.
func BenchmarkBook10000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		opt := BookOptions{Register: archive.Outgoing, Year: 2026, Hijri: true, Now: printedAt}
		if err := Book(context.Background(), io.Discard, opt, sampleRecords(10000)); err != nil {
			b.Fatal(err)
		}
	}
}
