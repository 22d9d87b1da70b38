package extract_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/internal/scantest"
)

func TestParsePageRanges(t *testing.T) {
	cases := []struct {
		in    string
		pages int
		want  []extract.PageRange
		bad   string // part of the message when refused
	}{
		{"1-2, 3", 3, []extract.PageRange{{1, 2}, {3, 3}}, ""},
		{"١–٢، ٤", 5, []extract.PageRange{{1, 2}, {4, 4}}, ""},
		{"1;2;3", 3, []extract.PageRange{{1, 1}, {2, 2}, {3, 3}}, ""},
		{"1-3", 3, nil, "جزأين"},
		{"1-2, 2-3", 3, nil, "الصفحة 2"},
		{"1, 4", 3, nil, "3 صفحات"},
		{"1, x", 3, nil, "«x»"},
		{"2-1, 3", 3, nil, "«2-1»"},
		{"1-300, 301-600", 1000, nil, "500"},
	}
	for _, tc := range cases {
		got, err := extract.ParsePageRanges(tc.in, tc.pages)
		if tc.bad != "" {
			if archive.ErrorCode(err) != archive.EINVALID || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("%q: %v, want a refusal saying %q", tc.in, err, tc.bad)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

// TestSplitAndThumbnail cuts a three-page PDF and a three-page TIFF into a
// two-page and a one-page file with the real tools, and draws a thumbnail.
func TestSplitAndThumbnail(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	x := extract.Extractor{Tools: extract.DetectTools(ctx, "")}
	if !x.Tools.Pdfseparate || !x.Tools.Tiffcp {
		t.Fatal("pdfseparate, pdfunite or tiffcp missing: run `make test` (it installs poppler-utils and libtiff-tools)")
	}
	var pages []*image.Gray
	var pngs [][]byte
	for i := range 3 {
		g := image.NewGray(image.Rect(0, 0, 300, 420))
		for j := range g.Pix {
			g.Pix[j] = byte(0xff - 40*i)
		}
		pages = append(pages, g)
		pngs = append(pngs, scantest.EncodePNG(g))
	}
	pdf, err := scantest.ImagePDFPages(pngs...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{"application/pdf": pdf, "image/tiff": scantest.TIFF(pages...)}
	for ct, b := range files {
		src := filepath.Join(dir, "src-"+strings.ReplaceAll(ct, "/", "-"))
		if err := os.WriteFile(src, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if n, err := x.PageCount(ctx, src, ct); err != nil || n != 3 {
			t.Fatalf("%s: %d pages %v, want 3", ct, n, err)
		}
		out := t.TempDir()
		parts, err := x.Split(ctx, src, ct, out, []extract.PageRange{{1, 2}, {3, 3}})
		if err != nil || len(parts) != 2 {
			t.Fatalf("%s: split: %v %v", ct, parts, err)
		}
		for i, want := range []int{2, 1} {
			if n, err := x.PageCount(ctx, parts[i], ct); err != nil || n != want {
				t.Errorf("%s part %d: %d pages %v, want %d", ct, i+1, n, err, want)
			}
		}
		// The one-page part is the third page: the darkest.
		thumb, err := x.Thumbnail(ctx, parts[1], ct, out, 120)
		if err != nil {
			t.Fatalf("%s: thumbnail: %v", ct, err)
		}
		img, err := jpeg.Decode(bytes.NewReader(thumb))
		if err != nil || img.Bounds().Dx() != 120 {
			t.Fatalf("%s: thumbnail %v %v, want 120 pixels wide", ct, img.Bounds(), err)
		}
		if r, _, _, _ := img.At(60, 80).RGBA(); r>>8 > 0xff-80+8 || r>>8 < 0xff-80-8 {
			t.Errorf("%s: the part's thumbnail is grey %d, want the third page's %d", ct, r>>8, 0xff-80)
		}
	}
}
