package extract

import (
	"cmp"
	"image"
	"math"
	"slices"

	"github.com/sijill/sijill/archive/extract/internal/glyph"
)

// commaStops finds the Arabic commas (and colons) Tesseract read as other
// marks. Its Arabic models have no «،»; where a font draws it like a Latin
// comma, Tesseract writes «,» or «»» and commas() puts it back from the
// text alone. Otherwise only the mark itself tells, in raw, the page before
// the median filter (which wears a comma's tail away):
//   - «؛» over a single mark is a comma (Naskh's and Amiri's are read so:
//     a semicolon is a comma over a dot), over two round marks one above
//     the other a colon;
//   - «.» is a comma in fonts whose comma comes out as a stop: the KACST
//     fonts' small inverted comma, Noto Sans Arabic's at 200 dpi — a comma
//     in every line or two of a letter, most of its character error rate.
//     A page is taken to have that trouble when it read (almost) no comma
//     otherwise and ends four words or more with a stop: on the OCR set the
//     five letters in those fonts read 0-1 commas to 13-38 stops, the eight
//     others 1-13 commas to 1-6 stops. On such a page a tall mark is a
//     comma whose tail the scan kept (a stop is round: Noto Sans's commas
//     are 4-5 pixels wide and 8-9 tall at 200 dpi, its stops 5 by 5-6), and
//     the round marks, if they are of two sizes (the means 30% to twice
//     apart), are stops and the small heads of commas whose tail was too
//     fine to keep (KACST's: 26-37 pixels of ink against 44-55 at 300 dpi).
//
// It returns, line by line, the characters to write otherwise.
func commaStops(lines []ocrLine, raw *image.Gray) map[int][]mark {
	if raw == nil {
		return nil
	}
	type stop struct {
		line, word, char int
		area, aspect     float64
	}
	var stops []stop
	out := map[int][]mark{}
	read := 0 // commas Tesseract read as commas
	for li, l := range lines {
		for wi, w := range l.Words {
			for ci := 1; ci < len(w.Chars); ci++ {
				prev := []rune(w.Chars[ci-1].Text)
				if len(prev) == 0 || !isArabicLetter(prev[0]) {
					continue
				}
				last := ci == len(w.Chars)-1
				switch w.Chars[ci].Text {
				case ",", "»", "،":
					read++
				case ".":
					if !last {
						continue
					}
					if shapes := marksUnder(w.Chars[ci].Box, l.Box, raw); len(shapes) > 0 {
						s := shapes[0]
						stops = append(stops, stop{li, wi, ci, float64(s.Area), float64(s.Box.Dy()) / float64(s.Box.Dx())})
					}
				case "؛":
					// A semicolon is a comma over a dot, a colon two dots:
					// one mark is a comma (Naskh's and Amiri's are read so).
					if !last {
						continue
					}
					switch shapes := marksUnder(w.Chars[ci].Box, l.Box, raw); {
					case len(shapes) == 1:
						out[li] = append(out[li], mark{wi, ci, "،"})
					case len(shapes) == 2 && round(shapes[0]) && round(shapes[1]) && stacked(shapes[0].Box, shapes[1].Box):
						out[li] = append(out[li], mark{wi, ci, ":"})
					}
				}
			}
		}
	}
	if len(stops) < 4 || 10*read > len(stops) {
		return out
	}
	// A tall mark is a comma whose tail the scan kept: a stop is round.
	// Of the round ones, two sizes are parted, and the smaller are commas
	// whose tail was too fine to keep.
	var commas, round []stop
	for _, s := range stops {
		if s.aspect >= 1.5 {
			commas = append(commas, s)
		} else {
			round = append(round, s)
		}
	}
	slices.SortFunc(round, func(a, b stop) int { return cmp.Compare(a.area, b.area) })
	areas := make([]float64, len(round))
	for i, s := range round {
		areas[i] = s.area
	}
	// The larger kind must be stops too: not more than twice the smaller
	// (a letter's part under a stop's box is).
	if cut := twoKinds(areas); cut > 0 && areas[cut]/areas[cut-1] >= 1.15 &&
		mean(areas[cut:]) >= 1.3*mean(areas[:cut]) && mean(areas[cut:]) <= 2*mean(areas[:cut]) {
		commas = append(commas, round[:cut]...)
	}
	for _, s := range commas {
		out[s.line] = append(out[s.line], mark{s.word, s.char, "،"})
	}
	return out
}

// mark is a character of a line's word to write otherwise.
type mark struct {
	word, char int
	text       string
}

func round(s glyph.Shape) bool { return 2*s.Box.Dy() < 3*s.Box.Dx() }

// stacked says whether two marks stand one above the other.
func stacked(a, b image.Rectangle) bool {
	return overlapX(a, b) && (a.Max.Y <= b.Min.Y || b.Max.Y <= a.Min.Y)
}

// twoKinds parts sorted positive values into two runs, marks[:cut] and
// marks[cut:], as alike within each as can be (least squares of their
// logarithms: a colon read as «؛» among the stops is a third kind, which
// the widest step alone would part from the rest); -1 for fewer than two.
func twoKinds(marks []float64) int {
	if len(marks) < 2 {
		return -1
	}
	logs := make([]float64, len(marks))
	for i, m := range marks {
		logs[i] = math.Log(m)
	}
	spread := func(v []float64) float64 {
		m, s := mean(v), 0.0
		for _, x := range v {
			s += (x - m) * (x - m)
		}
		return s
	}
	cut, best := -1, math.Inf(1)
	for i := 1; i < len(logs); i++ {
		if s := spread(logs[:i]) + spread(logs[i:]); s < best {
			cut, best = i, s
		}
	}
	return cut
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// marksUnder are the dot-sized shapes under a mark's box, left to right
// (the mark follows its word, to the left: the first is the mark).
func marksUnder(char, line image.Rectangle, raw *image.Gray) []glyph.Shape {
	box := image.Rect(char.Min.X-2, line.Min.Y, char.Max.X+2, line.Max.Y).Intersect(raw.Bounds())
	if box.Empty() {
		return nil
	}
	limit := max(4, line.Dy()/4)
	shapes := slices.DeleteFunc(glyph.Shapes(raw, box, glyph.Threshold(raw, box), 10), func(s glyph.Shape) bool {
		return s.Box.Dx() > limit || s.Box.Dy() > limit
	})
	slices.SortFunc(shapes, func(a, b glyph.Shape) int { return a.Box.Min.X - b.Box.Min.X })
	return shapes
}

// withMarks is l with the given characters rewritten, and whether there
// were any.
func withMarks(l ocrLine, at []mark) (ocrLine, bool) {
	if len(at) == 0 {
		return l, false
	}
	l.Words = slices.Clone(l.Words)
	for _, m := range at {
		w := &l.Words[m.word]
		w.Chars = slices.Clone(w.Chars)
		w.Chars[m.char].Text = m.text
	}
	return l, true
}
