package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/sijill/sijill/archive"
)

// builderBatch is how many records the offline builder puts in one segment
// before merging them all at the end. Measured on 9,200 records from MinIO:
// 100 a segment, 807 records/s and 77 MB of heap at the peak; 250, 859/s and
// 153 MB; 500, 915/s and 245 MB; 1,000, 904/s and 389 MB; 2,000 (before),
// 631/s and 730 MB.
const builderBatch = 500

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
// total. On error the current index is kept and the partial one removed.
//
// The new index is made with Bleve's offline builder: records are analysed
// in parallel, written as segments of builderBatch records and merged once
// at the end, which is several times cheaper than live batches that the
// index keeps merging as it grows, and leaves one compact segment per part.
//
// A rebuild needs room for a second copy of the index beside the first;
// without it Rebuild fails at once with ErrDiskFull and says how much room
// it needs: the reconciler (Reconcile) then brings the current index up to
// date in place, record by record.
func (ix *Index) Rebuild(ctx context.Context, src Archive, progress func(done, total int)) (err error) {
	ix.rebuildMu.Lock()
	defer ix.rebuildMu.Unlock()
	ix.rebuilding.Store(true)
	defer ix.rebuilding.Store(false)

	// Counting lists the whole bucket once more: only for someone who
	// shows the progress.
	total := 0
	if progress != nil {
		if total, err = src.CountRecords(ctx); err != nil {
			return fmt.Errorf("index: rebuild: count records: %w", err)
		}
	}
	if err := ix.roomToRebuild(total); err != nil {
		return err
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
		return fmt.Errorf("index: rebuild: %w", diskErr(err))
	}
	var nparts [numParts]*part
	defer func() {
		if !swapped {
			for _, p := range nparts {
				if p != nil {
					_ = p.bi.Close()
				}
			}
		}
	}()
	for i, name := range partNames {
		bi, err := bleve.OpenUsing(filepath.Join(newDir, name), boltConfig())
		if err != nil {
			return fmt.Errorf("index: rebuild: open new index: %w", err)
		}
		nparts[i] = &part{bi: bi}
		if err := bi.SetInternal(mappingVersionKey, []byte(MappingVersion)); err != nil {
			return fmt.Errorf("index: rebuild: stamp mapping version: %w", diskErr(err))
		}
	}

	// Swap: replay the writes made meanwhile, then replace the directory.
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.parts[0] == nil {
		return errClosed
	}
	// No Put or Delete runs now (they hold mu shared), so pending is complete.
	ix.pendingMu.Lock()
	pending := ix.pending
	ix.pending = nil
	ix.pendingMu.Unlock()
	if err := replay(ix.an, nparts, pending); err != nil {
		return fmt.Errorf("index: rebuild: replay: %w", diskErr(err))
	}
	for _, p := range nparts {
		if err := flush(p.bi, time.Minute); err != nil {
			return fmt.Errorf("index: rebuild: %w", diskErr(err))
		}
		if err := p.bi.Close(); err != nil {
			return fmt.Errorf("index: rebuild: close new index: %w", err)
		}
	}
	nparts = [numParts]*part{}
	for _, p := range ix.parts {
		if err := p.bi.Close(); err != nil {
			ix.log.Error("index: rebuild: close old index", "err", err)
		}
	}
	ix.parts, ix.normal, ix.all = [numParts]*part{}, nil, nil
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
	parts, _, err := openParts(ix.dir, ix.log)
	if err != nil {
		return fmt.Errorf("index: rebuild: open new index: %w", err)
	}
	ix.setParts(parts)
	ix.needsRebuild = false
	if err := os.RemoveAll(oldDir); err != nil {
		ix.log.Warn("index: rebuild: remove old index", "dir", oldDir, "err", err)
	}
	if err := ix.loadVersionsLocked(); err != nil {
		return err
	}
	ix.log.Info("index: rebuilt", "dir", ix.dir, "records", done, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// replay applies the writes made during a rebuild to the new parts.
func replay(an *textAnalyzers, parts [numParts]*part, pending []pendingWrite) error {
	var batches [numParts]*bleve.Batch
	for i, p := range parts {
		batches[i] = p.bi.NewBatch()
	}
	for _, w := range pending {
		for _, b := range batches {
			b.Delete(w.id)
		}
		if w.rec == nil {
			continue
		}
		r := isRestricted(w.rec)
		i := partOf(w.id, r)
		v := docVersion{etag: w.etag, version: w.rec.Version, restricted: r, missing: w.missing}
		if err := batches[i].IndexAdvanced(an.buildDocument(w.rec, w.texts, v)); err != nil {
			return fmt.Errorf("%s: %w", w.id, err)
		}
	}
	for i, p := range parts {
		if err := p.bi.Batch(batches[i]); err != nil {
			return err
		}
	}
	return nil
}

// roomToRebuild refuses a rebuild that would fill the disk: it needs about
// as much room as the index it replaces (or, for a first build, a few KB a
// record), on top of the minimum kept free.
func (ix *Index) roomToRebuild(records int) error {
	if ix.minFree < 0 {
		return nil
	}
	free, err := freeSpace(filepath.Dir(ix.dir))
	if err != nil {
		return nil
	}
	need := max(dirSize(ix.dir), int64(records)*8<<10) + ix.minFree
	if int64(free) < need {
		return fmt.Errorf("%w: rebuilding the index beside the current one needs about %d MB free under %s, and %d MB are",
			ErrDiskFull, need>>20, filepath.Dir(ix.dir), free>>20)
	}
	return nil
}

// dirSize is the total size of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// rebuildWorkers read texts and analyse records at once: reading is mostly
// waiting for the bucket, analysing is CPU.
const rebuildWorkers = 16

// build writes every record of src into a new index at dir (its parts)
// with Bleve's offline builder: the source is read in order, texts are read
// and documents built and analysed by rebuildWorkers goroutines, and one
// writer feeds the builders.
func (ix *Index) build(ctx context.Context, dir string, src Archive, total int, progress func(done, total int)) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", dir, err)
	}
	im, ok := newMapping().(*mapping.IndexMappingImpl)
	if !ok {
		return 0, fmt.Errorf("unexpected mapping type %T", newMapping())
	}
	// The builders keep their segments in a temporary directory until Close
	// merges them; keep it beside dir, on the same file system.
	tmp := dir + ".build"
	defer os.RemoveAll(tmp)
	var blds [numParts]bleve.Builder
	var counts [numParts]int
	for i, name := range partNames {
		t := filepath.Join(tmp, name)
		if err := os.MkdirAll(t, 0o755); err != nil {
			return 0, fmt.Errorf("create %s: %w", t, err)
		}
		b, err := bleve.NewBuilder(filepath.Join(dir, name), prebuilt{im}, map[string]interface{}{
			"batchSize":       builderBatch,
			"buildPathPrefix": t,
		})
		if err != nil {
			return 0, fmt.Errorf("builder at %s: %w", dir, err)
		}
		blds[i] = b
	}
	// A builder given no record cannot close (Bleve indexes an empty
	// segment list), and one that failed has nothing worth closing: neither
	// is closed, and the temporary directory goes.

	type built struct {
		doc        *document.Document
		restricted bool
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	recs := make(chan archive.Stored, 64)
	docs := make(chan built, 128)

	// Reader: the source, in its order.
	go func() {
		defer close(recs)
		for st, err := range src.ReadAll(ctx) {
			if err != nil {
				cancel(err)
				return
			}
			select {
			case recs <- st:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Workers: texts read, documents built and analysed, in parallel.
	var wg sync.WaitGroup
	for range rebuildWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for st := range recs {
				texts, missing, err := src.TextsOf(ctx, st.Record)
				if err != nil {
					cancel(fmt.Errorf("texts of %s: %w", st.ID, err))
					continue
				}
				r := isRestricted(st.Record)
				doc := ix.an.buildDocument(st.Record, texts, docVersion{etag: st.ETag, version: st.Version, restricted: r, missing: missing})
				analyseNow(doc)
				select {
				case docs <- built{doc, r}:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(docs)
	}()
	// Writer: the builders, which are not safe for concurrent use.
	done := 0
	for d := range docs {
		if ctx.Err() != nil {
			continue // drain, so the workers end
		}
		i := partOf(d.doc.ID(), d.restricted)
		if err := blds[i].Index(d.doc.ID(), d.doc); err != nil {
			cancel(fmt.Errorf("%s: %w", d.doc.ID(), err))
			continue
		}
		counts[i]++
		done++
		if progress != nil && done%progressEvery == 0 {
			progress(done, total)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	for i, name := range partNames {
		if counts[i] > 0 {
			if err := blds[i].Close(); err != nil {
				return 0, fmt.Errorf("builder: %w", err)
			}
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.RemoveAll(p); err != nil {
			return 0, fmt.Errorf("remove %s: %w", p, err)
		}
		bi, err := create(p)
		if err != nil {
			return 0, err
		}
		if err := bi.Close(); err != nil {
			return 0, fmt.Errorf("close %s: %w", p, err)
		}
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
