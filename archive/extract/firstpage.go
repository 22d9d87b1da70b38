package extract

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"

	"github.com/sijill/sijill/archive"
)

// FirstPage returns the first page of a stored scan — a PDF (rasterised by
// pdftoppm at 150 dpi) or an image (JPEG, PNG, TIFF, WebP; the first page of
// a multi-page TIFF) — as a baseline JPEG on white, to print it with the
// registration stamp. Re-encoding every image, rather than passing a JPEG
// through, keeps what the print embeds simple: grey or RGB, no alpha, no
// CMYK, which PDF/A and every printer take. dir holds the temporary files.
func (x *Extractor) FirstPage(ctx context.Context, path, contentType, dir string) ([]byte, error) {
	switch {
	case contentType == "application/pdf":
		if !x.Tools.Pdftoppm {
			return nil, fmt.Errorf("%w: pdftoppm (poppler-utils)", ErrUnavailable)
		}
		prefix := filepath.Join(dir, "first")
		if _, err := x.run(ctx, "pdftoppm", "-r", "150", "-jpeg", "-jpegopt", "quality=85",
			"-f", "1", "-l", "1", "-singlefile", path, prefix); err != nil {
			return nil, archive.Errorf(archive.EINVALID, "the PDF's first page cannot be drawn: %v", err)
		}
		defer os.Remove(prefix + ".jpg")
		b, err := os.ReadFile(prefix + ".jpg")
		if err != nil {
			return nil, fmt.Errorf("extract: first page: %w", err)
		}
		return b, nil
	case strings.HasPrefix(contentType, "image/"):
		if _, err := checkImageSize(path); err != nil {
			return nil, archive.Errorf(archive.EINVALID, "%v", err)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("extract: first page: %w", err)
		}
		defer f.Close()
		var img image.Image
		err = niced(func() (err error) { img, _, err = image.Decode(bufio.NewReader(f)); return err })
		if err != nil {
			return nil, archive.Errorf(archive.EINVALID, "the image cannot be read: %v", err)
		}
		if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
			// Transparent parts print white, not black.
			flat := image.NewRGBA(img.Bounds())
			draw.Draw(flat, flat.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
			draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
			img = flat
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			return nil, fmt.Errorf("extract: first page: %w", err)
		}
		return buf.Bytes(), nil
	}
	return nil, archive.Errorf(archive.EINVALID, "only a scan (a PDF or an image) can be printed with the stamp, not %s", contentType)
}
