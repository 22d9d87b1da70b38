package extract

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lexicon tells the words of the language from what is none. Search's
// (index.Words, Ayaspell's nouns and verbs with their clitics) is given by
// cmd/sijill: this package cannot import the index, and the child reader
// never loads it (the parent corrects what the child read).
type Lexicon interface {
	Known(word string) bool
}

// doubtedBelow is the confidence under which a word Tesseract read may be
// corrected by the lexicon. Measured on the OCR set (go run ./bench/ocr
// -letters), mean search recall and CER: none corrected 0.951 and 0.022;
// under 80 0.959 and 0.021; under 90 0.961 and 0.021; under 95 0.956 and
// 0.022; every word 0.956 and 0.022 (names the lexicon does not know, read
// right, were "corrected" into words).
const doubtedBelow = 90

// maxCorrected is the longest word corrected, in letters: Arabic words are
// shorter (والمستشفيات is 11), and the candidates grow with the square of a
// word's length — a crafted scan's one "word" of thousands of letters must
// not hold the server's CPU.
const maxCorrected = 20

// maxTried is how many distinct doubted words of one file are tried: an A4
// page holds about 500 words; a file of junk stops costing CPU here.
const maxTried = 2000

// confusable are the letters the Arabic model takes for one another: one
// skeleton with other dots (ب ت ث ن ي, ج ح خ, ر ز...), a hamza seat, ه and ة.
var confusable = []string{"بتثنيئ", "جحخ", "دذ", "رز", "سش", "صض", "طظ", "عغ", "فق", "هة", "اأإآ", "وؤ", "يى"}

// arabicLetters are the letters a correction may put in.
const arabicLetters = "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي"

// correctWord returns the word of lex that w, a word Tesseract doubted and
// lex does not know, was meant to be, when one edit away there is exactly
// one: first a letter with its dots misread (الصتدوق → الصندوق, المركرية →
// المركزية), then a thin letter lost (تمية → تنمية, الحترم → المحترم), then
// a speck read as a letter (شوقيء → شوقي). Two words as near (a name the
// lexicon does not know may be near two words) leave w as it was read.
func correctWord(w string, lex Lexicon) (string, bool) {
	r := []rune(w)
	if len(r) < 3 || len(r) > maxCorrected || lex.Known(w) {
		return "", false
	}
	// The Arabic model has no «،»: it sometimes reads one as a ء on the
	// word before (وبعدء). A word the lexicon knows without it gets its
	// comma back.
	if last := len(r) - 1; r[last] == 'ء' && lex.Known(string(r[:last])) {
		return string(r[:last]) + "،", true
	}
	tiers := []func(yield func(string)){
		func(yield func(string)) { // a letter's dots misread
			for i, c := range r {
				for _, set := range confusable {
					if !strings.ContainsRune(set, c) {
						continue
					}
					for _, d := range set {
						if d != c {
							yield(string(r[:i]) + string(d) + string(r[i+1:]))
						}
					}
				}
			}
		},
		func(yield func(string)) { // a thin letter lost
			for i := 1; i < len(r); i++ {
				for _, d := range arabicLetters {
					yield(string(r[:i]) + string(d) + string(r[i:]))
				}
			}
		},
		func(yield func(string)) { // a speck read as a letter
			for i := range r {
				yield(string(r[:i]) + string(r[i+1:]))
			}
		},
	}
	for _, tier := range tiers {
		found, n := "", 0
		tier(func(c string) {
			if c != found && !misplaced(c) && lex.Known(c) {
				found, n = c, n+1
			}
		})
		switch {
		case n == 1:
			return found, true
		case n > 1:
			return "", false
		}
	}
	return "", false
}

// Correct puts right, in res.Text, the words OCR doubted (res.Doubted) that
// lex says are no words (see correctWord); punctuation stays as it was. The
// extractor calls it when it has a Lexicon; it is exported for the tests that
// hold it to the search index's lexicon.
func Correct(res Result, lex Lexicon) Result {
	if lex == nil || len(res.Doubted) == 0 {
		return res
	}
	doubted := map[string]bool{}
	for _, w := range res.Doubted {
		doubted[w] = true
	}
	memo := map[string]string{}
	joins := maxTried // pairs of tokens joinSplit may look up
	var b strings.Builder
	changed := false
	for i, line := range strings.Split(res.Text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		toks, joined := joinSplit(strings.Split(line, " "), doubted, lex, &joins)
		changed = changed || joined
		for j, tok := range toks {
			if j > 0 {
				b.WriteByte(' ')
			}
			start, end, ok := arabicCore(tok)
			core := tok[start:end]
			if !ok || !doubted[core] {
				b.WriteString(tok)
				continue
			}
			fixed, ok := memo[core]
			if !ok && len(memo) < maxTried {
				fixed, _ = correctWord(core, lex)
				memo[core] = fixed
			}
			if fixed == "" {
				b.WriteString(tok)
				continue
			}
			b.WriteString(tok[:start] + fixed + tok[end:])
			changed = true
		}
	}
	if changed {
		res.Text = b.String()
	}
	res.Doubted = nil
	return res
}

// nonJoining are the letters that do not join the letter after them: the
// gap after one inside a word is as wide as a space, and Tesseract reads
// one there (الأمر اض, إ سلام, أبر ز).
const nonJoining = "اأإآدذرزوؤ"

// joinSplit joins two neighbouring tokens of a line into one word when the
// first ends in a non-joining letter, one of them is doubted, the lexicon
// does not know both and knows them as one. It says whether it joined any.
// budget is how many more pairs it may look up, shared by a file's lines.
func joinSplit(toks []string, doubted map[string]bool, lex Lexicon, budget *int) ([]string, bool) {
	joined := false
	for j := 0; j+1 < len(toks) && *budget > 0; j++ {
		a, b := toks[j], toks[j+1]
		sa, ea, okA := arabicCore(a)
		sb, eb, okB := arabicCore(b)
		if !okA || !okB || sa != 0 || ea != len(a) || sb != 0 || strings.ContainsFunc(b[eb:], notPunct) {
			continue // punctuation between them, or before the first (“ا نهج); a tatweel after (بـ): two words
		}
		ca, cb := a[sa:], b[:eb]
		last, _ := utf8.DecodeLastRuneInString(ca)
		if !strings.ContainsRune(nonJoining, last) || !doubted[ca] && !doubted[cb] {
			continue
		}
		*budget--
		w := ca + cb
		if utf8.RuneCountInString(w) > maxCorrected || misplaced(w) || lex.Known(ca) && lex.Known(cb) || !lex.Known(w) {
			continue
		}
		toks[j] = a + b
		toks = slices.Delete(toks, j+1, j+2)
		joined = true
	}
	return toks, joined
}

func notPunct(r rune) bool { return !unicode.IsPunct(r) }

// doubtedWord is the Arabic core of a word Tesseract read under
// doubtedBelow, as correct looks it up; "" for a word with anything but
// Arabic letters in its core (digits, Latin), which the lexicon cannot judge.
func doubtedWord(text string) string {
	text = dropBidiMarks(text)
	start, end, ok := arabicCore(text)
	if !ok {
		return ""
	}
	core := text[start:end]
	if strings.ContainsFunc(core, func(r rune) bool { return !isArabicLetter(r) && !unicode.Is(unicode.Mn, r) }) {
		return ""
	}
	return core
}

// distinct is words without repeats, the first limit of them.
func distinct(words []string, limit int) []string {
	seen := map[string]bool{}
	out := words[:0:0]
	for _, w := range words {
		if !seen[w] && len(out) < limit {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// misplaced reports a word with ى or ة anywhere but at its end, where
// no word has them: «والأقالىم» is not a second reading of «والأقاليم».
func misplaced(w string) bool {
	_, size := utf8.DecodeLastRuneInString(w)
	return strings.ContainsAny(w[:len(w)-size], "ىة")
}

// arabicCore is where the Arabic letters of s begin and end: a word without
// the punctuation around it. ok is false when s has none.
func arabicCore(s string) (start, end int, ok bool) {
	start = strings.IndexFunc(s, isArabicLetter)
	if start < 0 {
		return 0, 0, false
	}
	last := strings.LastIndexFunc(s, isArabicLetter)
	_, size := utf8.DecodeRuneInString(s[last:])
	return start, last + size, true
}
