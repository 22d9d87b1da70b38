// Package scantest turns printed pages into the documents text extraction is
// tested and measured on: rasterised and spoiled like a scan (noise and a
// slight rotation), wrapped in an image-only PDF or a multi-page TIFF. It
// draws nothing itself, so the archive's tests can use it without importing
// render: the pages come from scantest/printed, or from the born-digital
// letter kept in archive/extract/testdata.
package scantest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"codeberg.org/go-pdf/fpdf"
)

// Page rasterises the first page of pdf in grey at dpi with pdftoppm.
func Page(ctx context.Context, pdf []byte, dpi int) (*image.Gray, error) {
	dir, err := os.MkdirTemp("", "scantest-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "p")).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("scantest: pdftoppm (make test installs poppler-utils): %v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "p.png"))
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	g, ok := img.(*image.Gray)
	if !ok {
		g = image.NewGray(img.Bounds())
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				g.Set(x, y, img.At(x, y))
			}
		}
	}
	return g, nil
}

// Spoil makes a clean page look scanned: rotated by degrees (bilinear, white
// corners), a grey paper tone, and noise: amplitude is the grey noise's
// strength (0-255) and speckle the share of pixels flipped to black or white.
// seed makes it repeatable.
func Spoil(src *image.Gray, degrees float64, amplitude int, speckle float64, seed uint64) *image.Gray {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewGray(image.Rect(0, 0, w, h))
	sin, cos := math.Sincos(degrees * math.Pi / 180)
	cx, cy := float64(w)/2, float64(h)/2
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return 255
		}
		return float64(src.GrayAt(b.Min.X+x, b.Min.Y+y).Y)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for y := range h {
		for x := range w {
			// The source point that lands on (x, y).
			dx, dy := float64(x)-cx, float64(y)-cy
			sx, sy := cos*dx+sin*dy+cx, -sin*dx+cos*dy+cy
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := at(x0, y0)*(1-fx)*(1-fy) + at(x0+1, y0)*fx*(1-fy) + at(x0, y0+1)*(1-fx)*fy + at(x0+1, y0+1)*fx*fy
			v = v*0.92 + 8 // paper is not white, ink is not black
			if amplitude > 0 {
				v += float64(rng.IntN(2*amplitude+1) - amplitude)
			}
			if speckle > 0 && rng.Float64() < speckle {
				if rng.IntN(2) == 0 {
					v = 0
				} else {
					v = 255
				}
			}
			dst.SetGray(x, y, color.Gray{Y: uint8(max(0, min(255, math.Round(v))))})
		}
	}
	return dst
}

// ImagePDF wraps a PNG page (at 300 dpi) in a PDF without a text layer: what
// a scanner that writes PDFs sends.
func ImagePDF(pngPage []byte) ([]byte, error) { return ImagePDFPages(pngPage) }

// ImagePDFPages is ImagePDF for several pages, one PNG (at 300 dpi) each.
func ImagePDFPages(pngPages ...[]byte) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	for i, page := range pngPages {
		cfg, err := png.DecodeConfig(bytes.NewReader(page))
		if err != nil {
			return nil, err
		}
		wmm, hmm := float64(cfg.Width)*25.4/300, float64(cfg.Height)*25.4/300
		pdf.AddPageFormat("P", fpdf.SizeType{Wd: wmm, Ht: hmm})
		opt := fpdf.ImageOptions{ImageType: "PNG"}
		name := fmt.Sprintf("scan%d", i)
		pdf.RegisterImageOptionsReader(name, opt, bytes.NewReader(page))
		pdf.ImageOptions(name, 0, 0, wmm, hmm, false, opt, 0, "")
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("scantest: image PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// TIFF encodes grey pages as one uncompressed multi-page TIFF at 300 dpi, as
// a document feeder scans a letter.
func TIFF(pages ...*image.Gray) []byte {
	var out bytes.Buffer
	le := binary.LittleEndian
	out.Write([]byte("II*\x00\x00\x00\x00\x00"))
	prevNext := 4 // where the offset of the next directory is written
	for _, p := range pages {
		w, h := p.Bounds().Dx(), p.Bounds().Dy()
		pix := make([]byte, 0, w*h)
		for y := range h {
			pix = append(pix, p.Pix[y*p.Stride:y*p.Stride+w]...)
		}
		dataOff := out.Len()
		out.Write(pix)
		if out.Len()%2 == 1 {
			out.WriteByte(0)
		}
		resOff := out.Len()
		for range 2 { // XResolution, YResolution: 300/1
			binary.Write(&out, le, uint32(300))
			binary.Write(&out, le, uint32(1))
		}
		ifdOff := out.Len()
		b := out.Bytes()
		le.PutUint32(b[prevNext:], uint32(ifdOff))
		type entry struct {
			tag, typ uint16
			val      uint32
		}
		entries := []entry{
			{256, 4, uint32(w)}, {257, 4, uint32(h)}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
			{273, 4, uint32(dataOff)}, {277, 3, 1}, {278, 4, uint32(h)}, {279, 4, uint32(len(pix))},
			{282, 5, uint32(resOff)}, {283, 5, uint32(resOff + 8)}, {296, 3, 2},
		}
		binary.Write(&out, le, uint16(len(entries)))
		for _, e := range entries {
			binary.Write(&out, le, e.tag)
			binary.Write(&out, le, e.typ)
			binary.Write(&out, le, uint32(1))
			binary.Write(&out, le, e.val) // SHORT values sit in the low bytes, little-endian
		}
		prevNext = out.Len()
		binary.Write(&out, le, uint32(0))
	}
	return out.Bytes()
}

// Trim cuts a page after its body: at the first blank gap taller than a
// fifth of the page (which leaves out the footer), keeping margin rows, so
// tests OCR only the part of the page that has text.
func Trim(g *image.Gray, margin int) *image.Gray {
	b := g.Bounds()
	last := 0
	for y := range b.Dy() {
		if y-last > b.Dy()/5 && last > 0 {
			break
		}
		for x := range b.Dx() {
			if g.Pix[y*g.Stride+x] < 128 {
				last = y
				break
			}
		}
	}
	return Crop(g, 0, min(b.Dy(), last+margin))
}

// Crop returns rows from y0 to y1 of g as a page of its own.
func Crop(g *image.Gray, y0, y1 int) *image.Gray {
	b := g.Bounds()
	sub := g.SubImage(image.Rect(b.Min.X, b.Min.Y+y0, b.Max.X, b.Min.Y+y1)).(*image.Gray)
	out := image.NewGray(image.Rect(0, 0, sub.Bounds().Dx(), sub.Bounds().Dy()))
	for y := range out.Bounds().Dy() {
		copy(out.Pix[y*out.Stride:], sub.Pix[y*sub.Stride:y*sub.Stride+out.Bounds().Dx()])
	}
	return out
}

// EncodePNG encodes g as PNG.
func EncodePNG(g image.Image) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, g)
	return buf.Bytes()
}
