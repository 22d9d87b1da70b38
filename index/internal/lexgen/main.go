// Command lexgen derives the stemmer's Arabic lexicon (index/ayaspell.tsv.gz)
// from Debian's hunspell-ar, the Ayaspell dictionary (GPL 2 / LGPL 2.1 /
// MPL 1.1; the notice is index/AYASPELL.txt).
//
// Ayaspell is a spelling dictionary, not a morphological lexicon: its nouns
// are entries with affix flags, its verbs are conjugated forms that carry
// their lemma (st:) in the morphology aliases. lexgen keeps what search needs
// and nothing of the spelling machinery:
//
//	n  a noun entry
//	v  a verb form (Ayaspell's lemmas are too often another verb's to join
//	   forms on: يعمل is given أعمل)
//	s  a noun's inflection that keeps its meaning: feminine ة, plural ات;
//	   a nisba's feminine and plurals read as the nisba (الوطنية → وطني),
//	   not as the noun it was made from: اجتماعي (social) is no form of
//	   اجتماع (a meeting)
//	u  a sound masculine plural (ون ين يون يين): weaker than an entry,
//	   since these letters end many words (قانون, أمين)
//	w  a dual or accusative form (ان ين تان تين ا): weaker than anything,
//	   so عنوان is not the dual of عنو
//	p  a broken plural found by its pattern among the diptote plurals
//	   (flag alias 61, 67 for أفعال and أفعلة), its singular checked
//	   against the nouns
//
// The table is written normalised, one reading per word, sorted, so the
// server only reads it (index.BuildLexicon chooses and documents the
// readings; TestLexiconNormalised fails when the normaliser has changed and
// the table was not generated again). Run go generate in index (needs
// hunspell-ar installed).
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sijill/sijill/index"
)

type rule struct {
	strip, add string
	cond       *regexp.Regexp
}

type entry struct {
	word  string
	flags []string
	morph int
}

func main() {
	dic := flag.String("dic", "/usr/share/hunspell/ar.dic", "Ayaspell dictionary")
	aff := flag.String("aff", "/usr/share/hunspell/ar.aff", "Ayaspell affix file")
	out := flag.String("o", "ayaspell.tsv.gz", "output")
	flag.Parse()
	if err := run(*dic, *aff, *out); err != nil {
		log.Fatal(err)
	}
}

// Flag groups (see ar.aff): which suffix classes keep a noun's meaning.
var (
	strongFlags = map[string]bool{"BA": true, "BB": true, "HA": true, "HB": true, "HC": true, "HD": true,
		"IA": true, "NA": true, "LA": true, "LB": true, "LC": true}
	nisbaFlags = map[string]bool{"LA": true, "LB": true, "LC": true, "NA": true}
	weakFlags  = map[string]bool{"CA": true, "CB": true, "DA": true, "DB": true, "EA": true, "FA": true, "GA": true, "JA": true}
	// strongAdds are the endings taken from the strong groups; the rest of
	// those groups (ته, يته: a suffix with a pronoun) is the stemmer's job.
	strongAdds = map[string]bool{"ة": true, "ات": true, "يات": true, "آت": true, "ءات": true, "ئات": true, "ؤات": true,
		"ي": true, "ية": true}
	// pluralAdds are the sound masculine plural's endings: weaker than a
	// word's own entry, since ون and ين end many words (قانون, أمين).
	pluralAdds = map[string]bool{"ون": true, "ين": true, "ؤون": true, "ئين": true, "ئون": true, "يون": true, "يين": true}
	weakAdds   = map[string]bool{"ان": true, "ين": true, "تان": true, "تين": true, "ا": true, "يان": true, "يين": true,
		"وان": true, "وين": true, "ءان": true, "ءين": true, "ئان": true, "ئين": true, "ؤان": true, "ؤين": true, "آن": true, "أين": true}
)

// pluralPatterns turn a broken plural into its possible singulars, tried in
// order; the first that is a noun of the dictionary wins.
var pluralPatterns = []struct {
	re    *regexp.Regexp
	sing  []string
	flags string // the plural's flag alias that must be present
}{
	{regexp.MustCompile(`^م(.)ا(.)ي(.)$`), []string{"م${1}${2}و${3}", "م${1}${2}${3}", "م${1}${2}ا${3}", "م${1}${2}${3}ة"}, "61"},
	{regexp.MustCompile(`^م(.)ا(.)(.)$`), []string{"م${1}${2}${3}", "م${1}${2}${3}ة"}, "61"},
	{regexp.MustCompile(`^ت(.)ا(.)ي(.)$`), []string{"ت${1}${2}ي${3}", "ت${1}${2}ي${3}ة"}, "61"},
	{regexp.MustCompile(`^(.)وا(.)(.)$`), []string{"${1}ا${2}${3}", "${1}ا${2}${3}ة"}, "61"},
	{regexp.MustCompile(`^(.)(.)ائ(.)$`), []string{"${1}${2}ي${3}ة", "${1}${2}ا${3}ة", "${1}${2}و${3}ة", "${1}${2}ي${3}"}, "61"},
	{regexp.MustCompile(`^أ(.)(.)(.)اء$`), []string{"${1}${2}ي${3}"}, "61"},
	{regexp.MustCompile(`^(.)(.)(.)اء$`), []string{"${1}${2}ي${3}"}, "61"},
	{regexp.MustCompile(`^أ(.)ا(.)ي(.)$`), []string{"أ${1}${2}و${3}"}, "61"},                           // أسابيع → أسبوع
	{regexp.MustCompile(`^(.)(.)ا(.)ي(.)$`), []string{"${1}${2}${3}و${4}", "${1}${2}${3}ا${4}"}, "61"}, // عناوين → عنوان
	{regexp.MustCompile(`^(.)(.)ا(.)(.)$`), []string{"${1}${2}${3}${4}"}, "61"},                        // جداول → جدول
	{regexp.MustCompile(`^أ(.)(.)ا(.)$`), []string{"${1}${2}${3}", "${1}${2}${3}ة", "${1}${2}"}, "67"}, // أجداد → جد
	{regexp.MustCompile(`^أ(.)(.)(.)ة$`), []string{"${1}${2}ا${3}", "${1}${2}ي${3}", "${1}${2}و${3}"}, "67"},
}

func run(dicPath, affPath, outPath string) error {
	aliases, rules, err := readAff(affPath)
	if err != nil {
		return err
	}
	nouns, verbs, err := readDic(dicPath, aliases)
	if err != nil {
		return err
	}
	nounSet := map[string][]entry{}
	for _, e := range nouns {
		nounSet[e.word] = append(nounSet[e.word], e)
	}
	var lines []string
	add := func(l string) { lines = append(lines, l) }
	for w := range nounSet {
		add(w + "\t" + w + "\tn")
	}
	for _, e := range verbs {
		// Verb forms are words, each its own base: Ayaspell's lemmas are
		// too often another verb's (يعمل is given أعمل) to join forms on.
		add(e.word + "\t" + e.word + "\tv")
	}
	for _, e := range nouns {
		for _, f := range e.flags {
			kind := ""
			switch {
			case strongFlags[f]:
				kind = "s"
			case weakFlags[f]:
				kind = "w"
			default:
				continue
			}
			for _, r := range rules[f] {
				if r.add == "0" || !strings.HasSuffix(e.word, strings.TrimPrefix(r.strip, "0")) || !r.cond.MatchString(e.word) {
					continue
				}
				add2, k := r.add, kind
				switch {
				case kind == "s" && pluralAdds[add2]:
					k = "u"
				case kind == "s" && !strongAdds[add2], kind == "w" && !weakAdds[add2]:
					continue
				}
				stem := e.word
				if r.strip != "0" {
					stem = strings.TrimSuffix(stem, r.strip)
				}
				form, base := stem+add2, e.word
				if nisbaFlags[f] {
					// A nisba is its own word (اجتماعي, social, is no form of
					// اجتماع, a meeting): its forms read as its masculine.
					base = stem + "ي"
				}
				if form != base || nisbaFlags[f] {
					add(form + "\t" + base + "\t" + k) // رقمي is a nisba before a dual's construct form
				}
			}
		}
	}
	plurals := 0
	for w, es := range nounSet {
		if participle(es) {
			continue
		}
	patterns:
		for _, p := range pluralPatterns {
			if !p.re.MatchString(w) || !hasAlias(es, p.flags) {
				continue
			}
			for _, tmpl := range p.sing {
				m := p.re.FindStringSubmatch(w)
				if tmpl == "${1}${2}" && (len(m) < 4 || m[2] != m[3]) {
					continue // أجداد → جد, but أبناء is no بن
				}
				s := p.re.ReplaceAllString(w, tmpl)
				if _, ok := nounSet[s]; ok && s != w {
					add(w + "\t" + s + "\tp")
					plurals++
					break patterns
				}
			}
		}
	}
	out := index.BuildLexicon(lines)
	f, err := os.Create(outPath)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	fmt.Fprintln(bw, "# Derived from Ayaspell (hunspell-ar 3.2) by index/internal/lexgen; GPL 2 / LGPL 2.1 / MPL 1.1, see AYASPELL.txt")
	fmt.Fprintln(bw, "# normalised word, kind (s p n u v w), base when not the word itself")
	for _, l := range out {
		fmt.Fprintln(bw, l)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("%d nouns, %d verb forms, %d lines, %d broken plurals", len(nounSet), len(verbs), len(out), plurals)
	return f.Close()
}

// participle reports whether a word is also an adjective or participle
// (flag aliases 166 and 168): مواطن is a citizen before it is the plural
// of موطن, مشارك a participant.
func participle(es []entry) bool {
	for _, e := range es {
		if e.morph == 166 || e.morph == 168 {
			return true
		}
	}
	return false
}

func hasAlias(es []entry, alias string) bool {
	for _, e := range es {
		if strconv.Itoa(e.morph) == alias {
			return true
		}
	}
	return false
}

func readAff(path string) (aliases [][]string, rules map[string][]rule, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rules = map[string][]rule{}
	aliases = [][]string{nil}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	afHeader := false
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		switch fs[0] {
		case "AF":
			if !afHeader {
				afHeader = true
				continue
			}
			var fl []string
			for i := 0; i+1 < len(fs[1]); i += 2 {
				fl = append(fl, fs[1][i:i+2])
			}
			aliases = append(aliases, fl)
		case "SFX":
			if len(fs) < 5 {
				continue
			}
			add, _, _ := strings.Cut(fs[3], "/")
			cond, err := regexp.Compile(fs[4] + "$")
			if err != nil {
				return nil, nil, fmt.Errorf("SFX %s condition %q: %w", fs[1], fs[4], err)
			}
			rules[fs[1]] = append(rules[fs[1]], rule{strip: fs[2], add: add, cond: cond})
		}
	}
	return aliases, rules, sc.Err()
}

// readDic reads the noun ("names.dic") and verb ("verb.huns.dic") sections;
// an entry's flags are an AF alias, its morphology an AM alias. For nouns,
// entry.morph keeps the flag alias number, which names the noun's class.
func readDic(path string, aliases [][]string) (nouns, verbs []entry, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	section, header := "", false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "::::") {
			header = !header
			continue
		}
		if header {
			section = strings.TrimSpace(line)
			continue
		}
		word, rest, _ := strings.Cut(line, "\t")
		word, fl, _ := strings.Cut(word, "/")
		word = strings.TrimSpace(word)
		if word == "" || strings.ContainsAny(word, " 0123456789") {
			continue
		}
		e := entry{word: word}
		if fl != "" {
			n, err := strconv.Atoi(fl)
			if err != nil || n >= len(aliases) {
				continue
			}
			e.flags = aliases[n]
			if section == "names.dic" {
				e.morph = n
			}
		}
		switch section {
		case "names.dic":
			nouns = append(nouns, e)
		case "verb.huns.dic":
			if m, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
				e.morph = m
			}
			verbs = append(verbs, e)
		}
	}
	return nouns, verbs, sc.Err()
}
