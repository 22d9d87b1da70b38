package index

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
)

func rec(reg archive.Register, year, num int, date, subject, body string) *archive.Record {
	return &archive.Record{
		ID: archive.RecordID(reg, year, num), Register: reg, Year: year, Number: num, Date: date,
		Subject: subject, Body: body, Confidentiality: archive.Normal, Status: archive.StatusActive,
	}
}

func put(t *testing.T, ix *Index, recs ...*archive.Record) {
	t.Helper()
	for _, r := range recs {
		if err := ix.Put(context.Background(), r, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(res *Result) []string {
	out := []string{}
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

func TestConfidentialNeverLeaks(t *testing.T) {
	ix := openTestIndex(t)
	secret := rec(archive.Decisions, 2024, 1, "2024-03-01", "تعيين مسؤول الخزينة", "قرار سري بشأن الزبرجد")
	secret.Confidentiality = archive.Confidential
	secret.Committee = "لجنة الخزينة"
	open := rec(archive.Minutes, 2023, 1, "2023-05-01", "محضر اجتماع المكتب", "ناقش المكتب الخزينة")
	put(t, ix, secret, open)

	ctx := context.Background()
	res, err := ix.Search(ctx, Query{Text: "الزبرجد"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 0 || len(res.Hits) != 0 {
		t.Errorf("a word only in a confidential record: total %d, hits %v", res.Total, ids(res))
	}
	for name, counts := range res.Facets {
		if len(counts) != 0 {
			t.Errorf("facet %s counts the confidential record: %v", name, counts)
		}
	}
	// A word in both: only the open record is counted, faceted and highlighted.
	res, err = ix.Search(ctx, Query{Text: "الخزينة"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Hits[0].ID != open.ID {
		t.Errorf("hits = %v, want only %s", ids(res), open.ID)
	}
	if res.Facets["register"]["decisions"] != 0 || res.Facets["year"]["2024"] != 0 || res.Facets["committee"]["لجنة الخزينة"] != 0 {
		t.Errorf("facets count the confidential record: %v", res.Facets)
	}
	// Listing without text, too.
	res, err = ix.Search(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 {
		t.Errorf("listing shows %d records to a reader, want 1", res.Total)
	}
	// Those allowed see it.
	res, err = ix.Search(ctx, Query{Text: "الزبرجد", SeeConfidential: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Facets["committee"]["لجنة الخزينة"] != 1 {
		t.Errorf("allowed reader: total %d facets %v", res.Total, res.Facets)
	}
}

func TestFiltersFacetsSortPaging(t *testing.T) {
	ix := openTestIndex(t)
	a := rec(archive.Decisions, 2023, 1, "2023-01-10", "قرار حول الميزانية", "")
	a.Committee, a.Tags = "المكتب السياسي", []string{"مالية", "ميزانية"}
	b := rec(archive.Decisions, 2023, 2, "2023-06-01", "قرار حول الانتخابات", "الميزانية الانتخابية")
	b.Committee = "لجنة الانتخابات"
	c := rec(archive.Decisions, 2024, 1, "2024-02-01", "قرار حول الميزانية السنوية", "")
	c.Status = archive.StatusAnnulled
	d := rec(archive.Incoming, 2024, 7, "2024-03-15", "رسالة بشأن الميزانية", "")
	put(t, ix, a, b, c, d)
	ctx := context.Background()

	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"register", Query{Text: "الميزانية", Register: "incoming"}, []string{d.ID}},
		{"year", Query{Text: "الميزانية", Year: 2023, Sort: "number"}, []string{a.ID, b.ID}},
		{"dates", Query{Text: "الميزانية", From: "2023-02-01", To: "2024-02-01", Sort: "date"}, []string{b.ID, c.ID}},
		{"committee", Query{Committee: "المكتب السياسي"}, []string{a.ID}},
		{"tag", Query{Tag: "مالية"}, []string{a.ID}},
		{"status", Query{Status: archive.StatusAnnulled}, []string{c.ID}},
		{"list newest first", Query{}, []string{d.ID, c.ID, b.ID, a.ID}},
		{"date ascending", Query{Text: "الميزانية", Sort: "date"}, []string{a.ID, b.ID, c.ID, d.ID}},
		{"date descending", Query{Text: "الميزانية", Sort: "-date"}, []string{d.ID, c.ID, b.ID, a.ID}},
		{"number descending", Query{Register: "decisions", Sort: "-number"}, []string{c.ID, b.ID, a.ID}},
		{"page 2", Query{Sort: "date", Page: 2, Size: 3}, []string{d.ID}},
		{"tag text searchable", Query{Text: "مالية"}, []string{a.ID}},
	}
	for _, tc := range tests {
		res, err := ix.Search(ctx, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := ids(res); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: hits %v, want %v", tc.name, got, tc.want)
		}
	}

	res, err := ix.Search(ctx, Query{Text: "الميزانية"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int{
		"register":  {"decisions": 3, "incoming": 1},
		"year":      {"2023": 2, "2024": 2},
		"committee": {"المكتب السياسي": 1, "لجنة الانتخابات": 1},
	}
	if !reflect.DeepEqual(res.Facets, want) {
		t.Errorf("facets = %v, want %v", res.Facets, want)
	}
	h := res.Hits[0]
	if h.Register == "" || h.Year == 0 || h.Number == 0 || h.Date == "" || h.Subject == "" || h.Score <= 0 {
		t.Errorf("hit lacks fields: %+v", h)
	}
	js, _ := json.Marshal(res)
	for _, key := range []string{`"total"`, `"hits"`, `"facets"`, `"id"`, `"register"`, `"year"`, `"number"`, `"date"`, `"subject"`, `"score"`, `"highlights"`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("JSON lacks %s: %s", key, js)
		}
	}
}

func TestSearchRejects(t *testing.T) {
	ix := openTestIndex(t)
	for _, q := range []Query{
		{Text: `"غير مغلق`},
		{Text: "-وحدها"},
		{Text: "OR"},
		{Text: strings.Repeat("كلمة ", 101)},
		{Register: "nonsense"},
		{From: "1/2/2020"},
		{Sort: "title"},
		{Page: 101, Size: 100},
		{Page: 1 << 62, Size: 100},
	} {
		_, err := ix.Search(context.Background(), q)
		if archive.ErrorCode(err) != archive.EINVALID {
			t.Errorf("Search(%+v) = %v, want EINVALID", q, err)
		}
		if msg := archive.ErrorMessage(err); msg == "" {
			t.Errorf("Search(%+v): no message for the user", q)
		}
	}
	res, err := ix.Search(context.Background(), Query{Size: 1000})
	if err != nil || res.Total != 0 {
		t.Errorf("oversized page on an empty index: %v %v", res, err)
	}
}

func TestHighlights(t *testing.T) {
	ix := openTestIndex(t)
	long := strings.Repeat("كلام عام لا علاقة له بالموضوع. ", 40)
	r := rec(archive.Outgoing, 2024, 3, "2024-01-01", "دعوة <اللجنة> & المكتب",
		long+"قررت اللجنة المركزية عقد الدورة "+long+"وأكدت للجنة ضرورة الحضور.")
	r.Tags = []string{"اجتماعات", "اللجان"}
	r.Attendees = []string{"سعاد العلمي", "رئيس اللجنة"}
	r.Reference = "م/12/2024"
	put(t, ix, r)
	if err := ix.Put(context.Background(), r, "", []string{"نص المرفق عن اﻟﻠﺠﻨﺔ والميزانية"}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(context.Background(), Query{Text: "لجنة"})
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("search: %v %v", res, err)
	}
	hl := res.Hits[0].Highlights
	if got := hl["subject"]; !reflect.DeepEqual(got, []string{"دعوة &lt;<mark>اللجنة</mark>&gt; &amp; المكتب"}) {
		t.Errorf("subject highlight = %q", got)
	}
	body := hl["body"]
	if len(body) != 2 || !strings.Contains(body[0], "<mark>اللجنة</mark> المركزية") || !strings.Contains(body[1], "<mark>للجنة</mark> ضرورة") {
		t.Errorf("body highlight = %q", body)
	}
	for _, f := range body {
		if len(f) > 1200 || !strings.HasPrefix(f, "…") {
			t.Errorf("body fragment is not a cut fragment: %q", f)
		}
	}
	if got := hl["tags"]; !reflect.DeepEqual(got, []string{"<mark>اللجان</mark>"}) {
		t.Errorf("tags highlight = %q", got)
	}
	if got := hl["attendees"]; !reflect.DeepEqual(got, []string{"رئيس <mark>اللجنة</mark>"}) {
		t.Errorf("attendees highlight = %q", got)
	}
	res, err = ix.Search(context.Background(), Query{Text: "العلمي 2024"})
	if err != nil || res.Total != 1 || !reflect.DeepEqual(res.Hits[0].Highlights["reference"], []string{"م/12/<mark>2024</mark>"}) {
		t.Errorf("attendee and reference not searchable: %+v %v", res, err)
	}
	if got := hl["attachments"]; !reflect.DeepEqual(got, []string{"نص المرفق عن <mark>اﻟﻠﺠﻨﺔ</mark> والميزانية"}) {
		t.Errorf("attachments highlight = %q", got)
	}
}

func TestSubjectRanksFirst(t *testing.T) {
	ix := openTestIndex(t)
	body := strings.Repeat("نص عادي عن أعمال الحزب وأنشطته في الجهات. ", 10)
	// The same number of words: the budget in passing, or in the subject.
	passing := rec(archive.Incoming, 2024, 1, "2024-01-01", "رسالة الفرع الجهوي", body+"وذكرت الميزانية عرضا.")
	about := rec(archive.Incoming, 2024, 2, "2024-01-02", "الميزانية السنوية للفرع", body+"وذكرت الأنشطة عرضا.")
	put(t, ix, passing, about)
	res, err := ix.Search(context.Background(), Query{Text: "ميزانية"})
	if err != nil || len(res.Hits) != 2 {
		t.Fatalf("search: %+v %v", res, err)
	}
	if res.Hits[0].ID != about.ID || res.Hits[0].Score <= res.Hits[1].Score {
		t.Errorf("the record about the budget does not rank first: %v", res.Hits)
	}
}

// TestHighlightLongText: a match deep in a long attachment is found, and the
// highlights of a page cost no more than a bounded scan.
func TestHighlightLongText(t *testing.T) {
	ix := openTestIndex(t)
	filler := strings.Repeat("نص طويل من صفحات المرفق الممسوحة ضوئيا. ", 5000) // ~200 KB
	r := rec(archive.Incoming, 2024, 9, "2024-02-02", "رسالة مع مرفق طويل", "")
	if err := ix.Put(context.Background(), r, "", []string{filler + "وفي الصفحة الأخيرة ذكر الأرخبيل."}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(context.Background(), Query{Text: "الأرخبيل"})
	if err != nil || res.Total != 1 {
		t.Fatalf("a word at the end of a long attachment: %+v %v", res, err)
	}
	if hl := res.Hits[0].Highlights["attachments"]; len(hl) != 0 {
		t.Errorf("highlights scanned past the bound: %q", hl)
	}
	res, err = ix.Search(context.Background(), Query{Text: "المرفق"})
	if err != nil || res.Total != 1 || len(res.Hits[0].Highlights["attachments"]) != maxFragments {
		t.Errorf("long attachment highlights: %+v %v", res, err)
	}
}

// TestInitialsFindEachOther: a reference with its initials typed apart, with
// a dot or together (or read so by OCR) is found by every way of typing it,
// quoted or not, and highlighted whole.
func TestInitialsFindEachOther(t *testing.T) {
	ix := openTestIndex(t)
	apart := rec(archive.Incoming, 2025, 1, "2025-03-01", "طلب موعد", "إشارتكم رقم أ ع/١٨٩/٢٠٢٥ بتاريخ ١٢/٣/٢٠٢٥")
	together := rec(archive.Incoming, 2025, 2, "2025-03-02", "دعوة", "إشارتنا رقم ق ر/77/2025")
	together.Body = "إشارتنا رقم قر/77/2025"
	// OCR reads a letter standing alone worst: «أ» as «١», «ك» lost.
	misread := rec(archive.Incoming, 2026, 3, "2026-01-05", "-", "المرجع: \u200e١\u200f ع/201/2026")
	lost := rec(archive.Incoming, 2025, 4, "2025-01-06", "-", "المرجع: ج/٣٦٧/٢٠٢٥")
	other := rec(archive.Incoming, 2026, 5, "2026-01-07", "-", "المرجع: أ ع/202/2026 و ك ج/٣٦٨/٢٠٢٥")
	put(t, ix, apart, together, misread, lost, other)
	for _, tc := range []struct{ q, want string }{
		{`"أ ع/189/2025"`, apart.ID},
		{`"أع/١٨٩/٢٠٢٥"`, apart.ID},
		{`أع/189/2025`, apart.ID},
		{`أ.ع/189/2025`, apart.ID},
		{`أ ع/189/2025`, apart.ID},
		{`"ق ر/77/2025"`, together.ID},
		{`ق ر/77/2025`, together.ID},
		{`ق. ر/77`, together.ID},
		{`"أ ع/201/2026"`, misread.ID},
		{`أ ع/201/2026`, misread.ID},
		{`"ك ج/٣٦٧/٢٠٢٥"`, lost.ID},
		{`"ع/202/2026"`, other.ID},
	} {
		res, err := ix.Search(context.Background(), Query{Text: tc.q})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if got := ids(res); !reflect.DeepEqual(got, []string{tc.want}) {
			t.Errorf("%s finds %v, want %s", tc.q, got, tc.want)
		}
	}
	res, err := ix.Search(context.Background(), Query{Text: "أع"})
	if err != nil || !reflect.DeepEqual(ids(res), []string{other.ID, apart.ID}) {
		t.Fatalf("أع: %v %v", res, err)
	}
	if hl := res.Hits[1].Highlights["body"]; len(hl) != 1 || !strings.Contains(hl[0], "<mark>أ ع</mark>/١٨٩") {
		t.Errorf("highlight of initials typed apart: %q", hl)
	}
}
