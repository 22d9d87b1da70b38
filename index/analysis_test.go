package index

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
)

func mustAnalyzers(t testing.TB) *textAnalyzers {
	t.Helper()
	a, err := newAnalyzers()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Lucene's TestArabicNormalizationFilter vectors.
func TestNormalizeLucene(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"AlifMadda", "آجن", "اجن"},
		{"AlifHamzaAbove", "أحمد", "احمد"},
		{"AlifHamzaBelow", "إعاذ", "اعاذ"},
		{"AlifMaksura", "بنى", "بني"},
		{"TehMarbuta", "فاطمة", "فاطمه"},
		{"Tatweel", "روبرـــــت", "روبرت"},
		{"Fatha", "مَبنا", "مبنا"},
		{"Kasra", "علِي", "علي"},
		{"Damma", "بُوات", "بوات"},
		{"Fathatan", "ولداً", "ولدا"},
		{"Kasratan", "ولدٍ", "ولد"},
		{"Dammatan", "ولدٌ", "ولد"},
		{"Sukun", "نلْسون", "نلسون"},
		{"Shaddah", "هتميّ", "هتمي"},
		{"EmptyTerm", "", ""},
		// Beyond Lucene: what ARABIC.md lists.
		{"AlefWasla", "ٱلحمد", "الحمد"},
		{"SuperscriptAlef", "هٰذا", "هذا"},
		{"PersianYeh", "فارسی", "فارسي"},
		{"PersianKeheh", "کتاب", "كتاب"},
		{"HamzaOnWaw", "مسؤول", "مسءول"},
		{"HamzaOnYeh", "مسئول", "مسءول"},
		{"Latin", "English", "English"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NormalizeFilter{}.Filter(analysis.TokenStream{{Term: []byte(tc.in)}})
			var term string
			if len(got) > 0 {
				term = string(got[0].Term)
			}
			if term != tc.want {
				t.Errorf("normalize(%q) = %q, want %q", tc.in, term, tc.want)
			}
		})
	}
}

// Lucene's TestArabicStemFilter vectors.
func TestStemLucene(t *testing.T) {
	s, err := newStemmer()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, in, want string }{
		{"AlPrefix", "الحسن", "حسن"},
		{"WalPrefix", "والحسن", "حسن"},
		{"BalPrefix", "بالحسن", "حسن"},
		{"KalPrefix", "كالحسن", "حسن"},
		{"FalPrefix", "فالحسن", "حسن"},
		{"LlPrefix", "للاخر", "اخر"},
		{"WaPrefix", "وحسن", "حسن"},
		{"AhSuffix", "زوجها", "زوج"},
		{"AnSuffix", "ساهدان", "ساهد"},
		{"AtSuffix", "ساهدات", "ساهد"},
		{"WnSuffix", "ساهدون", "ساهد"},
		{"YnSuffix", "ساهدين", "ساهد"},
		{"YhSuffix", "ساهديه", "ساهد"},
		{"YpSuffix", "ساهدية", "ساهد"},
		{"HSuffix", "ساهده", "ساهد"},
		{"PSuffix", "ساهدة", "ساهد"},
		{"YSuffix", "ساهدي", "ساهد"},
		{"ComboPrefSuf", "وساهدون", "ساهد"},
		{"ComboSuf", "ساهدهات", "ساهد"},
		{"ShouldntStem", "الو", "الو"},
		{"NonArabic", "English", "English"},
		{"EmptyTerm", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Stem(tc.in); got[0] != tc.want {
				t.Errorf("Stem(%q) = %q, want %q first", tc.in, got, tc.want)
			}
		})
	}
	t.Run("WithKeywordAttribute", func(t *testing.T) {
		got := s.Filter(analysis.TokenStream{{Term: []byte("ساهدهات"), KeyWord: true}})
		if len(got) != 1 || string(got[0].Term) != "ساهدهات" {
			t.Errorf("a KeyWord token was stemmed: %v", got)
		}
	})
}

// Lucene's TestDecimalDigitFilter, in spirit: every Nd digit becomes ASCII.
func TestDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"٢٠٢٠", "2020"},
		{"۲۰۲۰", "2020"},
		{"٠١٢٣٤٥٦٧٨٩", "0123456789"},
		{"۰۱۲۳۴۵۶۷۸۹", "0123456789"},
		{"१२३", "123"}, // Devanagari
		{"𝟙𝟚", "12"},   // double-struck
		{"𝟎𝟗", "09"},   // mathematical bold digits: Nd, several runs of ten back to back
		{"abc", "abc"},
	}
	for _, tc := range tests {
		if got := string(foldDigits([]byte(tc.in))); got != tc.want {
			t.Errorf("foldDigits(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTokenizerOffsets(t *testing.T) {
	in := "قرار\u200c اللجنة، بتاريخ ٧-١٢-٢٠٢٠م (2017-2020) الأ\u200dعضاء"
	var got []string
	for _, tok := range (Tokenizer{}).Tokenize([]byte(in)) {
		got = append(got, in[tok.Start:tok.End])
	}
	want := []string{"قرار", "اللجنة", "بتاريخ", "٧", "١٢", "٢٠٢٠", "م", "2017", "2020", "الأ\u200dعضاء"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
}

// TestInitials: one-letter words a space or a dot apart are one word, so a
// reference written «أ ع/189» finds the letter read «أع/189» and back; any
// other gap, or a longer word, keeps words apart.
func TestInitials(t *testing.T) {
	tests := []struct {
		in          string
		spans, term []string
	}{
		{"أ ع/١٨٩/٢٠٢٥", []string{"أ ع", "١٨٩", "٢٠٢٥"}, []string{"أع", "١٨٩", "٢٠٢٥"}},
		{"أ.ع/189", []string{"أ.ع", "189"}, []string{"أع", "189"}},
		{"ص. ب. 12", []string{"ص. ب", "12"}, []string{"صب", "12"}},
		{"أع/189", []string{"أع", "189"}, []string{"أع", "189"}},
		{"ب ل ا غ عاجل", []string{"ب ل ا غ", "عاجل"}, []string{"بلاغ", "عاجل"}},
		{"U.S.A", []string{"U.S.A"}, []string{"USA"}},
		{"و الحزب", []string{"و", "الحزب"}, []string{"و", "الحزب"}},
		{"إ سلام", []string{"إ", "سلام"}, []string{"إ", "سلام"}},
		{"أ - ب", []string{"أ", "ب"}, []string{"أ", "ب"}},
		{"أ/ب", []string{"أ", "ب"}, []string{"أ", "ب"}},
		{"أ   ب", []string{"أ", "ب"}, []string{"أ", "ب"}},
		{"أ\nب", []string{"أ", "ب"}, []string{"أ", "ب"}},
		{"2025 م ص", []string{"2025", "م ص"}, []string{"2025", "مص"}},
		{"أ 2 ب", []string{"أ", "2", "ب"}, []string{"أ", "2", "ب"}},
	}
	for _, tc := range tests {
		var spans, terms []string
		for _, tok := range firstAtEachPosition((Tokenizer{}).Tokenize([]byte(tc.in))) {
			spans = append(spans, tc.in[tok.Start:tok.End])
			terms = append(terms, string(tok.Term))
		}
		if !reflect.DeepEqual(spans, tc.spans) || !reflect.DeepEqual(terms, tc.term) {
			t.Errorf("Tokenize(%q): spans %q terms %q, want %q %q", tc.in, spans, terms, tc.spans, tc.term)
		}
	}
	// Each letter of initials stands at their place too; positions count
	// them once, and a field gap parts initials.
	in := "أ ع\u001eب ج د/5"
	var got []string
	for _, tok := range (Tokenizer{}).Tokenize([]byte(in)) {
		got = append(got, fmt.Sprintf("%s@%d:%s", tok.Term, tok.Position, in[tok.Start:tok.End]))
	}
	want := []string{"أع@1:أ ع", "أ@1:أ", "ع@1:ع", "بجد@102:ب ج د", "ب@102:ب", "ج@102:ج", "د@102:د", "5@103:5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens %q, want %q", got, want)
	}
}

// TestArabicMD holds every case of ARABIC.md "Searching": what a person types
// must share a stemmed term with what the document says, and names must not
// collapse onto other words.
func TestArabicMD(t *testing.T) {
	a := mustAnalyzers(t)
	match := []struct{ query, doc string }{
		{"٢٠٢٠", "2020"},
		{"۲۰۲۰", "2020"},
		{"2017", "خلال الفترة 2017-2020"},
		{"2020", "خلال الفترة 2017-2020"},
		{"2020", "بتاريخ ٢٠٢٠م"},
		{"محاضر", "بمحاضر"},
		{"مجلس", "لمجلس"},
		{"بوزنيقة", "ببوزنيقة"},
		{"ببوزنيقة", "بوزنيقة"},
		{"قرار", "لقراراتها"},
		{"مسؤولية", "كمسؤولية"},
		{"اللجنة", "للجنة"},
		{"للجنة", "اللجنة"},
		{"لجنة", "للجنة"},
		{"مسئول", "مسؤول"},
		{"مسؤول", "مسئول"},
		{"الأعضاء", "اﻷعضاء"},
		{"الأعضاء", "الأ\u200cعضاء"},
		{"الأعضاء", "الأ\u200fعضاء"},
		{"الأعضاء", "\u2067الأعضاء\u2069"},
		{"الأعضاء", "الأ\u061cعضاء"},
		{"الأعضاء", "الأ\u202bعضاء"},
		{"الاستقلال", "ٱلاستقلال"},
		{"الرحمن", "الرحمٰن"},
		{"فارسي", "فارسی"},
		{"كتاب", "کتاب"},
		{"لبنان", "للبنان"},
		{"لبنان", "بلبنان"},
		{"البحرين", "بالبحرين"},
		{"فلسطين", "وفلسطين"},
		{"المغرب", "بالمغرب"},
		{"عضو", "أعضاء"},
		{"عضو", "الأعضاء"},
		{"لجنة", "لجان"},
		{"لجنة", "اللجان"},
		{"قرار", "قرارات"},
		{"محضر", "المحاضر"},
		{"مكتب", "مكاتب"},
		{"فرع", "الفروع"},
		{"اعضاء", "أعضاء"},
		{"اجتماع", "الإجتماع"},
		{"Réunion", "reunion"},
		{"meetings", "meeting"},
	}
	for _, tc := range match {
		q := terms(a.stemmed, tc.query)
		d := terms(a.stemmed, tc.doc)
		shared := false
		for _, w := range q {
			if slices.Contains(d, w) {
				shared = true
			}
		}
		if len(q) == 0 || !shared {
			t.Errorf("%q does not find %q: query terms %q, document terms %q", tc.query, tc.doc, q, d)
		}
	}
	apart := []struct{ a, b string }{
		{"لبنان", "لبن"},
		{"البحرين", "بحر"},
		{"فلسطين", "فلسط"},
		{"المغرب", "غرب"},
	}
	for _, tc := range apart {
		x, y := terms(a.stemmed, tc.a), terms(a.stemmed, tc.b)
		for _, w := range x {
			if slices.Contains(y, w) {
				t.Errorf("%q and %q share the stem %q", tc.a, tc.b, w)
			}
		}
	}
	// Stop words are dropped after normalisation, however they are written.
	for _, w := range []string{"في", "فِي", "فـي", "فـــي", "إلى", "الى", "على", "عَلَى", "the", "les"} {
		if got := terms(a.stemmed, w); len(got) != 0 {
			t.Errorf("stop word %q gave terms %q", w, got)
		}
	}
	// The exact analyser keeps forms apart that stemming merges.
	if x, y := terms(a.exact, "الأعضاء"), terms(a.exact, "عضو"); reflect.DeepEqual(x, y) {
		t.Errorf("exact analyser merged %q and %q", x, y)
	}
	if got := terms(a.exact, "فِي اﻷعضاء ٢٠٢٠"); !reflect.DeepEqual(got, []string{"في", "الاعضاء", "2020"}) {
		t.Errorf("exact terms = %q", got)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "قرار\u200c اللجنة ٢٠٢٠", "ـــ", "\u200c", "لل", "ب", "ﷺ ﷽", "a\u0301", "2017-2020م", "\xff\xfe", "Réunion œuvre"} {
		f.Add(s)
	}
	a := mustAnalyzers(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, an := range []analysis.Analyzer{a.exact, a.stemmed} {
			for _, tok := range an.Analyze([]byte(s)) {
				if tok.Start < 0 || tok.End > len(s) || tok.Start > tok.End {
					t.Fatalf("token %v has offsets outside %q", tok, s)
				}
				if len(tok.Term) == 0 {
					t.Fatalf("empty term from %q", s)
				}
			}
		}
	})
}

// TestStemFrom holds the stemmed stream derived for indexing to the
// registered stemmed analyser that analyses queries.
func TestStemFrom(t *testing.T) {
	a := mustAnalyzers(t)
	for _, r := range corpusRecords(t) {
		text := []byte(r.Body + " Réunions ٢٠٢٠ وفلسطين للجنة فِي")
		want := a.stemmed.Analyze(text)
		got := a.stemFrom(a.exact.Analyze(text))
		if len(got) != len(want) {
			t.Fatalf("%s: %d tokens, want %d", r.ID, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if string(g.Term) != string(w.Term) || g.Position != w.Position || g.Start != w.Start || g.End != w.End {
				t.Fatalf("%s: token %d = %v, want %v", r.ID, i, g, w)
			}
		}
	}
}
