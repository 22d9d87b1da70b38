// Package glyph cuts a line of print into its connected shapes and
// describes each shape so that shapes of the same character, in any size
// and in most fonts, describe alike. It is the measure shared by the digit
// reader of package extract and the program that makes the reader's
// templates (gendigits), so that both measure the same way.
package glyph

import (
	"image"
	"math"
	"slices"
)

// Shape is one connected shape of ink (eight neighbours).
type Shape struct {
	Box image.Rectangle
	// Ink holds Box.Dx()*Box.Dy() cells, row by row, true where the shape
	// has ink (other shapes inside its box are not its ink).
	Ink  []bool
	Area int
}

// Threshold is Otsu's threshold of the grey levels in r: the level that
// best parts ink from paper in that part of the page.
func Threshold(g *image.Gray, r image.Rectangle) uint8 {
	var hist [256]int
	r = r.Intersect(g.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := g.Pix[g.PixOffset(r.Min.X, y):g.PixOffset(r.Max.X, y)]
		for _, v := range row {
			hist[v]++
		}
		n += len(row)
	}
	if n == 0 {
		return 128
	}
	var sum float64
	for i, c := range hist {
		sum += float64(i * c)
	}
	var sumB, wB float64
	best, level := -1.0, 128
	for t := range 256 {
		wB += float64(hist[t])
		if wB == 0 {
			continue
		}
		wF := float64(n) - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * hist[t])
		mB, mF := sumB/wB, (sum-sumB)/wF
		if between := wB * wF * (mB - mF) * (mB - mF); between > best {
			best, level = between, t
		}
	}
	return uint8(level)
}

// Shapes finds the shapes of ink (grey level at most dark) in r, skipping
// those of fewer than minArea cells, in no particular order.
func Shapes(g *image.Gray, r image.Rectangle, dark uint8, minArea int) []Shape {
	r = r.Intersect(g.Bounds())
	w, h := r.Dx(), r.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	label := make([]int32, w*h)
	ink := func(x, y int) bool { return g.Pix[g.PixOffset(r.Min.X+x, r.Min.Y+y)] <= dark }
	var out []Shape
	var stack []int
	next := int32(0)
	for start := range label {
		if label[start] != 0 || !ink(start%w, start/w) {
			continue
		}
		next++
		label[start] = next
		stack = append(stack[:0], start)
		box := image.Rect(start%w, start/w, start%w+1, start/w+1)
		var cells []int
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			cells = append(cells, p)
			px, py := p%w, p/w
			box = box.Union(image.Rect(px, py, px+1, py+1))
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := px+dx, py+dy
					if x < 0 || y < 0 || x >= w || y >= h {
						continue
					}
					q := y*w + x
					if label[q] == 0 && ink(x, y) {
						label[q] = next
						stack = append(stack, q)
					}
				}
			}
		}
		if len(cells) < minArea {
			continue
		}
		s := Shape{Box: box.Add(r.Min), Area: len(cells), Ink: make([]bool, box.Dx()*box.Dy())}
		for _, p := range cells {
			s.Ink[(p/w-box.Min.Y)*box.Dx()+p%w-box.Min.X] = true
		}
		out = append(out, s)
	}
	return out
}

// Band is the height digits take on a line: from the top of the tall ones to
// the baseline. Shapes are described against it, so that «٠», a small
// lozenge half-way up, is told from a letter's dot above or below.
type Band struct{ Top, Bottom int }

// Height is at least 1.
func (b Band) Height() int { return max(1, b.Bottom-b.Top) }

// BandOf estimates the band of a run of shapes: the median top and bottom
// of those at least half as tall as the tallest.
func BandOf(shapes []Shape) Band {
	tallest := 0
	for _, s := range shapes {
		tallest = max(tallest, s.Box.Dy())
	}
	var tops, bottoms []int
	for _, s := range shapes {
		if 2*s.Box.Dy() >= tallest {
			tops, bottoms = append(tops, s.Box.Min.Y), append(bottoms, s.Box.Max.Y)
		}
	}
	if len(tops) == 0 {
		return Band{}
	}
	slices.Sort(tops)
	slices.Sort(bottoms)
	return Band{Top: tops[len(tops)/2], Bottom: bottoms[len(bottoms)/2]}
}

// Grid is the side of the square a shape is drawn into.
const Grid = 16

// Features describes a shape: its ink drawn into a Grid×Grid square (its
// longer side filling it, centred, each cell the share of it inked, 0-255),
// and where it sits in the band and how it is proportioned.
type Features struct {
	Cells [Grid * Grid]uint8
	// Aspect is log2(height/width); Height and Width are the shape's, and
	// Middle the height of its centre above the baseline, in band heights.
	Aspect, Height, Width, Middle float32
}

// Describe measures s against band b.
func Describe(s Shape, b Band) Features {
	var f Features
	w, h := s.Box.Dx(), s.Box.Dy()
	side := float64(max(w, h))
	scale := Grid / side
	offX := (side - float64(w)) / 2
	offY := (side - float64(h)) / 2
	var acc [Grid * Grid]float64
	// Each ink cell spreads over the grid cells its square covers.
	for y := range h {
		for x := range w {
			if !s.Ink[y*w+x] {
				continue
			}
			x0, y0 := (float64(x)+offX)*scale, (float64(y)+offY)*scale
			x1, y1 := x0+scale, y0+scale
			for gy := int(y0); gy < Grid && float64(gy) < y1; gy++ {
				for gx := int(x0); gx < Grid && float64(gx) < x1; gx++ {
					ox := math.Min(x1, float64(gx+1)) - math.Max(x0, float64(gx))
					oy := math.Min(y1, float64(gy+1)) - math.Max(y0, float64(gy))
					if ox > 0 && oy > 0 {
						acc[gy*Grid+gx] += ox * oy
					}
				}
			}
		}
	}
	for i, a := range acc {
		f.Cells[i] = uint8(math.Min(255, math.Round(a*255)))
	}
	bh := float64(b.Height())
	f.Aspect = float32(math.Max(-3, math.Min(3, math.Log2(float64(h)/float64(w)))))
	f.Height = float32(float64(h) / bh)
	f.Width = float32(float64(w) / bh)
	f.Middle = float32((float64(b.Bottom) - float64(s.Box.Min.Y+s.Box.Max.Y)/2) / bh)
	return f
}

// Distance says how unlike two shapes are: the squared difference of their
// cells (in shares of a cell) and of their proportions and places, weighed
// so that a small shape half-way up is not a dot above a letter.
func Distance(a, b *Features) float64 {
	return distanceUnder(a, b, math.Inf(1))
}

// distanceUnder is Distance, or any number not under bound once it is sure
// the distance is not: the digit reader asks Nearest about every shape it
// looks at, and most templates are far. The cells are summed in integers
// (at most 256 × 255², well inside an int32) and scaled once.
func distanceUnder(a, b *Features, bound float64) float64 {
	sq := func(x, y float32) float64 { v := float64(x - y); return v * v }
	d := 4*sq(a.Aspect, b.Aspect) + 40*sq(a.Height, b.Height) + 20*sq(a.Width, b.Width) + 40*sq(a.Middle, b.Middle)
	if d >= bound {
		return d
	}
	limit := (bound - d) * (255 * 255)
	var sum int32
	for row := 0; row < len(a.Cells); row += Grid {
		for i := row; i < row+Grid; i++ {
			v := int32(a.Cells[i]) - int32(b.Cells[i])
			sum += v * v
		}
		if float64(sum) >= limit {
			return bound
		}
	}
	return d + float64(sum)/(255*255)
}

// Template is a described shape of a known character, drawn from a font by
// gendigits. Label is the character; Other marks a shape that is not a
// digit or a slash (a letter, a letter's dot), against which a shape of a
// letter in a doubtful word is told from a digit.
type Template struct {
	Label rune
	Features
}

// Other labels the shapes of letters.
const Other = 'x'

// Nearest is the label of the template nearest to f and its distance, and
// the same among the templates whose label only passes (the digits of one
// script, say).
func Nearest(f *Features, set []Template, only func(rune) bool) (label rune, d float64, onlyLabel rune, onlyD float64) {
	label, d, onlyLabel, onlyD = Other, math.Inf(1), Other, math.Inf(1)
	for i := range set {
		bound := d
		if only(set[i].Label) {
			bound = max(d, onlyD)
		}
		e := distanceUnder(f, &set[i].Features, bound)
		if e < d {
			label, d = set[i].Label, e
		}
		if e < onlyD && only(set[i].Label) {
			onlyLabel, onlyD = set[i].Label, e
		}
	}
	return label, d, onlyLabel, onlyD
}

// Merge is a and b as one shape: a digit that blur or a thin stroke broke
// in two.
func Merge(a, b Shape) Shape {
	box := a.Box.Union(b.Box)
	m := Shape{Box: box, Area: a.Area + b.Area, Ink: make([]bool, box.Dx()*box.Dy())}
	for _, s := range []Shape{a, b} {
		w := s.Box.Dx()
		for i, ink := range s.Ink {
			if ink {
				x, y := s.Box.Min.X+i%w-box.Min.X, s.Box.Min.Y+i/w-box.Min.Y
				m.Ink[y*box.Dx()+x] = true
			}
		}
	}
	return m
}

// Cut parts s at the column of least ink between a quarter and three
// quarters of its width: blur runs a digit into the slash beside it, and the
// thinnest column is where they touch. Each part's box is fitted to its
// ink; ok is false when either part is empty.
func Cut(s Shape) (left, right Shape, ok bool) {
	w, h := s.Box.Dx(), s.Box.Dy()
	if w < 4 {
		return Shape{}, Shape{}, false
	}
	at, least := -1, h+1
	for x := w / 4; x < w-w/4; x++ {
		n := 0
		for y := range h {
			if s.Ink[y*w+x] {
				n++
			}
		}
		if n < least {
			at, least = x, n
		}
	}
	part := func(x0, x1 int) Shape {
		box := image.Rectangle{}
		area := 0
		for y := range h {
			for x := x0; x < x1; x++ {
				if s.Ink[y*w+x] {
					box = box.Union(image.Rect(x, y, x+1, y+1))
					area++
				}
			}
		}
		p := Shape{Box: box.Add(s.Box.Min), Area: area, Ink: make([]bool, box.Dx()*box.Dy())}
		for y := box.Min.Y; y < box.Max.Y; y++ {
			for x := box.Min.X; x < box.Max.X; x++ {
				p.Ink[(y-box.Min.Y)*box.Dx()+x-box.Min.X] = s.Ink[y*w+x]
			}
		}
		return p
	}
	left, right = part(0, at), part(at, w)
	return left, right, left.Area > 0 && right.Area > 0
}
