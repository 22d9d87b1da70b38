package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/sijill/sijill/archive"
)

// Source is where Rebuild reads the archive from: every record, and the
// extracted text of a record's attachments. archive.Store satisfies it.
type Source interface {
	// Records calls fn for every record, in any order, stopping at the first
	// error fn returns.
	Records(ctx context.Context, fn func(*archive.Record) error) error
	// Texts returns the text extracted from rec's attachments (nil if none).
	Texts(ctx context.Context, rec *archive.Record) ([]string, error)
}

// RecordCounter is an optional interface of a Source: if it has it, Rebuild
// reports progress against a known total.
type RecordCounter interface {
	CountRecords(ctx context.Context) (int, error)
}

// Index is the full-text index of the archive, kept in a Bleve index in a
// directory. It is safe for concurrent use; searches go on while Rebuild
// builds a replacement beside it.
type Index struct {
	dir string
	log *slog.Logger
	an  *textAnalyzers
	// facets holds the per-segment facet tables (see facetCache).
	facets *facetCache

	rebuildMu sync.Mutex // one Rebuild at a time

	// mu guards bi and needsRebuild: readers and writers of the index take
	// it shared (Bleve is safe for concurrent use); swapping takes it alone.
	mu           sync.RWMutex
	bi           bleve.Index
	needsRebuild bool

	pendingMu sync.Mutex
	// pending holds the writes made while Rebuild runs, replayed into the
	// new index before it replaces the old one. nil when no rebuild runs.
	pending []pendingWrite
}

type pendingWrite struct {
	id    string
	rec   *archive.Record // nil: delete
	texts []string
}

// Open opens the index at dir, creating it if it is missing. An index whose
// mapping version differs from MappingVersion is recreated empty; one that
// cannot be opened is moved aside (dir + ".corrupt-<time>") and recreated.
// In all three cases NeedsRebuild reports true, and the caller should run
// Rebuild.
func Open(dir string, logger *slog.Logger) (*Index, error) {
	if logger == nil {
		logger = slog.Default()
	}
	an, err := newAnalyzers()
	if err != nil {
		return nil, err
	}
	ix := &Index{dir: dir, log: logger, an: an, facets: newFacetCache()}
	bi, rebuild, err := openOrCreate(dir, logger)
	if err != nil {
		return nil, err
	}
	ix.bi, ix.needsRebuild = bi, rebuild
	return ix, nil
}

func openOrCreate(dir string, logger *slog.Logger) (bleve.Index, bool, error) {
	// A rebuild interrupted by a crash leaves its partial index behind, or,
	// between its two renames, the previous index under dir + ".old".
	for _, partial := range []string{dir + ".new", dir + ".new.build"} {
		if err := os.RemoveAll(partial); err != nil {
			return nil, false, fmt.Errorf("index: remove partial index %s: %w", partial, err)
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(dir + ".old"); err == nil {
			logger.Warn("index: restoring the index a rebuild had moved aside", "dir", dir)
			if err := os.Rename(dir+".old", dir); err != nil {
				return nil, false, fmt.Errorf("index: restore %s.old: %w", dir, err)
			}
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		logger.Info("index: creating a new index", "dir", dir)
		bi, err := create(dir)
		return bi, true, err
	}
	bi, err := bleve.Open(dir)
	if err != nil {
		aside := fmt.Sprintf("%s.corrupt-%s", dir, time.Now().UTC().Format("20060102T150405"))
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

// create makes an empty index at dir and stamps it with MappingVersion.
func create(dir string) (bleve.Index, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("index: create parent of %s: %w", dir, err)
	}
	bi, err := bleve.New(dir, newMapping())
	if err != nil {
		return nil, fmt.Errorf("index: create %s: %w", dir, err)
	}
	if err := bi.SetInternal(mappingVersionKey, []byte(MappingVersion)); err != nil {
		_ = bi.Close()
		return nil, fmt.Errorf("index: stamp mapping version in %s: %w", dir, err)
	}
	return bi, nil
}

// NeedsRebuild reports whether the index was created, recreated or found
// unreadable by Open and has not been rebuilt since, so that it may lack
// records the archive holds.
func (ix *Index) NeedsRebuild() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.needsRebuild
}

// Close closes the index.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.bi == nil {
		return nil
	}
	err := ix.bi.Close()
	ix.bi = nil
	if err != nil {
		return fmt.Errorf("index: close %s: %w", ix.dir, err)
	}
	return nil
}

var errClosed = errors.New("index: closed")

// Put indexes rec (replacing any earlier version of it) with texts, the text
// extracted from its attachments (nil if none yet). The record is searchable
// when Put returns.
func (ix *Index) Put(ctx context.Context, rec *archive.Record, texts []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec == nil || rec.ID == "" {
		return archive.Errorf(archive.EINVALID, "index: record without an id")
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.bi == nil {
		return errClosed
	}
	b := ix.bi.NewBatch()
	if err := b.IndexAdvanced(ix.an.buildDocument(rec, texts)); err != nil {
		return fmt.Errorf("index: put %s: %w", rec.ID, err)
	}
	if err := ix.bi.Batch(b); err != nil {
		return fmt.Errorf("index: put %s: %w", rec.ID, err)
	}
	ix.addPending(pendingWrite{id: rec.ID, rec: rec, texts: texts})
	return nil
}

// Delete removes the record id from the index. Records are never deleted
// from the archive; this is for repairs and tests.
func (ix *Index) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.bi == nil {
		return errClosed
	}
	if err := ix.bi.Delete(id); err != nil {
		return fmt.Errorf("index: delete %s: %w", id, err)
	}
	ix.addPending(pendingWrite{id: id})
	return nil
}

// addPending records a write for the rebuild in progress, if any.
func (ix *Index) addPending(w pendingWrite) {
	ix.pendingMu.Lock()
	defer ix.pendingMu.Unlock()
	if ix.pending != nil {
		ix.pending = append(ix.pending, w)
	}
}

// Count returns the number of records in the index.
func (ix *Index) Count() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.bi == nil {
		return 0, errClosed
	}
	n, err := ix.bi.DocCount()
	if err != nil {
		return 0, fmt.Errorf("index: count: %w", err)
	}
	return n, nil
}

// reopenAfterFailedSwap reopens the current directory after a failed swap,
// so the index keeps serving; it returns cause. Called with ix.mu held.
func (ix *Index) reopenAfterFailedSwap(cause error) error {
	bi, err := bleve.Open(ix.dir)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("index: reopen %s: %w", ix.dir, err))
	}
	ix.bi = bi
	return cause
}
