package render

import (
	"bytes"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// inkWidth prints word alone at 40 pt and returns the width, in pixels at
// 100 dpi, of the ink poppler rasterises, and the text pdftotext copies out.
func inkWidth(t *testing.T, word string) (int, string) {
	t.Helper()
	needTool(t, "pdftoppm", "poppler-utils")
	d, err := newDoc(false, "tatweel", "", printedAt)
	if err != nil {
		t.Fatal(err)
	}
	d.pdf.AddPage()
	d.setFont(regular, 40)
	d.textRight(180, 60, word)
	var buf bytes.Buffer
	if err := d.finish(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "w.pdf")
	if err := os.WriteFile(pdf, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-gray", "-r", "100", "-singlefile", pdf, filepath.Join(dir, "w")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "w.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	lo, hi := r.Max.X, -1
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < 128 {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
	}
	return hi - lo + 1, strings.TrimSpace(run(t, "pdftotext", pdf, "-"))
}

// TestTatweel: a word lengthened with tatweel prints longer by the strokes
// typed — Amiri gives the tatweel neither advance nor ink, so it vanished —
// and copies out with them.
func TestTatweel(t *testing.T) {
	plain, _ := inkWidth(t, "بسم")
	long, text := inkWidth(t, "بســـم")
	// three tatweels of 0.3 em at 40 pt and 100 dpi: 3 × 0.3 × 40/72 × 100 px
	want := int(0.8 * 3 * 0.3 * 40 / 72 * 100)
	if long-plain < want {
		t.Errorf("بســـم prints %d px wide, بسم %d px: the tatweels add %d px, want at least %d", long, plain, long-plain, want)
	}
	if got := strings.Trim(text, "\u202b\u202c"); got != "بســـم" {
		t.Errorf("copied out %q, want بســـم", got)
	}
}
