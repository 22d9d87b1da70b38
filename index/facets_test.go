package index

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/sijill/sijill/archive"
)

// wantFacets counts the facets of the records that match: what a person
// reading the facet list expects to see.
func wantFacets(recs map[string]*archive.Record, match func(*archive.Record) bool, seeConfidential bool) map[string]map[string]int {
	out := map[string]map[string]int{"register": {}, "year": {}, "committee": {}}
	for _, r := range recs {
		if !match(r) || (!seeConfidential && r.Confidentiality != archive.Normal) {
			continue
		}
		out["register"][string(r.Register)]++
		out["year"][strconv.Itoa(r.Year)]++
		if r.Committee != "" {
			out["committee"][r.Committee]++
		}
	}
	return out
}

// TestFacetsFollowWrites checks that facet counts stay exact as records are
// added one by one (many small segments), updated (the old version deleted
// in an older segment), after a rebuild (one large segment) and after a
// write following the rebuild.
func TestFacetsFollowWrites(t *testing.T) {
	ctx := context.Background()
	ix := openTestIndex(t)
	committees := []string{"المكتب السياسي", "لجنة المالية", "", "المجلس الوطني"}
	regs := []archive.Register{archive.Decisions, archive.Incoming, archive.Minutes}
	recs := map[string]*archive.Record{}
	for i := range 30 {
		subject := "قرار حول الميزانية"
		if i%3 == 0 {
			subject = "رسالة بشأن الانتخابات"
		}
		r := rec(regs[i%len(regs)], 2020+i%4, i+1, fmt.Sprintf("%d-01-01", 2020+i%4), subject, "")
		r.Committee = committees[i%len(committees)]
		if i%7 == 0 {
			r.Confidentiality = archive.Confidential
		}
		recs[r.ID] = r
		put(t, ix, r)
	}
	budget := func(r *archive.Record) bool { return r.Subject == "قرار حول الميزانية" }
	all := func(*archive.Record) bool { return true }
	check := func(stage string) {
		t.Helper()
		for _, tc := range []struct {
			text  string
			match func(*archive.Record) bool
		}{{"الميزانية", budget}, {"", all}} {
			for _, see := range []bool{false, true} {
				res, err := ix.Search(ctx, Query{Text: tc.text, SeeConfidential: see})
				if err != nil {
					t.Fatalf("%s: %v", stage, err)
				}
				want := wantFacets(recs, tc.match, see)
				if !reflect.DeepEqual(res.Facets, want) {
					t.Errorf("%s: %q (confidential %v): facets %v, want %v", stage, tc.text, see, res.Facets, want)
				}
				total := 0
				for _, n := range want["register"] {
					total += n
				}
				if res.Total != uint64(total) || len(res.Hits) != min(total, defaultSize) {
					t.Errorf("%s: %q (confidential %v): total %d and %d hits, want %d", stage, tc.text, see, res.Total, len(res.Hits), total)
				}
				for _, h := range res.Hits {
					if !see && recs[h.ID].Confidentiality != archive.Normal {
						t.Errorf("%s: %q: hit %s is confidential", stage, tc.text, h.ID)
					}
				}
			}
		}
	}
	check("added one by one")

	// Updates: a record changes committee and subject, another becomes
	// confidential, a third stops being so.
	for i, id := range []string{archive.RecordID(regs[1], 2021, 2), archive.RecordID(regs[2], 2022, 3), archive.RecordID(regs[0], 2020, 1)} {
		r := *recs[id]
		switch i {
		case 0:
			r.Committee = "لجنة التنظيم"
			r.Subject = "قرار آخر حول الميزانية"
		case 1:
			r.Confidentiality = archive.Confidential
		case 2:
			r.Confidentiality = archive.Normal // was confidential
		}
		recs[id] = &r
		put(t, ix, &r)
	}
	budget = func(r *archive.Record) bool { return r.Subject != "رسالة بشأن الانتخابات" }
	check("after updates")

	src := &sliceSource{}
	for _, r := range recs {
		src.recs = append(src.recs, r)
	}
	if err := ix.Rebuild(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	check("after a rebuild")

	r := rec(archive.Outgoing, 2025, 1, "2025-01-01", "رسالة حول الميزانية", "")
	r.Committee = "لجنة المالية"
	recs[r.ID] = r
	put(t, ix, r)
	check("after a write following the rebuild")
}

// TestFacetSizes checks that a facet with more values than it lists keeps
// the most frequent ones.
func TestFacetSizes(t *testing.T) {
	counts := map[string]int{}
	for i := range 40 {
		counts["decisions"+facetSep+"2024"+facetSep+"لجنة "+strconv.Itoa(i)+facetSep+"0"] = i + 1
	}
	out := map[string]map[string]int{"register": {}, "year": {}, "committee": {}}
	addFacets(out, counts)
	if len(out["committee"]) != facetSizes["committee"] {
		t.Fatalf("committee facet lists %d values, want %d", len(out["committee"]), facetSizes["committee"])
	}
	for i := range 10 {
		if _, ok := out["committee"]["لجنة "+strconv.Itoa(i)]; ok {
			t.Errorf("committee facet lists a rare value لجنة %d over frequent ones", i)
		}
	}
	if out["register"]["decisions"] != 40*41/2 || out["year"]["2024"] != 40*41/2 {
		t.Errorf("register/year counts %v %v, want %d", out["register"], out["year"], 40*41/2)
	}
}
