package extract

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/sijill/sijill/archive"
)

// PageRange is pages From to To of a scan, counted from 1, both included.
type PageRange struct{ From, To int }

// ParsePageRanges reads the parts a secretary types to split a scan:
// "1-2, 3, 4-6" (Western or Eastern digits, Arabic or Latin commas or
// semicolons, any dash). Each part is a new letter; the parts must not
// overlap and must lie within the scan's pages; pages no part names are
// left out (a blank back, a cover sheet). Its messages are in Arabic: they
// are shown beside the field the secretary typed the parts in.
func ParsePageRanges(s string, pages int) ([]PageRange, error) {
	s = strings.Map(archive.LatinDigit, s)
	var out []PageRange
	used := map[int]bool{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",،;؛\n", r) }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, b, isRange := strings.Cut(strings.NewReplacer("–", "-", "—", "-", "−", "-", " ", "").Replace(part), "-")
		from, err1 := strconv.Atoi(a)
		to, err2 := from, error(nil)
		if isRange {
			to, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || from < 1 || to < from {
			return nil, archive.Errorf(archive.EINVALID, "«%s» ليست صفحة ولا مدى صفحات مثل 1-3", part)
		}
		if to > pages {
			return nil, archive.Errorf(archive.EINVALID, "في الملف %d صفحات، فلا صفحة %d", pages, to)
		}
		if len(used)+to-from+1 > maxSplitPages {
			return nil, archive.Errorf(archive.EINVALID, "تُقسَّم %d صفحة على الأكثر في المرة الواحدة", maxSplitPages)
		}
		for p := from; p <= to; p++ {
			if used[p] {
				return nil, archive.Errorf(archive.EINVALID, "الصفحة %d في جزأين", p)
			}
			used[p] = true
		}
		out = append(out, PageRange{from, to})
	}
	if len(out) < 2 {
		return nil, archive.Errorf(archive.EINVALID, "اذكر جزأين على الأقل لتقسيم الملف، مثل 1-2، 3")
	}
	return out, nil
}

// maxSplitPages bounds the pages one split copies: a morning's pile, not a
// book (each page is a file written and joined again).
const maxSplitPages = 500

// PageCount returns the number of pages of a PDF or TIFF scan (1 for any
// other image or document).
func (x *Extractor) PageCount(ctx context.Context, path, contentType string) (int, error) {
	switch contentType {
	case "application/pdf":
		if !x.Tools.Pdfinfo {
			return 0, fmt.Errorf("%w: pdfinfo (poppler-utils)", ErrUnavailable)
		}
		n, _, err := x.pdfPages(ctx, path, 1)
		if err != nil {
			return 0, archive.Errorf(archive.EINVALID, "the PDF cannot be read: %v", err)
		}
		return n, nil
	case "image/tiff":
		n, err := tiffPages(path)
		if err != nil {
			return 0, archive.Errorf(archive.EINVALID, "%v", err)
		}
		return n, nil
	}
	return 1, nil
}

// Split cuts a multi-page scan (PDF or TIFF) into one file per part, in dir,
// and returns their paths: a morning's pile scanned as one file holds
// several letters. PDF pages are copied as they are (pdfseparate and
// pdfunite, poppler-utils), TIFF pages with tiffcp (libtiff-tools): nothing
// is rasterised again, so each part is the scan it was.
func (x *Extractor) Split(ctx context.Context, path, contentType, dir string, parts []PageRange) ([]string, error) {
	var out []string
	switch contentType {
	case "application/pdf":
		if !x.Tools.Pdfseparate {
			return nil, fmt.Errorf("%w: pdfseparate and pdfunite (poppler-utils)", ErrUnavailable)
		}
		for i, pr := range parts {
			pattern := filepath.Join(dir, fmt.Sprintf("part%d-page-%%d.pdf", i+1))
			if _, err := x.run(ctx, "pdfseparate", "-f", strconv.Itoa(pr.From), "-l", strconv.Itoa(pr.To), path, pattern); err != nil {
				return nil, archive.Errorf(archive.EINVALID, "pages %d-%d of the PDF cannot be taken out: %v", pr.From, pr.To, err)
			}
			var pages []string
			for p := pr.From; p <= pr.To; p++ {
				pages = append(pages, fmt.Sprintf(pattern, p))
			}
			dst := filepath.Join(dir, fmt.Sprintf("part-%d.pdf", i+1))
			if _, err := x.run(ctx, "pdfunite", append(pages, dst)...); err != nil {
				return nil, fmt.Errorf("extract: join pages %d-%d: %w", pr.From, pr.To, err)
			}
			out = append(out, dst)
		}
	case "image/tiff":
		if !x.Tools.Tiffcp {
			return nil, fmt.Errorf("%w: tiffcp (libtiff-tools)", ErrUnavailable)
		}
		for i, pr := range parts {
			sel := path
			for p := pr.From; p <= pr.To; p++ {
				sel += "," + strconv.Itoa(p-1) // tiffcp counts directories from 0
			}
			dst := filepath.Join(dir, fmt.Sprintf("part-%d.tif", i+1))
			if _, err := x.run(ctx, "tiffcp", sel, dst); err != nil {
				return nil, archive.Errorf(archive.EINVALID, "pages %d-%d of the TIFF cannot be copied: %v", pr.From, pr.To, err)
			}
			out = append(out, dst)
		}
	default:
		return nil, archive.Errorf(archive.EINVALID, "only a PDF or a multi-page TIFF can be split, not %s", contentType)
	}
	return out, nil
}

// Thumbnail returns the first page of a scan (see FirstPage), width pixels
// wide, as a JPEG: what the inbox shows of each file.
func (x *Extractor) Thumbnail(ctx context.Context, path, contentType, dir string, width int) ([]byte, error) {
	page, err := x.FirstPage(ctx, path, contentType, dir)
	if err != nil {
		return nil, err
	}
	var img image.Image
	if err := niced(func() (err error) { img, err = jpeg.Decode(bytes.NewReader(page)); return err }); err != nil {
		return nil, fmt.Errorf("extract: thumbnail: %w", err)
	}
	b := img.Bounds()
	if b.Dx() <= width {
		return page, nil
	}
	h := max(1, b.Dy()*width/b.Dx())
	small := image.NewRGBA(image.Rect(0, 0, width, h))
	draw.ApproxBiLinear.Scale(small, small.Bounds(), img, b, draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("extract: thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}
