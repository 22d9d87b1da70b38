package index

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/sijill/sijill/archive"
)

// readerView is what a reader sees of a search: every hit with its score,
// the total and the facets.
func readerView(t *testing.T, ix *Index, q string) (map[string]float64, uint64, map[string]map[string]int) {
	t.Helper()
	res, err := ix.Search(context.Background(), Query{Text: q, Size: 100})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	scores := map[string]float64{}
	for _, h := range res.Hits {
		scores[h.ID] = h.Score
	}
	return scores, res.Total, res.Facets
}

// publicArchive puts records any reader may see, about the budget and the
// treasury, in ix.
func publicArchive(t *testing.T, ix *Index) {
	t.Helper()
	for i := 1; i <= 12; i++ {
		body := "ناقش المكتب الميزانية السنوية"
		if i%3 == 0 {
			body += " وتقرير الخزينة"
		}
		put(t, ix, rec(archive.Minutes, 2024, i, fmt.Sprintf("2024-01-%02d", i), fmt.Sprintf("محضر الاجتماع %d", i), body))
	}
}

// secretRecords returns n confidential decisions, numbered from first, that
// use the words the reader searches for (الميزانية, الخزينة) and a word only
// they contain (الزمرد).
func secretRecords(first, n int) []*archive.Record {
	var out []*archive.Record
	for i := first; i < first+n; i++ {
		r := rec(archive.Decisions, 2024, i, "2024-02-01", "قرار سري بشأن الميزانية", "تحويل الميزانية إلى حساب الزمرد الخاص في الخزينة")
		r.Confidentiality = archive.Confidential
		out = append(out, r)
	}
	return out
}

// TestReaderScoresIgnoreConfidentialRecords: relevance depends on how many
// records hold a word; if confidential records counted, a reader could watch
// the score of a public hit move as confidential records containing the word
// are added, and learn what they say. Scores, totals and facets a reader
// sees are the same before and after.
func TestReaderScoresIgnoreConfidentialRecords(t *testing.T) {
	ix := openTestIndex(t)
	publicArchive(t, ix)
	for i, q := range []string{"الميزانية", "الخزينة", "الميزانية OR الخزينة", "ميز*"} {
		beforeScores, beforeTotal, beforeFacets := readerView(t, ix, q)
		if len(beforeScores) == 0 {
			t.Fatalf("%q finds nothing public: the test proves nothing", q)
		}
		put(t, ix, secretRecords(1+100*i, 20)...)
		afterScores, afterTotal, afterFacets := readerView(t, ix, q)
		if !maps.Equal(beforeScores, afterScores) {
			t.Errorf("%q: the reader's scores moved when confidential records were added:\nbefore %v\nafter  %v", q, beforeScores, afterScores)
		}
		if beforeTotal != afterTotal || !maps.EqualFunc(beforeFacets, afterFacets, maps.Equal) {
			t.Errorf("%q: total or facets moved: %d %v, then %d %v", q, beforeTotal, beforeFacets, afterTotal, afterFacets)
		}
		// Those who may see them find them, in the same search.
		res, err := ix.Search(context.Background(), Query{Text: q, SeeConfidential: true, Size: 100})
		if err != nil || res.Total <= afterTotal {
			t.Errorf("%q for an admin: %v %v, want the confidential records too", q, res, err)
		}
	}
}

// TestOrWithASecretWordScoresLikeAnUnknownWord: `public OR secretword` must
// rank and score the public hits exactly as `public OR madeupword`, or a
// reader confirms a guessed word of a confidential record by comparing them.
func TestOrWithASecretWordScoresLikeAnUnknownWord(t *testing.T) {
	ix := openTestIndex(t)
	publicArchive(t, ix)
	put(t, ix, secretRecords(1, 5)...)
	secret, _, _ := readerView(t, ix, "الميزانية OR الزمرد")
	madeUp, _, _ := readerView(t, ix, "الميزانية OR الزبرقان")
	if len(secret) == 0 || !maps.Equal(secret, madeUp) {
		t.Errorf("OR with a secret word scores %v,\nwith a made-up word %v", secret, madeUp)
	}
	// And the other way round: the secret word as the required part.
	if s, total, _ := readerView(t, ix, "الزمرد"); len(s) != 0 || total != 0 {
		t.Errorf("the secret word alone finds %v (%d)", s, total)
	}
}

// TestPrefixWalkRecoversNothing: a reader guessing a confidential word letter
// by letter with prefix queries (ز*, زم*, زمر*, …) learns nothing: every
// prefix answers exactly as it does without the confidential records.
func TestPrefixWalkRecoversNothing(t *testing.T) {
	withSecrets := openTestIndex(t)
	without := openTestIndex(t)
	publicArchive(t, withSecrets)
	publicArchive(t, without)
	// A public word sharing the first letters, so the walk has hits to compare.
	for _, ix := range []*Index{withSecrets, without} {
		put(t, ix, rec(archive.Incoming, 2024, 1, "2024-03-01", "رسالة عن الزمالة", "طلب منحة الزمالة"))
	}
	put(t, withSecrets, secretRecords(1, 5)...)
	word := []rune("الزمرد")
	for n := 2; n <= len(word); n++ {
		q := string(word[:n]) + "*"
		got, gotTotal, gotFacets := readerView(t, withSecrets, q)
		want, wantTotal, wantFacets := readerView(t, without, q)
		if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) || gotTotal != wantTotal ||
			!maps.EqualFunc(gotFacets, wantFacets, maps.Equal) {
			t.Errorf("%s: the reader sees %v (%d), without the confidential records %v (%d)", q, got, gotTotal, want, wantTotal)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: scores %v, without the confidential records %v", q, got, want)
		}
	}
}

// TestRecordMadeConfidentialLeavesTheReadersIndex: a record that becomes
// confidential is out of the readers' part when Put returns, and one made
// normal again is back; the version each part holds follows.
func TestRecordMadeConfidentialLeavesTheReadersIndex(t *testing.T) {
	ix := openTestIndex(t)
	r := rec(archive.Decisions, 2024, 1, "2024-03-01", "قرار بشأن الياقوت", "")
	r.Version = 1
	put(t, ix, r)
	c := *r
	c.Version, c.Confidentiality = 2, archive.Confidential
	put(t, ix, &c)
	if _, total, _ := readerView(t, ix, "الياقوت"); total != 0 {
		t.Fatalf("a record made confidential is still found by a reader")
	}
	if res, _ := ix.Search(context.Background(), Query{Text: "الياقوت", SeeConfidential: true}); res.Total != 1 {
		t.Fatalf("an admin finds it %d times, want once", res.Total)
	}
	// An older version arriving late (the feed) does not bring it back.
	put(t, ix, r)
	if _, total, _ := readerView(t, ix, "الياقوت"); total != 0 {
		t.Errorf("a stale version put back the confidential record in the readers' index")
	}
	n := c
	n.Version, n.Confidentiality = 3, archive.Normal
	put(t, ix, &n)
	if _, total, _ := readerView(t, ix, "الياقوت"); total != 1 {
		t.Errorf("made normal again: a reader finds it %d times, want once", total)
	}
	if res, _ := ix.Search(context.Background(), Query{Text: "الياقوت", SeeConfidential: true}); res.Total != 1 {
		t.Errorf("made normal again: an admin finds it %d times, want once", res.Total)
	}
}
