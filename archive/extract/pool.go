package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sijill/sijill/archive"
)

// The states of a job, as the API shows them per attachment.
const (
	// StatusPending: queued or being read.
	StatusPending = "pending"
	// StatusDone: the text is stored (Chars characters; 0 for a blank page).
	StatusDone = "done"
	// StatusFailed: the file could not be read; Error says why.
	StatusFailed = "failed"
	// StatusUnavailable: the tool the file needs is not installed.
	StatusUnavailable = "unavailable"
)

// Job is the record of one file's extraction, kept at
// jobs/extract/{sha256}.json so a restart resumes pending ones.
type Job struct {
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	Status      string `json:"status"`
	Chars       int    `json:"chars"`
	Pages       int    `json:"pages,omitempty"`
	Method      string `json:"method,omitempty"`
	// Confidence is the OCR's mean word confidence (see Result).
	Confidence float64 `json:"confidence,omitempty"`
	Error      string  `json:"error,omitempty"`
	// Records are the IDs of the records that carry the file, re-indexed
	// when its text is stored.
	Records []string  `json:"records"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Truncated says the text was cut at MaxText: the rest is not searchable.
	Truncated bool `json:"truncated,omitempty"`
	// Owner is the process reading the file now (archive.Store.Instance),
	// until LeaseUntil unless it renews; another process takes a pending job
	// over when the lease has run out or the owner is dead.
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// Attempts counts the readings begun; a file whose reader died or ran out
	// of time maxAttempts times is given up (failed, with the reason).
	Attempts int `json:"attempts,omitempty"`
}

// Status is what the API shows of a job.
type Status struct {
	Status    string `json:"status"`
	Chars     int    `json:"chars"`
	Error     string `json:"error,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	// Pages is the number of pages read.
	Pages int `json:"pages,omitempty"`
	// Confidence is the OCR's mean word confidence in percent (0: no OCR);
	// Doubtful says it is under DoubtfulBelow: the secretary should check
	// the text against the scan.
	Confidence int  `json:"confidence,omitempty"`
	Doubtful   bool `json:"doubtful,omitempty"`
}

func jobKey(sum string) string { return jobPrefix + sum + ".json" }

const jobPrefix = "jobs/extract/"

// queueKey marks a pending job: the processes sharing the bucket find the
// work to do by listing queue/extract/, which holds only what is pending,
// rather than every job ever made.
func queueKey(sum string) string { return queuePrefix + sum }

const queuePrefix = "queue/extract/"

// Reading rules.
const (
	// MaxText is the most text kept of one file: a letter is a few KB, a
	// long report a few hundred; more is cut, and the job says so.
	MaxText = 1 << 20
	// maxAttempts is how many readings of a file may die or time out
	// before it is given up.
	maxAttempts = 3
	// leaseTTL is how long a reading holds its job without renewing.
	leaseTTL = 2 * time.Minute
	// pollEvery is how often the queue in the bucket is listed for work
	// (queued by another process, or left by one that died).
	pollEvery = 5 * time.Second
)

// Options configure a Pool.
type Options struct {
	// Workers is how many files are read at once; 0 means one per core less
	// one (at least one), leaving a core to the API.
	Workers int
	// PageTimeout bounds the work on one page; 0 means two minutes.
	PageTimeout time.Duration
	// TempDir holds the files being read; "" means the system's.
	TempDir string
	// Reindex is called with the IDs of the records carrying a file once its
	// text is stored, so they become searchable by it.
	Reindex func(ctx context.Context, recordIDs []string) error
	// Tools overrides the detected tools (nil: DetectTools).
	Tools *Tools
	// Lexicon corrects the words OCR doubted that are no words (see
	// Extractor.Lexicon); nil: none are.
	Lexicon Lexicon
	// Tessdata is the folder of Tesseract's models (SIJILL_TESSDATA), ""
	// for Tesseract's own; see DetectTools.
	Tessdata string
	Logger   *slog.Logger
	// Command starts a child reader (see child.go); nil: this program
	// itself, which must call RunChildIfAsked first thing.
	Command []string
	// RetryAfter is how long a file waits before it is tried again after
	// its reader died or storage failed (0: a minute).
	RetryAfter time.Duration
	// ToolsEvery is how often the pool looks for tools that were missing
	// (installed after the server started; 0: a minute). Files left
	// unavailable are then read without a restart.
	ToolsEvery time.Duration
}

// Pool extracts the text of attachments in the background.
type Pool struct {
	store   *archive.Store
	bucket  archive.Bucket
	x       Extractor
	opt     Options
	log     *slog.Logger
	workers int

	mu      sync.Mutex
	queue   []string        // sums waiting for a worker, oldest first
	queued  map[string]bool // sums in queue or being read
	busy    int
	wake    chan struct{} // a send wakes one idle worker
	idle    *sync.Cond    // broadcast when the pool may have become idle
	started bool
	tools   Tools // the detected tools, given to each reading (p.x holds the rest of its settings)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a pool over store; Start starts its workers.
func New(ctx context.Context, store *archive.Store, opt Options) *Pool {
	if opt.Workers <= 0 {
		opt.Workers = max(runtime.NumCPU()-1, 1)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.RetryAfter <= 0 {
		opt.RetryAfter = time.Minute
	}
	if opt.ToolsEvery <= 0 {
		opt.ToolsEvery = time.Minute
	}
	var tools Tools
	if opt.Tools != nil {
		tools = *opt.Tools
	} else {
		tools = DetectTools(ctx, opt.Tessdata)
	}
	p := &Pool{store: store, bucket: store.Bucket(), opt: opt, log: opt.Logger, workers: opt.Workers,
		x: Extractor{PageTimeout: opt.PageTimeout, Lexicon: opt.Lexicon, imageSlots: make(chan struct{}, max(runtime.GOMAXPROCS(0)-1, 1))}, queued: map[string]bool{}, wake: make(chan struct{}, opt.Workers)}
	p.idle = sync.NewCond(&p.mu)
	p.tools = tools
	return p
}

// Tools says which programs the pool found.
func (p *Pool) Tools() Tools {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tools
}

// complete reports whether t can read every kind of file with the best
// model that can appear: the best one only when a model folder is given
// (wantBest), since without one it never will. Nothing more to look for.
func (t Tools) complete(wantBest bool) bool {
	return t.OCR() && t.Pdftotext && t.Pdftoppm && t.Pdfinfo && (t.Model == ModelBest || !wantBest)
}

// better reports whether t can do something that was lacking in old.
func (t Tools) better(old Tools) bool {
	return t.OCR() && !old.OCR() || t.Pdftotext && !old.Pdftotext || t.Pdftoppm && !old.Pdftoppm ||
		t.Pdfinfo && !old.Pdfinfo || t.Model == ModelBest && old.Model != ModelBest
}

// watchTools looks for the tools that are missing every ToolsEvery, until
// they are all there: a secretary who installs Tesseract after starting
// Sijill (make run says how) sees the scans read without a restart.
func (p *Pool) watchTools(ctx context.Context) {
	defer p.wg.Done()
	for !p.Tools().complete(p.opt.Tessdata != "") {
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.opt.ToolsEvery):
		}
		now := DetectTools(ctx, p.opt.Tessdata)
		p.mu.Lock()
		old := p.tools
		if !now.better(old) {
			p.mu.Unlock()
			continue
		}
		p.tools = now
		p.mu.Unlock()
		p.log.Info("text extraction: tools found; reading the files that waited for them",
			"tesseract", now.Tesseract, "arabic", now.Arabic, "model", now.Model, "pdftotext", now.Pdftotext, "pdftoppm", now.Pdftoppm)
		if err := p.requeueUnavailable(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("text extraction: cannot requeue the files that waited for tools", "err", err)
		}
	}
}

// requeueUnavailable queues again the files marked unavailable that the
// tools can now read, and the pending ones (from before the queue was kept).
func (p *Pool) requeueUnavailable(ctx context.Context) error {
	var retry []string
	err := p.bucket.List(ctx, jobPrefix, func(oi archive.ObjectInfo) error {
		job, _, err := p.load(ctx, strings.TrimSuffix(strings.TrimPrefix(oi.Key, jobPrefix), ".json"))
		if err != nil {
			return err
		}
		if job != nil && (job.Status == StatusPending || job.Status == StatusUnavailable && p.canRead(job.ContentType)) {
			retry = append(retry, job.SHA256)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("extract: list pending jobs: %w", err)
	}
	for _, sum := range retry {
		if _, err := p.update(ctx, sum, func(j *Job, exists bool) bool {
			if !exists || j.Status != StatusUnavailable {
				return false
			}
			j.Status, j.Error = StatusPending, ""
			return true
		}); err != nil {
			p.log.Error("text extraction: cannot requeue a file", "sha256", sum, "err", err)
			continue
		}
		if err := p.mark(ctx, sum); err != nil {
			p.log.Error("text extraction: cannot requeue a file", "sha256", sum, "err", err)
		}
	}
	return nil
}

// Workers is the number of files read at once.
func (p *Pool) Workers() int { return p.workers }

// Start starts the workers, requeues the jobs an earlier run left
// unavailable if their tools are now installed, and looks at the queue in the
// bucket every pollEvery for work of its own or left by another process.
func (p *Pool) Start(ctx context.Context) error {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.mu.Lock()
	p.cancel, p.started = cancel, true
	p.mu.Unlock()
	for range p.workers {
		p.wg.Add(1)
		go p.work(bg)
	}
	if err := p.requeueUnavailable(ctx); err != nil {
		p.Close()
		return err
	}
	p.wg.Add(2)
	go p.pollQueue(bg)
	go p.watchTools(bg)
	return nil
}

// pollQueue takes up the pending jobs listed in the bucket's queue, now and
// every pollEvery until ctx ends.
func (p *Pool) pollQueue(ctx context.Context) {
	defer p.wg.Done()
	for {
		var sums []string
		err := p.bucket.List(ctx, queuePrefix, func(oi archive.ObjectInfo) error {
			if sum := strings.TrimPrefix(oi.Key, queuePrefix); archive.ValidSHA256(sum) {
				sums = append(sums, sum)
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			p.log.Warn("text extraction: cannot list the queue; trying again", "err", err)
		}
		for _, sum := range sums {
			p.push(sum)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pollEvery):
		}
	}
}

// mark puts the job of sum in the bucket's queue.
func (p *Pool) mark(ctx context.Context, sum string) error {
	if _, err := p.bucket.Put(ctx, queueKey(sum), strings.NewReader(""), 0); err != nil {
		return fmt.Errorf("extract: queue %s: %w", sum, err)
	}
	p.push(sum)
	return nil
}

// unmark takes the job of sum out of the bucket's queue.
func (p *Pool) unmark(ctx context.Context, sum string) {
	if err := p.bucket.Delete(ctx, queueKey(sum)); err != nil {
		p.log.Warn("text extraction: a finished job stays in the queue; it is dropped when next seen", "sha256", sum, "err", err)
	}
}

// canRead reports whether the installed tools can read files of ctype.
func (p *Pool) canRead(ctype string) bool {
	t := p.Tools()
	switch ctype {
	case "application/pdf":
		return t.Pdftotext && t.Pdfinfo
	case "image/png", "image/jpeg", "image/webp", "image/tiff":
		return t.OCR()
	}
	return true
}

// Close stops the workers. A file being read stays pending and is read
// again by the next Start.
func (p *Pool) Close() {
	p.mu.Lock()
	cancel := p.cancel
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	p.wg.Wait()
	p.mu.Lock()
	p.idle.Broadcast()
	p.mu.Unlock()
}

// Wait blocks until no file is queued or being read, or ctx ends.
func (p *Pool) Wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.idle.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.queue) > 0 || p.busy > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.idle.Wait()
	}
	return nil
}

// Queued is the number of files waiting or being read by this process.
func (p *Pool) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queued)
}

func (p *Pool) push(sum string) {
	p.mu.Lock()
	if p.queued[sum] {
		p.mu.Unlock()
		return
	}
	p.queued[sum] = true
	p.queue = append(p.queue, sum)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default: // every worker is already awake
	}
}

// Enqueue records that recordID carries files and queues the ones whose text
// is not known yet; with recordID "" (a file in the scan inbox) no record
// carries them yet. It writes the small job objects and returns; the reading
// happens in the background. Call it before indexing the record: a file read
// meanwhile has its text stored before its job says done, so either the
// caller's indexing sees the text or the pool re-indexes the record.
func (p *Pool) Enqueue(ctx context.Context, recordID string, files []archive.Attachment) error {
	return p.enqueue(ctx, recordID, files, false)
}

// Reextract queues files to be read again even if their text is known, for
// sijill reindex --ocr after a better OCR model is installed.
func (p *Pool) Reextract(ctx context.Context, recordID string, files []archive.Attachment) error {
	return p.enqueue(ctx, recordID, files, true)
}

func (p *Pool) enqueue(ctx context.Context, recordID string, files []archive.Attachment, again bool) error {
	var errs []error
	for _, a := range files {
		queue, err := p.update(ctx, a.SHA256, func(job *Job, exists bool) bool {
			if !exists {
				*job = Job{SHA256: a.SHA256, ContentType: a.ContentType, Status: StatusPending, Records: []string{}}
				if recordID != "" {
					job.Records = append(job.Records, recordID)
				}
				return true
			}
			changed := false
			if recordID != "" && !slices.Contains(job.Records, recordID) {
				job.Records = append(job.Records, recordID)
				changed = true
			}
			if again && job.Status != StatusPending {
				job.Status, job.Error, changed = StatusPending, "", true
			}
			return changed
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("extract: queue %s of %s: %w", a.SHA256, recordID, err))
			continue
		}
		if queue.Status == StatusPending {
			if err := p.mark(ctx, a.SHA256); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Status returns the state of the text of the file sum: its job, or done if
// the text was stored without one (an archive from before jobs were kept);
// ok is false when nothing is known of it.
func (p *Pool) Status(ctx context.Context, sum string) (st Status, ok bool, err error) {
	job, _, err := p.load(ctx, sum)
	if err != nil {
		return Status{}, false, err
	}
	if job != nil {
		st := Status{Status: job.Status, Chars: job.Chars, Error: job.Error, Truncated: job.Truncated, Pages: job.Pages, Confidence: int(math.Round(job.Confidence))}
		st.Doubtful = job.Status == StatusDone && job.Confidence > 0 && job.Confidence < DoubtfulBelow
		return st, true, nil
	}
	text, ok, err := p.store.Text(ctx, sum)
	if err != nil || !ok {
		return Status{}, false, err
	}
	return Status{Status: StatusDone, Chars: len([]rune(text))}, true, nil
}

// Job returns the job of file sum, or nil if there is none.
func (p *Pool) Job(ctx context.Context, sum string) (*Job, error) {
	job, _, err := p.load(ctx, sum)
	return job, err
}

func (p *Pool) load(ctx context.Context, sum string) (*Job, string, error) {
	if !archive.ValidSHA256(sum) {
		return nil, "", nil
	}
	rc, info, err := p.bucket.Get(ctx, jobKey(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	var job Job
	if err := json.NewDecoder(io.LimitReader(rc, 4<<20)).Decode(&job); err != nil {
		return nil, "", fmt.Errorf("extract: job %s is damaged: %w", sum, err)
	}
	return &job, info.ETag, nil
}

// update applies change to the job of sum (a fresh one if exists is false)
// and writes it if change says so, with create-only or compare-and-swap
// writes so concurrent enqueuers and workers (in any process) merge their
// record lists. It returns the job as stored.
func (p *Pool) update(ctx context.Context, sum string, change func(job *Job, exists bool) bool) (Job, error) {
	for attempt := 0; ; attempt++ {
		cur, etag, err := p.load(ctx, sum)
		if err != nil {
			return Job{}, err
		}
		var job Job
		if cur != nil {
			job = *cur
			job.Records = slices.Clone(cur.Records)
		}
		if !change(&job, cur != nil) {
			return job, nil
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		if cur == nil {
			job.Created = now
		}
		job.Updated = now
		b, _ := json.Marshal(job)
		if cur == nil {
			_, err = p.bucket.Create(ctx, jobKey(sum), bytes.NewReader(b), int64(len(b)))
		} else {
			_, err = p.bucket.Replace(ctx, jobKey(sum), etag, bytes.NewReader(b), int64(len(b)))
		}
		if (errors.Is(err, fs.ErrExist) || errors.Is(err, archive.ErrPrecondition) || errors.Is(err, fs.ErrNotExist)) && attempt < 20 {
			continue
		}
		if err != nil {
			return Job{}, err
		}
		return job, nil
	}
}

func (p *Pool) work(ctx context.Context) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(p.queue) == 0 {
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
			}
			p.mu.Lock()
		}
		sum := p.queue[0]
		p.queue = p.queue[1:]
		p.busy++
		more := len(p.queue) > 0
		p.mu.Unlock()
		if more {
			select { // more work: pass the wake-up on
			case p.wake <- struct{}{}:
			default:
			}
		}

		p.process(ctx, sum)

		p.mu.Lock()
		p.busy--
		delete(p.queued, sum)
		p.idle.Broadcast()
		p.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
	}
}

// process reads one file and records the outcome, if its job is pending
// and no live process is reading it already.
func (p *Pool) process(ctx context.Context, sum string) {
	job, ok := p.claim(ctx, sum)
	if !ok {
		return
	}
	start := time.Now()
	readCtx, stopReading := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go p.renew(readCtx, sum, stopReading, renewed)
	tools := p.Tools()
	res, err := p.read(readCtx, job, tools)
	lost := context.Cause(readCtx)
	stopReading(nil)
	<-renewed
	if ctx.Err() != nil {
		return // shutting down: the job stays pending; its lease runs out and anyone takes it up
	}
	if errors.Is(lost, errLeaseLost) {
		p.log.Warn("text extraction: another process took the file over", "sha256", sum)
		return
	}
	status, msg := StatusDone, ""
	switch {
	case errors.Is(err, archive.ErrUnavailable):
		p.retryLater(ctx, sum, err)
		return
	case errors.Is(err, ErrUnavailable) && p.Tools() != tools:
		// The tools were found while this file was read without them; the
		// watcher's requeue saw it pending and passed it by.
		p.unlease(ctx, sum, "")
		p.push(sum)
		return
	case errors.Is(err, ErrUnavailable):
		status, msg = StatusUnavailable, strings.TrimPrefix(err.Error(), "extract: ")
	case errors.Is(err, errChildDied) && job.Attempts < maxAttempts:
		// Maybe the machine was short of memory just then: another go.
		p.log.Warn("text extraction: the reader died; the file will be tried again", "sha256", sum,
			"attempt", job.Attempts, "err", err)
		p.release(ctx, sum, err.Error())
		return
	case errors.Is(err, errChildDied):
		status, msg = StatusFailed, fmt.Sprintf("given up after %d attempts: %v", job.Attempts, err)
	case err != nil:
		status, msg = StatusFailed, err.Error()
	}
	text, truncated := capText(res.Text)
	if status == StatusDone {
		if err := p.store.PutText(ctx, sum, text); err != nil {
			p.retryLater(ctx, sum, err)
			return
		}
		// Re-index before saying done, so whoever sees done finds the file
		// by its words. The carriers are read after the text was stored: a
		// record that comes to carry the file later indexes the stored text
		// itself (see Enqueue).
		if cur, _, err := p.load(ctx, sum); err == nil && cur != nil && len(cur.Records) > 0 {
			if p.opt.Reindex != nil {
				if err := p.opt.Reindex(ctx, cur.Records); err != nil && ctx.Err() == nil {
					p.log.Error("text extraction: re-indexing the records failed; the reconciler will", "records", cur.Records, "err", err)
				}
			}
			// The other processes sharing the bucket look at them again too.
			p.store.Announce(ctx, cur.Records...)
		}
	}
	chars := len([]rune(text))
	_, err = p.update(ctx, sum, func(j *Job, exists bool) bool {
		if !exists {
			*j = *job
		}
		j.Status, j.Error, j.Chars, j.Pages, j.Method, j.Truncated = status, msg, chars, res.Pages, res.Method, truncated
		j.Confidence = res.Confidence
		j.Owner, j.LeaseUntil = "", time.Time{}
		return true
	})
	if err != nil {
		p.log.Error("text extraction: recording the outcome failed", "sha256", sum, "err", err)
		return
	}
	p.unmark(ctx, sum)
	p.log.Info("text extraction", "sha256", sum, "type", job.ContentType, "status", status, "chars", chars,
		"pages", res.Pages, "method", res.Method, "truncated", truncated, "error", msg, "took", time.Since(start).Round(time.Millisecond))
}

// claim takes the job of sum for this process: it must be pending, and not
// held by a live process whose lease runs. Each claim counts an attempt. A
// job that is no longer pending leaves the queue.
func (p *Pool) claim(ctx context.Context, sum string) (*Job, bool) {
	me := p.store.Instance()
	var held, finished bool
	job, err := p.update(ctx, sum, func(j *Job, exists bool) bool {
		held, finished = false, !exists || j.Status != StatusPending
		if finished {
			return false
		}
		if j.Owner != "" && j.Owner != me && time.Now().Before(j.LeaseUntil) {
			if alive, err := p.store.Alive(ctx, j.Owner, j.Updated, leaseTTL); err != nil || alive {
				held = true
				return false
			}
		}
		j.Owner, j.LeaseUntil = me, time.Now().Add(leaseTTL)
		j.Attempts++
		return true
	})
	switch {
	case err != nil:
		if ctx.Err() == nil {
			p.log.Error("text extraction: cannot claim the job", "sha256", sum, "err", err)
		}
		return nil, false
	case finished:
		p.unmark(ctx, sum)
		return nil, false
	case held:
		return nil, false
	}
	return &job, true
}

// errLeaseLost stops a reading whose job another process took over.
var errLeaseLost = errors.New("extract: the job was taken over")

// renew keeps the lease of the job of sum while its reading goes on (until
// ctx ends), and stops the reading if another process took the job.
func (p *Pool) renew(ctx context.Context, sum string, stop context.CancelCauseFunc, done chan<- struct{}) {
	defer close(done)
	me := p.store.Instance()
	t := time.NewTicker(leaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lost := false
		_, err := p.update(ctx, sum, func(j *Job, exists bool) bool {
			if !exists || j.Owner != me {
				lost = true
				return false
			}
			j.LeaseUntil = time.Now().Add(leaseTTL)
			return true
		})
		if lost {
			stop(errLeaseLost)
			return
		}
		if err != nil && ctx.Err() == nil {
			p.log.Warn("text extraction: lease not renewed", "sha256", sum, "err", err)
		}
	}
}

// release gives the job of sum up for another attempt, after a moment.
func (p *Pool) release(ctx context.Context, sum, why string) {
	p.unlease(ctx, sum, why)
	p.retryLater(ctx, sum, errors.New(why))
}

// unlease gives up this process's lease on the job of sum, noting why.
func (p *Pool) unlease(ctx context.Context, sum, why string) {
	if _, err := p.update(ctx, sum, func(j *Job, exists bool) bool {
		if !exists || j.Owner != p.store.Instance() {
			return false
		}
		j.Owner, j.LeaseUntil, j.Error = "", time.Time{}, why
		return true
	}); err != nil {
		p.log.Error("text extraction: cannot release the job; its lease runs out instead", "sha256", sum, "err", err)
	}
}

// capText cuts text at MaxText bytes, at a character boundary.
func capText(text string) (string, bool) {
	if len(text) <= MaxText {
		return text, false
	}
	cut := MaxText
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut], true
}

// retryLater leaves a job pending when storage failed (not the file's
// fault) or its reader died, and queues it again after RetryAfter
// (pollQueue would find it too).
func (p *Pool) retryLater(ctx context.Context, sum string, err error) {
	p.log.Error("text extraction: trying again later", "sha256", sum, "after", p.opt.RetryAfter, "err", err)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-ctx.Done():
		case <-time.After(p.opt.RetryAfter):
			p.push(sum)
		}
	}()
}

// read spools the blob to a scratch directory, where the tools can open it,
// and extracts its text.
func (p *Pool) read(ctx context.Context, job *Job, tools Tools) (Result, error) {
	dir, err := os.MkdirTemp(p.opt.TempDir, "extract-*")
	if err != nil {
		return Result{}, fmt.Errorf("extract: scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	rc, _, err := p.store.OpenBlob(ctx, job.SHA256)
	if err != nil {
		return Result{}, fmt.Errorf("the stored file cannot be opened: %w", err)
	}
	path := filepath.Join(dir, "file")
	f, err := os.Create(path)
	if err == nil {
		_, err = io.Copy(f, rc)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	rc.Close()
	if err != nil {
		return Result{}, fmt.Errorf("extract: spool the file: %w", err)
	}
	x := p.x
	x.Tools = tools
	return x.inChild(ctx, p.command(), path, job.ContentType, dir)
}

// command starts a child reader: Options.Command, or this program.
func (p *Pool) command() []string {
	if len(p.opt.Command) > 0 {
		return p.opt.Command
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return []string{exe}
}
