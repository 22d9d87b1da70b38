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

// spanCache keeps, across the hits of one search, whether a word as
// written (and whether it is a number) is marked: a page of hits repeats
// most of its words.
type spanCache struct {
	marked map[spanKey]bool
}

type spanKey struct {
	word    string
	numeric bool
}

func newSpanCache() *spanCache {
	return &spanCache{marked: map[spanKey]bool{}}
}

// matchSpans returns the byte ranges of text's words that m marks, in order.
// Each word goes through the exact chain, then the stop list and stemmer of
// the stemmed chain, so a word is marked exactly when the index matched it.
// c caches the answers across the hits of one search.
func (a *textAnalyzers) matchSpans(text string, m *marks, c *spanCache) []span {
	var out []span
	input := []byte(scanPrefix(text, highlightScan))
	// A text too long to be shown whole is shown as fragments, each the
	// window after its first span (see fragments). Once the last fragment's
	// window has begun, a word starting past its end cannot be shown, so the
	// scan stops there: a page of long letters costs what it shows.
	long := len(text) > wholeField
	groups, windowEnd := 0, -1
	(Tokenizer{}).each(input, func(start, end, _ int, typ analysis.TokenType, term []byte) bool {
		if long && groups == maxFragments && start >= windowEnd {
			return false
		}
		key := spanKey{text[start:end], typ == analysis.Numeric}
		hit, ok := c.marked[key]
		if !ok {
			hit = a.marked(term, key.numeric, m)
			c.marked[key] = hit
		}
		if hit {
			out = append(out, span{start, end})
			if long && end > windowEnd {
				groups++
				windowEnd = fragmentEnd(text, end)
			}
		}
		return len(out) < maxMarked
	})
	return out
}

// marked reports whether the word w (as written) is one m marks.
func (a *textAnalyzers) marked(w []byte, numeric bool, m *marks) bool {
	wi := a.word(w, numeric)
	if wi.term == "" {
		return false
	}
	if m.exact[wi.term] || hasAnyPrefix(wi.term, m.exactPrefixes) {
		return true
	}
	for _, s := range wi.stems {
		if m.stems[s] || hasAnyPrefix(s, m.stemPrefixes) {
			return true
		}
	}
	return false
}

// wordInfo is what the analysis chain makes of a word as written: its
// normalised term and, unless it is a number or a stop word, its stems.
type wordInfo struct {
	term  string
	stems []string
}

// maxWords bounds the cache of wordInfo: a secretariat's vocabulary, in all
// its written forms, is far smaller.
const maxWords = 200000

// word returns the wordInfo of w, from the cache shared by every search
// when it is there: highlighting a page meets the same written words over
// and over, and the chain (NFKC, normalisation, stemming) is most of its
// cost.
func (a *textAnalyzers) word(w []byte, numeric bool) wordInfo {
	key := spanKey{string(w), numeric}
	if v, ok := a.words.Load(key); ok {
		return v.(wordInfo)
	}
	// The chain may rewrite w in place; the key was copied first.
	term := string(foldDigits(normalizeArabic(foldLatin(nfkc(removeInvisible(w))))))
	wi := wordInfo{term: term}
	if term != "" && !numeric && !a.stop.isStop(term) {
		if len(term) > 3 && isASCIIWord([]byte(term)) {
			wi.stems = []string{porterstemmer.StemString(term)}
		} else {
			wi.stems = a.stemmer.Stem(term)
		}
	}
	if a.wordCount.Load() < maxWords {
		if _, loaded := a.words.LoadOrStore(key, wi); !loaded {
			a.wordCount.Add(1)
		}
	}
	return wi
}
