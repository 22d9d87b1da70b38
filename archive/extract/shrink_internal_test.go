package extract

import (
	"image"
	"image/color"
	"testing"
)

func TestShrink(t *testing.T) {
	grey := func(w, h int, at func(x, y int) uint8) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				g.SetGray(x, y, color.Gray{at(x, y)})
			}
		}
		return g
	}
	for _, tc := range []struct {
		name string
		in   *image.Gray
		w, h int
		want [][]uint8 // rows of the result
	}{
		{"white stays white", grey(5, 3, func(x, y int) uint8 { return 255 }), 3, 2,
			[][]uint8{{255, 255, 255}, {255, 255, 255}}},
		{"halves average", grey(4, 2, func(x, y int) uint8 { return uint8(255 * (x % 2)) }), 2, 1,
			[][]uint8{{128, 128}}},
		// Three pixels into two: the first covers one and a half of them.
		{"thirds", grey(3, 1, func(x, y int) uint8 { return []uint8{0, 255, 255}[x] }), 2, 1,
			[][]uint8{{85, 255}}},
		{"rows too", grey(1, 3, func(x, y int) uint8 { return []uint8{0, 255, 255}[y] }), 1, 2,
			[][]uint8{{85}, {255}}},
		{"a black dot keeps its ink as grey", grey(4, 4, func(x, y int) uint8 {
			if x == 1 && y == 1 {
				return 0
			}
			return 255
		}), 2, 2, [][]uint8{{191, 255}, {255, 255}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shrink(tc.in, tc.w, tc.h)
			if b := got.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("size %v, want %d × %d", b, tc.w, tc.h)
			}
			for y, row := range tc.want {
				for x, v := range row {
					g := got.GrayAt(x, y).Y
					if v == 255 && g != 255 || int(g)-int(v) > 1 || int(v)-int(g) > 1 {
						t.Errorf("(%d,%d) = %d, want %d", x, y, g, v)
					}
				}
			}
		})
	}
	// A sub-image is read from its own corner.
	big := grey(8, 8, func(x, y int) uint8 { return uint8(32 * (x / 4)) })
	sub := big.SubImage(image.Rect(4, 0, 8, 4)).(*image.Gray)
	if got := shrink(sub, 2, 2).GrayAt(0, 0).Y; got != 32 {
		t.Errorf("sub-image: %d, want 32", got)
	}
}

func BenchmarkShrink(b *testing.B) {
	g := image.NewGray(image.Rect(0, 0, 2480, 3508))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7919)
	}
	for b.Loop() {
		shrink(g, 2480*readDPI/300, 3508*readDPI/300)
	}
}
