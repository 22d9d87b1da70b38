package index

import (
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// marks are the terms a query searched for, to be marked in the hits' text.
// Highlights are computed on the stored text of the page's hits only, by
// running the analysis chain again, which costs far less than asking Bleve
// for the term locations of every match.
type marks struct {
	exact, stems                map[string]bool
	exactPrefixes, stemPrefixes []string
}

func newMarks() *marks { return &marks{exact: map[string]bool{}, stems: map[string]bool{}} }

func (m *marks) addExact(t string) {
	if m != nil {
		m.exact[t] = true
	}
}

func (m *marks) addStem(t string) {
	if m != nil {
		m.stems[t] = true
	}
}

func (m *marks) addPrefixes(exact, stem string) {
	if m != nil {
		m.exactPrefixes = append(m.exactPrefixes, exact)
		m.stemPrefixes = append(m.stemPrefixes, stem)
	}
}

func (m *marks) empty() bool {
	return len(m.exact) == 0 && len(m.stems) == 0 && len(m.exactPrefixes) == 0
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// maxMarked is how many matched words of one text are enough to cut its
// fragments; the rest of a long text is not analysed.
const maxMarked = 12

// Highlighting analyses text again, so its cost grows with the text: only
// the first highlightScan bytes of a value, and highlightBudget bytes of a
// hit, are looked at. A match further into a long body or attachment still
// counts; it is just not shown.
const (
	highlightScan   = 32 << 10
	highlightBudget = 128 << 10
)

// scanPrefix returns at most n bytes of text, cut at a rune boundary.
func scanPrefix(text string, n int) string {
	if len(text) <= n {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n]
}

// matchSpans returns the byte ranges of text's words that m marks, in order.
// Each word goes through the exact chain, then the stop list and stemmer of
// the stemmed chain, so a word is marked exactly when the index matched it.
// stems caches the stemmer's answers across the hits of one search.
func (a *textAnalyzers) matchSpans(text string, m *marks, stems map[string][]string) []span {
	var out []span
	for _, t := range (Tokenizer{}).Tokenize([]byte(scanPrefix(text, highlightScan))) {
		term := string(foldDigits(normalizeArabic(foldLatin(nfkc(removeInvisible(t.Term))))))
		if term == "" {
			continue
		}
		hit := m.exact[term] || hasAnyPrefix(term, m.exactPrefixes)
		if !hit && t.Type != analysis.Numeric && !a.stop.isStop(term) {
			ss, ok := stems[term]
			if !ok {
				if len(term) > 3 && isASCIIWord([]byte(term)) {
					ss = []string{porterstemmer.StemString(term)}
				} else {
					ss = a.stemmer.Stem(term)
				}
				stems[term] = ss
			}
			for _, s := range ss {
				if m.stems[s] || hasAnyPrefix(s, m.stemPrefixes) {
					hit = true
				}
			}
		}
		if hit {
			out = append(out, span{t.Start, t.End})
			if len(out) >= maxMarked {
				break
			}
		}
	}
	return out
}
