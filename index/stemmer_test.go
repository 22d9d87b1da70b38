package index

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/sijill/sijill/archive"
)

// queryTerms are the stems a typed word is searched by (wordQuery): the
// parts of a compound name typed as one word are not among them.
func queryTerms(a *textAnalyzers, w string) []string {
	var out []string
	for _, t := range a.stemmed.Analyze([]byte(w)) {
		if t.Type != compoundPart {
			out = append(out, string(t.Term))
		}
	}
	return out
}

// TestStemmerReadings holds the classes of issue 14: what a member types
// must share a term with the forms of the same word, and must not with
// another word that merely looks like a clitic and a word.
func TestStemmerReadings(t *testing.T) {
	a := mustAnalyzers(t)
	match := []struct{ class, query, doc string }{
		{"proclitic before three letters", "وفد", "لوفد"},
		{"proclitic before three letters", "فرع", "بفرع"},
		{"proclitic before three letters", "عضو", "كعضو"},
		{"proclitic before three letters", "حزب", "لحزب"},
		{"word with its own ان", "ديوان", "الديوان"},
		{"word with its own ان", "عنوان", "العناوين"},
		{"word with its own ان", "بيان", "البيانات"},
		{"word with its own ان", "إعلان", "الإعلانات"},
		{"word with its own ين", "أمين", "الأمين"},
		{"spelling", "شؤون", "شئون"},
		{"spelling", "مئة", "مائة"},
		{"spelling", "مئتان", "مائتين"},
		{"spelling", "هيئة", "الهيأة"},
		{"spelling", "مسألة", "المسالة"},
		{"spelling", "عبدالرحمن", "عبد الرحمن"},
		{"spelling", "عبد الرحمن", "عبدالرحمن"},
		{"spelling", "أبوبكر", "أبو بكر"},
		{"possessive", "كتاب", "كتابكم"},
		{"possessive", "قرار", "قرارنا"},
		{"possessive", "اجتماع", "اجتماعهم"},
		{"possessive", "مكتب", "مكتبها"},
		{"possessive", "رسالة", "رسالتكم"},
		{"possessive", "عضو", "أعضاؤها"},
		{"possessive", "عضو", "أعضائها"},
		{"stacked proclitics", "مجلس", "وبالمجلس"},
		{"stacked proclitics", "مكتب", "وكالمكتب"},
		{"stacked proclitics", "مؤتمر", "فبالمؤتمر"},
		{"stacked proclitics", "لجنة", "فللجنة"},
		{"broken plural", "مكتب", "مكاتب"},
		{"broken plural", "رسالة", "رسائل"},
		{"broken plural", "مشروع", "مشاريع"},
		{"broken plural", "عضو", "أعضاء"},
		{"broken plural", "وسيلة", "الوسائل"},
		{"broken plural", "جدول", "جداول"},
		{"broken plural", "زميل", "الزملاء"},
		{"broken plural", "قضية", "القضايا"},
		{"sound plural", "مناضل", "والمناضلات"},
		{"sound plural", "مواطن", "المواطنين"},
		{"nisba", "الوطني", "الوطنية"},
		{"nisba", "جهوي", "الجهويين"},
		{"future", "يتم", "سيتم"},
		{"verb ending", "قرر", "قرروا"},
	}
	for _, tc := range match {
		q, d := queryTerms(a, tc.query), terms(a.stemmed, tc.doc)
		shared := slices.ContainsFunc(q, func(w string) bool { return slices.Contains(d, w) })
		if !shared {
			t.Errorf("%s: %q does not find %q: query terms %q, document terms %q", tc.class, tc.query, tc.doc, q, d)
		}
	}
	apart := []struct{ class, query, doc string }{
		{"a name is no clitic and a word", "مال", "كمال"},
		{"a name is no clitic and a word", "ريم", "كريم"},
		{"a name is no clitic and a word", "شير", "بشير"},
		{"a name is no clitic and a word", "ميس", "لميس"},
		{"a name is no clitic and a word", "دوى", "فدوى"},
		{"a name is no clitic and a word", "ثينة", "بثينة"},
		{"a word is no clitic and a word", "يان", "بيان"},
		{"a word is no clitic and a word", "زير", "وزير"},
		{"a word's own ان", "عنو", "عنوان"},
		{"a word's own ين", "أم", "أمين"},
		{"noun and verb", "تقرير", "يقرر"},
		{"nisba is its own word", "اجتماع", "الاجتماعية"},
		{"nisba is its own word", "مال", "المالية"},
		{"لل before a word with ل", "جنة", "للجنة"},
		{"a compound typed whole", "عبدالرحمن", "عبد الله"},
		{"a word that begins like a compound", "أبو", "أبوابه"},
	}
	for _, tc := range apart {
		q, d := queryTerms(a, tc.query), terms(a.stemmed, tc.doc)
		for _, w := range q {
			if slices.Contains(d, w) {
				t.Errorf("%s: %q finds %q through %q (document terms %q)", tc.class, tc.query, tc.doc, w, d)
			}
		}
	}
}

// TestLexiconNormalised fails when the normaliser changed and the table was
// not generated again (go generate ./index): its words would no longer be
// what the stemmer looks up.
func TestLexiconNormalised(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(ayaspellTable))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		n++
		key, rest, _ := strings.Cut(line, "\t")
		_, base, _ := strings.Cut(rest, "\t")
		for _, w := range []string{key, base} {
			if w != "" && NormalizeArabic(w) != w {
				t.Fatalf("lexicon word %q is not normalised (%q): run go generate ./index", w, NormalizeArabic(w))
			}
		}
	}
	if n < 200000 {
		t.Errorf("the lexicon has %d words, want the 240,000 of Ayaspell", n)
	}
	if _, err := parseLexicon(ayaspellTable); err != nil {
		t.Fatal(err)
	}
}

// TestCompoundNames searches compound names written joined and apart.
func TestCompoundNames(t *testing.T) {
	ix := openTestIndex(t)
	ctx := context.Background()
	docs := map[string]string{
		"joined":  "حضر الاجتماع الأخ عبدالرحمن العلوي",
		"apart":   "وقع المحضر الأخ عبد الرحمن الكتاني",
		"other":   "اعتذر الأخ عبد المجيد الناصري",
		"abubakr": "بعث الأخ أبوبكر الصديقي برقية",
	}
	n := 0
	ids := map[string]string{}
	for name, text := range docs {
		n++
		rec := &archive.Record{ID: archive.RecordID(archive.Incoming, 2025, n), Register: archive.Incoming, Year: 2025, Number: n,
			Date: "2025-01-01", Subject: "رسالة", Body: text, Confidentiality: archive.Normal, Status: archive.StatusActive}
		ids[rec.ID] = name
		if err := ix.Put(ctx, rec, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ q, want string }{
		{"عبدالرحمن", "apart joined"},
		{"عبد الرحمن", "apart joined"},
		{`"عبد الرحمن"`, "apart joined"},
		{`"عبدالرحمن"`, "apart joined"},
		{"عبد", "apart joined other"},
		{"أبو بكر", "abubakr"},
		{"أبوبكر", "abubakr"},
	} {
		res, err := ix.Search(ctx, Query{Text: tc.q, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, ids[h.ID])
		}
		slices.Sort(got)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s finds %v, want %s", tc.q, got, tc.want)
		}
	}
}

func TestPrefixesOf(t *testing.T) {
	var in analysis.TokenStream
	for i, w := range []string{"مجلس", "وطن", "مجلس", "مجل", "تنظيمات", "2020"} {
		typ := analysis.AlphaNumeric
		if w == "2020" {
			typ = analysis.Numeric
		}
		in = append(in, &analysis.Token{Term: []byte(w), Position: i + 1, Type: typ})
	}
	var got []string
	for _, tok := range prefixesOf(in) {
		got = append(got, string(tok.Term))
	}
	want := []string{"مج", "مجل", "مجلس", "وط", "وطن", "تن", "تنظ", "تنظي", "تنظيم"}
	if !slices.Equal(got, want) {
		t.Errorf("prefixesOf = %q, want %q", got, want)
	}
}
