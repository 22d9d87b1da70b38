package index

import "fmt"

// Words tells an Arabic word from what is none, as search reads it: a word
// whose core, its clitics taken off (وللجنة, بالتنسيق), the Ayaspell lexicon
// or the domain's plurals know, or a name on the keyword list. Text
// extraction asks it (extract.Lexicon) which of the words Tesseract doubted
// are no words, and which word one misread letter away was meant.
type Words struct {
	s    *Stemmer
	stop *StopFilter
}

// NewWords loads the lexicon (shared with the analyzers, read once).
func NewWords() (*Words, error) {
	s, err := newStemmer()
	if err != nil {
		return nil, fmt.Errorf("index: lexicon: %w", err)
	}
	return &Words{s: s, stop: newStopFilter()}, nil
}

// Known reports whether word, as written (hamzas, ة, harakat), is a word of
// three letters or more that the lexicon knows, or a function word of two
// or more on the stop list (هذه, في, هو, وهذا): the lexicon holds neither, and a
// reader that took them for misreadings would "correct" هذه into هده and
// join «وهو في» into one word. A lone letter (و, ب) is no word of its own.
func (w *Words) Known(word string) bool {
	n := NormalizeArabic(word)
	r := []rune(n)
	if len(r) >= 2 && w.stop.isStop(n) || len(r) >= 3 && (r[0] == 'و' || r[0] == 'ف') && w.stop.isStop(string(r[1:])) {
		return true
	}
	if len(r) < 3 || !isArabicLetters(r) {
		return false
	}
	if w.s.isKeyword(r) || hasRunePrefix(r, "ال") && w.s.isKeyword(r[2:]) {
		return true
	}
	_, ok := w.s.read(n)
	return ok
}
