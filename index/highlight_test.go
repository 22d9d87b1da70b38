package index

import (
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
)

// TestFragmentsStopEarly checks that matchSpans, which stops reading a long
// text once its last fragment is known, shows exactly the fragments that
// reading the whole text would: for every corpus paragraph and a query word
// taken from it at several places (first, middle, last word), and for a
// common word that occurs all over.
func TestFragmentsStopEarly(t *testing.T) {
	an, err := newAnalyzers()
	if err != nil {
		t.Fatal(err)
	}
	// fullSpans is matchSpans without the early stop.
	fullSpans := func(text string, m *marks) []span {
		var out []span
		input := []byte(scanPrefix(text, highlightScan))
		(Tokenizer{}).each(input, func(start, end, _ int, typ analysis.TokenType, term []byte) bool {
			if an.marked(term, typ == analysis.Numeric, m) {
				out = append(out, span{start, end})
			}
			return len(out) < maxMarked
		})
		return out
	}
	// The paragraphs, and runs of three paragraphs for texts as long as
	// a letter's body.
	recs := corpusRecords(t)
	var texts []string
	for i, r := range recs {
		texts = append(texts, r.Body)
		if i+2 < len(recs) {
			texts = append(texts, r.Body+"\n"+recs[i+1].Body+"\n"+recs[i+2].Body)
		}
	}
	long, stopped := 0, 0
	for i, text := range texts {
		words := strings.Fields(text)
		if len(words) == 0 {
			continue
		}
		for _, w := range []string{words[0], words[len(words)/2], words[len(words)-1], "الحزب", "في"} {
			m := newMarks()
			for _, tok := range an.stemmed.Analyze([]byte(w)) {
				m.addStem(string(tok.Term))
			}
			if m.empty() {
				continue
			}
			got := an.matchSpans(text, m, newSpanCache())
			want := fullSpans(text, m)
			if len(text) > wholeField {
				long++
				if len(got) < len(want) {
					stopped++
				}
			}
			if g, f := fragments(text, got), fragments(text, want); !slices.Equal(g, f) {
				t.Fatalf("text %d, query %q: the early stop shows\n%q\nthe whole text\n%q", i, w, g, f)
			}
		}
	}
	if stopped == 0 {
		t.Fatalf("no scan of %d long texts stopped early: the test does not exercise the stop", long)
	}
	t.Logf("%d scans of long texts, %d stopped before the end", long, stopped)
}
