package index

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// StemmerName is the registered name of the Arabic light stemmer.
const StemmerName = "sijill_stemmer"

// Stemmer reduces an Arabic word to the base it is searched by. It reads a
// word the way a reader does: it tries every way of splitting it into
// proclitics (و ف ب ك ل س, the article and their stacks: وبال, فلل), a core
// and a possessive or object ending (كم نا هم ها ...), and keeps the
// reading whose core is a word of the Ayaspell lexicon (ayaspell.go):
//
//   - a word that is itself in the lexicon is not cut: كمال is a name, not
//     ك + مال; بيان, ديوان, عنوان keep their ان;
//   - otherwise the longest core wins: لوفد is ل + وفد, بفرع ب + فرع,
//     للجنة ل + لجنة rather than لل + جنة;
//   - the core reads as its lexicon base: a feminine, a sound plural, a
//     nisba, a dual or a broken plural as its singular (الإعلانات → إعلان,
//     مناضلات → مناضل, رسائل → رسالة), and the lexicon of the domain's
//     plurals (lexicon.go) first.
//
// A word the lexicon does not know (a place, a family name, a word of the
// day) is stemmed lightly as Lucene's ArabicStemmer does (Larkey's Light10),
// with both readings of a leading ب ل ك ف و kept at the same position, and
// the lexicon consulted after each step. Names on a keyword list (لبنان,
// البحرين, فلسطين...) and tokens marked KeyWord are never stemmed.
//
// It expects normalised input (sijill_normalize): ة is already ه.
type Stemmer struct {
	keywords map[string]struct{}
	plurals  map[string]string
	lex      *lexicon

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
func newStemmer() (*Stemmer, error) {
	lex, err := loadAyaspell()
	if err != nil {
		return nil, err
	}
	s := &Stemmer{keywords: map[string]struct{}{}, plurals: map[string]string{}, lex: lex}
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
		s.plurals[norm(plural)] = norm(singular)
	}
	// The singular reads as its own base (لجنة → لجنه, مقرر → مقرر).
	for plural, singular := range s.plurals {
		if b, _, ok := s.lex.lookup(singular); ok {
			s.plurals[plural] = b
		}
	}
	return s, nil
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
		if st, ok := s.known(string(r)); ok {
			return st, true
		}
	}
	for _, suf := range stemSuffixes {
		if canStemSuffix(r, suf) {
			r = r[:len(r)-len([]rune(suf))]
			if lexicon {
				if st, ok := s.known(string(r)); ok {
					return st, true
				}
			}
		}
	}
	return string(r), false
}

// known returns the base of a word of the plural list or of the lexicon's
// nouns of three letters or more (shorter ones are too often what is left of
// a longer unknown word).
func (s *Stemmer) known(w string) (string, bool) {
	if st, ok := s.plurals[w]; ok {
		return st, true
	}
	if s.lex == nil || utf8.RuneCountInString(w) < 3 {
		return "", false
	}
	if b, kind, ok := s.lex.lookup(w); ok && kind >= kindNoun {
		return b, true
	}
	return "", false
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
	if b, ok := s.read(word); ok {
		return []string{b}
	}
	for written, head := range compoundHeads {
		if rest, ok := strings.CutPrefix(word, written); ok && utf8.RuneCountInString(rest) >= 3 {
			if j := s.joinedStem(head, rest); j != "" {
				return []string{j}
			}
		}
	}
	return s.lightStem(r)
}

// Clitics a reading may strip. A proclitic before the article or ب ك only
// goes with a noun, س only with a verb.
type clitic struct {
	text string
	noun bool // a proclitic only before a noun
	verb bool // a proclitic before an imperfect (سيتم, سنعمل); an ending only after a verb
}

var (
	proclitics = []clitic{
		{text: ""}, {text: "و"}, {text: "ف"}, {text: "ل"},
		{text: "ب", noun: true}, {text: "ك", noun: true},
		{text: "ال", noun: true}, {text: "وال", noun: true}, {text: "فال", noun: true},
		{text: "بال", noun: true}, {text: "كال", noun: true}, {text: "لل", noun: true},
		{text: "وب", noun: true}, {text: "فب", noun: true}, {text: "وك", noun: true}, {text: "فك", noun: true},
		{text: "ول"}, {text: "فل"},
		{text: "وبال", noun: true}, {text: "فبال", noun: true}, {text: "وكال", noun: true},
		{text: "فكال", noun: true}, {text: "ولل", noun: true}, {text: "فلل", noun: true},
		{text: "س", verb: true}, {text: "وس", verb: true}, {text: "فس", verb: true},
	}
	enclitics = []clitic{
		{text: ""},
		{text: "ه"}, {text: "ها"}, {text: "هم"}, {text: "هما"}, {text: "هن"},
		{text: "ك"}, {text: "كم"}, {text: "كما"}, {text: "كن"}, {text: "نا"}, {text: "ي"},
		// A verb's subject endings.
		{text: "وا", verb: true}, {text: "ون", verb: true}, {text: "ت", verb: true},
		{text: "تم", verb: true}, {text: "ن", verb: true}, {text: "ا", verb: true}, {text: "تا", verb: true},
	}
)

// read finds the reading of a normalised word whose core the lexicon knows
// and returns the core's base. The whole word wins when it is a noun; a
// split with a noun for its core wins over the whole word read as a verb or
// a dual (الامين is ال + أمين, not a dual of ألام); then the longest core,
// then the stronger kind.
func (s *Stemmer) read(word string) (string, bool) {
	if s.lex == nil {
		return "", false
	}
	if b, ok := s.plurals[word]; ok {
		return b, true
	}
	best, bestLen, bestRank := "", 0, 0
	if b, kind, ok := s.lex.lookup(word); ok {
		if kind >= kindPlural {
			return b, true
		}
		best, bestLen, bestRank = b, utf8.RuneCountInString(word), 0
	} else if v := hamzaVariant([]rune(word)); v != "" {
		if b, kind, ok := s.lex.lookup(v); ok && kind >= kindPlural {
			return b, true // هيأة
		}
	}
	for _, p := range proclitics {
		if !strings.HasPrefix(word, p.text) {
			continue
		}
		rest := word[len(p.text):]
		future := p.verb
		for _, e := range enclitics {
			if p.text == "" && e.text == "" || !strings.HasSuffix(rest, e.text) {
				continue
			}
			if e.text != "" && strings.HasSuffix(p.text, "ال") || p.text == "لل" && e.text != "" {
				continue // الكتابكم is no word
			}
			core := rest[:len(rest)-len(e.text)]
			n := utf8.RuneCountInString(core)
			if n < 2 || future && (n < 3 || !imperfect(core)) {
				continue
			}
			for _, c := range coresOf(core, e.text != "") {
				b, kind, ok := s.plurals[c], uint8(kindStrong), false
				if b != "" {
					ok = true
				} else {
					b, kind, ok = s.lex.lookup(c)
				}
				// A verb form the lexicon also knows as a noun reads as the
				// noun (يتم), so the future's verb may be either.
				if !ok || p.noun && kind == kindVerb || e.verb && kind != kindVerb {
					continue
				}
				rank := 1 // a verb or a dual
				if kind >= kindPlural {
					rank = 2
				}
				if rank > bestRank || rank == bestRank && n > bestLen {
					best, bestLen, bestRank = b, n, rank
				}
			}
		}
	}
	return best, best != ""
}

// imperfect reports whether a verb core begins as the future's verb must
// (سيتم, ستكون, سنعمل): ساهد is no س + أهد.
func imperfect(core string) bool {
	return strings.HasPrefix(core, "ي") || strings.HasPrefix(core, "ت") || strings.HasPrefix(core, "ن")
}

// coresOf returns the core and, before an ending, the core with its teh
// marbuta back (رسالتكم: رسالت → رساله).
// A final اء before an ending lost its alef in normalisation (اعضاءها →
// اعضءها): it is put back (اعضاء).
func coresOf(core string, ending bool) []string {
	out := []string{core}
	switch {
	case !ending:
	case strings.HasSuffix(core, "ت"):
		out = []string{strings.TrimSuffix(core, "ت") + "ه", core}
	case strings.HasSuffix(core, "ء") && !strings.HasSuffix(core, alefHamza):
		out = []string{strings.TrimSuffix(core, "ء") + alefHamza, core}
	}
	if v := hamzaVariant([]rune(core)); v != "" {
		out = append(out, v)
	}
	return out
}

// hamzaVariant returns the word with its first medial alef read as a
// hamza seat (هياه, as the Maghreb writes هيأة, for هيءه, هيئة), or "" when
// it has none. A reading of the word as written comes first.
func hamzaVariant(r []rune) string {
	for i := 1; i < len(r)-1; i++ {
		if r[i] == 'ا' && r[i-1] != 'ا' {
			v := slices.Clone(r)
			v[i] = 'ء'
			return string(v)
		}
	}
	return ""
}

// lightStem stems a word the lexicon does not know, in the manner of
// Lucene's ArabicStemmer, with the lexicon consulted after each step.
func (s *Stemmer) lightStem(r []rune) []string {
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
// is a token at the same position and offsets as the first; so are the
// parts of a compound name (see compoundParts).
func (s *Stemmer) Filter(input analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream
	heads := false
	for i, t := range input {
		if t.KeyWord || t.Type == analysis.Numeric {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		stems := s.Stem(string(t.Term))
		parts := s.compoundParts(string(t.Term), stems[0])
		if len(stems) == 1 && len(parts) == 0 && out == nil {
			t.Term = []byte(stems[0])
			heads = heads || isCompoundHead(stems[0])
			continue
		}
		if out == nil {
			out = make(analysis.TokenStream, i, len(input)+4)
			copy(out, input[:i])
		}
		t.Term = []byte(stems[0])
		heads = heads || isCompoundHead(stems[0])
		out = append(out, t)
		for _, st := range stems[1:] {
			c := *t
			c.Term = []byte(st)
			out = append(out, &c)
		}
		for _, st := range parts {
			c := *t
			c.Term, c.Type = []byte(st), compoundPart
			out = append(out, &c)
		}
	}
	if out == nil {
		out = input
	}
	if heads {
		out = s.joinCompoundNames(out)
	}
	return out
}

// Compound names are written joined or apart: عبدالرحمن and عبد الرحمن,
// أبوبكر and أبو بكر. Both index the joined stem (عبد + رحمن = عبدرحمن) at
// the first word's place, so either spelling typed as one word finds both;
// the joined spelling also indexes its parts there, so the two words typed
// apart find it too. The parts are typed compoundPart, and a word typed as
// one word is searched by its joined stem alone (see wordQuery): عبدالرحمن
// must not find every عبد.
const compoundPart = analysis.Shingle

// compoundHeads are the normalised first words of compound names; أبي and
// أبا are أبو in other cases and join as أبو.
var compoundHeads = map[string]string{"عبد": "عبد", "ابو": "ابو", "ابي": "ابو", "ابا": "ابو"}

func isCompoundHead(stem string) bool {
	_, ok := compoundHeads[stem]
	return ok
}

// compoundParts returns the parts of a joined compound name (عبدالرحمن:
// عبد, رحمن), or nil. A word the lexicon knows is not a compound (أبواب).
func (s *Stemmer) compoundParts(term, stem string) []string {
	for written, head := range compoundHeads {
		rest, ok := strings.CutPrefix(term, written)
		if !ok || utf8.RuneCountInString(rest) < 3 || stem != s.joinedStem(head, rest) {
			continue
		}
		return []string{head, s.Stem(rest)[0]}
	}
	return nil
}

// joinedStem is the stem of a compound name: its head and the stem of the
// rest, or "" when the rest is no name (عبدالله yes, أبواب no).
func (s *Stemmer) joinedStem(head, rest string) string {
	if head == "عبد" && !strings.HasPrefix(rest, "ال") {
		return ""
	}
	return head + s.Stem(rest)[0]
}

// joinCompoundNames adds, after a head written apart (عبد الرحمن), the
// joined stem at the head's place.
func (s *Stemmer) joinCompoundNames(ts analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream
	for i, t := range ts {
		if out != nil {
			out = append(out, t)
		}
		head, ok := compoundHeads[string(t.Term)]
		if !ok || t.Type == compoundPart {
			continue
		}
		next := -1
		for j := i + 1; j < len(ts); j++ {
			if ts[j].Position == t.Position+1 && ts[j].Type != compoundPart {
				next = j
				break
			}
			if ts[j].Position > t.Position+1 {
				break
			}
		}
		if next < 0 {
			continue
		}
		joined := head + string(ts[next].Term)
		if out == nil {
			out = make(analysis.TokenStream, i+1, len(ts)+2)
			copy(out, ts[:i+1])
		}
		c := *t
		c.Term, c.End = []byte(joined), ts[next].End
		out = append(out, &c)
	}
	if out == nil {
		return ts
	}
	return out
}

func stemmerConstructor(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
	return newStemmer()
}

func init() {
	if err := registry.RegisterTokenFilter(StemmerName, stemmerConstructor); err != nil {
		panic(err)
	}
}
