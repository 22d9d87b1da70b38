package extract

import (
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
	var b strings.Builder
	changed := false
	for i, line := range strings.Split(res.Text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		for j, tok := range strings.Split(line, " ") {
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
