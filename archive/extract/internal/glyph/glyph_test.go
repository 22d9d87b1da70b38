package glyph

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// page draws black rectangles on white paper.
func page(w, h int, rects ...image.Rectangle) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = 235
	}
	for _, r := range rects {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				g.SetGray(x, y, color.Gray{Y: 20})
			}
		}
	}
	return g
}

func TestShapes(t *testing.T) {
	// Two bars the height of digits, a lozenge half-way up (a ٠) and a
	// speck too small to be anything.
	g := page(200, 60,
		image.Rect(10, 10, 16, 50), image.Rect(40, 10, 46, 50),
		image.Rect(70, 26, 78, 34),
		image.Rect(120, 5, 121, 6))
	dark := Threshold(g, g.Bounds())
	if dark < 20 || dark >= 235 {
		t.Fatalf("threshold %d does not part ink (20) from paper (235)", dark)
	}
	shapes := Shapes(g, g.Bounds(), dark, 4)
	if len(shapes) != 3 {
		t.Fatalf("%d shapes, want 3 (the speck left out)", len(shapes))
	}
	band := BandOf(shapes)
	if band != (Band{Top: 10, Bottom: 50}) {
		t.Errorf("band %+v, want the bars' 10-50", band)
	}
	for _, s := range shapes {
		f := Describe(s, band)
		if s.Box.Dx() == 8 && (f.Height > 0.25 || f.Middle < 0.4 || f.Middle > 0.6) {
			t.Errorf("the lozenge is described %v high, its middle %v up: want small and half-way", f.Height, f.Middle)
		}
	}
}

// TestDescribeScales: a shape and the same shape twice as large, in bands
// twice as tall, describe alike; a different shape does not.
func TestDescribeScales(t *testing.T) {
	small := page(100, 100, image.Rect(10, 10, 16, 50), image.Rect(16, 44, 30, 50))   // an L
	large := page(200, 200, image.Rect(20, 20, 32, 100), image.Rect(32, 88, 60, 100)) // the L twice as large
	other := page(100, 100, image.Rect(10, 10, 30, 16), image.Rect(24, 16, 30, 50))   // a 7
	describe := func(g *image.Gray, b Band) Features {
		s := Shapes(g, g.Bounds(), 128, 4)
		if len(s) != 1 {
			t.Fatalf("%d shapes, want 1", len(s))
		}
		return Describe(s[0], b)
	}
	a, b, c := describe(small, Band{10, 50}), describe(large, Band{20, 100}), describe(other, Band{10, 50})
	if d := Distance(&a, &b); d > 2 {
		t.Errorf("the L at two sizes is %.1f apart, want under 2", d)
	}
	if d := Distance(&a, &c); d < 10 {
		t.Errorf("the L and the 7 are %.1f apart, want 10 and more", d)
	}
	set := []Template{{Label: 'L', Features: a}, {Label: '7', Features: c}}
	if label, _, _, _ := Nearest(&b, set, func(r rune) bool { return r == '7' }); label != 'L' {
		t.Errorf("the large L is nearest %c", label)
	}
}

// TestMerge: a digit broken at its waist is one shape again.
func TestMerge(t *testing.T) {
	g := page(60, 60, image.Rect(10, 10, 20, 28), image.Rect(12, 30, 18, 50))
	s := Shapes(g, g.Bounds(), 128, 4)
	if len(s) != 2 {
		t.Fatalf("%d shapes, want the two halves", len(s))
	}
	m := Merge(s[0], s[1])
	if m.Box != image.Rect(10, 10, 20, 50) || m.Area != s[0].Area+s[1].Area {
		t.Fatalf("merged box %v area %d", m.Box, m.Area)
	}
	whole := Shapes(page(60, 60, image.Rect(10, 10, 20, 28), image.Rect(12, 28, 18, 50)), g.Bounds(), 128, 4)
	a, b := Describe(m, Band{10, 50}), Describe(whole[0], Band{10, 50})
	if d := Distance(&a, &b); d > 3 { // the gap at the waist apart; another shape is 10 and more
		t.Errorf("the merged halves are %.1f from the unbroken shape, want under 3", d)
	}
}

func TestCut(t *testing.T) {
	// Two bars joined by a thin bridge at mid-height, as blur joins a digit
	// and a slash: cut where the bridge is.
	g := page(60, 60, image.Rect(10, 10, 20, 40), image.Rect(20, 24, 26, 26), image.Rect(26, 10, 34, 40))
	s := Shapes(g, g.Bounds(), 128, 4)
	if len(s) != 1 {
		t.Fatalf("%d shapes, want one joined shape", len(s))
	}
	l, r, ok := Cut(s[0])
	if !ok || l.Area+r.Area != s[0].Area {
		t.Fatalf("cut: %v, areas %d + %d of %d", ok, l.Area, r.Area, s[0].Area)
	}
	if l.Box.Min.X != 10 || r.Box.Max.X != 34 || l.Box.Max.X > 26 || r.Box.Min.X < 20 {
		t.Errorf("cut into %v and %v, want the cut in the bridge (x 20-26)", l.Box, r.Box)
	}
	if l.Box.Dy() != 30 || r.Box.Dy() != 30 {
		t.Errorf("parts' boxes %v %v not fitted to their ink", l.Box, r.Box)
	}
}

// TestNearestStopsEarly: Nearest, which gives up on a template once it is
// sure it is farther than the nearest so far, finds what comparing every
// template in full finds.
func TestNearestStopsEarly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() Features {
		var f Features
		for i := range f.Cells {
			f.Cells[i] = uint8(rng.IntN(256))
		}
		f.Aspect, f.Height, f.Width, f.Middle = rng.Float32()*2-1, rng.Float32(), rng.Float32(), rng.Float32()-0.5
		return f
	}
	set := make([]Template, 300)
	for i := range set {
		set[i] = Template{Label: rune('0' + i%12), Features: random()}
	}
	even := func(r rune) bool { return r%2 == 0 }
	for range 300 {
		f := random()
		label, d, onlyLabel, onlyD := Nearest(&f, set, even)
		wantLabel, wantD, wantOnly, wantOnlyD := Other, math.Inf(1), Other, math.Inf(1)
		for i := range set {
			e := Distance(&f, &set[i].Features)
			if e < wantD {
				wantLabel, wantD = set[i].Label, e
			}
			if e < wantOnlyD && even(set[i].Label) {
				wantOnly, wantOnlyD = set[i].Label, e
			}
		}
		if label != wantLabel || onlyLabel != wantOnly || math.Abs(d-wantD) > 1e-9 || math.Abs(onlyD-wantOnlyD) > 1e-9 {
			t.Fatalf("Nearest = %c %.6f, %c %.6f; comparing in full: %c %.6f, %c %.6f", label, d, onlyLabel, onlyD, wantLabel, wantD, wantOnly, wantOnlyD)
		}
	}
}
