package index

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"golang.org/x/text/unicode/norm"
)

// FoldName is the registered name of the case and Latin accent folding filter.
const FoldName = "sijill_fold"

// FoldFilter lower-cases terms and folds Latin letters to ASCII ("Réunion"
// and "reunion" are one word; French and English names in letters are typed
// either way). It folds only Latin letters: decomposing Arabic would drop the
// hamza of ؤ and ئ, which sijill_normalize folds on purpose.
type FoldFilter struct{}

var latinSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ł': "l", 'ħ': "h", 'ı': "i", 'þ': "th", 'ð': "d",
}

// Filter implements analysis.TokenFilter.
func (FoldFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		t.Term = foldLatin(t.Term)
	}
	return input
}

func foldLatin(b []byte) []byte {
	plain := true
	for _, r := range string(b) {
		if r >= 'A' && r <= 'Z' || r >= 0x80 && r <= 0x24F || r >= 0x370 && r < 0x600 || r > 0x6FF && unicode.IsUpper(r) {
			plain = false
			break
		}
	}
	if plain {
		return b
	}
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		r = unicode.ToLower(r)
		if r < 0x80 || r > 0x24F {
			out = utf8.AppendRune(out, r)
			continue
		}
		if s, ok := latinSpecial[r]; ok {
			out = append(out, s...)
			continue
		}
		for _, d := range norm.NFD.String(string(r)) {
			if !unicode.Is(unicode.Mn, d) {
				out = utf8.AppendRune(out, d)
			}
		}
	}
	return out
}

func foldConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return FoldFilter{}, nil
}

func init() {
	if err := registry.RegisterTokenFilter(FoldName, foldConstructor); err != nil {
		panic(err)
	}
}
