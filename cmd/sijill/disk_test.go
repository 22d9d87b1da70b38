package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/cmd/sijill-load/workload"
)

// TestFullDiskUnderTheIndex keeps the whole data folder (bucket and index) on
// a 96 MB tmpfs and fills it under load, in two steps: first to just under
// what the index keeps free (records are still stored, but the index refuses
// them: /readyz says so, search answers from what it has), then to the last
// byte (writes answer 507). The process lives through it, search never
// answers 500, and once space is freed every acknowledged record becomes
// searchable without a restart.
func TestFullDiskUnderTheIndex(t *testing.T) {
	data := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", data).CombinedOutput(); err != nil {
		t.Fatalf("mounting a 96 MB tmpfs for the data folder needs root (the tests run as root in CI and `make test`): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", data).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", data, err, out)
		}
	})
	p := startProc(t, data, map[string]string{"SIJILL_INDEX_MIN_FREE_MB": "16", "SIJILL_VERIFY_EVERY": "0"})
	c := login(t, p.base, "admin", adminPassword)
	w := workload.New(workload.Options{Base: p.base, Token: c.token, Clients: 6})
	runLoad(t, w, 2*time.Second)

	filler := filepath.Join(data, "filler")
	alive := func(when string) {
		t.Helper()
		if p.cmd.ProcessState != nil {
			t.Fatalf("the server died %s: %s", when, p.out)
		}
		resp, err := http.Get(p.base + "/healthz")
		if err != nil {
			t.Fatalf("the server does not answer %s: %v\n%s", when, err, p.out)
		}
		resp.Body.Close()
	}

	// Step 1: 8 MB left, under the index's 16: records are stored, the
	// index refuses them.
	fillTo(t, filler, data, 8<<20)
	var late []string
	for i := range 5 {
		var rec record
		if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": fmt.Sprintf("رسالة والقرص يكاد يمتلئ zqdisk%dx", i)},
			map[string]string{"Idempotency-Key": fmt.Sprintf("nearly-full-%d", i)}, &rec); st != 201 {
			t.Fatalf("create with 8 MB free: %d, want 201 (storage has room)", st)
		}
		late = append(late, rec.ID)
	}
	var ready struct{ Index string }
	if st := c.call("GET", "/readyz", nil, nil, &ready); st != 503 || ready.Index != "disk_full" {
		t.Errorf("/readyz with the index short of space: %d %+v, want 503 disk_full", st, ready)
	}
	var res searchResult
	if st := c.call("GET", "/api/v1/search?q=رسالة", nil, nil, &res); st != 200 || res.Total == 0 {
		t.Errorf("search with the index short of space: %d, %d hits; want what it has", st, res.Total)
	}
	nearly := workload.New(workload.Options{Base: p.base, Token: c.token, Clients: 4})
	runLoad(t, nearly, 2*time.Second)
	alive("with the index short of space")

	// Step 2: not a byte left. Writes are refused; searches still answer.
	fillTo(t, filler, data, 0)
	var e apiError
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة والقرص ممتلئ"}, nil, &e); st != 507 {
		t.Errorf("create on a full disk: %d %+v, want 507", st, e)
	}
	full := workload.New(workload.Options{Base: p.base, Token: c.token, Clients: 4})
	runLoad(t, full, 2*time.Second)
	for _, r := range append(nearly.Report(), full.Report()...) {
		if r.Op == workload.OpSearch && r.Errors["500"] > 0 {
			t.Errorf("searches answered 500 while the disk was full: %v", r.Errors)
		}
	}
	alive("on a full disk")

	// Space returns: everything acknowledged is found, without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		missing := 0
		for i, id := range late {
			if ids := searchIDs(t, c, fmt.Sprintf("zqdisk%dx", i)); len(ids) != 1 || ids[0] != id {
				missing++
			}
		}
		var ready struct{ Index string }
		st := c.call("GET", "/readyz", nil, nil, &ready)
		if missing == 0 && st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("two minutes after space returned: %d of %d records stored on a nearly full disk not searchable, /readyz %d %+v\n%s",
				missing, len(late), st, ready, p.out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	alive("after space returned")
	runLoad(t, w, time.Second)
	b, err := folder.Open(filepath.Join(data, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	checkArchive(t, w, newStore(t, b))
}

// fillTo grows the file at path until the file system of dir has at most
// left bytes free (the last blocks when left is 0).
func fillTo(t *testing.T, path, dir string, left uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		free := st.Bavail * uint64(st.Bsize)
		if free <= left {
			return
		}
		n := len(buf)
		if free-left < uint64(n) {
			n = int(free - left)
		}
		if _, err := f.Write(buf[:n]); err != nil {
			if left == 0 {
				for _, k := range []int{4096, 512, 1} {
					for {
						if _, err := f.Write(buf[:k]); err != nil {
							break
						}
					}
				}
				return
			}
			t.Fatalf("filling the disk: %v", err)
		}
	}
}
