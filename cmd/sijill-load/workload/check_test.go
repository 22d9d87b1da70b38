package workload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/web"
)

// server is a real Sijill web server on the local folder, in-process.
type server struct {
	base   string
	store  *archive.Store
	bucket archive.Bucket
}

func startServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	b, err := folder.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	store := archive.NewStore(b, archive.Options{TempDir: t.TempDir(), Logger: log})
	if _, err := store.EnsureAdmin(context.Background(), "load test password"); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Rebuild(context.Background(), store, nil); err != nil { // a new, empty archive
		t.Fatal(err)
	}
	store.OnRecordWritten(ix.Hook(store))
	srv := web.NewServer(web.Config{Addr: "127.0.0.1:0"}, store, log)
	srv.SetIndex(ix)
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ix.Close()
	})
	return &server{base: srv.URL(), store: store, bucket: b}
}

// TestCheckFindsWhatWentWrong runs a short load, sees the check pass, then
// damages the archive in each way the check exists to catch and sees it say so:
// a check that cannot fail would prove nothing in the fault tests.
func TestCheckFindsWhatWentWrong(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	token, err := Login(ctx, srv.base, "admin", "load test password")
	if err != nil {
		t.Fatal(err)
	}
	// This server does not follow its bucket (no reconciler): a record
	// written behind its back is never counted, so a second is enough.
	w := New(Options{Base: srv.base, Token: token, Clients: 4, Registers: []string{"incoming"}, IndexSettle: time.Second})
	// Work until every operation has been done at least once (a loaded
	// machine does little in a second), with a ceiling that only catches a hang.
	var rep []OpReport
	for deadline := time.Now().Add(time.Minute); ; {
		run, cancel := context.WithTimeout(ctx, time.Second)
		w.Run(run)
		cancel()
		rep = w.Report()
		if rep[0].OK > 0 && rep[1].OK > 0 && rep[2].OK > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load did too little to check in a minute:\n%s", FormatReport(rep, w.Elapsed()))
		}
	}
	for _, r := range rep {
		if r.ErrorCount() > 0 {
			t.Fatalf("%s failed: %v", r.Op, r.Errors)
		}
	}
	res, err := w.Check(ctx, srv.store)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Records != res.Creates || res.Indexed != uint64(res.Records) {
		t.Fatalf("a clean run: %s", res)
	}

	creates, uploads := w.Acknowledged()
	first := creates[0]
	// An acknowledged create that storage does not have.
	w.mu.Lock()
	w.creates["incoming-1999-1"] = Create{ID: "incoming-1999-1", Register: "incoming", Year: 1999, Number: 1, Subject: "lost"}
	// An acknowledged upload its record does not list.
	w.uploads = append(w.uploads, Upload{RecordID: first.ID, SHA256: strings.Repeat("ab", 32), Size: 1})
	w.mu.Unlock()
	// The same letter registered a second time, behind the server's back by
	// another process (which this server, not following the bucket, never
	// learns of: the index does not count it either).
	other := archive.NewStore(srv.bucket, archive.Options{TempDir: t.TempDir()})
	if _, _, err := other.Create(ctx, "admin", archive.Incoming, archive.Fields{Subject: &first.Subject}, nil, ""); err != nil {
		t.Fatal(err)
	}
	// A record object whose number repeats another's.
	rc, _, err := srv.bucket.Get(ctx, fmt.Sprintf("records/incoming/%d/%06d.json", first.Year, first.Number))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if _, err := srv.bucket.Put(ctx, fmt.Sprintf("records/incoming/%d/%06d.json", first.Year, 900000), bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}

	res, err = w.Check(ctx, srv.store)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"acknowledged create incoming-1999-1",
		"acknowledged upload " + strings.Repeat("ab", 32) + " is not listed",
		"registered 3 times",
		"numbers are not 1..",
		"the search index of server 1",
	} {
		if !strings.Contains(strings.Join(res.Problems, "\n"), want) {
			t.Errorf("the check missed %q; it found:\n%s", want, res)
		}
	}
	if len(uploads) == 0 {
		t.Fatal("no upload acknowledged")
	}
}
