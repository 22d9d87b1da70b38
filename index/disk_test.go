package index

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
)

// TestFullDiskDoesNotBreakTheIndex fills the file system under an index
// while records are written to it, with the free-space guard off, so that
// Bleve itself meets "no space left on device" when it writes its segments.
// Searches and writes go on without a panic, and once space returns
// everything written is on disk: a reopened index holds it all. (Bleve's
// batches that wait for persistence closed a segment still in use when the
// persister failed, and every later read of it panicked: see boltConfig.)
func TestFullDiskDoesNotBreakTheIndex(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root: the tests run as root in CI and `make test`")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a 32 MB tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	dir := filepath.Join(mnt, "index")
	ix, err := Open(dir, Options{Logger: quiet, MinFree: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ix.Close() }()
	ctx := context.Background()
	body := strings.Repeat("اجتماع المجلس الوطني قرار الميزانية السنوية اللجنة التنفيذية ", 100)
	write := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			r := rec(archive.Incoming, 2026, i, "2026-01-01", fmt.Sprintf("رسالة %d", i), body+fmt.Sprint(i))
			if err := ix.Put(ctx, r, "v", nil, nil); err != nil {
				t.Fatalf("put %d: %v", i, err)
			}
			if i%50 == 0 {
				if _, err := ix.Search(ctx, Query{Text: "اجتماع"}); err != nil {
					t.Fatalf("search after %d: %v", i, err)
				}
			}
		}
	}
	write(1, 300)
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for _, n := range []int{len(buf), 4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()
	write(301, 1200) // Bleve's persister meets a full disk all along
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	write(1201, 1300)
	if err := flush(ix.parts[partNormal].bi, time.Minute); err != nil {
		t.Fatalf("the writes did not reach the disk once space returned: %v", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if ix, err = Open(dir, Options{Logger: quiet, MinFree: -1}); err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != 1300 {
		t.Errorf("the reopened index holds %d records (%v), want all 1300", n, err)
	}
}
