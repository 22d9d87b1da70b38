package index

import "fmt"

// Words tells an Arabic word from what is none, as search reads it: a word
// whose core, its clitics taken off (وللجنة, بالتنسيق), the Ayaspell lexicon
// or the domain's plurals know, or a name on the keyword list. Text
// extraction asks it (extract.Lexicon) which of the words Tesseract doubted
// are no words, and which word one misread letter away was meant.
type Words struct{ s *Stemmer }

// NewWords loads the lexicon (shared with the analyzers, read once).
func NewWords() (*Words, error) {
	s, err := newStemmer()
	if err != nil {
		return nil, fmt.Errorf("index: lexicon: %w", err)
	}
	return &Words{s: s}, nil
}

// Known reports whether word, as written (hamzas, ة, harakat), is a word of
// three letters or more that the lexicon knows.
func (w *Words) Known(word string) bool {
	n := NormalizeArabic(word)
	r := []rune(n)
	if len(r) < 3 || !isArabicLetters(r) {
		return false
	}
	if w.s.isKeyword(r) || hasRunePrefix(r, "ال") && w.s.isKeyword(r[2:]) {
		return true
	}
	_, ok := w.s.read(n)
	return ok
}
