package render

import (
	"strings"

	"github.com/go-text/typesetting/bidi"
)

// rtl is the paragraph level of everything Sijill prints: Arabic documents.
const rtl bidi.Level = 1

// shaper turns logical Arabic text into what fpdf, drawing glyph after glyph
// left to right, must be given: shaped presentation forms in visual order.
// It reuses its buffers; one per goroutine.
type shaper struct {
	res    resolver
	runes  []rune
	shaped []rune
	out    []rune
}

// prepare shapes one paragraph (no line break inside) and resolves its bidi
// levels; the result stays valid until the next call.
func (s *shaper) prepare(text string) ([]rune, []bidi.Level) {
	s.runes = s.runes[:0]
	for _, r := range text {
		s.runes = append(s.runes, r)
	}
	s.shaped = shape(s.shaped, s.runes)
	return s.shaped, s.res.resolve(s.shaped, bidi.RightToLeft)
}

// line returns one whole paragraph, shaped and reordered for display.
func (s *shaper) line(text string) string {
	text = clean(text)
	shaped, levels := s.prepare(text)
	s.out = visual(s.out[:0], shaped, levels, rtl)
	return string(s.out)
}

// clean turns characters that would break a printed line into spaces: tabs and
// line separators inside a cell. Callers split paragraphs on '\n' first.
func clean(s string) string {
	if !strings.ContainsAny(s, "\t\r\n\u2028\u2029\v\f") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\r', '\n', '\u2028', '\u2029', '\v', '\f':
			return ' '
		}
		return r
	}, s)
}
