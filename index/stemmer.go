package index

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// StemmerName is the registered name of the Arabic light stemmer.
const StemmerName = "sijill_stemmer"

// Stemmer is a light Arabic stemmer in the manner of Lucene's ArabicStemmer
// (Larkey's Light10: one prefix among ال وال بال كال فال لل و, then the
// suffixes ها ان ات ون ين يه ية ه ة ي), with what secretariat documents need
// beyond it:
//
//   - لل before a word that itself begins with ل (للجنة = لـ + اللجنة) keeps
//     that ل, so للجنة and اللجنة share the stem لجن.
//   - The single-letter clitics ب ل ك ف before a noun without ال (بمحاضر,
//     لمجلس, كمسؤولية) are stripped only when four letters remain, and then
//     both readings are emitted at the same position, since a word may begin
//     with one of these letters (بوزنيقة, كتابة).
//   - و before a word without ال is stripped as Lucene does, and the reading
//     with و kept is emitted too (وطني is not و + طني).
//   - Names on a keyword list (لبنان, البحرين, فلسطين...) and tokens marked
//     KeyWord are never stemmed.
//   - A lexicon maps the domain's broken plurals to their singular's stem
//     (أعضاء→عضو, لجان→لجنة).
//
// It expects normalised input (sijill_normalize): ة is already ه.
type Stemmer struct {
	keywords map[string]struct{}
	plurals  map[string]string

	// cache remembers the stems of up to maxCached words: a secretariat's
	// vocabulary is small, and most words of a text are stemmed again and
	// again.
	cache  sync.Map // string -> []string
	cached atomic.Int64
}

const maxCached = 200000

var (
	stemPrefixes = []string{"ال", "وال", "بال", "كال", "فال", "لل", "و"}
	stemSuffixes = []string{"ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي"}
)

// newStemmer builds the keyword set and the plural lexicon in normalised form.
func newStemmer() *Stemmer {
	s := &Stemmer{keywords: map[string]struct{}{}, plurals: map[string]string{}}
	norm := func(w string) string { return string(normalizeArabic([]byte(w))) }
	for _, name := range keywordNames {
		for _, w := range strings.Fields(name) {
			w = norm(w)
			s.keywords[w] = struct{}{}
			if strings.HasPrefix(w, "ال") && len([]rune(w)) > 4 {
				s.keywords[strings.TrimPrefix(w, "ال")] = struct{}{}
			}
		}
	}
	for plural, singular := range pluralLexicon {
		stem, _ := s.stripSuffixes([]rune(norm(singular)), false)
		s.plurals[norm(plural)] = stem
	}
	return s
}

func (s *Stemmer) isKeyword(r []rune) bool {
	_, ok := s.keywords[string(r)]
	return ok
}

func hasRunePrefix(r []rune, p string) bool {
	i := 0
	for _, c := range p {
		if i >= len(r) || r[i] != c {
			return false
		}
		i++
	}
	return true
}

func canStemPrefix(r []rune, p string) bool {
	n := len([]rune(p))
	if n == 1 && len(r) < 4 { // و needs three letters after it
		return false
	}
	return len(r)-n >= 2 && hasRunePrefix(r, p)
}

func canStemSuffix(r []rune, suf string) bool {
	n := len([]rune(suf))
	if len(r)-n < 2 {
		return false
	}
	i := len(r) - n
	for _, c := range suf {
		if r[i] != c {
			return false
		}
		i++
	}
	return true
}

// stripSuffixes removes suffixes in Lucene's order, checking the plural
// lexicon before each step. It reports whether the lexicon decided.
func (s *Stemmer) stripSuffixes(r []rune, lexicon bool) (string, bool) {
	if lexicon {
		if st, ok := s.plurals[string(r)]; ok {
			return st, true
		}
	}
	for _, suf := range stemSuffixes {
		if canStemSuffix(r, suf) {
			r = r[:len(r)-len([]rune(suf))]
			if lexicon {
				if st, ok := s.plurals[string(r)]; ok {
					return st, true
				}
			}
		}
	}
	return string(r), false
}

func isArabicLetters(r []rune) bool {
	for _, c := range r {
		if c < 0x0620 || c > 0x06FF || (c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9) {
			return false
		}
	}
	return len(r) > 0
}

// Stem returns the stems of one normalised word: one, or two when a
// single-letter clitic makes the word ambiguous. Non-Arabic words come back
// unchanged.
// The slice returned is shared: callers must not modify it.
func (s *Stemmer) Stem(word string) []string {
	if v, ok := s.cache.Load(word); ok {
		return v.([]string)
	}
	stems := s.stem(word)
	if s.cached.Load() < maxCached {
		if _, loaded := s.cache.LoadOrStore(word, stems); !loaded {
			s.cached.Add(1)
		}
	}
	return stems
}

func (s *Stemmer) stem(word string) []string {
	r := []rune(word)
	if !isArabicLetters(r) {
		return []string{word}
	}
	if hasRunePrefix(r, "ال") && s.isKeyword(r[2:]) {
		return []string{string(r[2:])}
	}
	if s.isKeyword(r) {
		return []string{word}
	}
	for _, p := range stemPrefixes {
		if !canStemPrefix(r, p) {
			continue
		}
		rest := r[len([]rune(p)):]
		if s.isKeyword(rest) {
			return []string{string(rest)}
		}
		switch p {
		case "لل":
			return []string{s.stemLamLam(rest)}
		case "و":
			// و is a conjunction or the word's first letter (وطني, وزير):
			// keep both readings.
			stems := s.stemClitic(rest)
			if whole, _ := s.stripSuffixes(r, true); !slices.Contains(stems, whole) {
				stems = append(stems, whole)
			}
			return stems
		}
		st, _ := s.stripSuffixes(rest, true)
		return []string{st}
	}
	return s.stemClitic(r)
}

// stemLamLam decides between لـ+ال+rest and لـ+ال+ل+rest: the lexicon first,
// then a stem too short to be a word means the ل belonged to the word.
func (s *Stemmer) stemLamLam(rest []rune) string {
	withLam := append([]rune{'ل'}, rest...)
	if s.isKeyword(withLam) {
		return string(withLam)
	}
	altStem, altLex := s.stripSuffixes(withLam, true)
	if altLex {
		return altStem
	}
	st, lex := s.stripSuffixes(rest, true)
	if !lex && len([]rune(st)) < 3 {
		return altStem
	}
	return st
}

// stemClitic stems a word that carries no article, emitting also the reading
// without a leading ب ل ك ف when four letters remain.
func (s *Stemmer) stemClitic(r []rune) []string {
	main, _ := s.stripSuffixes(r, true)
	if len(r) >= 5 && (r[0] == 'ب' || r[0] == 'ل' || r[0] == 'ك' || r[0] == 'ف') {
		rest := r[1:]
		if s.isKeyword(rest) {
			return []string{string(rest)}
		}
		alt, _ := s.stripSuffixes(rest, true)
		if alt != main {
			return []string{main, alt}
		}
	}
	return []string{main}
}

// Filter implements analysis.TokenFilter. A second stem of an ambiguous word
// is a token at the same position and offsets as the first.
func (s *Stemmer) Filter(input analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream
	for i, t := range input {
		if t.KeyWord || t.Type == analysis.Numeric {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		stems := s.Stem(string(t.Term))
		if len(stems) == 1 && out == nil {
			t.Term = []byte(stems[0])
			continue
		}
		if out == nil {
			out = make(analysis.TokenStream, i, len(input)+4)
			copy(out, input[:i])
		}
		t.Term = []byte(stems[0])
		out = append(out, t)
		for _, st := range stems[1:] {
			c := *t
			c.Term = []byte(st)
			out = append(out, &c)
		}
	}
	if out == nil {
		return input
	}
	return out
}

func stemmerConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return newStemmer(), nil
}

func init() {
	if err := registry.RegisterTokenFilter(StemmerName, stemmerConstructor); err != nil {
		panic(err)
	}
}
