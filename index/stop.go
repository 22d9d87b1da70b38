package index

import (
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// StopName is the registered name of the stop word filter.
const StopName = "sijill_stop"

// StopFilter drops words too common to search for. It runs after
// normalisation, and its list is normalised by the same chain, so "فِي" and
// "فـي" are dropped like "في" (Bleve's stop_ar runs before normalisation and
// lets them through).
type StopFilter struct {
	words map[string]struct{}
}

// arabicStopWords is Jacques Savoy's list (BSD licence), as shipped by Lucene
// and Bleve, with a few forms it lacks.
const arabicStopWords = `من ومن منها منه في وفي فيها فيه و ف ثم او أو ب بها به ا أ اى اي أي أى لا ولا
الا ألا إلا لكن ما وما كما فما عن مع اذا إذا ان أن إن انها أنها إنها انه أنه إنه بان بأن فان فأن وان وأن
وإن التى التي الذى الذي الذين الى الي إلى إلي على عليها عليه اما أما إما ايضا أيضا كل وكل لم ولم لن ولن
هى هي هو وهى وهي وهو فهى فهي فهو انت أنت لك لها له هذه هذا تلك ذلك هناك كانت كان يكون تكون وكانت وكان
غير بعض قد نحو بين بينما منذ ضمن حيث الان الآن خلال بعد قبل حتى عند عندما لدى جميع
ل ك وعلى وإلى وعن ومع وقد لقد كذلك التي اللذين اللتين هؤلاء أولئك`

// latinStopWords are the commonest English and French function words.
const latinStopWords = `a an and are as at be but by for if in into is it no not of on or such that the
their then there these they this to was will with au aux avec ce ces d dans de des du elle en et eux il
je l la le les leur lui ma mais me meme mes moi mon ne nos notre nous ou par pas pour qu que qui s sa se
ses son sur ta te tes toi ton tu un une vos votre vous`

func newStopFilter() *StopFilter {
	f := &StopFilter{words: map[string]struct{}{}}
	for _, w := range strings.Fields(arabicStopWords + " " + latinStopWords) {
		f.words[string(normalizeArabic([]byte(w)))] = struct{}{}
	}
	return f
}

func (f *StopFilter) isStop(term string) bool {
	_, stop := f.words[term]
	return stop
}

// Filter implements analysis.TokenFilter.
func (f *StopFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	out := input[:0]
	for _, t := range input {
		if _, stop := f.words[string(t.Term)]; !stop {
			out = append(out, t)
		}
	}
	return out
}

func stopConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return newStopFilter(), nil
}

func init() {
	if err := registry.RegisterTokenFilter(StopName, stopConstructor); err != nil {
		panic(err)
	}
}
