package index

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ar"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/sijill/sijill/archive"
)

// The judged set's floors (see TestRelevanceSet). The targets are
// recall 0.95 and precision 0.97; the floors sit at what Sijill reaches, so
// that a change that loses relevance fails.
const (
	floorPrecision = 0.97
	floorRecall    = 0.95
)

type judgedQuery struct {
	class, text string
	groups      [][]string // each group: forms, one of which must be in the record
	not         map[string]bool
}

func readJudged(t testing.TB) []judgedQuery {
	t.Helper()
	f, err := os.Open("testdata/relevance-queries.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []judgedQuery
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) < 3 {
			t.Fatalf("relevance-queries.txt: %q has no forms", line)
		}
		q := judgedQuery{class: c[0], text: c[1], not: map[string]bool{}}
		for _, g := range strings.Split(c[2], "|") {
			q.groups = append(q.groups, strings.Fields(g))
		}
		if len(c) > 3 {
			for _, w := range strings.Fields(c[3]) {
				q.not[judgeNorm(w)] = true
			}
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// judgedRecords are the corpus paragraphs and the set's own letters.
func judgedRecords(t testing.TB) []*archive.Record {
	t.Helper()
	recs := corpusRecords(t)
	f, err := os.Open("testdata/relevance-records.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.HasPrefix(n, "#") {
			continue
		}
		num, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("relevance-records.txt: %q", sc.Text())
		}
		recs = append(recs, &archive.Record{
			ID: archive.RecordID(archive.Incoming, 2025, num), Register: archive.Incoming, Year: 2025, Number: num,
			Date: fmt.Sprintf("2025-%02d-%02d", 1+num%12, 1+num%28), Subject: "رسالة واردة", Body: text,
			Confidentiality: archive.Normal, Status: archive.StatusActive,
		})
	}
	return recs
}

// The oracle's clitics: what may stand around a form of the word. They are
// the judge's, written out here, not the stemmer's.
var (
	judgePrefixes = []string{"", "و", "ف", "ب", "ك", "ل", "س", "ال", "وال", "فال", "بال", "كال", "لل",
		"وب", "فب", "وك", "ول", "فل", "وبال", "فبال", "وكال", "ولل", "فلل"}
	judgeSuffixes = []string{"", "ا", "ه", "ها", "هم", "هما", "هن", "ك", "كم", "كما", "كن", "نا", "ي"}
)

// judgeNorm is the search's letter normalisation, except that teh marbuta
// stays itself: the judge reads هيكلة as a noun, not as هيكل + ه (his
// structure), which a stemmer working on normalised text cannot tell apart.
func judgeNorm(w string) string {
	const mark = "\uE000"
	return strings.ReplaceAll(NormalizeArabic(strings.ReplaceAll(w, "ة", mark)), mark, "ة")
}

// judgeWords splits a record's text into normalised words.
func judgeWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) && r != 'ـ' }) {
		out = append(out, judgeNorm(w))
	}
	return out
}

// formsOf returns every written shape of a form with clitics, normalised.
func formsOf(form string) map[string]bool {
	out := map[string]bool{}
	for _, p := range judgePrefixes {
		for _, s := range judgeSuffixes {
			base := form
			if s != "" && strings.HasSuffix(base, "ة") {
				base = strings.TrimSuffix(base, "ة") + "ت"
			}
			if strings.HasSuffix(p, "ال") || p == "لل" {
				if s != "" {
					continue
				}
			}
			out[judgeNorm(p+base+s)] = true
		}
	}
	return out
}

// relevant reports whether the record's words hold a form of every group.
func (q judgedQuery) relevant(words []string) bool {
	for _, g := range q.groups {
		found := false
		for _, form := range g {
			parts := strings.Split(form, "_")
			first := formsOf(parts[0])
			for i, w := range words {
				if q.not[w] || !first[w] || i+len(parts) > len(words) {
					continue
				}
				ok := true
				for j, p := range parts[1:] {
					if !formsOf(p)[words[i+1+j]] {
						ok = false
					}
				}
				if ok {
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

type relevanceScore struct {
	tp, retrieved, relevant int
	sumP, sumR              float64
	n                       int
}

func (s *relevanceScore) add(got, want []string) {
	tp := 0
	for _, id := range got {
		if slices.Contains(want, id) {
			tp++
		}
	}
	s.tp += tp
	s.retrieved += len(got)
	s.relevant += len(want)
	p := 1.0
	if len(got) > 0 {
		p = float64(tp) / float64(len(got))
	}
	s.sumP += p
	s.sumR += float64(tp) / float64(len(want))
	s.n++
}

func (s *relevanceScore) precision() float64 { return s.sumP / float64(s.n) }
func (s *relevanceScore) recall() float64    { return s.sumR / float64(s.n) }

// TestRelevanceSet runs the judged set (testdata/relevance-queries.txt, over
// the corpus paragraphs and testdata/relevance-records.txt) through Sijill's
// search and through a Bleve index with Bleve's own "ar" analyser, prints
// both, and holds Sijill's precision and recall (means over the queries) to
// the floors.
func TestRelevanceSet(t *testing.T) {
	queries := readJudged(t)
	if len(queries) < 200 {
		t.Fatalf("the judged set has %d queries, want at least 200", len(queries))
	}
	recs := judgedRecords(t)
	ctx := context.Background()
	ix := openTestIndex(t)
	for _, r := range recs {
		if err := ix.Put(ctx, r, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	bl := bleveArIndex(t, recs)
	words := make([][]string, len(recs))
	for i, r := range recs {
		words[i] = judgeWords(r.Subject + " " + r.Body)
	}
	var sijill, bleveAr relevanceScore
	classes := map[string]*relevanceScore{}
	verbose := os.Getenv("SIJILL_RELEVANCE_VERBOSE") != ""
	for _, q := range queries {
		var want []string
		for i, r := range recs {
			if q.relevant(words[i]) {
				want = append(want, r.ID)
			}
		}
		if len(want) == 0 {
			t.Errorf("%s %q: no record holds the word: the judgement or the records are wrong", q.class, q.text)
			continue
		}
		res, err := ix.Search(ctx, Query{Text: q.text, Size: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.ID)
		}
		sijill.add(got, want)
		if classes[q.class] == nil {
			classes[q.class] = &relevanceScore{}
		}
		classes[q.class].add(got, want)
		bgot := bleveArSearch(t, bl, q.text)
		bleveAr.add(bgot, want)
		if verbose {
			var miss, extra []string
			for _, id := range want {
				if !slices.Contains(got, id) {
					miss = append(miss, id)
				}
			}
			for _, id := range got {
				if !slices.Contains(want, id) {
					extra = append(extra, id)
				}
			}
			if len(miss)+len(extra) > 0 {
				t.Logf("%s %q: missed %v, wrongly found %v", q.class, q.text, miss, extra)
			}
		}
	}
	t.Logf("judged set: %d queries over %d records", sijill.n, len(recs))
	t.Logf("Sijill:              precision %.3f recall %.3f (over all hits: %.3f / %.3f)", sijill.precision(), sijill.recall(),
		float64(sijill.tp)/float64(sijill.retrieved), float64(sijill.tp)/float64(sijill.relevant))
	t.Logf("Bleve's ar analyser: precision %.3f recall %.3f (over all hits: %.3f / %.3f)", bleveAr.precision(), bleveAr.recall(),
		float64(bleveAr.tp)/float64(max(bleveAr.retrieved, 1)), float64(bleveAr.tp)/float64(bleveAr.relevant))
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		t.Logf("  %-10s %3d queries: precision %.3f recall %.3f", c, classes[c].n, classes[c].precision(), classes[c].recall())
	}
	if sijill.precision() < floorPrecision || sijill.recall() < floorRecall {
		t.Errorf("precision %.3f, recall %.3f: below the floors %.2f / %.2f (SIJILL_RELEVANCE_VERBOSE=1 lists the misses)",
			sijill.precision(), sijill.recall(), floorPrecision, floorRecall)
	}
}

// bleveArIndex indexes the records' text in memory with Bleve's "ar"
// analyser: the baseline the issue names.
func bleveArIndex(t testing.TB, recs []*archive.Record) bleve.Index {
	t.Helper()
	m := mapping.NewIndexMapping()
	m.DefaultAnalyzer = "ar"
	bl, err := bleve.NewMemOnly(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bl.Close() })
	for _, r := range recs {
		if err := bl.Index(r.ID, map[string]string{"text": r.Subject + " " + r.Body}); err != nil {
			t.Fatal(err)
		}
	}
	return bl
}

// bleveArSearch needs every word of the query, as Sijill does.
func bleveArSearch(t testing.TB, bl bleve.Index, text string) []string {
	t.Helper()
	var parts []query.Query
	for _, w := range strings.Fields(text) {
		mq := query.NewMatchQuery(w)
		mq.SetField("text")
		mq.Analyzer = "ar"
		parts = append(parts, mq)
	}
	req := bleve.NewSearchRequestOptions(query.NewConjunctionQuery(parts), 1000, 0, false)
	res, err := bl.Search(req)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}
