package index

import (
	"bytes"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// NormalizeName is the registered name of the Arabic normalisation filter.
const NormalizeName = "sijill_normalize"

// NormalizeFilter folds the spellings of Arabic letters that people use
// interchangeably, so a search typed without hamza or with Persian letters
// finds the document's spelling:
//
//   - alef with hamza above or below, madda, wasla (ٱ) → ا
//   - hamza seats ؤ and ئ → ء, so مسؤول and مسئول are one word
//   - an alef before a hamza inside a word is dropped, so the Mashriqi and
//     Maghribi spellings مائة and مئة, قراءة and قرائة are one word (a final
//     اء, as in أعضاء, stays)
//   - alef maksura ى and Persian yeh ی → ي; Persian keheh ک → ك
//   - teh marbuta ة → ه (as Lucene does)
//   - harakat, superscript alef (U+0670), Quranic marks and tatweel are deleted
//
// Tokens left empty (a lone tatweel) are dropped.
type NormalizeFilter struct{}

// normalizeRune returns the folded rune, or -1 to delete it.
func normalizeRune(r rune) rune {
	switch r {
	case 'آ', 'أ', 'إ', 'ٱ', 'ٲ', 'ٳ', 'ٵ':
		return 'ا'
	case 'ؤ', 'ئ':
		return 'ء'
	case 'ى', 'ی', 'ې', 'ێ':
		return 'ي'
	case 'ک', 'ڪ':
		return 'ك'
	case 'ة', 'ۀ':
		return 'ه'
	case 'ـ', '\u0670':
		return -1
	}
	switch {
	case r >= 0x064B && r <= 0x065F: // harakat, shadda, sukun, combining hamza and madda
		return -1
	case r >= 0x06D6 && r <= 0x06ED && r != 0x06E5 && r != 0x06E6: // Quranic annotation marks
		return -1
	}
	return r
}

// normalizeArabic applies normalizeRune to every rune of b.
func normalizeArabic(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		n := r
		if r >= 0x0600 && r <= 0x06FF {
			n = normalizeRune(r)
		}
		if n != r && out == nil {
			out = make([]byte, i, len(b))
			copy(out, b[:i])
		}
		if out != nil && n >= 0 {
			out = utf8.AppendRune(out, n)
		}
		i += size
	}
	if out == nil {
		if !bytes.Contains(b, []byte(alefHamza)) {
			return b
		}
		out = bytes.Clone(b)
	}
	return dropAlefBeforeHamza(out)
}

const alefHamza = "اء"

// dropAlefBeforeHamza deletes, in place, an alef followed by a hamza that is
// not the word's last letter.
func dropAlefBeforeHamza(b []byte) []byte {
	for i := 0; i+len(alefHamza) < len(b); i++ {
		if string(b[i:i+len(alefHamza)]) == alefHamza {
			b = append(b[:i], b[i+len("ا"):]...)
		}
	}
	return b
}

// Filter implements analysis.TokenFilter.
func (NormalizeFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	out := input[:0]
	for _, t := range input {
		t.Term = normalizeArabic(t.Term)
		if len(t.Term) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func normalizeConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return NormalizeFilter{}, nil
}

func init() {
	if err := registry.RegisterTokenFilter(NormalizeName, normalizeConstructor); err != nil {
		panic(err)
	}
}
