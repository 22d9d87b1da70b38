package index

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ayaspellTable is the stemmer's Arabic lexicon, derived from Debian's
// hunspell-ar (Ayaspell: GPL 2 / LGPL 2.1 / MPL 1.1, notice in AYASPELL.txt)
// by internal/lexgen: 34,000 nouns, 118,000 verb forms with their lemma,
// 180,000 inflections of the nouns and 2,800 broken plurals, normalised to
// 240,000 words. It is embedded
// rather than read from /usr/share/hunspell at run time so that search gives
// the same answers on every machine, and an index built on one is valid on
// another.
//
//go:generate go run ./internal/lexgen -o ayaspell.tsv.gz
//go:embed ayaspell.tsv.gz
var ayaspellTable []byte

// Kinds of lexicon reading, strongest last: for one normalised word the
// table keeps the strongest (see BuildLexicon).
const (
	kindWeak   = 1 + iota // w: a dual or accusative form
	kindVerb              // v: a verb form
	kindPlural            // u: a sound masculine plural (ون ين)
	kindNoun              // n: a noun entry
	kindStrong            // s, p: an inflection (ة ات ي ية) or a broken plural
)

var kindOf = map[string]uint8{"w": kindWeak, "v": kindVerb, "u": kindPlural, "n": kindNoun, "s": kindStrong, "p": kindStrong}

// BuildLexicon turns internal/lexgen's raw readings ("form TAB base TAB
// kind", as Ayaspell spells them) into the table's lines: normalised, one
// reading per word, its base followed through inflections (وطنيه → وطني →
// وطن), sorted. It lives here, not in lexgen, because it must normalise as
// the analysis chain does.
//
// Of several readings of one spelling the strongest wins: an inflection or
// a broken plural over the word's own entry (مناضلة reads as مناضل), an entry over a sound plural (أمين is not أم + ين), and anything
// over a dual (عنوان stays عنوان). Of spellings that normalise alike, an
// entry wins (مسألة over مسالة, peaceful). Among equals, a base with teh
// marbuta (أمانات: أمانة, not أمان), then the shortest.
func BuildLexicon(raw []string) []string {
	type reading struct {
		base string
		kind uint8
	}
	better := func(form string, a, b reading, rank func(uint8) int) bool { // is a better than b?
		if ra, rb := rank(a.kind), rank(b.kind); ra != rb {
			return ra > rb
		}
		// أمانات is أمانة + ات before it is أمان + ات.
		fem := func(base string) bool {
			return strings.TrimSuffix(base, "ة")+"ات" == form && strings.HasSuffix(base, "ة")
		}
		if fa, fb := fem(a.base), fem(b.base); fa != fb {
			return fa
		}
		return len(a.base) < len(b.base) || len(a.base) == len(b.base) && a.base < b.base
	}
	// A spelling's own readings: its inflection reading over its entry
	// (وطني is an entry and وطن + ي).
	sameSpelling := func(k uint8) int { return int(k) }
	bySpelling := map[string]reading{}
	for _, l := range raw {
		f := strings.Split(l, "\t")
		if len(f) != 3 || kindOf[f[2]] == 0 {
			continue
		}
		r := reading{base: f[1], kind: kindOf[f[2]]}
		if old, ok := bySpelling[f[0]]; !ok || better(f[0], r, old, sameSpelling) {
			bySpelling[f[0]] = r
		}
	}
	// Spellings that normalise alike: an entry over another spelling's
	// inflection (مسألة is an entry; مسالة, peaceful, is مسال + ة).
	acrossSpellings := func(k uint8) int {
		if k == kindNoun {
			return kindStrong + 1
		}
		return int(k)
	}
	best := map[string]reading{}
	for w, r := range bySpelling {
		key := NormalizeArabic(w)
		r.base = NormalizeArabic(r.base)
		if old, ok := best[key]; !ok || better(w, r, old, acrossSpellings) {
			best[key] = r
		}
	}
	resolve := func(b string) string {
		for range 4 {
			r, ok := best[b]
			if !ok || r.base == b || r.kind != kindStrong {
				break
			}
			b = r.base
		}
		return b
	}
	kinds := map[uint8]string{kindWeak: "w", kindVerb: "v", kindPlural: "u", kindNoun: "n", kindStrong: "s"}
	out := make([]string, 0, len(best))
	for k, r := range best {
		line := k + "\t" + kinds[r.kind]
		if b := resolve(r.base); b != k {
			line += "\t" + b
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// NormalizeArabic is the analysis chain's Arabic letter normalisation
// (sijill_normalize) of one word, for internal/lexgen.
func NormalizeArabic(w string) string { return string(normalizeArabic([]byte(w))) }

// lexicon answers whether a normalised word is an Arabic word and which base
// it reads as. Keys are sorted in one string (binary search): 240,000 words
// take 5 MB this way, several times less than as a Go map, and load in a
// tenth of the time.
type lexicon struct {
	keys  string
	koff  []uint32 // key i is keys[koff[i]:koff[i+1]]
	bases string
	boff  []uint32 // base i is bases[boff[i]:boff[i+1]], empty: the key itself
	kind  []uint8
}

// loadAyaspell is the lexicon, loaded on first use and shared: it never
// changes after loading.
var loadAyaspell = sync.OnceValues(func() (*lexicon, error) { return parseLexicon(ayaspellTable) })

// parseLexicon reads the table internal/lexgen wrote.
func parseLexicon(gz []byte) (*lexicon, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("index: lexicon: %w", err)
	}
	lx := &lexicon{koff: []uint32{0}, boff: []uint32{0}}
	var keys, bases strings.Builder
	sc := bufio.NewScanner(zr)
	prev := ""
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		key, rest, _ := strings.Cut(line, "\t")
		kind, base, _ := strings.Cut(rest, "\t")
		if key <= prev || kindOf[kind] == 0 {
			return nil, fmt.Errorf("index: lexicon: line %q out of order or of no known kind", line)
		}
		prev = key
		keys.WriteString(key)
		bases.WriteString(base)
		lx.koff = append(lx.koff, uint32(keys.Len()))
		lx.boff = append(lx.boff, uint32(bases.Len()))
		lx.kind = append(lx.kind, kindOf[kind])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("index: lexicon: %w", err)
	}
	lx.keys, lx.bases = keys.String(), bases.String()
	return lx, nil
}

func (lx *lexicon) key(i int) string { return lx.keys[lx.koff[i]:lx.koff[i+1]] }

func (lx *lexicon) find(w string) (int, bool) {
	n := len(lx.kind)
	i := sort.Search(n, func(i int) bool { return lx.key(i) >= w })
	return i, i < n && lx.key(i) == w
}

// lookup returns the base a normalised word reads as and the kind of that
// reading.
func (lx *lexicon) lookup(w string) (base string, kind uint8, ok bool) {
	i, ok := lx.find(w)
	if !ok {
		return "", 0, false
	}
	if b := lx.bases[lx.boff[i]:lx.boff[i+1]]; b != "" {
		return b, lx.kind[i], true
	}
	return lx.key(i), lx.kind[i], true
}
