package printed_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sijill/sijill/internal/scantest/printed"
)

var update = flag.Bool("update", false, "write the born-digital letter of the extraction tests again")

// The letter archive/extract's tests read: kept as a file there so that the
// archive's tests do not import render (DESIGN.md: archive imports none of
// the others).
const (
	letterFile    = "../../../archive/extract/testdata/letter.pdf"
	letterSubject = "دعوة إلى اجتماع المكتب السياسي"
	letterBody    = "يشرفنا أن ندعوكم إلى حضور اجتماع المكتب السياسي لمناقشة التقرير المالي وتحضير المؤتمر الجهوي بمدينة بوزنيقة."
)

// TestExtractionLetter: the kept letter is the print of its subject and body
// (go test ./internal/scantest/printed -update writes it again after a
// change to render), and poppler reads its text layer.
func TestExtractionLetter(t *testing.T) {
	pdf, err := printed.PDF(context.Background(), letterSubject, letterBody)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(letterFile, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := os.ReadFile(letterFile)
	if err != nil {
		t.Fatalf("%v: run go test ./internal/scantest/printed -update", err)
	}
	if !bytes.Equal(kept, pdf) {
		t.Errorf("%s is not the print of today's render: run go test ./internal/scantest/printed -update", letterFile)
	}
	cmd := exec.Command("pdftotext", "-layout", letterFile, "-")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// The print's text layer holds the body's letters, not presentation forms.
	if !strings.Contains(string(out), "بوزنيقة") {
		t.Errorf("the letter's text layer lacks its body:\n%s", out)
	}
}
