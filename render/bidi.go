package render

import (
	"reflect"
	"sort"

	"github.com/go-text/typesetting/bidi"
)

// bidiClass is the part of a character's Bidi_Class that line layout needs
// after the levels are resolved.
type bidiClass uint8

const (
	classOther   bidiClass = iota
	classWS                // whitespace: reset at line end (L1)
	classS                 // segment separator (tab)
	classB                 // paragraph separator
	classX9                // embeddings, overrides, boundary neutrals: no glyph
	classIsolate           // LRI, RLI, FSI, PDI: no glyph, reset at line end
	classNSM               // non-spacing mark
)

type classRange struct {
	lo, hi rune
	c      bidiClass
}

func classOf(r rune) bidiClass {
	i := sort.Search(len(classRanges), func(i int) bool { return classRanges[i].hi >= r })
	if i < len(classRanges) && classRanges[i].lo <= r {
		return classRanges[i].c
	}
	return classOther
}

// invisible reports whether r is a bidi control, a boundary neutral or a
// bidi mark (LRM, RLM, ALM), which are not drawn: they order the text around
// them and have no glyph of their own (Amiri draws LRM and RLM as strokes).
// FriBidi's REMOVE_SPECIALS and --clean do the same.
func invisible(r rune) bool {
	switch r {
	case '\u200E', '\u200F', '\u061C':
		return true
	}
	c := classOf(r)
	return c == classX9 || c == classIsolate
}

// resolver computes embedding levels with go-text's UAX #9 implementation.
// Keep one per goroutine: it reuses its buffers.
type resolver struct {
	p      bidi.Paragraph
	levels []bidi.Level
}

// resolve returns the embedding level of each rune of one paragraph (no
// paragraph separator inside), rules P2-I2 and L1 for the paragraph's end.
//
// go-text exposes levels only per directional run (Runs.Run), and a run joins
// neighbours of equal parity, so level 2 next to level 0 or 4 would be lost; the
// per-character levels it computed are read from its unexported field instead.
// TestBidiCharacterTest catches a change of that field.
func (rs *resolver) resolve(text []rune, dir bidi.Direction) []bidi.Level {
	rs.levels = rs.levels[:0]
	if len(text) == 0 {
		return rs.levels
	}
	runs := rs.p.Segment(text, dir)
	if f := reflect.ValueOf(runs).FieldByName("levels"); f.IsValid() && f.Kind() == reflect.Slice && f.Len() == len(text) {
		for i := range f.Len() {
			rs.levels = append(rs.levels, bidi.Level(f.Index(i).Int()))
		}
		return rs.levels
	}
	for i := range runs.NumRuns() {
		run := runs.Run(i)
		for range run.End - run.Start {
			rs.levels = append(rs.levels, run.Level)
		}
	}
	for len(rs.levels) < len(text) { // text cut at a paragraph separator
		rs.levels = append(rs.levels, 0)
	}
	return rs.levels
}

// lineOrder applies rules L1 (line-end whitespace to the paragraph level) and L2
// (reversal) to one line whose logical runes and resolved levels are given,
// and returns the logical indexes in visual order, left to right. With marks,
// non-spacing marks in right-to-left runs stay after their base (L3), as
// fonts without mark positioning expect.
func lineOrder(text []rune, levels []bidi.Level, paraLevel bidi.Level, marks bool) []int {
	n := len(text)
	lv := make([]bidi.Level, n)
	copy(lv, levels)
	// L1: separators, and whitespace before them or at the end of the line.
	trailing := true
	for i := n - 1; i >= 0; i-- {
		c := classOf(text[i])
		switch {
		case c == classS || c == classB:
			lv[i] = paraLevel
			trailing = true
		case trailing && (c == classWS || c == classIsolate || c == classX9):
			lv[i] = paraLevel
		default:
			trailing = false
		}
	}
	order := make([]int, n)
	var high, lowOdd bidi.Level = 0, 127
	for i := range order {
		order[i] = i
		if lv[i] > high {
			high = lv[i]
		}
		if lv[i]%2 == 1 && lv[i] < lowOdd {
			lowOdd = lv[i]
		}
	}
	// L2: from the highest level down to the lowest odd level, reverse every
	// run at that level or higher.
	for level := high; level >= lowOdd && level > 0; level-- {
		for i := 0; i < n; {
			if lv[order[i]] < level {
				i++
				continue
			}
			j := i
			for j < n && lv[order[j]] >= level {
				j++
			}
			reverse(order[i:j])
			i = j
		}
	}
	if marks {
		// L3: in right-to-left runs a base's marks now precede it; put them back after it.
		for i := 0; i < n; {
			if classOf(text[order[i]]) != classNSM || lv[order[i]]%2 == 0 {
				i++
				continue
			}
			j := i
			for j < n && classOf(text[order[j]]) == classNSM && lv[order[j]] == lv[order[i]] {
				j++
			}
			if j < n && lv[order[j]] == lv[order[i]] {
				reverse(order[i : j+1])
			}
			i = j + 1
		}
	}
	return order
}

func reverse(s []int) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// visual returns the line's text in display order, left to right: characters at
// odd (right-to-left) levels mirrored (brackets, «»), and bidi controls dropped.
//
// codes, when not nil, are a document's private codes (copyout.go): a
// mirrored character is drawn by its code instead of its mirror image, and
// number-like punctuation at a right-to-left level between two marks.
func visual(dst []rune, text []rune, levels []bidi.Level, paraLevel bidi.Level, codes *drawCodes) []rune {
	start := len(dst)
	rlm := func() {
		if len(dst) > start && dst[len(dst)-1] != codes.rlm {
			dst = append(dst, codes.rlm)
		}
	}
	prevOdd := false
	for _, i := range lineOrder(text, levels, paraLevel, true) {
		r := text[i]
		if invisible(r) {
			continue
		}
		odd := levels[i]%2 == 1
		if codes != nil && paraLevel%2 == 1 && !odd && prevOdd {
			rlm() // the left end of a left-to-right run
		}
		prevOdd = odd
		if odd {
			if c, ok := codes.mirror(r); ok {
				r = c
			} else if m, ok := mirrors[r]; ok {
				r = m
			}
			if codes != nil && numberLike(r) {
				rlm()
				dst = append(dst, r, codes.rlm)
				continue
			}
		}
		dst = append(dst, r)
	}
	return dst
}
