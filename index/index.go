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

// batchSize is how many records Rebuild indexes per Bleve batch.
const batchSize = 500

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
	ix := &Index{dir: dir, log: logger, an: an}
	bi, rebuild, err := openOrCreate(dir, logger)
	if err != nil {
		return nil, err
	}
	ix.bi, ix.needsRebuild = bi, rebuild
	return ix, nil
}

func openOrCreate(dir string, logger *slog.Logger) (bleve.Index, bool, error) {
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

// Rebuild indexes every record of src into a new index beside the current
// one, in batches, then swaps it in. Searches keep using the current index
// meanwhile, and writes made during the rebuild are applied to both. progress
// (may be nil) is called after each batch with the records done and the total
// (0 when src cannot count; see RecordCounter). On error the current index is
// kept and the partial one removed.
func (ix *Index) Rebuild(ctx context.Context, src Source, progress func(done, total int)) (err error) {
	ix.rebuildMu.Lock()
	defer ix.rebuildMu.Unlock()

	total := 0
	if c, ok := src.(RecordCounter); ok {
		if total, err = c.CountRecords(ctx); err != nil {
			return fmt.Errorf("index: rebuild: count records: %w", err)
		}
	}
	newDir := ix.dir + ".new"
	if err := os.RemoveAll(newDir); err != nil {
		return fmt.Errorf("index: rebuild: clear %s: %w", newDir, err)
	}
	nbi, err := create(newDir)
	if err != nil {
		return fmt.Errorf("index: rebuild: %w", err)
	}
	ix.pendingMu.Lock()
	ix.pending = []pendingWrite{}
	ix.pendingMu.Unlock()
	swapped := false
	defer func() {
		if swapped {
			return
		}
		ix.pendingMu.Lock()
		ix.pending = nil
		ix.pendingMu.Unlock()
		_ = nbi.Close()
		_ = os.RemoveAll(newDir)
	}()

	start := time.Now()
	ix.log.Info("index: rebuilding", "dir", ix.dir, "total", total)
	b := nbi.NewBatch()
	done := 0
	flush := func() error {
		if b.Size() == 0 {
			return nil
		}
		if err := nbi.Batch(b); err != nil {
			return fmt.Errorf("index: rebuild: batch: %w", err)
		}
		b.Reset()
		if progress != nil {
			progress(done, total)
		}
		return nil
	}
	err = src.Records(ctx, func(rec *archive.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		texts, err := src.Texts(ctx, rec)
		if err != nil {
			return fmt.Errorf("index: rebuild: texts of %s: %w", rec.ID, err)
		}
		if err := b.IndexAdvanced(ix.an.buildDocument(rec, texts)); err != nil {
			return fmt.Errorf("index: rebuild: %s: %w", rec.ID, err)
		}
		done++
		if b.Size() >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("index: rebuild: %w", err)
	}

	// Swap: replay the writes made meanwhile, then replace the directory.
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.bi == nil {
		return errClosed
	}
	// No Put or Delete runs now (they hold mu shared), so pending is complete.
	ix.pendingMu.Lock()
	pending := ix.pending
	ix.pending = nil
	ix.pendingMu.Unlock()
	for _, w := range pending {
		if w.rec == nil {
			b.Delete(w.id)
		} else if err := b.IndexAdvanced(ix.an.buildDocument(w.rec, w.texts)); err != nil {
			return fmt.Errorf("index: rebuild: replay %s: %w", w.id, err)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := nbi.Close(); err != nil {
		return fmt.Errorf("index: rebuild: close new index: %w", err)
	}
	if err := ix.bi.Close(); err != nil {
		ix.log.Error("index: rebuild: close old index", "err", err)
	}
	ix.bi = nil
	oldDir := ix.dir + ".old"
	_ = os.RemoveAll(oldDir)
	if err := os.Rename(ix.dir, oldDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return ix.reopenAfterFailedSwap(fmt.Errorf("index: rebuild: move old index aside: %w", err))
	}
	if err := os.Rename(newDir, ix.dir); err != nil {
		_ = os.Rename(oldDir, ix.dir)
		return ix.reopenAfterFailedSwap(fmt.Errorf("index: rebuild: move new index in: %w", err))
	}
	swapped = true
	bi, err := bleve.Open(ix.dir)
	if err != nil {
		return fmt.Errorf("index: rebuild: open new index: %w", err)
	}
	ix.bi = bi
	ix.needsRebuild = false
	if err := os.RemoveAll(oldDir); err != nil {
		ix.log.Warn("index: rebuild: remove old index", "dir", oldDir, "err", err)
	}
	ix.log.Info("index: rebuilt", "dir", ix.dir, "records", done, "took", time.Since(start).Round(time.Millisecond))
	return nil
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
