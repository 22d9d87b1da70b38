package index

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// InvisibleName is the registered name of the invisible-character filter.
const InvisibleName = "sijill_invisible"

// InvisibleFilter deletes format characters (Unicode category Cf: ZWNJ, ZWJ,
// LRM, RLM, U+202A–U+202E, U+2066–U+2069, U+061C, soft hyphen, BOM) from
// terms. Text pasted from word processors and PDFs carries them inside words,
// where they would make "الأ‌عضاء" a different word from "الأعضاء". They are
// deleted, never turned into spaces.
type InvisibleFilter struct{}

func isInvisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// Filter implements analysis.TokenFilter.
func (InvisibleFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		t.Term = removeInvisible(t.Term)
	}
	return input
}

func removeInvisible(b []byte) []byte {
	clean := true
	for _, r := range string(b) {
		if isInvisible(r) {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if !isInvisible(r) {
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

func invisibleConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return InvisibleFilter{}, nil
}

func init() {
	if err := registry.RegisterTokenFilter(InvisibleName, invisibleConstructor); err != nil {
		panic(err)
	}
}
