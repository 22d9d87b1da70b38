package render

import (
	"strings"

	xbidi "golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"

	"github.com/go-text/typesetting/bidi"
)

// rtl is the paragraph level of what Sijill prints, unless a paragraph
// begins with a left-to-right letter (see prepare).
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
// levels; the result stays valid until the next call. The paragraph takes
// its direction from its first strong character (UAX #9 P2, P3), right to
// left when it has none: a cell holding "Imprimerie Atlas Ltd." reads left
// to right, not ".Imprimerie Atlas Ltd".
func (s *shaper) prepare(text string) ([]rune, []bidi.Level, bidi.Level) {
	text = canonical(text)
	s.runes = s.runes[:0]
	for _, r := range text {
		s.runes = append(s.runes, r)
	}
	dir, level := bidi.RightToLeft, rtl
	if firstStrongIsLTR(s.runes) {
		dir, level = bidi.LeftToRight, 0
	}
	s.shaped = shape(s.shaped, s.runes)
	return s.shaped, s.res.resolve(s.shaped, dir), level
}

// firstStrongIsLTR reports whether the first strong character of text (P2,
// without skipping isolates, which Sijill's text does not use) is
// left-to-right.
func firstStrongIsLTR(text []rune) bool {
	for _, r := range text {
		p, _ := xbidi.LookupRune(r)
		switch p.Class() {
		case xbidi.L:
			return true
		case xbidi.R, xbidi.AL:
			return false
		}
	}
	return false
}

// line returns one whole paragraph, shaped and reordered for display.
func (s *shaper) line(text string) string {
	text = clean(text)
	shaped, levels, level := s.prepare(text)
	s.out = visual(s.out[:0], shaped, levels, level)
	return string(s.out)
}

// canonical composes text (alef + combining hamza is alef-with-hamza, which
// can form a lam-alef ligature) and turns presentation forms pasted from other
// documents back into letters, so they are shaped for their new neighbours.
func canonical(s string) string {
	presentation := false
	for _, r := range s {
		if isPresentationForm(r) {
			presentation = true
			break
		}
	}
	if presentation {
		var b strings.Builder
		for _, r := range s {
			if isPresentationForm(r) {
				b.WriteString(norm.NFKC.String(string(r)))
			} else {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

func isPresentationForm(r rune) bool {
	return (r >= 0xFB50 && r <= 0xFDFF) || (r >= 0xFE70 && r <= 0xFEFF && r != 0xFEFF)
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
