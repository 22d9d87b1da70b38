package index

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/sijill/sijill/archive"
)

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

func TestOpenLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "index")
	ctx := context.Background()

	ix, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if !ix.NeedsRebuild() {
		t.Error("a new index does not ask for a rebuild")
	}
	put(t, ix, rec(archive.Minutes, 2024, 1, "2024-01-01", "محضر", ""))
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	ix, err = Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if ix.NeedsRebuild() {
		t.Error("an intact index asks for a rebuild")
	}
	if n, err := ix.Count(); err != nil || n != 1 {
		t.Errorf("reopened index holds %d records (%v), want 1", n, err)
	}
	// A second process (or sijill reindex beside a server) is refused at
	// once, with the folder named, instead of waiting for ever on the lock.
	began := time.Now()
	if second, err := Open(dir, Options{Logger: quiet}); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), dir) {
		t.Errorf("a second Open of an open index: %v, want ErrInUse naming %s", err, dir)
		if second != nil {
			second.Close()
		}
	} else if time.Since(began) > 2*time.Second {
		t.Errorf("the second Open took %s to be refused", time.Since(began))
	}
	ix.Close()

	// An index built under another mapping version is recreated empty.
	for _, name := range partNames {
		bi, err := bleve.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := bi.SetInternal(mappingVersionKey, []byte("sijill-0")); err != nil {
			t.Fatal(err)
		}
		if err := flush(bi, time.Minute); err != nil {
			t.Fatal(err)
		}
		bi.Close()
	}
	ix, err = Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if !ix.NeedsRebuild() {
		t.Error("a changed mapping version does not ask for a rebuild")
	}
	if n, _ := ix.Count(); n != 0 {
		t.Errorf("recreated index holds %d records", n)
	}
	ix.Close()

	// A crash between a rebuild's two renames: the index is under ".old",
	// a partial one under ".new".
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir+".new", "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if ix.NeedsRebuild() {
		t.Error("the restored index asks for a rebuild")
	}
	if _, err := os.Stat(dir + ".new"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial index not removed: %v", err)
	}
	ix.Close()

	// A corrupt index is moved aside, not deleted, and a new one made.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "normal"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "normal", "index_meta.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatalf("corrupt index: %v", err)
	}
	defer ix.Close()
	if !ix.NeedsRebuild() {
		t.Error("a corrupt index does not ask for a rebuild")
	}
	aside, _ := filepath.Glob(dir + ".normal.corrupt-*")
	if len(aside) != 1 {
		t.Errorf("corrupt index not kept aside: %v", aside)
	}
	put(t, ix, rec(archive.Minutes, 2024, 2, "2024-01-02", "محضر ثان", ""))
	if res, err := ix.Search(ctx, Query{Text: "محضر"}); err != nil || res.Total != 1 {
		t.Errorf("new index after corruption: %v %v", res, err)
	}
}

// sliceSource is an archive held in memory, in the shape Rebuild reads.
type sliceSource struct {
	recs  []*archive.Record
	texts map[string][]string
	// during, if set, runs after the first record is read: a write arriving
	// while the rebuild runs.
	during func()
	fail   error
}

func (s *sliceSource) ReadAll(ctx context.Context) iter.Seq2[archive.Stored, error] {
	return func(yield func(archive.Stored, error) bool) {
		for i, r := range s.recs {
			if !yield(archive.Stored{Record: r, ETag: "v1"}, nil) {
				return
			}
			if i == 0 && s.during != nil {
				s.during()
			}
		}
		if s.fail != nil {
			yield(archive.Stored{}, s.fail)
		}
	}
}

func (s *sliceSource) TextsOf(ctx context.Context, r *archive.Record) ([]string, []string, error) {
	return s.texts[r.ID], nil, nil
}

func (s *sliceSource) CountRecords(context.Context) (int, error) { return len(s.recs), nil }

func TestRebuild(t *testing.T) {
	ctx := context.Background()
	ix := openTestIndex(t)
	stale := rec(archive.Minutes, 2020, 9, "2020-01-01", "سجل قديم لم يعد في الأرشيف", "")
	put(t, ix, stale)

	src := &sliceSource{texts: map[string][]string{}}
	for i := 1; i <= 1234; i++ {
		r := rec(archive.Outgoing, 2024, i, fmt.Sprintf("2024-%02d-01", 1+i%12), fmt.Sprintf("رسالة رقم %d", i), "نص الرسالة")
		src.recs = append(src.recs, r)
	}
	src.texts[src.recs[0].ID] = []string{"مرفق فيه كلمة الفسيفساء"}
	late := rec(archive.Incoming, 2024, 1, "2024-05-05", "رسالة وصلت أثناء إعادة البناء", "")
	var searchErr error
	src.during = func() {
		// Searches keep working on the old index, and a write made now
		// survives the swap.
		if res, err := ix.Search(ctx, Query{Text: "قديم"}); err != nil || res.Total != 1 {
			searchErr = fmt.Errorf("search during rebuild: %v %v", res, err)
		}
		put(t, ix, late)
	}
	var mu sync.Mutex
	var calls, lastDone, lastTotal int
	err := ix.Rebuild(ctx, src, func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		lastDone, lastTotal = done, total
	})
	if err != nil {
		t.Fatal(err)
	}
	if searchErr != nil {
		t.Error(searchErr)
	}
	if calls < 3 || lastDone != 1234 || lastTotal != 1234 {
		t.Errorf("progress: %d calls, last %d/%d", calls, lastDone, lastTotal)
	}
	if ix.NeedsRebuild() {
		t.Error("NeedsRebuild after a rebuild")
	}
	if n, _ := ix.Count(); n != 1235 {
		t.Errorf("rebuilt index holds %d records, want 1235", n)
	}
	for q, want := range map[string]uint64{"قديم": 0, "الفسيفساء": 1, "أثناء": 1, "رسالة": 1235} {
		res, err := ix.Search(ctx, Query{Text: q})
		if err != nil || res.Total != want {
			t.Errorf("after rebuild %q: total %v (%v), want %d", q, res, err, want)
		}
	}

	// A failing source leaves the current index in place.
	bad := &sliceSource{recs: src.recs[:10], fail: errors.New("bucket unreachable")}
	if err := ix.Rebuild(ctx, bad, nil); err == nil {
		t.Error("a failing source did not fail the rebuild")
	}
	if n, _ := ix.Count(); n != 1235 {
		t.Errorf("after a failed rebuild the index holds %d records", n)
	}
	for _, d := range []string{ix.dir + ".new", ix.dir + ".new.build"} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("partial index left behind in %s: %v", d, err)
		}
	}
	// An empty archive gives an empty index.
	if err := ix.Rebuild(ctx, &sliceSource{}, nil); err != nil {
		t.Fatalf("rebuild from an empty archive: %v", err)
	}
	if n, _ := ix.Count(); n != 0 {
		t.Errorf("after rebuilding from an empty archive the index holds %d records", n)
	}
	put(t, ix, rec(archive.Minutes, 2025, 1, "2025-01-01", "بعد الفشل", ""))
	if n, _ := ix.Count(); n != 1 {
		t.Errorf("index not writable after a failed rebuild: %d", n)
	}
}
