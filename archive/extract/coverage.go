package extract

import (
	"image"
	"strings"

	"github.com/sijill/sijill/archive/extract/internal/glyph"
)

// uncoveredInk is the share of a page's ink that lies outside every line a
// reading found: near nothing when the reading took in all the text, a
// tenth and more when it dropped lines, which mode 6 does on some noisy
// scans while staying confident in the lines it kept. Rules, stamps and
// logos are ink outside lines too, so a letterhead can bring a page a
// second reading it did not need; it costs time, never text.
func uncoveredInk(g *image.Gray, lines []ocrLine) float64 {
	b := g.Bounds()
	var boxes []image.Rectangle
	for _, l := range lines {
		if strings.TrimSpace(l.Text()) == "" {
			continue
		}
		// A little margin: Tesseract's line box can clip a letter's tail
		// or the dots below it.
		m := max(2, l.Box.Dy()/4)
		boxes = append(boxes, l.Box.Inset(-m))
	}
	dark := glyph.Threshold(g, b)
	if dark > 200 {
		dark = 128 // a blank page: nothing is ink
	}
	ink, out := 0, 0
	var row []image.Rectangle
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row = row[:0]
		for _, r := range boxes {
			if y >= r.Min.Y && y < r.Max.Y {
				row = append(row, r)
			}
		}
		pix := g.Pix[g.PixOffset(b.Min.X, y):g.PixOffset(b.Max.X, y)]
		for i, v := range pix {
			if v > dark {
				continue
			}
			ink++
			x := b.Min.X + i
			covered := false
			for _, r := range row {
				if x >= r.Min.X && x < r.Max.X {
					covered = true
					break
				}
			}
			if !covered {
				out++
			}
		}
	}
	if ink == 0 {
		return 0
	}
	return float64(out) / float64(ink)
}
