package extract

import (
	"image"
	"testing"
)

// TestUncoveredInk: ink the reading's lines leave out is counted; the
// surroundings of a photographed sheet and the shade across it are not.
func TestUncoveredInk(t *testing.T) {
	const w, h = 1200, 1600
	// page draws a sheet (from sheet.Min to sheet.Max, the rest at
	// surround) whose paper brightens from left to right by shade, with
	// ten lines of "letters", and returns the lines' boxes.
	page := func(sheet image.Rectangle, surround uint8, shade int) (*image.Gray, []ocrLine) {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				v := surround
				if image.Pt(x, y).In(sheet) {
					v = uint8(255 - shade + shade*x/w)
				}
				g.Pix[y*g.Stride+x] = v
			}
		}
		var lines []ocrLine
		for i := range 10 {
			top := 300 + 100*i
			box := image.Rect(250, top, 950, top+40)
			for x := box.Min.X; x < box.Max.X; x += 20 {
				for y := box.Min.Y + 5; y < box.Max.Y-5; y++ {
					for dx := range 8 {
						g.Pix[y*g.Stride+x+dx] = 20
					}
				}
			}
			lines = append(lines, ocrLine{Box: box, Words: []ocrWord{{Box: box, Chars: []ocrChar{{Box: box, Text: "كلمة"}}}}})
		}
		return g, lines
	}
	whole := image.Rect(0, 0, w, h)
	sheet := image.Rect(100, 120, 1100, 1500)
	scan, scanLines := page(whole, 0, 0)
	table, tableLines := page(sheet, 80, 0)
	shaded, shadedLines := page(sheet, 60, 90)
	for _, tc := range []struct {
		name     string
		g        *image.Gray
		lines    []ocrLine
		min, max float64
	}{
		{"a scan read whole", scan, scanLines, 0, 0.01},
		{"a scan whose reading lost half its lines", scan, scanLines[:5], 0.45, 0.55},
		{"a photo: the sheet on a dark table", table, tableLines, 0, 0.01},
		{"a photo: shade across the sheet", shaded, shadedLines, 0, 0.01},
		{"a photo whose reading lost half its lines", shaded, shadedLines[5:], 0.45, 0.55},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := uncoveredInk(tc.g, tc.lines); got < tc.min || got > tc.max {
				t.Errorf("uncovered ink %.3f, want %.2f-%.2f", got, tc.min, tc.max)
			}
		})
	}
}
