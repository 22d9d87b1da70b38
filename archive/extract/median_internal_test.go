package extract

import (
	"image"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMedian3 compares the sorting network with sorting each window.
func TestMedian3(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := image.NewGray(image.Rect(0, 0, 37, 23))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	got := median3(g)
	for y := range 23 {
		for x := range 37 {
			var win []uint8
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := min(max(x+dx, 0), 36), min(max(y+dy, 0), 22)
					win = append(win, g.GrayAt(xx, yy).Y)
				}
			}
			slices.Sort(win)
			if got.GrayAt(x, y).Y != win[4] {
				t.Fatalf("(%d,%d): %d, want %d", x, y, got.GrayAt(x, y).Y, win[4])
			}
		}
	}
}

// BenchmarkMedian3 filters a 300 dpi A4 page of noisy grey, as a scan's
// paper is: a regular pattern would let the comparisons' branches be
// predicted, which a scan does not.
func BenchmarkMedian3(b *testing.B) {
	g := image.NewGray(image.Rect(0, 0, 2481, 3508))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range g.Pix {
		g.Pix[i] = uint8(200 + rng.IntN(56))
	}
	for b.Loop() {
		median3(g)
	}
}

// TestCommas: the Arabic comma the models cannot write is put back after
// Arabic letters, and nothing else changes.
func TestCommas(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"عقد» أمس» أعضاء", "عقد، أمس، أعضاء"},
		{"الحزب, وبحضور", "الحزب، وبحضور"},
		{"حزب «الدستور» اليوم", "حزب «الدستور» اليوم"},
		{"1,5 million, «quote»", "1,5 million, «quote»"},
		{"سطر أول»\nسطر ثان «اقتباس» وبعد»", "سطر أول،\nسطر ثان «اقتباس» وبعد،"},
	} {
		if got := string(commas([]byte(tc.in))); got != tc.want {
			t.Errorf("commas(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
