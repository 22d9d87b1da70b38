package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/sijill/sijill/archive"
)

// builderBatch is how many records the offline builder puts in one segment
// before merging them all at the end.
const builderBatch = 2000

// progressEvery is how often, in records, Rebuild reports progress.
const progressEvery = 500

// prebuilt lets Bleve's offline builder take documents that buildDocument
// has already made: its MapDocument copies their fields instead of mapping
// a struct. It serialises as the mapping it wraps.
type prebuilt struct {
	*mapping.IndexMappingImpl
}

func (prebuilt) MapDocument(doc *document.Document, data interface{}) error {
	src, ok := data.(*document.Document)
	if !ok {
		return fmt.Errorf("index: builder got %T, not a document", data)
	}
	for _, f := range src.Fields {
		doc.AddField(f)
	}
	return nil
}

// Rebuild indexes every record of src into a new index beside the current
// one, then swaps it in. Searches keep using the current index meanwhile,
// and writes made during the rebuild (Put, Delete) are applied to both.
// progress (may be nil) is called now and then with the records done and the
// total (0 when src cannot count; see RecordCounter). On error the current
// index is kept and the partial one removed.
//
// The new index is made with Bleve's offline builder: records are analysed
// in parallel, written as segments of builderBatch records and merged once
// at the end, which is several times cheaper than live batches that the
// index keeps merging as it grows, and leaves one compact segment.
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
	for _, d := range []string{newDir, newDir + ".build"} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("index: rebuild: clear %s: %w", d, err)
		}
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
		_ = os.RemoveAll(newDir)
	}()

	start := time.Now()
	ix.log.Info("index: rebuilding", "dir", ix.dir, "total", total)
	done, err := ix.build(ctx, newDir, src, total, progress)
	if err != nil {
		return fmt.Errorf("index: rebuild: %w", err)
	}
	nbi, err := bleve.Open(newDir)
	if err != nil {
		return fmt.Errorf("index: rebuild: open new index: %w", err)
	}
	defer func() {
		if !swapped {
			_ = nbi.Close()
		}
	}()
	if err := nbi.SetInternal(mappingVersionKey, []byte(MappingVersion)); err != nil {
		return fmt.Errorf("index: rebuild: stamp mapping version: %w", err)
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
	b := nbi.NewBatch()
	for _, w := range pending {
		if w.rec == nil {
			b.Delete(w.id)
		} else if err := b.IndexAdvanced(ix.an.buildDocument(w.rec, w.texts)); err != nil {
			return fmt.Errorf("index: rebuild: replay %s: %w", w.id, err)
		}
	}
	if err := nbi.Batch(b); err != nil {
		return fmt.Errorf("index: rebuild: replay: %w", err)
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

// build writes every record of src into a new index at dir with Bleve's
// offline builder: the source is read in order, documents are built and
// analysed by one worker per CPU, and the builder writes them.
func (ix *Index) build(ctx context.Context, dir string, src Source, total int, progress func(done, total int)) (int, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return 0, fmt.Errorf("create parent of %s: %w", dir, err)
	}
	im, ok := newMapping().(*mapping.IndexMappingImpl)
	if !ok {
		return 0, fmt.Errorf("unexpected mapping type %T", newMapping())
	}
	// The builder keeps its segments in a temporary directory until Close
	// merges them into dir; keep it beside dir, on the same file system.
	tmp := dir + ".build"
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", tmp, err)
	}
	defer os.RemoveAll(tmp)
	bld, err := bleve.NewBuilder(dir, prebuilt{im}, map[string]interface{}{
		"batchSize":       builderBatch,
		"buildPathPrefix": tmp,
	})
	if err != nil {
		return 0, fmt.Errorf("builder at %s: %w", dir, err)
	}
	// A builder given no record cannot close (Bleve v2.6.1 indexes an
	// empty segment list), and one that failed has nothing worth closing:
	// neither is closed, and the temporary directory goes.

	type item struct {
		rec   *archive.Record
		texts []string
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	recs := make(chan item, 256)
	docs := make(chan *document.Document, 256)

	// Reader: the source, in its order.
	var readErr error
	go func() {
		defer close(recs)
		readErr = src.Records(ctx, func(rec *archive.Record) error {
			texts, err := src.Texts(ctx, rec)
			if err != nil {
				return fmt.Errorf("texts of %s: %w", rec.ID, err)
			}
			select {
			case recs <- item{rec, texts}:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		if readErr != nil {
			cancel(readErr)
		}
	}()
	// Workers: documents built and analysed in parallel.
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range recs {
				doc := ix.an.buildDocument(it.rec, it.texts)
				analyseNow(doc)
				select {
				case docs <- doc:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(docs)
	}()
	// Writer: the builder, which is not safe for concurrent use.
	done := 0
	for doc := range docs {
		if ctx.Err() != nil {
			continue // drain, so the workers end
		}
		if err := bld.Index(doc.ID(), doc); err != nil {
			cancel(fmt.Errorf("%s: %w", doc.ID(), err))
			continue
		}
		done++
		if progress != nil && done%progressEvery == 0 {
			progress(done, total)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	if readErr != nil {
		return 0, readErr
	}
	if done == 0 {
		if err := os.RemoveAll(dir); err != nil {
			return 0, fmt.Errorf("remove %s: %w", dir, err)
		}
		bi, err := create(dir)
		if err != nil {
			return 0, err
		}
		if err := bi.Close(); err != nil {
			return 0, fmt.Errorf("close %s: %w", dir, err)
		}
	} else if err := bld.Close(); err != nil {
		return 0, fmt.Errorf("builder: %w", err)
	}
	if progress != nil {
		progress(done, total)
	}
	return done, nil
}

// analyseNow analyses doc's indexed text fields (see docAnalysis) and
// counts their terms, in the caller's goroutine: Bleve's offline builder
// would otherwise do the counting in its one writing goroutine, which is what
// bounds the indexing rate. The fields are replaced by preAnalysed ones, so
// the builder does not count them again.
func analyseNow(doc *document.Document) {
	for i, f := range doc.Fields {
		if tf, ok := f.(*document.TextField); ok && tf.Options().IsIndexed() {
			tf.Analyze()
			doc.Fields[i] = preAnalysed{tf}
		}
	}
}

// preAnalysed is a text field already analysed by analyseNow: analysing it
// again does nothing.
type preAnalysed struct{ *document.TextField }

func (preAnalysed) Analyze() {}
