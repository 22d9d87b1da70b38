package extract

import (
	"image"
	"math"
)

// shrink returns g scaled down to w × h (no larger than g) by area
// averaging: each pixel of the result is the mean of the part of g it
// covers, which keeps thin strokes as grey rather than dropping them and
// smooths a scan's grain a little on the way. golang.org/x/image/draw has
// no fast path for a grey destination: its scalers take 130–400 ms for a
// 300 dpi A4 page, this one about 45 ms (BenchmarkShrink).
func shrink(g *image.Gray, w, h int) *image.Gray {
	b := g.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if w >= sw && h >= sh || w <= 0 || h <= 0 {
		return g
	}
	w, h = min(w, sw), min(h, sh)
	xs, ys := newAreaSpans(sw, w), newAreaSpans(sh, h)
	// across is row y of g shrunk across, in units of 1/(1<<areaBits). A
	// row of g lies under at most two rows of the result, one after the
	// other: the last one made is kept, so each is made once and the work
	// needs two rows of memory, not a copy of the page.
	rows := [2][]int32{make([]int32, w), make([]int32, w)}
	made := [2]int{-1, -1}
	across := func(y int) []int32 {
		for i := range made {
			if made[i] == y {
				return rows[i]
			}
		}
		i := 0
		if made[1] < made[0] {
			i = 1
		}
		made[i] = y
		src := g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):][:sw]
		for x := range rows[i] {
			first, wt := xs.first[x], xs.weights[x*xs.n:(x+1)*xs.n]
			var acc int32
			for j, v := range src[first:min(first+xs.n, sw)] {
				acc += int32(v) * wt[j]
			}
			rows[i][x] = acc
		}
		return rows[i]
	}
	dst := image.NewGray(image.Rect(0, 0, w, h))
	acc := make([]int64, w)
	const round = 1 << (2*areaBits - 1)
	for y := range h {
		clear(acc)
		first, wt := ys.first[y], ys.weights[y*ys.n:(y+1)*ys.n]
		for i, k := range wt {
			if k == 0 || first+i >= sh {
				continue
			}
			for x, v := range across(first + i) {
				acc[x] += int64(v) * int64(k)
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+w]
		for x, v := range acc {
			out[x] = uint8(min((v+round)>>(2*areaBits), 255))
		}
	}
	return dst
}

// areaBits is the fixed-point precision of shrink's weights.
const areaBits = 12

// areaSpans says, for each of m pixels of a result shrunk from n, the first
// source pixel it covers and how much of the n following ones it covers
// (weights[i*n:(i+1)*n], summing to about 1<<areaBits).
type areaSpans struct {
	n       int
	first   []int
	weights []int32
}

func newAreaSpans(n, m int) areaSpans {
	scale := float64(n) / float64(m)
	s := areaSpans{n: int(scale) + 2, first: make([]int, m)}
	s.weights = make([]int32, m*s.n)
	for i := range m {
		lo, hi := float64(i)*scale, float64(i+1)*scale
		first := int(lo)
		s.first[i] = first
		wt := s.weights[i*s.n : (i+1)*s.n]
		for j := first; j < n && float64(j) < hi && j-first < s.n; j++ {
			cover := min(hi, float64(j+1)) - max(lo, float64(j))
			if cover <= 0 {
				continue
			}
			// Rounded: the weights of a pixel then sum to one within a
			// few parts in 1<<areaBits, and white stays 255.
			wt[j-first] = int32(math.Round(cover / scale * (1 << areaBits)))
		}
	}
	return s
}
