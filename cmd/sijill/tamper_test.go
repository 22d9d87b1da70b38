package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// archiveFixture starts a server on a local folder and registers, over the
// API, a letter with a scanned file, a letter corrected once, and a third.
// It returns the server and the three records.
func archiveFixture(t *testing.T) (*Main, []record) {
	t.Helper()
	m := startMain(t, nil)
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	var recs []record
	for _, subject := range []string{"دعوة إلى اجتماع المكتب السياسي", "طلب انتساب", "تقرير مالي"} {
		var rec record
		if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]string{"subject": subject}, nil, &rec); st != 201 {
			t.Fatalf("create %q: %d", subject, st)
		}
		recs = append(recs, rec)
	}
	if resp, data := admin.upload("/api/v1/records/"+recs[0].ID+"/attachments", map[string][]byte{"دعوة.pdf": pdf}); resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, data)
	}
	var rec record
	admin.call("GET", "/api/v1/records/"+recs[0].ID, nil, nil, &rec)
	recs[0] = rec
	resp, _ := admin.raw("GET", "/api/v1/records/"+recs[1].ID, nil, "", nil)
	if st := admin.call("PATCH", "/api/v1/records/"+recs[1].ID, map[string]string{"body": "نص مصحح"},
		map[string]string{"If-Match": resp.Header.Get("ETag")}, nil); st != 200 {
		t.Fatalf("PATCH: %d", st)
	}
	return m, recs
}

// bucketPath is where a key of the server's local folder bucket lives.
func bucketPath(m *Main, key string) string {
	return filepath.Join(m.Config.Data, "bucket", filepath.FromSlash(key))
}

func recordKey(rec record) string {
	reg := rec.ID[:strings.IndexByte(rec.ID, '-')]
	return fmt.Sprintf("records/%s/%d/%06d.json", reg, rec.Year, rec.Number)
}

// runSijillVerify runs the real program against the data directory and
// returns its standard output and exit status.
func runSijillVerify(t *testing.T, dataDir string, extra ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(sijillBin, append([]string{"verify", "--quiet", "--data", dataDir}, extra...)...)
	cmd.Env = append(os.Environ(), "SIJILL_S3_ENDPOINT=")
	var out, logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &logs
	err := cmd.Run()
	t.Logf("sijill verify logged:\n%s", logs.String())
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("sijill verify: %v", err)
	}
	return out.String(), 0
}

// TestVerifyNamesTampering changes the archive behind the server's back in the
// ways an intruder or a failing disk would, and checks that `sijill verify`
// exits 1 naming the object and the record.
func TestVerifyNamesTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, m *Main, recs []record) (record string, key string)
		kinds  []string
	}{
		{"one byte of a file changed", func(t *testing.T, m *Main, recs []record) (string, string) {
			sum := recs[0].Attachments[0].SHA256
			key := "blobs/sha256/" + sum[:2] + "/" + sum
			b, err := os.ReadFile(bucketPath(m, key))
			if err != nil {
				t.Fatal(err)
			}
			b[10] ^= 0x20
			if err := os.WriteFile(bucketPath(m, key), b, 0o640); err != nil {
				t.Fatal(err)
			}
			return recs[0].ID, key
		}, []string{"blob_altered"}},
		{"a record object edited", func(t *testing.T, m *Main, recs []record) (string, string) {
			key := recordKey(recs[2])
			p := bucketPath(m, key)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.Replace(b, []byte("تقرير مالي"), []byte("تقرير مزور"), -1)
			if err := os.WriteFile(p, b, 0o640); err != nil {
				t.Fatal(err)
			}
			// Found by a later check, as tampering is: a version written in
			// the last seconds gets a grace period for its audit event.
			old := time.Now().Add(-time.Hour)
			os.Chtimes(p, old, old)
			return recs[2].ID, key
		}, []string{"entry_altered", "version_unaudited"}},
		{"a record object removed", func(t *testing.T, m *Main, recs []record) (string, string) {
			key := recordKey(recs[1])
			if err := os.Remove(bucketPath(m, key)); err != nil {
				t.Fatal(err)
			}
			return recs[1].ID, key
		}, []string{"entry_missing"}},
		{"the last record object removed", func(t *testing.T, m *Main, recs []record) (string, string) {
			key := recordKey(recs[2])
			if err := os.Remove(bucketPath(m, key)); err != nil {
				t.Fatal(err)
			}
			return recs[2].ID, key
		}, []string{"entry_missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, recs := archiveFixture(t)
			out, code := runSijillVerify(t, m.Config.Data)
			if code != 0 || !strings.Contains(out, "OK:") {
				t.Fatalf("untouched archive: exit %d\n%s", code, out)
			}
			id, key := tt.tamper(t, m, recs)
			out, code = runSijillVerify(t, m.Config.Data)
			if code != 1 {
				t.Errorf("exit status %d after tampering, want 1\n%s", code, out)
			}
			for _, kind := range tt.kinds {
				found := false
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, kind+" ") && strings.Contains(line, id) && strings.Contains(line, key) {
						found = true
					}
				}
				if !found {
					t.Errorf("no line naming %s for %s (%s) in\n%s", kind, id, key, out)
				}
			}
		})
	}
}

// TestVerifyReportIsJSONAndDigestMatchesBook checks --json and that the book
// digest verify prints is the one the printed register book carries.
func TestVerifyJSONReport(t *testing.T) {
	m, recs := archiveFixture(t)
	out, code := runSijillVerify(t, m.Config.Data, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep struct {
		Records, Versions, Blobs int
		Books                    []struct {
			Register string
			Year     int
			Entries  int
			Head     string
		}
		Problems []any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Records != 3 || rep.Versions != 2 || rep.Blobs != 1 || len(rep.Books) != 1 ||
		rep.Books[0].Entries != 3 || rep.Books[0].Year != recs[0].Year || len(rep.Problems) != 0 {
		t.Errorf("report = %+v", rep)
	}
}

// TestScheduledVerifyShowsOnHealthz runs the server's own schedule and an
// auditor's on-demand check, and reads the result where monitoring would.
func TestScheduledVerifyShowsOnHealthz(t *testing.T) {
	m := startMain(t, map[string]string{"SIJILL_VERIFY_EVERY": "1h", "SIJILL_VERIFY_FIRST": "50ms"})
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	type health struct {
		Verify struct {
			State    string
			OK       bool
			Problems int
			Time     time.Time
		}
	}
	var h health
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if st := admin.call("GET", "/healthz", nil, nil, &h); st != 200 {
			t.Fatalf("/healthz: %d", st)
		}
		if h.Verify.State == "ok" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h.Verify.State != "ok" || !h.Verify.OK || h.Verify.Time.IsZero() {
		t.Fatalf("after the first scheduled run /healthz shows %+v", h.Verify)
	}

	// A stranger is told the process is alive, and nothing of the archive.
	anon := &client{t: t, base: m.Server.URL()}
	var bare map[string]any
	if st := anon.call("GET", "/healthz", nil, nil, &bare); st != 200 || len(bare) != 1 || bare["status"] != "ok" {
		t.Errorf("/healthz without login: %d %v, want only the status", st, bare)
	}
	var rec record
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]string{"subject": "قرار"}, nil, &rec)
	if err := os.Remove(bucketPath(m, recordKey(rec))); err != nil {
		t.Fatal(err)
	}
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "aud", "password": "auditor password", "role": "auditor"}, nil, nil); st != 201 {
		t.Fatalf("create auditor: %d", st)
	}
	auditor := login(t, m.Server.URL(), "aud", "auditor password")
	var run struct {
		State  string
		Report struct {
			Problems []struct{ Kind, Record string }
		}
	}
	if st := auditor.call("POST", "/api/v1/verify", nil, nil, &run); st != 200 || run.State != "problems" ||
		len(run.Report.Problems) == 0 || run.Report.Problems[0].Record != rec.ID {
		t.Fatalf("auditor's verify: %d %+v", st, run)
	}
	auditor.call("GET", "/healthz", nil, nil, &h)
	if h.Verify.State != "problems" || h.Verify.OK || h.Verify.Problems == 0 {
		t.Errorf("/healthz after a record was removed: %+v", h.Verify)
	}
	var evs struct {
		Events []struct{ Actor, Detail string }
	}
	admin.call("GET", "/api/v1/audit?action=archive.verify", nil, nil, &evs)
	if len(evs.Events) != 2 || evs.Events[0].Actor != "aud" || evs.Events[1].Actor != "scheduler" {
		t.Errorf("verify runs in the audit trail: %+v, want one by aud after one by scheduler", evs.Events)
	}
}

// TestBookCarriesTheVerifiedDigest prints a register book and checks that its
// closing certificate carries the digest and chain head `sijill verify`
// recomputes from storage: the paper and the archive can be compared.
func TestBookCarriesTheVerifiedDigest(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext (poppler-utils) is missing: `make test` installs it")
	}
	m, recs := archiveFixture(t)
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	resp, book := admin.raw("GET", fmt.Sprintf("/api/v1/registers/incoming/%d/book.pdf", recs[0].Year), nil, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("book.pdf: %d", resp.StatusCode)
	}
	p := filepath.Join(t.TempDir(), "book.pdf")
	if err := os.WriteFile(p, book, 0o600); err != nil {
		t.Fatal(err)
	}
	txt, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// The digests are printed in groups of eight hex digits.
	printed := strings.Join(regexp.MustCompile(`[0-9a-f]{8}`).FindAllString(string(txt), -1), "")

	out, code := runSijillVerify(t, m.Config.Data, "--json")
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	var rep struct {
		Books []struct{ Digest, Head string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Books) != 1 {
		t.Fatalf("report: %v %s", err, out)
	}
	for what, h := range map[string]string{"book digest": rep.Books[0].Digest, "chain head": rep.Books[0].Head} {
		if !strings.Contains(printed, h) {
			t.Errorf("the printed book does not carry the %s %s that verify computed; it shows %s", what, h, printed)
		}
	}
}
