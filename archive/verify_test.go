package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
)

// pdfBytes is a minimal file PutBlob accepts as a PDF.
func pdfBytes(tag string) []byte {
	return []byte("%PDF-1.4\n% " + tag + "\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
}

// fixture builds an archive of three incoming letters (the first with a file,
// the second edited once) and returns the store, its folder and the records.
func fixture(t *testing.T) (*archive.Store, string, []*archive.Record) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s := newStore(t, dir, archive.Options{})
	att, err := s.PutBlob(ctx, bytes.NewReader(pdfBytes("one")), "كتاب.pdf", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r1, _, err := s.Create(ctx, "sec", archive.Incoming, archive.Fields{Subject: str("دعوة إلى اجتماع")}, []archive.Attachment{att}, "")
	if err != nil {
		t.Fatal(err)
	}
	r2 := create(t, s, archive.Incoming, "طلب انتساب")
	_, etag, err := s.Get(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r2, _, err = s.Update(ctx, "sec", r2.ID, etag, archive.Fields{Body: str("نص مصحح")}); err != nil {
		t.Fatal(err)
	}
	r3 := create(t, s, archive.Incoming, "تقرير مالي")
	return s, dir, []*archive.Record{r1, r2, r3}
}

func objPath(dir, key string) string { return filepath.Join(dir, filepath.FromSlash(key)) }

func recPath(dir string, r *archive.Record) string {
	return objPath(dir, fmt.Sprintf("records/%s/%d/%06d.json", r.Register, r.Year, r.Number))
}

// editRecord rewrites a stored record object behind the store's back.
func editRecord(t *testing.T, dir string, r *archive.Record, edit func(*archive.Record)) {
	t.Helper()
	p := recPath(dir, r)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var rec archive.Record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	edit(&rec)
	out, _ := json.MarshalIndent(&rec, "", " ")
	if err := os.WriteFile(p, append(out, '\n'), 0o640); err != nil {
		t.Fatal(err)
	}
	backdate(t, p)
}

// backdate makes a tampered object look written an hour ago, as tampering
// found by a nightly check is: Verify gives versions written in the last
// seconds a grace period for their audit event (see TestVerifyWhileWriting).
func backdate(t *testing.T, path string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	type want struct{ kind, record string }
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string, recs []*archive.Record)
		want   []want
	}{
		{"untouched archive passes", func(*testing.T, string, []*archive.Record) {}, nil},
		{"one byte of a file changed", func(t *testing.T, dir string, recs []*archive.Record) {
			p := objPath(dir, "blobs/sha256/"+recs[0].Attachments[0].SHA256[:2]+"/"+recs[0].Attachments[0].SHA256)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			os.WriteFile(p, b, 0o640)
		}, []want{{archive.ProblemBlobAltered, recs0}}},
		{"a file removed", func(t *testing.T, dir string, recs []*archive.Record) {
			sum := recs[0].Attachments[0].SHA256
			if err := os.Remove(objPath(dir, "blobs/sha256/"+sum[:2]+"/"+sum)); err != nil {
				t.Fatal(err)
			}
		}, []want{{archive.ProblemBlobMissing, recs0}}},
		{"a live field edited behind the server's back", func(t *testing.T, dir string, recs []*archive.Record) {
			editRecord(t, dir, recs[2], func(r *archive.Record) { r.Body = "نص مدسوس" })
		}, []want{{archive.ProblemUnaudited, recs2}}},
		{"a live field edited a moment ago", func(t *testing.T, dir string, recs []*archive.Record) {
			editRecord(t, dir, recs[2], func(r *archive.Record) { r.Body = "نص مدسوس" })
			now := time.Now()
			os.Chtimes(recPath(dir, recs[2]), now, now)
		}, []want{{archive.ProblemUnaudited, recs2}}},
		{"the registered subject edited", func(t *testing.T, dir string, recs []*archive.Record) {
			editRecord(t, dir, recs[0], func(r *archive.Record) { r.Registered.Subject = "موضوع آخر" })
		}, []want{{archive.ProblemEntryAltered, recs0}, {archive.ProblemUnaudited, recs0}}},
		{"the registered subject edited and re-hashed", func(t *testing.T, dir string, recs []*archive.Record) {
			editRecord(t, dir, recs[1], func(r *archive.Record) {
				r.Registered.Subject = "موضوع آخر"
				r.Chain.Hash = r.Entry().Hash()
			})
		}, []want{{archive.ProblemChainBroken, recs2}, {archive.ProblemHistoryAltered, recs1}, {archive.ProblemUnaudited, recs1}}},
		{"a middle entry removed", func(t *testing.T, dir string, recs []*archive.Record) {
			os.Remove(recPath(dir, recs[1]))
		}, []want{{archive.ProblemEntryMissing, recs1}}},
		{"the last entry removed", func(t *testing.T, dir string, recs []*archive.Record) {
			os.Remove(recPath(dir, recs[2]))
		}, []want{{archive.ProblemEntryMissing, recs2}}},
		{"two entries swapped", func(t *testing.T, dir string, recs []*archive.Record) {
			a, b := recPath(dir, recs[0]), recPath(dir, recs[2])
			os.Rename(a, a+"x")
			os.Rename(b, a)
			os.Rename(a+"x", b)
			backdate(t, a)
			backdate(t, b)
		}, []want{{archive.ProblemMisplaced, recs0}, {archive.ProblemMisplaced, recs2}, {archive.ProblemChainBroken, recs1},
			{archive.ProblemUnaudited, recs0}, {archive.ProblemUnaudited, recs2}}},
		{"an earlier version removed", func(t *testing.T, dir string, recs []*archive.Record) {
			os.Remove(objPath(dir, fmt.Sprintf("history/incoming/%d/000002/000001.json", recs[1].Year)))
		}, []want{{archive.ProblemHistoryAltered, recs1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir, recs := fixture(t)
			tt.tamper(t, dir, recs)
			var calls, lastDone, lastTotal int
			rep, err := s.Verify(context.Background(), "tester", func(done, total int) { calls, lastDone, lastTotal = calls+1, done, total })
			if err != nil {
				t.Fatal(err)
			}
			if calls == 0 || lastDone != lastTotal {
				t.Errorf("progress: %d calls, ended at %d of %d", calls, lastDone, lastTotal)
			}
			ids := map[string]string{recs0: recs[0].ID, recs1: recs[1].ID, recs2: recs[2].ID}
			got := map[want]bool{}
			for _, p := range rep.Problems {
				got[want{p.Kind, p.Record}] = true
			}
			for _, w := range tt.want {
				if !got[want{w.kind, ids[w.record]}] {
					t.Errorf("no %s problem for %s; got %v", w.kind, ids[w.record], rep.Problems)
				}
			}
			if len(tt.want) == 0 && !rep.OK() {
				t.Errorf("problems in an untouched archive: %v", rep.Problems)
			}
			if len(tt.want) > 0 && rep.OK() {
				t.Error("tampering not detected")
			}
			if len(tt.want) == 0 {
				d := archive.NewBookDigest()
				for r, err := range s.Records(context.Background(), archive.Incoming, recs[0].Year) {
					if err != nil {
						t.Fatal(err)
					}
					d.Add(r)
				}
				if len(rep.Books) != 1 || rep.Books[0].Digest != d.Sum() || rep.Books[0].Entries != 3 || rep.Books[0].Head != recs[2].Chain.Hash {
					t.Errorf("books = %+v, want one of 3 entries with digest %s", rep.Books, d.Sum())
				}
				if rep.Records != 3 || rep.Versions != 1 || rep.Blobs != 1 {
					t.Errorf("counted %d records, %d versions, %d blobs; want 3, 1, 1", rep.Records, rep.Versions, rep.Blobs)
				}
			}
			evs, err := s.AuditEvents(context.Background(), archive.AuditFilter{Action: archive.ActionVerify})
			if err != nil || len(evs) != 1 || evs[0].Actor != "tester" {
				t.Errorf("verify audit events = %v, %v; want one by tester", evs, err)
			}
		})
	}
}

// Placeholders for the fixture's records in the table, resolved per run.
const (
	recs0 = "#0"
	recs1 = "#1"
	recs2 = "#2"
)

// TestVerifyAnnulledAndAttached checks that the server's own writes of every
// kind (attach after registration, annul) leave a passing archive.
func TestVerifyAnnulledAndAttached(t *testing.T) {
	ctx := context.Background()
	s, _, recs := fixture(t)
	att, err := s.PutBlob(ctx, bytes.NewReader(pdfBytes("two")), "ملحق.pdf", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Attach(ctx, "sec", recs[2].ID, []archive.Attachment{att}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Annul(ctx, "sec", recs[0].ID, "", "قيد مكرر"); err != nil {
		t.Fatal(err)
	}
	create(t, s, archive.Decisions, "قرار")
	rep, err := s.Verify(ctx, "tester", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Books) != 2 || rep.Blobs != 2 || rep.Records != 4 {
		t.Errorf("report = %+v", rep)
	}
}

// BenchmarkVerify checks an archive of 1,000 entries (one in ten with a file,
// one in five edited once) on a local folder: the cost of the nightly check.
//
//	go test ./archive -run '^$' -bench BenchmarkVerify -benchtime 3x
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	bucket, err := folder.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	s := archive.NewStore(bucket, archive.Options{TempDir: b.TempDir()})
	for i := 0; i < 1000; i++ {
		var files []archive.Attachment
		if i%10 == 0 {
			att, err := s.PutBlob(ctx, bytes.NewReader(pdfBytes(fmt.Sprint(i))), "scan.pdf", 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, att)
		}
		rec, _, err := s.Create(ctx, "sec", archive.Registers()[i%4], archive.Fields{Subject: str(fmt.Sprintf("قيد رقم %d", i))}, files, "")
		if err != nil {
			b.Fatal(err)
		}
		if i%5 == 0 {
			if _, _, err := s.Update(ctx, "sec", rec.ID, "", archive.Fields{Body: str("تصحيح")}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		rep, err := s.Verify(ctx, "bench", nil)
		if err != nil || !rep.OK() || rep.Records != 1000 {
			b.Fatalf("verify: %v %+v", err, rep)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/verify")
}

// TestVerifyWhileWriting runs the check, as the server's schedule does, while
// records are registered, edited and given files: writes in flight are not
// problems, whatever moment the check reads them at.
func TestVerifyWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, _, _ := fixture(t)
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(done)
		for i := 0; i < 40; i++ {
			rec, _, err := s.Create(ctx, "sec", archive.Registers()[i%2], archive.Fields{Subject: str(fmt.Sprintf("قيد %d", i))}, nil, "")
			if err == nil {
				_, _, err = s.Update(ctx, "sec", rec.ID, "", archive.Fields{Body: str("تصحيح")})
			}
			if err == nil && i%5 == 0 {
				var att archive.Attachment
				if att, err = s.PutBlob(ctx, bytes.NewReader(pdfBytes(fmt.Sprint("w", i))), "f.pdf", 1<<20); err == nil {
					_, err = s.Attach(ctx, "sec", rec.ID, []archive.Attachment{att})
				}
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	runs := 0
	for {
		select {
		case <-done:
		default:
			rep, err := s.Verify(ctx, "tester", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("run %d while writing: %v", runs, rep.Problems)
			}
			runs++
			continue
		}
		break
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if runs < 2 {
		t.Errorf("only %d checks ran during the writes", runs)
	}
}

// TestVerifyCorrectedTexts: a corrected text is checked like a file — a
// clean correction passes, one changed or removed behind the server's back
// is reported against the record that names it.
func TestVerifyCorrectedTexts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(path string)
		want   string
	}{
		{"kept as written", func(string) {}, ""},
		{"one word changed", func(p string) { os.WriteFile(p, []byte("نص آخر مدسوس"), 0o640) }, archive.ProblemBlobAltered},
		{"removed", func(p string) { os.Remove(p) }, archive.ProblemBlobMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, dir, recs := fixture(t)
			rec, err := s.CorrectText(ctx, "sec", recs[0].ID, recs[0].Attachments[0].SHA256, "دعوة إلى اجتماع المكتب")
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(objPath(dir, "text/corrected/"+rec.Attachments[0].Corrected.SHA256+".txt"))
			rep, err := s.Verify(ctx, "tester", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !rep.OK() {
					t.Errorf("problems after a correction: %v", rep.Problems)
				}
				return
			}
			found := false
			for _, p := range rep.Problems {
				found = found || p.Kind == tc.want && p.Record == recs[0].ID
			}
			if !found {
				t.Errorf("no %s problem for %s; got %v", tc.want, recs[0].ID, rep.Problems)
			}
		})
	}
}
