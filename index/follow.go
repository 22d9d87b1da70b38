package index

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sijill/sijill/archive"
)

// Keeping the index in step with the bucket, which other processes write too.
//
// A write of this process is put in the index before the write call returns
// (Apply, called by the Store's hook). A write of another process is learnt
// from the change feed (Follow reads it a few times a second and Refreshes
// the records it names); and because a feed entry can be lost (a crash
// between a write and its entry) or expire, Reconcile compares the version of
// every record in the bucket's listing with the version each document was
// built from, at start and periodically, and refreshes what differs. A count
// comparison could not see an edit, an annulment or a file attached
// elsewhere; versions do.

// Apply puts rec, just written at version etag by this process, in the
// index with the text of its files. A failure is returned for logging only:
// the record is safe in the bucket and the reconciler will index it.
func (ix *Index) Apply(ctx context.Context, src Source, rec *archive.Record, etag string) error {
	mu := ix.recLock(rec.ID)
	mu.Lock()
	defer mu.Unlock()
	texts, missing, err := src.TextsOf(ctx, rec)
	if err != nil {
		return fmt.Errorf("index: texts of %s: %w", rec.ID, err)
	}
	return ix.put(ctx, rec, etag, texts, missing)
}

// Hook returns the hook that puts every record src writes in the index
// before the write call returns (archive.Store.OnRecordWritten). A failure
// is logged: the record is safe in the bucket, and the reconciler indexes it.
func (ix *Index) Hook(src Source) archive.RecordHook {
	return func(ctx context.Context, rec *archive.Record, etag string) {
		if err := ix.Apply(context.WithoutCancel(ctx), src, rec, etag); err != nil {
			ix.log.Error("record stored but not indexed yet; the reconciler will index it", "id", rec.ID, "err", err)
		}
	}
}

// CaughtUp is closed once Follow has first brought the index up to date
// with the bucket (rebuilt or reconciled it), or tried to and failed.
func (ix *Index) CaughtUp() <-chan struct{} { return ix.caughtUp }

// RefreshAll refreshes the records ids (see Refresh): the records carrying a
// file whose text has just been stored.
func (ix *Index) RefreshAll(ctx context.Context, src Source, ids []string) error {
	_, err := ix.refreshAll(ctx, src, ids)
	return err
}

// Refresh reads the record id and its texts from src and indexes them as
// they are now; a record no longer in the bucket leaves the index.
func (ix *Index) Refresh(ctx context.Context, src Source, id string) error {
	mu := ix.recLock(id)
	mu.Lock()
	defer mu.Unlock()
	rec, etag, err := src.Get(ctx, id)
	if archive.ErrorCode(err) == archive.ENOTFOUND {
		return ix.delete(id)
	}
	if err != nil {
		return err
	}
	texts, missing, err := src.TextsOf(ctx, rec)
	if err != nil {
		return fmt.Errorf("index: texts of %s: %w", id, err)
	}
	return ix.put(ctx, rec, etag, texts, missing)
}

// removeIfGone removes the document of id if its record is no longer in
// the bucket, and says whether it did.
func (ix *Index) removeIfGone(ctx context.Context, src Source, id string) (bool, error) {
	mu := ix.recLock(id)
	mu.Lock()
	defer mu.Unlock()
	_, _, err := src.Get(ctx, id)
	switch {
	case archive.ErrorCode(err) == archive.ENOTFOUND:
		return true, ix.delete(id)
	case err != nil:
		return false, err
	}
	return false, nil
}

// FollowOptions tune Follow; zero values are the defaults.
type FollowOptions struct {
	// Poll is how often the change feed is read (default 250ms).
	Poll time.Duration
	// Lookback is how far back in time the feed is read on every poll
	// (default 10s): entries appear in a listing only when their write is
	// done, and writers' clocks differ; entries already applied are skipped.
	Lookback time.Duration
	// ReconcileEvery is how often the whole index is compared with the
	// bucket (default 2 minutes; the first time at once, the second settle
	// later).
	ReconcileEvery time.Duration
	// Expire, if set, is called now and then to expire the feed's old
	// entries (any process may do it).
	Expire func(ctx context.Context)
	// OnError is told of failures worth logging (default: the index's log).
	OnError func(msg string, err error)
}

func (o *FollowOptions) defaults() {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Lookback <= 0 {
		o.Lookback = 10 * time.Second
	}
	if o.ReconcileEvery <= 0 {
		o.ReconcileEvery = 2 * time.Minute
	}
}

// Follow keeps the index in step with src until ctx ends: it first rebuilds
// an index that needs it (or reconciles one that does not), then reads the
// change feed every Poll and reconciles every ReconcileEvery. A failing
// rebuild (storage down, no room) is tried again, and in the meantime the
// current index is reconciled in place.
func (ix *Index) Follow(ctx context.Context, src Source, opt FollowOptions) {
	opt.defaults()
	if opt.OnError == nil {
		opt.OnError = func(msg string, err error) { ix.log.Error(msg, "err", err) }
	}
	ix.following.Store(true)
	defer ix.following.Store(false)
	f := &follower{ix: ix, src: src, opt: opt, applied: map[string]time.Time{}}
	start := time.Now()
	ix.followed.Store(start.UnixNano())
	f.catchUp(ctx)
	ix.caughtUpOnce.Do(func() { close(ix.caughtUp) })
	// Look again soon: a write a process sent just before it died (this
	// one's previous run, say) can land after the listing, with no feed
	// entry ever to announce it.
	f.reconciled = time.Now().Add(settle - opt.ReconcileEvery)
	tick := time.NewTicker(opt.Poll)
	defer tick.Stop()
	lastExpire := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if ix.damaged.Load() && ix.checkDisk() == nil {
			ix.log.Warn("index: reopening the index after a failure of the search engine")
			if err := ix.repair(); err != nil {
				opt.OnError("reopening the search index failed", err)
				continue
			}
			f.catchUp(ctx)
		}
		f.poll(ctx)
		switch {
		case ix.diskRecovered():
			f.catchUp(ctx)
		case time.Since(f.reconciled) > opt.ReconcileEvery || (f.failed && time.Since(f.reconciled) > 10*opt.Poll+time.Second):
			f.catchUp(ctx)
		}
		if opt.Expire != nil && time.Since(lastExpire) > 10*time.Minute {
			opt.Expire(ctx)
			lastExpire = time.Now()
		}
	}
}

type follower struct {
	ix  *Index
	src Source
	opt FollowOptions
	// applied holds the feed entries already applied, with their time, for
	// as long as they can be listed again (Lookback).
	applied map[string]time.Time
	// reconciled is when the last catch-up ended; failed whether it failed.
	reconciled time.Time
	failed     bool
}

// catchUp rebuilds the index if it needs it, else reconciles it.
func (f *follower) catchUp(ctx context.Context) {
	defer func() { f.reconciled = time.Now() }()
	if f.ix.NeedsRebuild() {
		err := f.ix.Rebuild(ctx, f.src, nil)
		if err == nil {
			f.failed = false
			return
		}
		if ctx.Err() != nil {
			return
		}
		f.opt.OnError("rebuilding the search index failed; bringing the current one up to date instead, and trying again", err)
	}
	_, err := f.ix.Reconcile(ctx, f.src)
	f.failed = err != nil
	if err != nil && ctx.Err() == nil {
		f.opt.OnError("reconciling the search index with the bucket failed; trying again", err)
	}
}

// poll applies the feed entries of the last Lookback not applied yet.
func (f *follower) poll(ctx context.Context) {
	now := time.Now()
	since := now.Add(-f.opt.Lookback)
	me := f.src.Instance()
	err := f.src.Changes(ctx, since, func(c archive.Change) error {
		if _, done := f.applied[c.Key]; done {
			return nil
		}
		if c.Instance != me {
			if err := f.ix.Refresh(ctx, f.src, c.RecordID); err != nil {
				if errors.Is(err, ErrDiskFull) || ctx.Err() != nil {
					return err // the reconciler catches up once space returns
				}
				f.opt.OnError("applying a change of another process failed; the reconciler will", fmt.Errorf("%s: %w", c.RecordID, err))
			}
		}
		f.applied[c.Key] = c.Time
		return nil
	})
	for k, t := range f.applied {
		if t.Before(since.Add(-time.Minute)) {
			delete(f.applied, k)
		}
	}
	if err == nil || errors.Is(err, ErrDiskFull) {
		f.ix.followed.Store(now.UnixNano())
	}
}

// settle is when, after the first catch-up, the index is reconciled again:
// longer than a write can stay unanswered (the storage client's timeouts).
const settle = 20 * time.Second

// ReconcileResult says what Reconcile did.
type ReconcileResult struct {
	Records   int // records in the bucket
	Refreshed int // documents brought up to date (new, changed, or their files' text arrived)
	Removed   int // documents of records no longer in the bucket
}

// Reconcile compares the version of every record in src's listing with the
// version its document was built from, and refreshes the records that
// differ, whose files' text has arrived since, or that the index lacks; it
// removes the documents of records that are gone.
func (ix *Index) Reconcile(ctx context.Context, src Source) (ReconcileResult, error) {
	var res ReconcileResult
	listed := map[string]bool{}
	var todo []string
	err := src.Versions(ctx, func(id, etag string) error {
		res.Records++
		listed[id] = true
		if v, ok := ix.version(id); !ok || v.etag != etag {
			todo = append(todo, id)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	var gone []string
	missing := map[string][]string{} // record -> files without text when indexed
	ix.verMu.Lock()
	for id, v := range ix.versions {
		switch {
		case !listed[id]:
			gone = append(gone, id)
		case len(v.missing) > 0:
			missing[id] = v.missing
		}
	}
	ix.verMu.Unlock()
	for id, sums := range missing {
		for _, sum := range sums {
			ok, err := src.HasText(ctx, sum)
			if err != nil {
				return res, err
			}
			if ok {
				todo = append(todo, id)
				break
			}
		}
	}
	// A document whose record was not in the listing may be of a record
	// written since the listing was read (by this process, whose hook
	// indexed it meanwhile): it leaves the index only if the bucket says,
	// now and under the record's lock, that the record is gone.
	for _, id := range gone {
		removed, err := ix.removeIfGone(ctx, src, id)
		if err != nil {
			return res, err
		}
		if removed {
			res.Removed++
		}
	}
	if len(todo) > 0 {
		ix.log.Info("index: bringing records up to date with the bucket", "records", len(todo))
	}
	n, err := ix.refreshAll(ctx, src, todo)
	res.Refreshed = n
	return res, err
}

// refreshAll refreshes ids, several at once (each is a few reads from the
// bucket), and returns how many it refreshed before the first error.
func (ix *Index) refreshAll(ctx context.Context, src Source, ids []string) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan string)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range min(len(ids), 8) {
		wg.Go(func() {
			for id := range work {
				if err := ix.Refresh(ctx, src, id); err != nil {
					cancel(fmt.Errorf("%s: %w", id, err))
					continue
				}
				mu.Lock()
				done++
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	return done, context.Cause(ctx)
}
