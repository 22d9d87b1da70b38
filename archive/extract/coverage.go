package extract

import (
	"image"
	"strings"
)

// uncoveredInk is the share of a page's ink that lies outside every line a
// reading found: near nothing when the reading took in all the text, a
// tenth and more when it dropped lines, which mode 6 does on some noisy
// scans while staying confident in the lines it kept. Rules, stamps and
// logos are ink outside lines too, so a letterhead can bring a page a
// second reading it did not need; it costs time, never text.
//
// Ink is what is clearly darker than the paper around it (see background),
// not what is darker than one threshold for the page: in a phone photo the
// table around the sheet and the shade across it were nine tenths of the
// "ink", and every photo was read twice for them.
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
	bg := newBackground(g)
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
		paper := bg.row(y - b.Min.Y)
		for i, v := range pix {
			if !isInk(v, paper[i/backgroundBlock]) {
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

// backgroundBlock is the side, in pixels, of the squares the paper's
// brightness is taken over: larger than a letter at 300 dpi, so that each
// square or one beside it holds paper.
const backgroundBlock = 32

// minPaper is the least brightness of paper.
const minPaper = 150

// background is the brightness of the paper across a page: the brightest
// pixel of each square of backgroundBlock pixels, then the brightest of it
// and its eight neighbours (a square full of a heading's ink takes its
// neighbours' paper). A square with one beside it holding no paper at all
// (brightest pixel under minPaper: the table around a photographed sheet, a
// black logo) is taken as no paper, so the edge of the sheet is no ink.
type background struct {
	cols  int
	level []uint8 // by square, rows of cols
}

func newBackground(g *image.Gray) background {
	b := g.Bounds()
	cols := (b.Dx() + backgroundBlock - 1) / backgroundBlock
	rows := (b.Dy() + backgroundBlock - 1) / backgroundBlock
	peak := make([]uint8, cols*rows)
	for y := range b.Dy() {
		pix := g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):][:b.Dx()]
		sq := peak[(y/backgroundBlock)*cols:][:cols]
		for x, v := range pix {
			if c := x / backgroundBlock; v > sq[c] {
				sq[c] = v
			}
		}
	}
	level := make([]uint8, cols*rows)
	for r := range rows {
		for c := range cols {
			hi, lo := uint8(0), uint8(255)
			for dr := max(r-1, 0); dr <= min(r+1, rows-1); dr++ {
				for dc := max(c-1, 0); dc <= min(c+1, cols-1); dc++ {
					hi, lo = max(hi, peak[dr*cols+dc]), min(lo, peak[dr*cols+dc])
				}
			}
			if lo >= minPaper {
				level[r*cols+c] = hi
			}
		}
	}
	return background{cols: cols, level: level}
}

// row is the paper's brightness along pixel row y, by square.
func (bg background) row(y int) []uint8 {
	return bg.level[(y/backgroundBlock)*bg.cols:][:bg.cols]
}

// isInk says whether a pixel of brightness v is ink on paper of brightness
// paper: under 60% of it, and by more than a speck of noise. Where there is
// no paper (0) nothing is.
func isInk(v, paper uint8) bool {
	return int(v)*5 < int(paper)*3 && int(paper)-int(v) > 48
}
