package index

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// TokenizerName is the registered name of the Sijill tokenizer.
const TokenizerName = "sijill_tokenizer"

// fieldGap separates the fields of a record joined into one text; the
// tokenizer leaves a gap of positions there, so a phrase never spans two fields.
const (
	fieldGap     = '\u001e' // information separator two: never in typed text
	fieldGapSize = 100
)

// Tokenizer splits text into words and numbers. Unlike a character filter
// that deletes invisible characters, it keeps format characters (ZWNJ, ZWJ,
// bidi marks and isolates, U+061C) inside the word they interrupt, so the
// byte offsets of every token point into the original text and highlights
// land on the right letters; sijill_invisible removes them from the term.
// It splits where letters meet digits ("2020م", "1440هـ"), so years are
// found on their own, and on every other character (so "2017-2020" yields
// both years).
type Tokenizer struct{}

type runeClass int

const (
	classOther runeClass = iota
	classLetter
	classDigit
	classJoin // marks and format characters: part of the word they are in
)

func classify(r rune) runeClass {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= 0x0621 && r <= 0x063A, r >= 0x0641 && r <= 0x064A:
		return classLetter
	case r >= '0' && r <= '9', r >= 0x0660 && r <= 0x0669:
		return classDigit
	case r < 0x80:
		return classOther
	case unicode.IsLetter(r):
		return classLetter
	case unicode.Is(unicode.Nd, r):
		return classDigit
	case unicode.IsMark(r), unicode.Is(unicode.Cf, r):
		return classJoin
	}
	return classOther
}

// Tokenize implements analysis.Tokenizer.
func (t Tokenizer) Tokenize(input []byte) analysis.TokenStream {
	var out analysis.TokenStream
	t.each(input, func(start, end, pos int, typ analysis.TokenType, term []byte) bool {
		out = append(out, &analysis.Token{
			Start: start, End: end, Term: term,
			Position: pos, Type: typ,
		})
		if len(term) != end-start { // initials: their term leaves out the gaps
			out = appendInitials(out, input, start, end, pos)
		}
		return true
	})
	return out
}

// appendInitials adds the letters of the initials at input[start:end] to
// out, each at the initials' position. OCR reads a letter standing alone
// worst of all («أ» as «١», «ك» lost); a reference searched as typed, «أ
// ع/201/2026», still finds the letter whose initials came out wrong or
// half, by any of its letters beside its numbers, and «ع/201/2026» finds
// «أ ع/201/2026». The numbers, read by the digit reader, carry the weight.
func appendInitials(out analysis.TokenStream, input []byte, start, end, pos int) analysis.TokenStream {
	eachInitial(input, start, end, func(from, to int) {
		out = append(out, &analysis.Token{Start: from, End: to, Term: input[from:to:to], Position: pos, Type: analysis.AlphaNumeric})
	})
	return out
}

// eachInitial calls fn with the byte range of each letter of the initials
// at input[start:end] (with the marks and format characters on it): the
// runs between the gaps.
func eachInitial(input []byte, start, end int, fn func(from, to int)) {
	from := -1
	for i := start; i < end; {
		r, size := utf8.DecodeRune(input[i:end])
		if classify(r) == classOther {
			if from >= 0 {
				fn(from, i)
			}
			from = -1
		} else if from < 0 {
			from = i
		}
		i += size
	}
	if from >= 0 {
		fn(from, end)
	}
}

// maxInitialsGap is the most characters (spaces, dots, format characters)
// between two letters written apart that are still joined as initials.
const maxInitialsGap = 2

// each calls fn with the byte range, position, type and term of every token
// of input, in order, until fn returns false: Tokenize without building the
// stream, for highlighting. The term is input[start:end:end], except for
// initials (see initialsGap), whose term is their letters alone.
func (Tokenizer) each(input []byte, fn func(start, end, pos int, typ analysis.TokenType, term []byte) bool) {
	pos := 0
	// Initials: a reference is written «أ ع/189/2025», «أ.ع/189/2025» or
	// «أع/189/2025» (and OCR reads a narrow space either way), letters are
	// spaced out in a title («ب ل ا غ»). A run of one-letter words apart by
	// at most maxInitialsGap spaces or dots is one word, so every way of
	// writing it finds the others. The pending one-letter word waits to see
	// whether the next joins it.
	var (
		pend     struct{ start, end, letters int }
		havePend bool
	)
	flush := func() bool {
		if !havePend {
			return true
		}
		havePend = false
		pos++
		term := input[pend.start:pend.end:pend.end]
		if pend.letters > 1 {
			term = initialsTerm(term)
		}
		return fn(pend.start, pend.end, pos, analysis.AlphaNumeric, term)
	}
	emit := func(start, end int, c runeClass, letters int) bool {
		if havePend && c == classLetter && letters == 1 && initialsGap(input[pend.end:start]) {
			pend.end = end
			pend.letters++
			return true
		}
		if !flush() {
			return false
		}
		if c == classLetter && letters == 1 {
			pend.start, pend.end, pend.letters, havePend = start, end, 1, true
			return true
		}
		pos++
		typ := analysis.AlphaNumeric
		if c == classDigit {
			typ = analysis.Numeric
		}
		return fn(start, end, pos, typ, input[start:end:end])
	}
	start, cur := -1, classOther
	lastEnd := 0 // end of the last letter or digit of the current token
	letters := 0 // letters or digits in the current token
	for i := 0; i < len(input); {
		r, size := utf8.DecodeRune(input[i:])
		c := classify(r)
		switch c {
		case classLetter, classDigit:
			if start >= 0 && c != cur {
				if !emit(start, lastEnd, cur, letters) {
					return
				}
				start = -1
			}
			if start < 0 {
				start, cur, letters = i, c, 0
			}
			lastEnd = i + size
			letters++
		case classJoin:
			// Inside a word it joins; trailing ones are left out of the
			// token's span by lastEnd; leading ones belong to no word.
		default:
			if start >= 0 && !emit(start, lastEnd, cur, letters) {
				return
			}
			start = -1
			if r == fieldGap {
				if !flush() {
					return
				}
				pos += fieldGapSize
			}
		}
		i += size
	}
	if start >= 0 && !emit(start, lastEnd, cur, letters) {
		return
	}
	flush()
}

// initialsGap reports whether gap, the text between two one-letter words,
// makes them initials: at most maxInitialsGap spaces, no-break spaces, dots
// or format characters, and something.
func initialsGap(gap []byte) bool {
	n := 0
	for _, r := range string(gap) {
		if r != ' ' && r != '\u00a0' && r != '.' && classify(r) != classJoin {
			return false
		}
		n++
	}
	return n > 0 && n <= maxInitialsGap
}

// initialsTerm is the term of initials: their letters (and the marks and
// format characters on them, which the filters see to), without the gaps.
func initialsTerm(b []byte) []byte {
	out := make([]byte, 0, len(b))
	eachInitial(b, 0, len(b), func(from, to int) { out = append(out, b[from:to]...) })
	return out
}

func tokenizerConstructor(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
	return Tokenizer{}, nil
}

func init() {
	if err := registry.RegisterTokenizer(TokenizerName, tokenizerConstructor); err != nil {
		panic(err)
	}
}
