package archive_test

import (
	"context"
	"testing"
	"time"
	_ "time/tzdata" // the tests name zones; the host may have no zoneinfo

	"github.com/sijill/sijill/archive"
)

func TestFollowUpLifeCycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, t.TempDir(), archive.Options{})
	dec := create(t, s, archive.Decisions, "تكليف أمين الصندوق بإعداد الميزانية")
	letter := create(t, s, archive.Incoming, "خطاب")

	if _, _, err := s.FollowUp(ctx, letter.ID); archive.ErrorCode(err) != archive.EINVALID {
		t.Fatalf("follow-up of a letter: %v, want invalid", err)
	}
	if _, _, err := s.FollowUp(ctx, "decisions-2020-99"); archive.ErrorCode(err) != archive.ENOTFOUND {
		t.Fatalf("follow-up of a missing decision: %v, want not found", err)
	}
	fu, etag, err := s.FollowUp(ctx, dec.ID)
	if err != nil || etag != "" || fu.Status != archive.FollowPending {
		t.Fatalf("fresh follow-up = %+v %q %v, want pending with no etag", fu, etag, err)
	}

	fu, etag, err = s.SetFollowUp(ctx, "sec", dec.ID, "", archive.FollowChange{
		Responsible: str("أمين الصندوق"), Due: str("2026-03-01"), Status: str(archive.FollowInProgress)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddFollowNote(ctx, "sec", dec.ID, "أُعدّت المسودة الأولى"); err != nil {
		t.Fatal(err)
	}
	// A stale ETag is refused; the note written in between is not lost.
	if _, _, err := s.SetFollowUp(ctx, "sec", dec.ID, etag, archive.FollowChange{Status: str(archive.FollowDone)}); archive.ErrorCode(err) != archive.EPRECONDITION {
		t.Fatalf("stale etag: %v, want precondition", err)
	}
	_, etag, _ = s.FollowUp(ctx, dec.ID)
	fu, _, err = s.SetFollowUp(ctx, "sec2", dec.ID, etag, archive.FollowChange{Status: str(archive.FollowDone), Note: "اعتُمدت الميزانية"})
	if err != nil {
		t.Fatal(err)
	}
	if fu.Status != archive.FollowDone || fu.Responsible != "أمين الصندوق" || fu.LatestNote() != "اعتُمدت الميزانية" || len(fu.Notes) != 2 {
		t.Fatalf("after done: %+v", fu)
	}
	var moves []string
	for _, h := range fu.History {
		moves = append(moves, h.From+">"+h.To)
	}
	if got, want := len(moves), 2; got != want || moves[0] != "pending>in_progress" || moves[1] != "in_progress>done" || fu.History[1].Actor != "sec2" {
		t.Fatalf("history = %v (%+v), want pending>in_progress, in_progress>done by sec2", moves, fu.History)
	}
	for _, bad := range []archive.FollowChange{{Status: str("finished")}, {Due: str("1/3/2026")}} {
		if _, _, err := s.SetFollowUp(ctx, "sec", dec.ID, "", bad); archive.ErrorCode(err) != archive.EINVALID {
			t.Errorf("change %+v: %v, want invalid", bad, err)
		}
	}
	// The record itself is untouched: still version 1, same chain.
	got, _, err := s.Get(ctx, dec.ID)
	if err != nil || got.Version != 1 || got.Chain != dec.Chain {
		t.Fatalf("decision after follow-up: version %d chain %v (%v), want untouched", got.Version, got.Chain, err)
	}
	evs, err := s.AuditEvents(ctx, archive.AuditFilter{Action: archive.ActionFollowUp, Target: dec.ID})
	if err != nil || len(evs) != 3 {
		t.Fatalf("audit events = %d (%v), want 3 (one per change)", len(evs), err)
	}
	done, err := s.FollowUps(ctx, archive.FollowFilter{Status: archive.FollowDone, Responsible: " أمين الصندوق "})
	if err != nil || len(done) != 1 || done[0].DecisionID != dec.ID {
		t.Fatalf("filter done by responsible = %v %v", done, err)
	}
}

func TestOverdueInTheOrganisationsZone(t *testing.T) {
	riyadh, err := time.LoadLocation("Asia/Riyadh")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// 22:30 UTC on 21 Nov is already 01:30 on 22 Nov in Riyadh, 17:30 on 21 Nov in New York.
	now := time.Date(2026, 11, 21, 22, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		due    string
		status string
		loc    *time.Location
		want   bool
	}{
		{"due today in Riyadh", "2026-11-22", archive.FollowPending, riyadh, false},
		{"due today in UTC is yesterday in Riyadh", "2026-11-21", archive.FollowPending, riyadh, true},
		{"same date, UTC organisation: due today", "2026-11-21", archive.FollowPending, time.UTC, false},
		{"same date, New York: due today", "2026-11-21", archive.FollowInProgress, ny, false},
		{"yesterday in New York", "2026-11-20", archive.FollowInProgress, ny, true},
		{"done is never overdue", "2026-01-01", archive.FollowDone, riyadh, false},
		{"cancelled is never overdue", "2026-01-01", archive.FollowCancelled, riyadh, false},
		{"no due date", "", archive.FollowPending, riyadh, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := archive.FollowUp{Due: tc.due, Status: tc.status}
			if got := f.Overdue(now, tc.loc); got != tc.want {
				t.Errorf("Overdue(due %s, %s, %s) = %v, want %v", tc.due, tc.status, tc.loc, got, tc.want)
			}
		})
	}

	// Through the store: its clock and zone decide the overdue filter.
	ctx := context.Background()
	s := newStore(t, t.TempDir(), archive.Options{Location: riyadh, Now: func() time.Time { return now }})
	a := create(t, s, archive.Decisions, "قرار أ")
	b := create(t, s, archive.Decisions, "قرار ب")
	if _, _, err := s.SetFollowUp(ctx, "sec", a.ID, "", archive.FollowChange{Due: str("2026-11-21")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SetFollowUp(ctx, "sec", b.ID, "", archive.FollowChange{Due: str("2026-11-22")}); err != nil {
		t.Fatal(err)
	}
	over, err := s.FollowUps(ctx, archive.FollowFilter{Overdue: true})
	if err != nil || len(over) != 1 || over[0].DecisionID != a.ID {
		t.Fatalf("overdue = %v %v, want only %s", over, err, a.ID)
	}
}

func TestCreateAtKeepsHistoricalNumbers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, t.TempDir(), archive.Options{})
	mk := func(n int, subj, key string) (*archive.Record, archive.ImportResult, error) {
		return s.CreateAt(ctx, "importer", archive.Incoming, 2019, n, archive.Fields{Subject: str(subj)}, nil, key)
	}
	r1, res, err := mk(1, "أول", "k1")
	if err != nil || res != archive.Imported || r1.Chain.Prev != "" {
		t.Fatalf("import 1: %v %v %+v", res, err, r1)
	}
	r2, _, err := mk(2, "ثان", "k2")
	if err != nil || r2.Chain.Prev != r1.Chain.Hash {
		t.Fatalf("import 2 chains to 1: prev %q want %q (%v)", r2.Chain.Prev, r1.Chain.Hash, err)
	}
	r5, _, err := mk(5, "خامس", "k5")
	if err != nil || r5.Chain.Prev != "" || r5.ID != "incoming-2019-5" {
		t.Fatalf("import 5 after a gap: prev %q (%v), want empty", r5.Chain.Prev, err)
	}
	if _, res, err := mk(2, "ثان", "k2"); err != nil || res != archive.AlreadyImported {
		t.Fatalf("re-run of the same row: %v %v, want already imported", res, err)
	}
	if _, _, err := mk(2, "آخر", "other"); archive.ErrorCode(err) != archive.ECONFLICT {
		t.Fatalf("other content at a taken number: %v, want conflict", err)
	}
	got, _, _ := s.Get(ctx, "incoming-2019-2")
	if got.Subject != "ثان" {
		t.Fatalf("clash overwrote the entry: %q", got.Subject)
	}
	// New registrations in that year continue after the highest imported number.
	s2 := archive.NewStore(s.Bucket(), archive.Options{Now: func() time.Time { return time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC) }, TempDir: t.TempDir()})
	n, _, err := s2.Create(ctx, "sec", archive.Incoming, archive.Fields{Subject: str("جديد")}, nil, "")
	if err != nil || n.Number != 6 || n.Chain.Prev != r5.Chain.Hash {
		t.Fatalf("create after import = %v (prev %q) %v, want number 6 linked to 5", n.ID, n.Chain.Prev, err)
	}
}
