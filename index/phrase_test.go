package index

import (
	"context"
	"reflect"
	"testing"

	"github.com/sijill/sijill/archive"
)

// TestPhraseBoundaries checks what a quoted phrase must not find: its words
// apart, split between two fields, or with the stop word between them
// missing or added.
func TestPhraseBoundaries(t *testing.T) {
	ix := openTestIndex(t)
	a := rec(archive.Decisions, 2024, 1, "2024-01-01", "بيان المجلس الوطني للحزب", "اجتماع اللجنة المركزية")
	b := rec(archive.Decisions, 2024, 2, "2024-01-02", "تقرير", "المجلس الوطني قرر ثم الوطني للحزب")
	c := rec(archive.Decisions, 2024, 3, "2024-01-03", "محضر", "صدر قرار في الميزانية")
	d := rec(archive.Decisions, 2024, 4, "2024-01-04", "محضر", "صدر قرار الميزانية")
	put(t, ix, a, b, c, d)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{`"المجلس الوطني"`, []string{a.ID, b.ID}},
		{`"مجلس وطني"`, []string{a.ID, b.ID}},
		{`"المجلس الوطني للحزب"`, []string{a.ID}},
		{`"الوطني للحزب"`, []string{a.ID, b.ID}},
		{`"للحزب اجتماع"`, nil},
		{`"قرار في الميزانية"`, []string{c.ID}},
		{`"قرار الميزانية"`, []string{d.ID}},
		{`"الوطني المجلس"`, nil},
	} {
		res, err := ix.Search(context.Background(), Query{Text: tc.text, Sort: "number"})
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		if got := ids(res); !reflect.DeepEqual(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
			t.Errorf("%s: hits %v, want %v", tc.text, got, tc.want)
		}
	}
}
