package index

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/sijill/sijill/archive"
)

// Archive is what Rebuild reads: every record, and the text of its files.
// archive.Store is one.
type Archive interface {
	// ReadAll yields every record with the version it was read at.
	ReadAll(ctx context.Context) iter.Seq2[archive.Stored, error]
	// TextsOf returns the text extracted from rec's files, and the files
	// that have none yet.
	TextsOf(ctx context.Context, rec *archive.Record) (texts, missing []string, err error)
	// CountRecords counts the records, for progress against a total.
	CountRecords(ctx context.Context) (int, error)
}

// Source is the archive as the index follows it: besides what Rebuild reads,
// one record to bring up to date, the versions of all for the reconciler and
// the change feed. archive.Store is one.
type Source interface {
	Archive
	// Get returns the record with id and its version (ENOTFOUND if none).
	Get(ctx context.Context, id string) (*archive.Record, string, error)
	// Versions calls fn with the ID and version of every record.
	Versions(ctx context.Context, fn func(id, etag string) error) error
	// HasText reports whether the text of file sum is stored.
	HasText(ctx context.Context, sum string) (bool, error)
	// Changes calls fn for the change feed's entries from since on.
	Changes(ctx context.Context, since time.Time, fn func(archive.Change) error) error
	// Instance names the process whose own changes need no following.
	Instance() string
}

// Index is the full-text index of the archive, in two Bleve indexes under a
// directory: normal records in one, every other (confidential) record in the
// other. A reader searches the first only, so every total, facet, highlight,
// prefix expansion and relevance score a reader sees is computed from what
// the reader may see (a filter applied after matching would still let
// confidential words move the scores of public hits); those who may see
// everything search both at once. Each document carries the version (ETag)
// of the record it was built from, so the index can be compared with the
// bucket (see Reconcile) and kept up to date with it (see Follow).
//
// It is safe for concurrent use; searches go on while Rebuild builds a
// replacement beside it.
type Index struct {
	dir  string
	log  *slog.Logger
	an   *textAnalyzers
	lock *os.File // flock held while open: one process per index
	// facets holds the per-segment facet tables (see facetCache).
	facets *facetCache
	// minFree is the free space below which the index takes no write (see
	// diskGuard).
	minFree int64

	rebuildMu sync.Mutex // one Rebuild at a time

	// mu guards parts, all and needsRebuild: readers and writers of the
	// index take it shared (Bleve is safe for concurrent use); swapping
	// takes it alone.
	mu           sync.RWMutex
	parts        [numParts]*part
	normal       bleve.IndexAlias // the readers' shards, searched side by side
	all          bleve.IndexAlias // every part, for those who may see everything
	needsRebuild bool

	// versions is what each document was built from (see docVersion).
	verMu    sync.Mutex
	versions map[string]docVersion

	// recLocks order the writes of one record: reading it (and its texts)
	// and putting it happen under its lock, so an older read never lands
	// after a newer one.
	recLocks [64]sync.Mutex

	pendingMu sync.Mutex
	// pending holds the writes made while Rebuild runs, replayed into the
	// new index before it replaces the old one. nil when no rebuild runs.
	pending []pendingWrite

	// State for readiness (see State).
	rebuilding atomic.Bool
	diskLow    atomic.Bool
	damaged    atomic.Bool  // Bleve failed (a recovered panic): reopen the parts
	followed   atomic.Int64 // unix nanoseconds of the last complete look at the feed; 0 never
	following  atomic.Bool

	caughtUp     chan struct{} // see CaughtUp
	caughtUpOnce sync.Once
}

// The parts of the index. The records every reader may see are split
// between two shards by a hash of their id, and a reader's search runs on
// both at once (an alias searches its indexes in parallel): Bleve walks the
// postings of one index in one goroutine, and on a two-core server that walk
// was most of a common word's latency. Confidential records are far fewer
// and have one part.
const (
	partNormal     = 0 // records every reader may see: the first shard
	partRestricted = 1 // confidential records
	partNormal2    = 2 // records every reader may see: the second shard
	numParts       = 3
)

var partNames = [numParts]string{"normal", "confidential", "normal-2"}

// partOf is the part that holds record id: the restricted part, or the
// readers' shard its id hashes to, which never changes.
func partOf(id string, restricted bool) int {
	if restricted {
		return partRestricted
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	if h.Sum32()%2 == 0 {
		return partNormal
	}
	return partNormal2
}

// part is one of the two Bleve indexes, with its group commit.
type part struct {
	bi bleve.Index
	c  committer
}

// docVersion is what a document was built from: the record's ETag and
// version number, which part holds it, and the files whose text was not
// stored yet (so the reconciler looks again once it is).
type docVersion struct {
	etag       string
	version    int
	restricted bool
	missing    []string
}

type pendingWrite struct {
	id      string
	rec     *archive.Record // nil: delete
	etag    string
	texts   []string
	missing []string
}

// Options configure an Index.
type Options struct {
	Logger *slog.Logger
	// MinFree is the free space (bytes) the file system of the index must
	// keep: below it writes are refused (the records stay in the bucket and
	// the reconciler indexes them once space returns) rather than letting
	// Bleve meet a full disk. 0 means DefaultMinFree; negative, no check.
	MinFree int64
}

// DefaultMinFree is the space kept free under the index by default.
const DefaultMinFree = 64 << 20

// ErrInUse is returned by Open when another process has the index open.
var ErrInUse = errors.New("index: in use by another process")

// Open opens the index at dir, creating it if it is missing. An index whose
// mapping version differs from MappingVersion is recreated empty; one that
// cannot be opened is moved aside (dir + ".corrupt-<time>") and recreated.
// In all three cases NeedsRebuild reports true, and the caller should run
// Rebuild. An index held open by another process is ErrInUse, at once: a
// second server, or sijill reindex beside a running one, must not wait on it.
func Open(dir string, opt Options) (*Index, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MinFree == 0 {
		opt.MinFree = DefaultMinFree
	}
	an, err := newAnalyzers()
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	ix := &Index{dir: dir, log: opt.Logger, an: an, lock: lock, facets: newFacetCache(), minFree: opt.MinFree,
		versions: map[string]docVersion{}, caughtUp: make(chan struct{})}
	parts, rebuild, err := openParts(dir, ix.log)
	if err != nil {
		unlockDir(lock)
		return nil, err
	}
	ix.setParts(parts)
	ix.needsRebuild = rebuild
	if err := ix.loadVersionsLocked(); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

// lockDir takes the lock of the index at dir: an exclusive flock on
// dir + ".lock", which the kernel releases when the process ends however it
// ends. The file holds the holder's PID, to name it in the error.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("index: create parent of %s: %w", dir, err)
	}
	path := dir + ".lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("index: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who != "" {
				who = " (process " + who + ")"
			}
			return nil, fmt.Errorf("%w: the search index in %s is open in another Sijill process%s; stop it first, or give this one its own --data",
				ErrInUse, dir, who)
		}
		return nil, fmt.Errorf("index: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func unlockDir(f *os.File) {
	if f != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

// openParts opens (or creates) the parts under dir. rebuild is true
// when anything had to be created: the index may lack records.
func openParts(dir string, logger *slog.Logger) ([numParts]*part, bool, error) {
	var parts [numParts]*part
	// A rebuild interrupted by a crash leaves its partial index behind, or,
	// between its two renames, the previous index under dir + ".old". (The
	// lock is held: no rebuild of another process is in progress.)
	for _, partial := range []string{dir + ".new", dir + ".new.build"} {
		if err := os.RemoveAll(partial); err != nil {
			return parts, false, fmt.Errorf("index: remove partial index %s: %w", partial, err)
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(dir + ".old"); err == nil {
			logger.Warn("index: restoring the index a rebuild had moved aside", "dir", dir)
			if err := os.Rename(dir+".old", dir); err != nil {
				return parts, false, fmt.Errorf("index: restore %s.old: %w", dir, err)
			}
		}
	}
	// An index of an earlier layout (one Bleve index at dir itself) is
	// replaced: it is rebuilt from the bucket.
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err == nil {
		logger.Warn("index: the index has an earlier layout; recreating it", "dir", dir)
		if err := os.RemoveAll(dir); err != nil {
			return parts, false, fmt.Errorf("index: remove old index %s: %w", dir, err)
		}
	}
	rebuild := false
	for i, name := range partNames {
		bi, created, err := openOrCreate(filepath.Join(dir, name), logger)
		if err != nil {
			for _, p := range parts[:i] {
				p.bi.Close()
			}
			return parts, false, err
		}
		parts[i] = &part{bi: bi}
		rebuild = rebuild || created
	}
	return parts, rebuild, nil
}

// openOrCreate opens the Bleve index at dir; created is true when it had to
// be made anew (missing, of another mapping version, or unreadable).
func openOrCreate(dir string, logger *slog.Logger) (bleve.Index, bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		logger.Info("index: creating a new index", "dir", dir)
		bi, err := create(dir)
		return bi, true, err
	}
	bi, err := bleve.OpenUsing(dir, boltConfig())
	if err != nil {
		// Beside the whole index (data/index.normal.corrupt-…), where a
		// rebuild, which replaces the index's folder, leaves it.
		aside := fmt.Sprintf("%s.%s.corrupt-%s", filepath.Dir(dir), filepath.Base(dir), time.Now().UTC().Format("20060102T150405"))
		logger.Error("index: cannot open the index; moving it aside and starting a new one",
			"dir", dir, "aside", aside, "err", err)
		if err := os.Rename(dir, aside); err != nil {
			return nil, false, fmt.Errorf("index: move corrupt index %s aside: %w", dir, err)
		}
		bi, err := create(dir)
		return bi, true, err
	}
	v, err := bi.GetInternal(mappingVersionKey)
	if err != nil || string(v) != MappingVersion {
		logger.Warn("index: mapping version changed; recreating the index",
			"dir", dir, "found", string(v), "want", MappingVersion)
		if cerr := bi.Close(); cerr != nil {
			return nil, false, fmt.Errorf("index: close old index %s: %w", dir, cerr)
		}
		if err := os.RemoveAll(dir); err != nil {
			return nil, false, fmt.Errorf("index: remove old index %s: %w", dir, err)
		}
		bi, err := create(dir)
		return bi, true, err
	}
	return bi, false, nil
}

// boltConfig is the configuration of every Bleve index of Sijill. A new map
// each time: Bleve writes the index's path into the map it is given.
//
// bolt_timeout bounds the wait for the lock of Bleve's own root file: the
// index lock (lockDir) is taken first, so this only guards against a bug, but
// a bug must not hang a process for ever.
//
// unsafe_batch makes a batch return once it is searchable, not once it is
// written to disk, and that is what keeps a full disk from breaking the
// index. In Bleve v2.6.3, a batch that waits for its persistence and gets the
// persister's error (no space left on device) has its new segment closed by
// Scorch.Batch although the introducer has already put it in the index's
// root; the closed segment's caches are nil, and every later read of it
// panics with "assignment to entry in nil map" (zapx/v17
// inverted_text_cache.go:94): searches, later batches, and the merger, which
// then stops merging for good. Without the wait, nothing is closed: the
// persister retries until space returns. What the index loses in a crash
// before persisting is found again by the reconciler, which compares the
// index with the bucket at every start.
func boltConfig() map[string]interface{} {
	return map[string]interface{}{"bolt_timeout": "5s", "unsafe_batch": true}
}

// create makes an empty index at dir and stamps it with MappingVersion.
func create(dir string) (bleve.Index, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("index: create parent of %s: %w", dir, err)
	}
	bi, err := bleve.NewUsing(dir, newMapping(), bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, boltConfig())
	if err != nil {
		return nil, fmt.Errorf("index: create %s: %w", dir, err)
	}
	if err := bi.SetInternal(mappingVersionKey, []byte(MappingVersion)); err != nil {
		_ = bi.Close()
		return nil, fmt.Errorf("index: stamp mapping version in %s: %w", dir, err)
	}
	if err := flush(bi, time.Minute); err != nil {
		_ = bi.Close()
		return nil, err
	}
	return bi, nil
}

// flushKey is set by flush: a write that makes the persister run.
var flushKey = []byte("sijill_flushed")

// flush waits, up to timeout, until everything written to bi so far is on
// disk (see boltConfig: batches do not wait for it): it sends a batch with a
// persisted callback, which the persister calls once it has written the
// index's root, and with it every write before.
func flush(bi bleve.Index, timeout time.Duration) error {
	done := make(chan error, 1)
	b := bi.NewBatch()
	b.SetInternal(flushKey, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	b.SetPersistedCallback(func(err error) {
		select {
		case done <- err:
		default:
		}
	})
	if err := bi.Batch(b); err != nil {
		return fmt.Errorf("index: flush: %w", err)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("index: flush: %w", err)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("index: flush: not written to disk after %s (a full disk?); the reconciler will catch up", timeout)
	}
}

// setParts installs parts and the aliases over them. Called with mu held (or
// before the index is shared).
func (ix *Index) setParts(parts [numParts]*part) {
	ix.parts = parts
	ix.normal = bleve.NewIndexAlias(parts[partNormal].bi, parts[partNormal2].bi)
	ix.all = bleve.NewIndexAlias(parts[partNormal].bi, parts[partNormal2].bi, parts[partRestricted].bi)
}

// NeedsRebuild reports whether the index was created, recreated or found
// unreadable by Open and has not been rebuilt since, so that it may lack
// records the archive holds.
func (ix *Index) NeedsRebuild() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.needsRebuild
}

// Close closes the index and releases its lock.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.parts[0] == nil {
		return nil
	}
	var errs []error
	for i, p := range ix.parts {
		if err := flush(p.bi, 10*time.Second); err != nil {
			ix.log.Warn("index: closing with writes not yet on disk", "part", partNames[i], "err", err)
		}
		if err := p.bi.Close(); err != nil {
			errs = append(errs, fmt.Errorf("index: close %s: %w", partNames[i], err))
		}
	}
	ix.parts = [numParts]*part{}
	ix.normal, ix.all = nil, nil
	unlockDir(ix.lock)
	ix.lock = nil
	return errors.Join(errs...)
}

var errClosed = errors.New("index: closed")

// Count returns the number of records in the index.
func (ix *Index) Count() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.parts[0] == nil {
		return 0, errClosed
	}
	var total uint64
	for _, p := range ix.parts {
		n, err := p.bi.DocCount()
		if err != nil {
			return 0, fmt.Errorf("index: count: %w", err)
		}
		total += n
	}
	return total, nil
}

// State says whether the index can be relied on: "ready"; "rebuilding"
// (being built from the bucket: searches answer from what it had);
// "behind" (it has not been able to look at the change feed for a while, or
// the last rebuild failed); "disk_full" (writes are refused for lack of
// space: searches answer from what it has).
func (ix *Index) State() string {
	switch {
	case ix.rebuilding.Load():
		return "rebuilding"
	case ix.diskLow.Load():
		return "disk_full"
	case ix.NeedsRebuild():
		return "behind"
	case ix.following.Load() && !ix.hasCaughtUp():
		return "behind" // the first reconcile with the bucket is not done
	case ix.following.Load() && time.Since(time.Unix(0, ix.followed.Load())) > behindAfter:
		return "behind"
	}
	return "ready"
}

func (ix *Index) hasCaughtUp() bool {
	select {
	case <-ix.caughtUp:
		return true
	default:
		return false
	}
}

// behindAfter is how long the feed may go unread before the index is behind.
const behindAfter = 5 * time.Second

// repair reopens the parts from what they hold on disk, after Bleve failed
// in memory (damaged), and reads their versions again; the caller then
// reconciles, to put back what was only in memory.
func (ix *Index) repair() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.parts[0] == nil {
		return errClosed
	}
	for _, p := range ix.parts {
		_ = p.bi.Close()
	}
	parts, rebuild, err := openParts(ix.dir, ix.log)
	if err != nil {
		ix.parts, ix.normal, ix.all = [numParts]*part{}, nil, nil
		return fmt.Errorf("index: reopen after a failure: %w", err)
	}
	ix.setParts(parts)
	ix.needsRebuild = ix.needsRebuild || rebuild
	ix.damaged.Store(false)
	return ix.loadVersionsLocked()
}

// reopenAfterFailedSwap reopens the current directory after a failed swap,
// so the index keeps serving; it returns cause. Called with ix.mu held.
func (ix *Index) reopenAfterFailedSwap(cause error) error {
	parts, _, err := openParts(ix.dir, ix.log)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("index: reopen %s: %w", ix.dir, err))
	}
	ix.setParts(parts)
	return cause
}
