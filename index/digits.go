package index

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// DigitsName is the registered name of the digit folding filter.
const DigitsName = "sijill_digits"

// DigitsFilter turns every decimal digit (Arabic-Indic ٠–٩, Persian ۰–۹ and
// any other Unicode Nd digit) into its ASCII digit, as Lucene's
// DecimalDigitFilter does, so ٢٠٢٠ and ۲۰۲۰ find 2020.
type DigitsFilter struct{}

// digitValue returns the value of a decimal digit, or -1.
func digitValue(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 0x0660 && r <= 0x0669:
		return int(r - 0x0660)
	case r >= 0x06F0 && r <= 0x06F9:
		return int(r - 0x06F0)
	case r < 0x80 || !unicode.Is(unicode.Nd, r):
		return -1
	}
	// Nd digits come in runs of ten starting at zero; some blocks hold
	// several runs back to back.
	zero := r
	for unicode.Is(unicode.Nd, zero-1) {
		zero--
	}
	return int(r-zero) % 10
}

func foldDigits(b []byte) []byte {
	plain := true
	for _, r := range string(b) {
		if r >= 0x80 && !(r >= 0x0621 && r <= 0x065F) && digitValue(r) >= 0 {
			plain = false
			break
		}
	}
	if plain {
		return b
	}
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r >= 0x80 {
			if v := digitValue(r); v >= 0 {
				r = rune('0' + v)
			}
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}

// Filter implements analysis.TokenFilter.
func (DigitsFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		t.Term = foldDigits(t.Term)
	}
	return input
}

func digitsConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return DigitsFilter{}, nil
}

func init() {
	if err := registry.RegisterTokenFilter(DigitsName, digitsConstructor); err != nil {
		panic(err)
	}
}
