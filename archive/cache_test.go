package archive_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
)

// countingBucket counts the objects read through it.
type countingBucket struct {
	archive.Bucket
	gets atomic.Int64
}

func (b *countingBucket) Get(ctx context.Context, key string) (io.ReadCloser, archive.ObjectInfo, error) {
	b.gets.Add(1)
	return b.Bucket.Get(ctx, key)
}

// TestListsReadOnlyWhatChanged: the follow-up lists read each follow-up and
// its decision once, then only what another process changed meanwhile, and
// never show a stale one.
func TestListsReadOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fb, err := folder.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingBucket{Bucket: fb}
	lists := archive.NewStore(counted, archive.Options{TempDir: t.TempDir()})
	other := newStore(t, dir, archive.Options{}) // another process on the same storage
	var ids []string
	for _, subject := range []string{"قرار أول", "قرار ثان", "قرار ثالث"} {
		dec := create(t, other, archive.Decisions, subject)
		ids = append(ids, dec.ID)
		if _, _, err := other.SetFollowUp(ctx, "sec", dec.ID, "", archive.FollowChange{Responsible: str("أمين المال"), Status: str(archive.FollowPending)}); err != nil {
			t.Fatal(err)
		}
	}
	read := func() (map[string]*archive.Record, []*archive.FollowUp, int64) {
		t.Helper()
		before := counted.gets.Load()
		fus, err := lists.FollowUps(ctx, archive.FollowFilter{})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := lists.GetMany(ctx, append(ids, "decisions-1999-7"))
		if err != nil {
			t.Fatal(err)
		}
		return recs, fus, counted.gets.Load() - before
	}
	recs, fus, n := read()
	if len(recs) != 3 || len(fus) != 3 || n != 6 {
		t.Fatalf("first lists: %d records, %d follow-ups, %d reads; want 3, 3, 6", len(recs), len(fus), n)
	}
	if _, _, n := read(); n != 0 {
		t.Errorf("nothing changed, yet the lists read %d objects again", n)
	}
	rec, etag, err := other.Get(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Annul(ctx, "sec", rec.ID, etag, "قرار مكرر"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.SetFollowUp(ctx, "sec", ids[2], "", archive.FollowChange{Status: str(archive.FollowDone)}); err != nil {
		t.Fatal(err)
	}
	recs, fus, n = read()
	if n != 2 {
		t.Errorf("after one decision and one follow-up changed, the lists read %d objects, want 2", n)
	}
	if recs[ids[1]].Status != archive.StatusAnnulled || recs[ids[0]].Status != archive.StatusActive {
		t.Errorf("statuses after the annulment: %s, %s", recs[ids[0]].Status, recs[ids[1]].Status)
	}
	for _, fu := range fus {
		if want := map[bool]string{true: archive.FollowDone, false: archive.FollowPending}[fu.DecisionID == ids[2]]; fu.Status != want {
			t.Errorf("%s follow-up status %s, want %s", fu.DecisionID, fu.Status, want)
		}
	}
}

// TestRecordsInOrderWhileReadingAhead: records come in number order although
// several are read at once, a caller may stop early, and a caller whose
// context ends is told so rather than handed a short register as if whole.
func TestRecordsInOrderWhileReadingAhead(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	const n = 70
	for i := 0; i < n; i++ {
		create(t, s, archive.Outgoing, "رسالة")
	}
	year := s.Now().Year()
	got := numbers(t, s, archive.Outgoing, year)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("records out of order: %v", got)
		}
	}
	if len(got) != n {
		t.Fatalf("%d records, want %d", len(got), n)
	}
	seen := 0
	for range s.Records(context.Background(), archive.Outgoing, year) {
		if seen++; seen == 3 {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var read int
	var last error
	for rec, err := range s.Records(ctx, archive.Outgoing, year) {
		if err != nil {
			last = err
			continue
		}
		if read++; read == 5 {
			cancel()
		}
		_ = rec
	}
	if read == n || last == nil {
		t.Errorf("after cancelling at 5 of %d: %d read, last error %v; want fewer and an error", n, read, last)
	}
}
