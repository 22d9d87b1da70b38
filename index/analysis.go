// Package index keeps the Bleve full-text index of the archive: the Arabic
// analysis chain, the mapping, search and rebuilding from the archive.
//
// The index is derived data: the bucket is the truth, and everything here can
// be rebuilt from it (Rebuild). The analysis chain is ours because Bleve's
// built-in "ar" analyser misses what real secretariat documents contain (see
// ARABIC.md): Eastern digits, clitics, hamza seats, presentation forms,
// invisible characters, broken plurals and names that must not be stemmed.
//
// The chain is built from components registered with Bleve under names
// prefixed "sijill_", one file per component:
//
//	sijill_tokenizer   words and numbers, keeping invisible characters inside words
//	sijill_invisible   deletes ZWNJ, ZWJ, bidi controls and other format characters
//	sijill_nfkc        Unicode NFKC (presentation forms, ligatures, wide digits)
//	sijill_fold        lower case and Latin accent folding
//	sijill_normalize   Arabic letter normalisation (alef, hamza seats, yeh, teh marbuta, harakat)
//	sijill_digits      every decimal digit to ASCII
//	sijill_stop        Arabic, English and French stop words, after normalisation
//	sijill_stemmer     light Arabic stemmer with clitics, names and broken plurals
//	sijill_latin_stem  Porter stemming of Latin words
//
// and two analysers: sijill_exact (normalised, unstemmed, no stop words: for
// phrases and prefixes) and sijill_stemmed (for recall).
package index

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// textAnalyzers holds the two analysers used at index and query time.
type textAnalyzers struct {
	exact, stemmed analysis.Analyzer
	// The stemmed chain's own parts, for highlighting (see matchSpans).
	stop    *StopFilter
	stemmer *Stemmer
	// words caches what the chain makes of a written word, for
	// highlighting (see word); wordCount counts its entries.
	words     sync.Map // spanKey -> wordInfo
	wordCount atomic.Int64
}

// newAnalyzers builds both analysers through Bleve's registry, the same way
// the index mapping resolves them by name.
func newAnalyzers() (*textAnalyzers, error) {
	cache := registry.NewCache()
	exact, err := cache.AnalyzerNamed(ExactAnalyzerName)
	if err != nil {
		return nil, fmt.Errorf("index: analyser %s: %w", ExactAnalyzerName, err)
	}
	stemmed, err := cache.AnalyzerNamed(StemmedAnalyzerName)
	if err != nil {
		return nil, fmt.Errorf("index: analyser %s: %w", StemmedAnalyzerName, err)
	}
	st, err := newStemmer()
	if err != nil {
		return nil, err
	}
	return &textAnalyzers{exact: exact, stemmed: stemmed, stop: newStopFilter(), stemmer: st}, nil
}

// stemFrom derives the stemmed token stream from the exact one, doing what
// the stemmed chain does after the exact chain's filters (stop words, Arabic
// and Latin stemming), so a record's text is tokenised and normalised once
// for both fields. TestStemFrom holds it to the registered analyser.
func (a *textAnalyzers) stemFrom(exact analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(exact)+len(exact)/8)
	for _, t := range exact {
		if a.stop.isStop(string(t.Term)) {
			continue
		}
		c := *t
		out = append(out, &c)
	}
	out = a.stemmer.Filter(out)
	return LatinStemFilter{}.Filter(out)
}

// docAnalysis analyses a record's text once for both text fields: the first
// field to ask runs the exact chain and derives the stemmed stream from it.
// Bleve analyses a document's fields one after the other in one of its
// analysis workers, so documents are still analysed in parallel.
type docAnalysis struct {
	once                  sync.Once
	an                    *textAnalyzers
	text                  []byte
	exact, stemmed, pairs analysis.TokenStream
	prefixes              analysis.TokenStream
}

func (d *docAnalysis) run() {
	d.exact = d.an.exact.Analyze(d.text)
	d.stemmed = d.an.stemFrom(d.exact)
	d.pairs = pairsOf(d.stemmed)
	d.prefixes = prefixesOf(d.stemmed)
}

// Prefix terms: every stem of a record indexes its first minPrefix to
// maxPrefixTerm letters, each once per record, so that a typed prefix of up
// to maxPrefixTerm letters (تنظي*) is one term to look up instead of a union
// of every stem it begins — the slowest searches at 100,000 records were
// prefixes of common words. Elasticsearch's index_prefixes does the same.
// Longer prefixes begin few words and are expanded as before, on the exact
// and the stemmed fields. Stems and not written words: a prefix is searched
// by its bare form (مجل* finds المجلس), and the written words' prefixes
// would cost a fifth more indexing time again.
const maxPrefixTerm = 5

// prefixesOf returns the distinct prefix terms of a record's stems.
func prefixesOf(stemmed analysis.TokenStream) analysis.TokenStream {
	// One set for stems and prefixes: a stem already seen adds nothing, and
	// a prefix equal to a stem seen later (مجل, then مجل as a stem) is
	// still added once.
	seen := make(map[string]bool, 2*len(stemmed)) // true: a stem, false: a prefix only
	out := make(analysis.TokenStream, 0, len(stemmed))
	add := func(g []byte) {
		if _, ok := seen[string(g)]; !ok {
			seen[string(g)] = false
			out = append(out, &analysis.Token{Term: g, Position: len(out) + 1, Type: analysis.AlphaNumeric})
		}
	}
	for _, t := range stemmed {
		if t.Type == analysis.Numeric {
			continue
		}
		if seen[string(t.Term)] {
			continue
		}
		n := 0
		for i := range string(t.Term) {
			if n > maxPrefixTerm {
				break
			}
			if n >= minPrefix {
				add(t.Term[:i])
			}
			n++
		}
		if n >= minPrefix && n <= maxPrefixTerm {
			add(t.Term)
		}
		seen[string(t.Term)] = true
	}
	return out
}

// pairSep joins the two stems of a pair term.
const pairSep = " "

// pairsOf returns the pairs of stems at adjacent positions of a stemmed
// stream, each at the position of its first stem ("مجلس وطن" for "المجلس
// الوطني"). A two-word phrase is then one term to look up instead of two
// long posting lists whose positions Bleve compares document by document,
// which made phrases of common words the slowest searches. A word with
// several stems pairs each of them.
func pairsOf(stemmed analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(stemmed))
	// Tokens come in position order; those of one position are adjacent.
	for i := 0; i < len(stemmed); {
		j := i
		for j < len(stemmed) && stemmed[j].Position == stemmed[i].Position {
			j++
		}
		k := j
		for k < len(stemmed) && stemmed[k].Position == stemmed[i].Position+1 {
			k++
		}
		pair := func(a, b *analysis.Token) {
			term := make([]byte, 0, len(a.Term)+len(pairSep)+len(b.Term))
			term = append(append(append(term, a.Term...), pairSep...), b.Term...)
			out = append(out, &analysis.Token{Term: term, Position: a.Position, Start: a.Start, End: b.End, Type: analysis.AlphaNumeric})
		}
		var parts []*analysis.Token
		for _, a := range stemmed[i:j] {
			if a.Type == compoundPart {
				parts = append(parts, a)
				continue
			}
			for _, b := range stemmed[j:k] {
				if b.Type != compoundPart {
					pair(a, b)
				}
			}
		}
		// A compound written joined pairs its parts, so the phrase typed
		// apart ("عبد الرحمن") finds it.
		if len(parts) == 2 {
			pair(parts[0], parts[1])
		}
		i = j
	}
	return out
}

// exactStream, stemmedStream, pairStream and prefixStream are the
// analysers of one document's fields.
type (
	exactStream   struct{ d *docAnalysis }
	stemmedStream struct{ d *docAnalysis }
	pairStream    struct{ d *docAnalysis }
	prefixStream  struct{ d *docAnalysis }
)

func (p prefixStream) Analyze([]byte) analysis.TokenStream {
	p.d.once.Do(p.d.run)
	return p.d.prefixes
}

func (p pairStream) Analyze([]byte) analysis.TokenStream {
	p.d.once.Do(p.d.run)
	return p.d.pairs
}

func (e exactStream) Analyze([]byte) analysis.TokenStream {
	e.d.once.Do(e.d.run)
	return e.d.exact
}

func (s stemmedStream) Analyze([]byte) analysis.TokenStream {
	s.d.once.Do(s.d.run)
	return s.d.stemmed
}

// terms returns the terms of text under a, in order.
func terms(a analysis.Analyzer, text string) []string {
	ts := a.Analyze([]byte(text))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out
}
