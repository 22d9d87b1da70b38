package index

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/go-porterstemmer"
)

// LatinStemName is the registered name of the Latin-script stemmer.
const LatinStemName = "sijill_latin_stem"

// LatinStemFilter applies the Porter stemmer to words written only in ASCII
// letters (after sijill_fold), leaving Arabic words and numbers alone. Porter
// is English, but it also merges the plural -s of French words, which is most
// of what a secretariat's Latin text needs.
type LatinStemFilter struct{}

func isASCIIWord(b []byte) bool {
	for _, c := range b {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return len(b) > 0
}

// Filter implements analysis.TokenFilter.
func (LatinStemFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		if !t.KeyWord && len(t.Term) > 3 && isASCIIWord(t.Term) {
			t.Term = []byte(porterstemmer.StemString(string(t.Term)))
		}
	}
	return input
}

func latinStemConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return LatinStemFilter{}, nil
}

func init() {
	if err := registry.RegisterTokenFilter(LatinStemName, latinStemConstructor); err != nil {
		panic(err)
	}
}
