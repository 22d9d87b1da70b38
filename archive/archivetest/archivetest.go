// Package archivetest fills archives for tests and compares buckets object by
// object: what the tests of backups and restores, in archive and in the
// command, share.
package archivetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sijill/sijill/archive"
)

func str(s string) *string { return &s }

// Contents maps every key of b that a backup holds (not the change feed,
// heartbeats, leases, sessions or the backup's own state) to the SHA-256 of
// its bytes.
func Contents(t testing.TB, b archive.Bucket) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	err := b.List(ctx, "", func(o archive.ObjectInfo) error {
		for _, p := range []string{"changes/", "instances/", "leases/", "tokens/", "sijill-backup/"} {
			if strings.HasPrefix(o.Key, p) {
				return nil
			}
		}
		rc, _, err := b.Get(ctx, o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			return err
		}
		out[o.Key] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Differing lists the keys whose content differs between two Contents, or
// that only one has.
func Differing(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Busy fills s with what a secretariat's archive holds: three entries with a
// scan in every register, then more incoming letters with a scan each (at
// most eight written at once), an edit, an annulment, a confidential
// decision, a follow-up with its responsible, an account and its login. It
// returns the records in the order made.
func Busy(t testing.TB, s *archive.Store, more int) []*archive.Record {
	t.Helper()
	ctx := context.Background()
	register := func(reg archive.Register, i int, f archive.Fields) *archive.Record {
		scan, err := s.PutBlob(ctx, strings.NewReader(fmt.Sprintf("%%PDF-1.4 scan %s %d", reg, i)), fmt.Sprintf("رسالة-%d.pdf", i), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		rec, _, err := s.Create(ctx, "clerk", reg, f, []archive.Attachment{scan}, "")
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	var recs []*archive.Record
	for _, reg := range []archive.Register{archive.Incoming, archive.Outgoing, archive.Decisions, archive.Minutes} {
		for j := range 3 {
			f := archive.Fields{Subject: str(fmt.Sprintf("موضوع %d من سجل %s", j+1, reg))}
			if reg == archive.Decisions && j == 0 {
				f.Confidentiality = str(archive.Confidential)
			}
			recs = append(recs, register(reg, j, f))
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range more {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rec := register(archive.Incoming, 100+i, archive.Fields{Subject: str(fmt.Sprintf("رسالة واردة من الأرشيف رقم %d", i))})
			mu.Lock()
			recs = append(recs, rec)
			mu.Unlock()
		})
	}
	wg.Wait()
	_, etag, err := s.Get(ctx, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Update(ctx, "clerk", recs[0].ID, etag, archive.Fields{Subject: str("موضوع مصحح")}); err != nil {
		t.Fatal(err)
	}
	_, etag, _ = s.Get(ctx, recs[1].ID)
	if _, _, err := s.Annul(ctx, "clerk", recs[1].ID, etag, "سُجّلت مرتين"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SetFollowUp(ctx, "clerk", recs[6].ID, "", archive.FollowChange{Responsible: str("أمين المال"), Status: str("in_progress")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "admin", "amina", "a long enough passphrase 2026", "secretary"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.IssueToken(ctx, "amina", 0); err != nil {
		t.Fatal(err)
	}
	return recs
}
