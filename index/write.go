package index

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/sijill/sijill/archive"
)

// ErrDiskFull is returned by writes refused because the file system of the
// index has less free space than its minimum (see Options.MinFree). The
// record is safe in the bucket; the reconciler indexes it once space returns.
var ErrDiskFull = errors.New("index: not enough free disk space under the index; the write waits for the reconciler")

// Put indexes rec, read at version etag, with texts, the text extracted from
// its attachments, and missing, the files whose text is not stored yet. The
// record is searchable when Put returns: in the confidential part if it is
// confidential, after it has left the normal part (and the other way round).
// A version older than the one the index holds is ignored: writes of one
// record may arrive out of order (a local write and the same change read from
// the feed).
func (ix *Index) Put(ctx context.Context, rec *archive.Record, etag string, texts, missing []string) error {
	if rec == nil || rec.ID == "" {
		return archive.Errorf(archive.EINVALID, "index: record without an id")
	}
	mu := ix.recLock(rec.ID)
	mu.Lock()
	defer mu.Unlock()
	return ix.put(ctx, rec, etag, texts, missing)
}

// put is Put with the record's lock held.
func (ix *Index) put(ctx context.Context, rec *archive.Record, etag string, texts, missing []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cur, known := ix.version(rec.ID)
	if known && cur.version > rec.Version {
		return nil // a newer version is already indexed
	}
	if err := ix.checkDisk(); err != nil {
		return err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.parts[0] == nil {
		return errClosed
	}
	restricted := isRestricted(rec)
	here, other := ix.parts[partOf(rec.ID, restricted)], ix.parts[partOf(rec.ID, !restricted)]
	// Leave the other part first: a record made confidential is out of the
	// readers' shard before it is anywhere else, never in both.
	if !known || cur.restricted != restricted {
		if err := other.c.commit(other.bi, nil, rec.ID, &ix.damaged); err != nil {
			return fmt.Errorf("index: put %s: %w", rec.ID, diskErr(err))
		}
	}
	v := docVersion{etag: etag, version: rec.Version, restricted: restricted, missing: missing}
	doc := ix.an.buildDocument(rec, texts, v)
	if err := here.c.commit(here.bi, doc, "", &ix.damaged); err != nil {
		return fmt.Errorf("index: put %s: %w", rec.ID, diskErr(err))
	}
	ix.setVersion(rec.ID, v, true)
	ix.addPending(pendingWrite{id: rec.ID, rec: rec, etag: etag, texts: texts, missing: missing})
	return nil
}

// Delete removes the record id from the index: it is no longer in the
// bucket (restored from an older copy, or tests). Records are never deleted
// from the archive.
func (ix *Index) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mu := ix.recLock(id)
	mu.Lock()
	defer mu.Unlock()
	return ix.delete(id)
}

// delete is Delete with the record's lock held.
func (ix *Index) delete(id string) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.parts[0] == nil {
		return errClosed
	}
	for _, p := range ix.parts {
		if err := p.c.commit(p.bi, nil, id, &ix.damaged); err != nil {
			return fmt.Errorf("index: delete %s: %w", id, diskErr(err))
		}
	}
	ix.setVersion(id, docVersion{}, false)
	ix.addPending(pendingWrite{id: id})
	return nil
}

func isRestricted(rec *archive.Record) bool {
	return rec.Confidentiality != archive.Normal && rec.Confidentiality != ""
}

func (ix *Index) recLock(id string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(id))
	return &ix.recLocks[h.Sum32()%uint32(len(ix.recLocks))]
}

func (ix *Index) version(id string) (docVersion, bool) {
	ix.verMu.Lock()
	defer ix.verMu.Unlock()
	v, ok := ix.versions[id]
	return v, ok
}

func (ix *Index) setVersion(id string, v docVersion, present bool) {
	ix.verMu.Lock()
	defer ix.verMu.Unlock()
	if present {
		ix.versions[id] = v
	} else {
		delete(ix.versions, id)
	}
}

// addPending records a write for the rebuild in progress, if any.
func (ix *Index) addPending(w pendingWrite) {
	ix.pendingMu.Lock()
	defer ix.pendingMu.Unlock()
	if ix.pending != nil {
		ix.pending = append(ix.pending, w)
	}
}

// committer groups the writes that arrive while a batch is being written
// into the next batch (group commit): each caller still waits for its own
// write, so a record is searchable when Put returns, but a hundred writers
// cost a few batches, not a hundred, each of which Bleve must turn into a
// segment and later merge.
type committer struct {
	mu      sync.Mutex
	queue   []*commitOp
	running bool
}

type commitOp struct {
	doc  *document.Document // nil: delete del
	del  string
	done chan error
}

// commit indexes doc (or deletes del) in bi with the writes waiting beside it.
func (c *committer) commit(bi bleve.Index, doc *document.Document, del string, damaged *atomic.Bool) error {
	op := &commitOp{doc: doc, del: del, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, op)
	if c.running {
		c.mu.Unlock()
		return <-op.done
	}
	c.running = true
	for len(c.queue) > 0 {
		ops := c.queue
		c.queue = nil
		c.mu.Unlock()
		err := writeBatch(bi, ops, damaged)
		for _, o := range ops {
			o.done <- err
		}
		c.mu.Lock()
	}
	c.running = false
	c.mu.Unlock()
	return <-op.done
}

// writeBatch writes ops as one Bleve batch. A panic inside Bleve fails the
// batch instead of the process (and the index is reopened: see repair).
func writeBatch(bi bleve.Index, ops []*commitOp, damaged *atomic.Bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			damaged.Store(true)
			err = fmt.Errorf("index: the search engine failed writing a batch: %v", r)
		}
	}()
	b := bi.NewBatch()
	for _, o := range ops {
		if o.doc == nil {
			b.Delete(o.del)
		} else if err := b.IndexAdvanced(o.doc); err != nil {
			return err
		}
	}
	return bi.Batch(b)
}

// checkDisk refuses a write when the file system of the index has less free
// space than minFree. Bleve writes its segments and merges them in the
// background; a merge that meets a full disk has been seen to panic inside
// Bleve and take the process down, so the index stops taking writes well
// before the disk is full.
func (ix *Index) checkDisk() error {
	if ix.minFree < 0 {
		return nil
	}
	free, err := freeSpace(ix.dir)
	if err != nil {
		return nil // cannot tell: let the write try
	}
	if free < uint64(ix.minFree) {
		if !ix.diskLow.Swap(true) {
			ix.log.Error("the disk under the search index is nearly full: new writes wait in the bucket until space is freed",
				"dir", ix.dir, "free_mb", free>>20, "min_free_mb", ix.minFree>>20)
		}
		return ErrDiskFull
	}
	return nil
}

// diskRecovered reports whether the disk has room again (twice the
// minimum, so a write does not flap the state), and clears the state if so.
func (ix *Index) diskRecovered() bool {
	if !ix.diskLow.Load() {
		return false
	}
	free, err := freeSpace(ix.dir)
	if err != nil || free < 2*uint64(ix.minFree) {
		return false
	}
	ix.diskLow.Store(false)
	ix.log.Info("the disk under the search index has room again: catching up", "free_mb", free>>20)
	return true
}

func freeSpace(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// diskErr marks a Bleve write that failed for lack of space as ErrDiskFull.
func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), "no space left on device") {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

// versionTerm is the kwVersion term of a document: the record's ID, ETag,
// version number and the files lacking text, so that Open can learn what
// every document was built from by reading one doc value per document.
func versionTerm(id string, v docVersion) string {
	return id + facetSep + v.etag + facetSep + strconv.Itoa(v.version) + facetSep + strings.Join(v.missing, ",")
}

func parseVersionTerm(term string) (string, docVersion, bool) {
	parts := strings.SplitN(term, facetSep, 4)
	if len(parts) != 4 {
		return "", docVersion{}, false
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", docVersion{}, false
	}
	v := docVersion{etag: parts[1], version: n}
	if parts[3] != "" {
		v.missing = strings.Split(parts[3], ",")
	}
	return parts[0], v, true
}

// loadVersionsLocked reads what every document was built from (see
// versionTerm). The caller holds mu, or has not shared the index yet.
func (ix *Index) loadVersionsLocked() error {
	versions := map[string]docVersion{}
	for i, p := range ix.parts {
		err := visitVersions(p.bi, func(id string, v docVersion) {
			v.restricted = i == partRestricted
			versions[id] = v
		})
		if err != nil {
			return fmt.Errorf("index: read the versions of %s: %w", partNames[i], err)
		}
	}
	ix.verMu.Lock()
	ix.versions = versions
	ix.verMu.Unlock()
	return nil
}

// visitVersions calls fn with the version term of every live document of bi.
func visitVersions(bi bleve.Index, fn func(id string, v docVersion)) error {
	adv, err := bi.Advanced()
	if err != nil {
		return err
	}
	r, err := adv.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return fmt.Errorf("reader %T is not a scorch snapshot", r)
	}
	fields := []string{kwVersion}
	for _, ss := range snap.Segments() {
		dvv, ok := ss.Segment().(segment.DocValueVisitable)
		if !ok {
			return fmt.Errorf("segment %T has no doc values", ss.Segment())
		}
		var state segment.DocVisitState
		var err error
		it := ss.DocNumbersLive().Iterator()
		for it.HasNext() {
			state, err = dvv.VisitDocValues(uint64(it.Next()), fields, func(_ string, term []byte) {
				if id, v, ok := parseVersionTerm(string(term)); ok {
					fn(id, v)
				}
			}, state)
			if err != nil {
				return err
			}
		}
	}
	return nil
}
