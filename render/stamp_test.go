package render

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
)

// decodeQR rasterises the first page of the PDF at path and returns what
// zbarimg reads in it: the QR codes' contents, one a line.
func decodeQR(t *testing.T, path string, dpi string) string {
	t.Helper()
	needTool(t, "pdftoppm", "poppler-utils")
	needTool(t, "zbarimg", "zbar-tools")
	prefix := filepath.Join(t.TempDir(), "page")
	run(t, "pdftoppm", "-r", dpi, "-gray", "-png", "-singlefile", "-f", "1", "-l", "1", path, prefix)
	return strings.TrimSpace(run(t, "zbarimg", "--quiet", "--raw", prefix+".png"))
}

func writeTemp(t *testing.T, name string, write func(*os.File) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStampLabel: the registration label, at both sizes the pages offer, is
// one page of the label's size; its QR code, rasterised as a label printer
// would print it (300 dpi), reads back as the entry's address, and its
// text copies out as written.
func TestStampLabel(t *testing.T) {
	rec := testRecord(117, "طلب موعد", "")
	rec.Register, rec.ID = archive.Incoming, "incoming-2026-117"
	const url = "https://sijill.hizb.ma/records/incoming-2026-117"
	for _, tc := range []struct {
		size  LabelSize
		pdfpt string // pdfinfo's page size
	}{
		{LabelSmall, "175.75 x 82.2 pts"},
		{LabelLarge, "283.46 x 141.73 pts"},
	} {
		opt := StampOptions{Organisation: "حزب الأصالة والمعاصرة — الأمانة العامة", URL: url, Now: printedAt, Label: tc.size}
		path := writeTemp(t, "label.pdf", func(f *os.File) error { return StampLabel(context.Background(), f, opt, rec) })
		if got := decodeQR(t, path, "300"); got != url {
			t.Errorf("%v label: the QR code reads %q, want %q", tc.size, got, url)
		}
		if info := run(t, "pdfinfo", path); !strings.Contains(info, tc.pdfpt) || !strings.Contains(strings.Join(strings.Fields(info), " "), "Pages: 1 ") {
			t.Errorf("%v label: not one page of the label's size:\n%s", tc.size, info)
		}
		text := strings.Join(copiedText(t, path), "\n")
		for _, want := range []string{"رقم التسجيل: 117/2026", "سجل الوارد", "بتاريخ: 2026/01/"} {
			if !strings.Contains(text, want) {
				t.Errorf("%v label: %q is not on it:\n%s", tc.size, want, text)
			}
		}
	}
}

// TestStampedPage: the first page of a scan, printed with the stamp in its
// top left corner — the scan still there around it, the QR code read back.
func TestStampedPage(t *testing.T) {
	rec := testRecord(9, "دعوة", "")
	rec.Register, rec.ID = archive.Incoming, "incoming-2026-9"
	const url = "http://localhost:8080/records/incoming-2026-9"
	// A scanned page at 100 dpi: white, with a dark bar where a letter's
	// text would be, across the whole width half-way down.
	img := image.NewGray(image.Rect(0, 0, 827, 1169))
	for i := range img.Pix {
		img.Pix[i] = 250
	}
	for y := 560; y < 600; y++ {
		for x := 80; x < 747; x++ {
			img.SetGray(x, y, color.Gray{Y: 20})
		}
	}
	var scan bytes.Buffer
	if err := jpeg.Encode(&scan, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	opt := StampOptions{Organisation: "أمانة السر", URL: url, Now: printedAt}
	path := writeTemp(t, "stamped.pdf", func(f *os.File) error {
		return StampedPage(context.Background(), f, opt, rec, scan.Bytes())
	})
	if got := decodeQR(t, path, "200"); got != url {
		t.Errorf("the stamped page's QR code reads %q, want %q", got, url)
	}
	if info := run(t, "pdfinfo", path); !strings.Contains(info, "595.28 x 841.89 pts (A4)") && !strings.Contains(info, "595.276 x 841.89 pts (A4)") {
		t.Errorf("the stamped page is not A4:\n%s", info)
	}
	// The scan is on the page: its bar, half-way down, prints dark.
	prefix := filepath.Join(t.TempDir(), "p")
	run(t, "pdftoppm", "-r", "50", "-gray", "-singlefile", path, prefix)
	b, err := os.ReadFile(prefix + ".pgm")
	if err != nil {
		t.Fatal(err)
	}
	pix := b[len(b)-413*585:] // 8.27 x 11.69 in at 50 dpi, after the PGM header
	if v := pix[290*413+206]; v > 100 {
		t.Errorf("the scan's dark bar prints with grey %d: the scan is not on the page", v)
	}
	if !strings.Contains(strings.Join(copiedText(t, path), "\n"), "رقم التسجيل: 9/2026") {
		t.Error("the stamp's number is not on the stamped page")
	}
	if err := StampedPage(context.Background(), &bytes.Buffer{}, opt, rec, []byte("GIF89a")); archive.ErrorCode(err) != archive.EINVALID {
		t.Errorf("a page that is no image: %v, want an invalid-input error", err)
	}
}

func TestParseLabelSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want LabelSize
		ok   bool
	}{
		{"62x29", LabelSmall, true},
		{"100X50", LabelLarge, true},
		{" 70x40 ", LabelSize{70, 40}, true},
		{"10x5", LabelSize{}, false},
		{"29x62", LabelSize{}, false},
		{"1000x500", LabelSize{}, false},
		{"62", LabelSize{}, false},
		{"axb", LabelSize{}, false},
	} {
		got, err := ParseLabelSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLabelSize(%q) = %v, %v", tc.in, got, err)
		}
	}
}
