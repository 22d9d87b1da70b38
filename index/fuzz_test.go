package index

import (
	"context"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
)

// FuzzSearchConfidential searches, as a reader, with any query text and
// filters an index that holds one open and one confidential record: the
// query may be refused (EINVALID), but never may the confidential record be
// returned, counted, faceted or highlighted.
//
//	go test ./index -run '^$' -fuzz FuzzSearchConfidential -fuzztime 30s
func FuzzSearchConfidential(f *testing.F) {
	for _, s := range []string{
		"", "*", "ال*", "الزبرجد", `"قرار سري"`, "الزبرجد OR محضر", "-محضر", "(الزبرجد)", "زبرجد*", "٢٠٢٤", "لجنة الخزينة",
		"decisions", "confidential", `"`, "((", "OR", "قرار -الزبرجد",
	} {
		f.Add(s, "", "")
		f.Add(s, "لجنة الخزينة", "decisions")
	}
	ix := openTestIndex(f)
	secret := rec(archive.Decisions, 2024, 1, "2024-03-01", "تعيين مسؤول الخزينة الزبرجد", "قرار سري بشأن الزبرجد")
	secret.Confidentiality = archive.Confidential
	secret.Committee = "لجنة الخزينة"
	secret.Tags = []string{"الزبرجد"}
	open := rec(archive.Minutes, 2023, 1, "2023-05-01", "محضر اجتماع المكتب", "ناقش المكتب الخزينة")
	for _, r := range []*archive.Record{secret, open} {
		if err := ix.Put(context.Background(), r, "", []string{r.Body}, nil); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, text, committee, register string) {
		res, err := ix.Search(context.Background(), Query{Text: text, Committee: committee, Register: register, Tag: committee})
		if err != nil {
			if archive.ErrorCode(err) != archive.EINVALID {
				t.Fatalf("Search(%q, %q, %q): %v is not EINVALID", text, committee, register, err)
			}
			return
		}
		if res.Total > 1 {
			t.Fatalf("Search(%q): total %d counts the confidential record", text, res.Total)
		}
		for _, h := range res.Hits {
			if h.ID == secret.ID {
				t.Fatalf("Search(%q) returns the confidential record", text)
			}
		}
		for name, counts := range res.Facets {
			for term, n := range counts {
				if n > 1 || term == "لجنة الخزينة" || term == "decisions" || term == "2024" {
					t.Fatalf("Search(%q): facet %s counts %q %d times", text, name, term, n)
				}
			}
		}
		for _, h := range res.Hits {
			b := h.Subject
			for _, frags := range h.Highlights {
				b += " " + strings.Join(frags, " ")
			}
			if strings.Contains(b, "الزبرجد") || strings.Contains(b, "سري") {
				t.Fatalf("Search(%q): a hit shows the confidential text: %s", text, b)
			}
		}
	})
}
