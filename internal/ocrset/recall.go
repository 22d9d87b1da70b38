package ocrset

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

// Found is what search finds of one letter from one reading of it.
type Found struct {
	// Words is how many of the letter's words search finds in its typed text
	// (stop words and the like are not findable at all), Hits how many of
	// those it finds in the reading.
	Words, Hits int
	// Missed are the words of the letter search does not find in the reading.
	Missed []string
	// Reference and Date say whether the sender's reference number and the
	// date, searched as typed, find the reading.
	Reference, Date bool
}

// Recall is Hits over Words.
func (f Found) Recall() float64 {
	if f.Words == 0 {
		return 1
	}
	return float64(f.Hits) / float64(f.Words)
}

// Search indexes each letter's typed text and the given readings of it
// (readings[i] is the text read from set[i]) in a scratch index, and asks
// Sijill's search for every word of the letter, its reference and its date.
func Search(ctx context.Context, set []Letter, readings []string) ([]Found, error) {
	dir, err := os.MkdirTemp("", "ocrset-index-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{Logger: slog.New(slog.DiscardHandler), MinFree: -1})
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	put := func(id, text string, n int) error {
		rec := &archive.Record{ID: id, Register: archive.Incoming, Year: 2026, Number: n, Version: 1,
			Subject: "-", Confidentiality: "normal", Status: "active"}
		return ix.Put(ctx, rec, "1", []string{text}, nil)
	}
	for i, l := range set {
		if err := put("truth-"+l.Name, l.Truth, 2*i+1); err != nil {
			return nil, err
		}
		if err := put("read-"+l.Name, readings[i], 2*i+2); err != nil {
			return nil, err
		}
	}
	finds := func(q, id string) (bool, error) {
		res, err := ix.Search(ctx, index.Query{Text: q, Size: 100, SeeConfidential: true})
		if err != nil {
			return false, fmt.Errorf("search %q: %w", q, err)
		}
		for _, h := range res.Hits {
			if h.ID == id {
				return true, nil
			}
		}
		return false, nil
	}
	out := make([]Found, len(set))
	for i, l := range set {
		f := &out[i]
		seen := map[string]bool{}
		for _, w := range strings.FieldsFunc(l.Truth, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if seen[w] {
				continue
			}
			seen[w] = true
			if ok, err := finds(w, "truth-"+l.Name); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
			f.Words++
			ok, err := finds(w, "read-"+l.Name)
			if err != nil {
				return nil, err
			}
			if ok {
				f.Hits++
			} else {
				f.Missed = append(f.Missed, w)
			}
		}
		if f.Reference, err = finds(phrase(l.Reference), "read-"+l.Name); err != nil {
			return nil, err
		}
		if f.Date, err = finds(phrase(l.Date), "read-"+l.Name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// phrase quotes s as a phrase query.
func phrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, "") + `"` }
