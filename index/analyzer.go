package index

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names of the two analysers. They are stored in the index mapping: changing
// either chain must bump MappingVersion.
const (
	// ExactAnalyzerName keeps every word in its normalised, unstemmed form,
	// stop words included, for phrases, prefixes and ranking exact forms first.
	ExactAnalyzerName = "sijill_exact"
	// StemmedAnalyzerName drops stop words and stems, for recall.
	StemmedAnalyzerName = "sijill_stemmed"
)

var (
	exactChain   = []string{InvisibleName, NFKCName, FoldName, NormalizeName, DigitsName}
	stemmedChain = []string{InvisibleName, NFKCName, FoldName, NormalizeName, DigitsName, StopName, StemmerName, LatinStemName}
)

func chainConstructor(chain []string) registry.AnalyzerConstructor {
	return func(_ map[string]interface{}, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(TokenizerName)
		if err != nil {
			return nil, fmt.Errorf("index: tokenizer %s: %w", TokenizerName, err)
		}
		a := &analysis.DefaultAnalyzer{Tokenizer: tok}
		for _, name := range chain {
			f, err := cache.TokenFilterNamed(name)
			if err != nil {
				return nil, fmt.Errorf("index: token filter %s: %w", name, err)
			}
			a.TokenFilters = append(a.TokenFilters, f)
		}
		return a, nil
	}
}

func init() {
	if err := registry.RegisterAnalyzer(ExactAnalyzerName, chainConstructor(exactChain)); err != nil {
		panic(err)
	}
	if err := registry.RegisterAnalyzer(StemmedAnalyzerName, chainConstructor(stemmedChain)); err != nil {
		panic(err)
	}
}
