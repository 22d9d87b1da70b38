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
	// codes, if set, are the document's private codes (see visual).
	codes *drawCodes
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
	} else {
		s.runes = isolate(s.runes)
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
	s.out = visual(s.out[:0], shaped, levels, level, s.codes)
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

// isPresentationForm reports whether r is an Arabic presentation form that
// canonical turns back into letters.
//
// The word ligatures U+FDF0–U+FDFD (ﷲ, ﷺ, the basmala) are not turned back:
// they stand for a whole word or phrase written as one sign, Amiri draws
// them, and spelled out they are not what the writer chose.
func isPresentationForm(r rune) bool {
	if r >= 0xFDF0 && r <= 0xFDFD {
		return false
	}
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

// Isolates: LRI and PDI (UAX #9), not drawn (see invisible).
const (
	lri = '\u2066'
	pdi = '\u2069'
)

// isolate wraps in left-to-right isolates what UAX #9 alone would print in
// reversed pieces in a right-to-left line: addresses, and numbers written
// with spaces or as ranges.
func isolate(text []rune) []rune { return isolateNumbers(isolateLinks(text)) }

// isEuropean: the digits UAX #9 classes EN, which a hyphen already joins
// into one left-to-right run (W4); Arabic-Indic digits (AN) it does not.
func isEuropean(r rune) bool { return r >= '0' && r <= '9' || r >= '۰' && r <= '۹' }

// rangeDash returns where the number after a range's dash begins when one
// follows text[at:] — a dash (- – —) with at most one space on each side,
// and a digit after it — and 0 otherwise.
func rangeDash(text []rune, at int) int {
	i := at
	if i < len(text) && text[i] == ' ' {
		i++
	}
	if i >= len(text) || !strings.ContainsRune("-–—", text[i]) {
		return 0
	}
	i++
	if i < len(text) && text[i] == ' ' {
		i++
	}
	if i < len(text) && isDigit(text[i]) {
		return i
	}
	return 0
}

func isDigit(r rune) bool {
	return r >= '0' && r <= '9' || r >= '٠' && r <= '٩' || r >= '۰' && r <= '۹'
}

// isolateNumbers wraps in a left-to-right isolate every run of digit groups
// separated by spaces (a telephone number, +212 537 00 00 00, or a date
// written 07 12 2026), and every range written with a dash (2017 - 2020,
// 12–15, ٢٠١٧-٢٠٢٠), so that it reads as typed in a right-to-left line.
// UAX #9 alone lays each group out as a word of the Arabic sentence, from
// right to left: 00 00 00 537 212+, and 2020 - 2017 beside an unspaced
// 2017-2020 that reads left to right. Runs joined by one separator other
// than a dash (117/2026, 2020/12/07, 7.5) already read as typed and are left
// alone.
func isolateNumbers(text []rune) []rune {
	var out []rune // nil until a run is isolated
	i := 0
	for i < len(text) {
		start := i
		if text[i] == '+' && i+1 < len(text) && isDigit(text[i+1]) {
			i++
		}
		if !isDigit(text[i]) || start > 0 && (isDigit(text[start-1]) || text[start-1] == '+') {
			if out != nil {
				out = append(out, text[start:i+1]...)
			}
			i++
			continue
		}
		// A run: digit groups joined by one separator each; spaces count
		// only between digits.
		end, spaced := i, false
		for end < len(text) {
			for end < len(text) && isDigit(text[end]) {
				end++
			}
			if end+1 < len(text) && strings.ContainsRune(" -./:", text[end]) && isDigit(text[end+1]) {
				spaced = spaced || text[end] == ' ' || text[end] == '-' && !isEuropean(text[end+1])
				end++
				continue
			}
			if next := rangeDash(text, end); next > 0 {
				spaced, end = true, next
				continue
			}
			break
		}
		if !spaced {
			if out != nil {
				out = append(out, text[start:end]...)
			}
			i = end
			continue
		}
		if out == nil {
			out = append(make([]rune, 0, len(text)+4), text[:start]...)
		}
		out = append(append(append(out, lri), text[start:end]...), pdi)
		i = end
	}
	if out == nil {
		return text
	}
	return out
}

// isolateLinks wraps in a left-to-right isolate every web address and
// e-mail address of a right-to-left line, so that it reads as it is typed
// and copied: UAX #9 alone splits https://hizb.ma/قرارات/2026 at its
// Arabic part and lays the pieces out from right to left
// (2026/قرارات/https://hizb.ma), and sends the digits that begin
// 2026.ali@hizb.ma to the far end. An address is a word (between spaces)
// that holds "://", begins with "www." or holds an "@" followed by a dot;
// brackets and punctuation around it stay outside the isolate. An address
// with Arabic letters in it (https://hizb.ma/قرارات) is left to UAX #9:
// isolated, it reads as typed but poppler, which orders a line's words
// by their own direction, copies it out in pieces
// (قرارات/https://hizb.ma/2026), and a print must copy out as typed.
func isolateLinks(text []rune) []rune {
	var out []rune // nil until an address is isolated
	for i := 0; i < len(text); {
		if text[i] == ' ' {
			if out != nil {
				out = append(out, ' ')
			}
			i++
			continue
		}
		end := i
		for end < len(text) && text[end] != ' ' {
			end++
		}
		lo, hi := i, end
		for lo < hi && strings.ContainsRune("([{«\"'", text[lo]) {
			lo++
		}
		for hi > lo && strings.ContainsRune(".,;:!?)]}»\"'،؛؟", text[hi-1]) {
			hi--
		}
		if !isAddress(string(text[lo:hi])) || hasRTL(text[lo:hi]) {
			if out != nil {
				out = append(out, text[i:end]...)
			}
			i = end
			continue
		}
		if out == nil {
			out = append(make([]rune, 0, len(text)+8), text[:i]...)
		}
		out = append(out, text[i:lo]...)
		out = append(append(append(out, lri), text[lo:hi]...), pdi)
		out = append(out, text[hi:end]...)
		i = end
	}
	if out == nil {
		return text
	}
	return out
}

// isAddress reports whether word is a web or e-mail address (see
// isolateLinks).
func isAddress(word string) bool {
	if strings.Contains(word, "://") || strings.HasPrefix(strings.ToLower(word), "www.") {
		return true
	}
	at := strings.IndexByte(word, '@')
	return at > 0 && strings.Contains(word[at+1:], ".")
}

// hasRTL reports whether text holds a right-to-left letter.
func hasRTL(text []rune) bool {
	for _, r := range text {
		if p, _ := xbidi.LookupRune(r); p.Class() == xbidi.R || p.Class() == xbidi.AL {
			return true
		}
	}
	return false
}
