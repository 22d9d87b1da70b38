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
	t.each(input, func(start, end, pos int, typ analysis.TokenType) bool {
		out = append(out, &analysis.Token{
			Start: start, End: end, Term: input[start:end:end],
			Position: pos, Type: typ,
		})
		return true
	})
	return out
}

// each calls fn with the byte range, position and type of every token of
// input, in order, until fn returns false: Tokenize without building the
// stream, for highlighting.
func (Tokenizer) each(input []byte, fn func(start, end, pos int, typ analysis.TokenType) bool) {
	start, cur := -1, classOther
	lastEnd := 0 // end of the last letter or digit of the current token
	pos := 0
	emit := func() bool {
		more := true
		if start >= 0 {
			pos++
			typ := analysis.AlphaNumeric
			if cur == classDigit {
				typ = analysis.Numeric
			}
			more = fn(start, lastEnd, pos, typ)
		}
		start, cur = -1, classOther
		return more
	}
	for i := 0; i < len(input); {
		r, size := utf8.DecodeRune(input[i:])
		c := classify(r)
		switch c {
		case classLetter, classDigit:
			if start >= 0 && c != cur && !emit() {
				return
			}
			if start < 0 {
				start, cur = i, c
			}
			lastEnd = i + size
		case classJoin:
			// Inside a word it joins; trailing ones are left out of the
			// token's span by lastEnd; leading ones belong to no word.
		default:
			if !emit() {
				return
			}
			if r == fieldGap {
				pos += fieldGapSize
			}
		}
		i += size
	}
	emit()
}

func tokenizerConstructor(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
	return Tokenizer{}, nil
}

func init() {
	if err := registry.RegisterTokenizer(TokenizerName, tokenizerConstructor); err != nil {
		panic(err)
	}
}
