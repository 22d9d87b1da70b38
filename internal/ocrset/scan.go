package ocrset

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/sijill/sijill/internal/scantest"
)

// File makes the scanned file of l, as a scanner or a phone would send it,
// with its content type. It needs poppler-utils (pdftoppm, pdfseparate).
func (l Letter) File(ctx context.Context, seed uint64) ([]byte, string, error) {
	pdf, err := files.ReadFile("testdata/" + l.Print)
	if err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp("", "ocrset-*")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "print.pdf")
	if err := os.WriteFile(src, pdf, 0o600); err != nil {
		return nil, "", err
	}
	s := l.Scan
	page := func(n int) (*image.Gray, error) {
		one := filepath.Join(dir, "page"+strconv.Itoa(n)+".pdf")
		if out, err := exec.CommandContext(ctx, "pdfseparate", "-f", strconv.Itoa(n), "-l", strconv.Itoa(n), src, one).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ocrset: pdfseparate (poppler-utils): %v: %s", err, out)
		}
		b, err := os.ReadFile(one)
		if err != nil {
			return nil, err
		}
		g, err := scantest.Page(ctx, b, s.DPI)
		if err != nil {
			return nil, err
		}
		return scantest.Spoil(blur(g, s.Blur), s.Degrees, s.Noise, s.Speckle, seed*7+uint64(n)), nil
	}
	first, err := page(1)
	if err != nil {
		return nil, "", err
	}
	switch s.Format {
	case "png":
		return withDPI(scantest.EncodePNG(first), s.DPI), "image/png", nil
	case "jpeg":
		return encodeJPEG(first, s.Quality), "image/jpeg", nil
	case "tiff":
		return scantest.TIFF(first), "image/tiff", nil
	case "pdf":
		second, err := page(2)
		if err != nil {
			return nil, "", err
		}
		b, err := scantest.ImagePDFPages(scantest.EncodePNG(first), scantest.EncodePNG(second))
		return b, "application/pdf", err
	case "photo":
		return encodeJPEG(photo(first, seed), s.Quality), "image/jpeg", nil
	}
	return nil, "", fmt.Errorf("ocrset: unknown scan format %q", s.Format)
}

// withDPI adds a pHYs chunk, as scanners write, so the resolution is known.
func withDPI(png []byte, dpi int) []byte {
	ppm := uint32(math.Round(float64(dpi) / 0.0254))
	data := []byte("pHYs")
	data = append(data, byte(ppm>>24), byte(ppm>>16), byte(ppm>>8), byte(ppm), byte(ppm>>24), byte(ppm>>16), byte(ppm>>8), byte(ppm), 1)
	crc := crc32.ChecksumIEEE(data)
	chunk := append([]byte{0, 0, 0, 9}, data...)
	chunk = append(chunk, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
	// After the 8-byte signature and the 25-byte IHDR chunk.
	out := append([]byte{}, png[:33]...)
	out = append(out, chunk...)
	return append(out, png[33:]...)
}

func encodeJPEG(g image.Image, q int) []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, g, &jpeg.Options{Quality: q})
	return buf.Bytes()
}

// blur is a box blur of radius r, as an out-of-focus scanner gives.
func blur(g *image.Gray, r int) *image.Gray {
	if r <= 0 {
		return g
	}
	b := g.Bounds()
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			sum, n := 0, 0
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					if (image.Point{x + dx, y + dy}).In(b) {
						sum += int(g.Pix[(y+dy-b.Min.Y)*g.Stride+(x+dx-b.Min.X)])
						n++
					}
				}
			}
			out.Pix[(y-b.Min.Y)*out.Stride+(x-b.Min.X)] = uint8(sum / n)
		}
	}
	return out
}

// photo makes a page look photographed by a phone held a little askew: the
// page becomes a quadrilateral on a darker desk (a keystone warp), the light
// falls off away from one corner, and the focus is soft.
func photo(g *image.Gray, seed uint64) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, 99))
	b := g.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	// Where the page's corners land, as fractions of the photo.
	j := func(v float64) float64 { return v + (rng.Float64()-0.5)*0.03 }
	tl := [2]float64{j(0.06), j(0.04)}
	tr := [2]float64{j(0.92), j(0.07)}
	br := [2]float64{j(0.95), j(0.96)}
	bl := [2]float64{j(0.04), j(0.93)}
	at := func(x, y int) float64 {
		x, y = min(x, b.Dx()-1), min(y, b.Dy()-1)
		return float64(g.Pix[y*g.Stride+x])
	}
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	u, v := 0.0, 0.0
	for py := range b.Dy() {
		for px := range b.Dx() {
			X, Y := float64(px)/w, float64(py)/h
			if px == 0 {
				u, v = X, Y
			}
			// Invert the bilinear map from the page (u, v) to the photo by
			// Newton's method, starting from the neighbour's answer.
			for range 4 {
				fx := (1-u)*(1-v)*tl[0] + u*(1-v)*tr[0] + u*v*br[0] + (1-u)*v*bl[0] - X
				fy := (1-u)*(1-v)*tl[1] + u*(1-v)*tr[1] + u*v*br[1] + (1-u)*v*bl[1] - Y
				dxu := -(1-v)*tl[0] + (1-v)*tr[0] + v*br[0] - v*bl[0]
				dxv := -(1-u)*tl[0] - u*tr[0] + u*br[0] + (1-u)*bl[0]
				dyu := -(1-v)*tl[1] + (1-v)*tr[1] + v*br[1] - v*bl[1]
				dyv := -(1-u)*tl[1] - u*tr[1] + u*br[1] + (1-u)*bl[1]
				det := dxu*dyv - dxv*dyu
				u -= (fx*dyv - fy*dxv) / det
				v -= (fy*dxu - fx*dyu) / det
			}
			light := 1 - 0.28*math.Hypot(X-0.15, Y-0.1)/1.3
			val := 70.0 // the desk
			if u >= 0 && u <= 1 && v >= 0 && v <= 1 {
				sx, sy := u*(w-1), v*(h-1)
				x0, y0 := int(sx), int(sy)
				fx, fy := sx-float64(x0), sy-float64(y0)
				val = at(x0, y0)*(1-fx)*(1-fy) + at(x0+1, y0)*fx*(1-fy) + at(x0, y0+1)*(1-fx)*fy + at(x0+1, y0+1)*fx*fy
			}
			out.SetGray(px, py, color.Gray{Y: uint8(max(0, min(255, val*light)))})
		}
	}
	return blur(out, 1)
}
