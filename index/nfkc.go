package index

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"golang.org/x/text/unicode/norm"
)

// NFKCName is the registered name of the NFKC filter.
const NFKCName = "sijill_nfkc"

// NFKCFilter brings terms to Unicode NFKC, so Arabic presentation forms
// copied from PDFs (U+FB50–U+FDFF, U+FE70–U+FEFF, such as the lam-alef
// ligature in "اﻷعضاء") become ordinary letters, and a letter followed by a
// combining hamza becomes the precomposed letter.
type NFKCFilter struct{}

// Filter implements analysis.TokenFilter.
func (NFKCFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		t.Term = nfkc(t.Term)
	}
	return input
}

// nfkc returns b in NFKC. Words of ASCII and plain Arabic letters and digits
// (no harakat, which canonical ordering may move) are already in NFKC and
// skip the normaliser.
func nfkc(b []byte) []byte {
	for _, r := range string(b) {
		if !(r >= 0x20 && r < 0x7F || r >= 0x0621 && r <= 0x064A || r >= 0x0660 && r <= 0x0669) {
			if norm.NFKC.IsNormal(b) {
				return b
			}
			return norm.NFKC.Bytes(b)
		}
	}
	return b
}

func nfkcConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return NFKCFilter{}, nil
}

func init() {
	if err := registry.RegisterTokenFilter(NFKCName, nfkcConstructor); err != nil {
		panic(err)
	}
}
