package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
)

// TestKillDuringWrites kills the server with SIGKILL while twenty clients
// register letters with scanned files, then checks what a secretary relies on:
// every acknowledged entry is there, numbers have no gap, no record names a
// file that is not stored, and a restart goes on at the next number.
func TestKillDuringWrites(t *testing.T) {
	data := t.TempDir()
	p := startProc(t, data, nil)
	c := login(t, p.base, "admin", adminPassword)

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				scan := append(append([]byte{}, pdf...), bytes.Repeat([]byte(fmt.Sprintf("صفحة %d-%d ", w, i)), 20000)...)
				id, ok := createWithFile(c.base, c.token, fmt.Sprintf("رسالة واردة %d-%d", w, i), scan)
				if !ok {
					return // the server is gone
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no create was acknowledged before the kill; the test proves nothing")
	}

	b, err := folder.Open(filepath.Join(data, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	store := archive.NewStore(b, archive.Options{TempDir: t.TempDir()})
	ctx := context.Background()
	year := time.Now().UTC().Year()
	var nums []int
	for rec, err := range store.Records(ctx, archive.Incoming, year) {
		if err != nil {
			t.Fatalf("a record cannot be read after the crash: %v", err)
		}
		nums = append(nums, rec.Number)
		delete(acked, rec.ID)
		for _, a := range rec.Attachments {
			rc, _, err := store.OpenBlob(ctx, a.SHA256)
			if err != nil {
				t.Fatalf("%s names file %s that is not stored: %v", rec.ID, a.SHA256, err)
			}
			rc.Close()
		}
	}
	if len(acked) > 0 {
		t.Fatalf("acknowledged records lost in the crash: %v", acked)
	}
	sort.Ints(nums)
	wantOneToN(t, nums, len(nums))
	t.Logf("%d records before the kill", len(nums))

	p2 := startProc(t, data, nil)
	c2 := login(t, p2.base, "admin", adminPassword)
	var rec record
	if st := c2.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "بعد إعادة التشغيل"}, nil, &rec); st != 201 {
		t.Fatalf("create after restart: %d", st)
	}
	if rec.Number != len(nums)+1 {
		t.Fatalf("after restart got number %d, want %d", rec.Number, len(nums)+1)
	}
}

// createWithFile registers an incoming letter with its scan in one multipart
// request; ok is false when the server could not be reached or did not answer 201.
func createWithFile(base, token, subject string, scan []byte) (string, bool) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	meta, _ := json.Marshal(map[string]string{"subject": subject})
	w.WriteField("record", string(meta))
	fw, _ := w.CreateFormFile("file", "scan.pdf")
	fw.Write(scan)
	w.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/registers/incoming/records", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		return "", false
	}
	var rec record
	if json.Unmarshal(body, &rec) != nil {
		return "", false
	}
	return rec.ID, true
}

// TestCrashRebuildsIndexOfLostUpdates: an edit stored just before a crash,
// but never indexed, is searchable after the restart although the number of
// records did not change.
func TestCrashRebuildsIndexOfLostUpdates(t *testing.T) {
	data := t.TempDir()
	p := startProc(t, data, nil)
	c := login(t, p.base, "admin", adminPassword)
	var rec record
	if st := c.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار بتأجيل المؤتمر"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait()

	// The write the crash kept from the index: in storage, not searchable.
	b, err := folder.Open(filepath.Join(data, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	store := archive.NewStore(b, archive.Options{TempDir: t.TempDir()})
	if _, _, err := store.Annul(context.Background(), "admin", rec.ID, "", "أُلغي قبل الانهيار"); err != nil {
		t.Fatal(err)
	}

	// An upload the crash left half received, in the temporary folder.
	leftover := filepath.Join(data, "bucket", ".tmp", "upload-left-by-the-crash")
	if err := os.WriteFile(leftover, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(leftover, old, old)

	p2 := startProc(t, data, nil)
	c2 := login(t, p2.base, "admin", adminPassword)
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file a crash left is still there after the restart: %v", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var res searchResult
		c2.call("GET", "/api/v1/search?status=annulled", nil, nil, &res)
		if res.Total == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the annulment stored before the crash is not in the index after restart: %+v", res)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
