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
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

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
	Error       string `json:"error,omitempty"`
	// Records are the IDs of the records that carry the file, re-indexed
	// when its text is stored.
	Records []string  `json:"records"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Status is what the API shows of a job.
type Status struct {
	Status string `json:"status"`
	Chars  int    `json:"chars"`
	Error  string `json:"error,omitempty"`
}

func jobKey(sum string) string { return "jobs/extract/" + sum + ".json" }

const jobPrefix = "jobs/extract/"

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
	Tools  *Tools
	Logger *slog.Logger
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
	tools := DetectTools(ctx)
	if opt.Tools != nil {
		tools = *opt.Tools
	}
	p := &Pool{store: store, bucket: store.Bucket(), opt: opt, log: opt.Logger, workers: opt.Workers,
		x: Extractor{Tools: tools, PageTimeout: opt.PageTimeout, imageSlots: make(chan struct{}, max(runtime.GOMAXPROCS(0)-1, 1))}, queued: map[string]bool{}, wake: make(chan struct{}, opt.Workers)}
	p.idle = sync.NewCond(&p.mu)
	return p
}

// Tools says which programs the pool found.
func (p *Pool) Tools() Tools { return p.x.Tools }

// Workers is the number of files read at once.
func (p *Pool) Workers() int { return p.workers }

// Start starts the workers and queues every job left pending (or
// unavailable, if its tools are now installed) by an earlier run.
func (p *Pool) Start(ctx context.Context) error {
	var resume []string
	err := p.bucket.List(ctx, jobPrefix, func(oi archive.ObjectInfo) error {
		job, _, err := p.load(ctx, strings.TrimSuffix(strings.TrimPrefix(oi.Key, jobPrefix), ".json"))
		if err != nil {
			return err
		}
		if job != nil && (job.Status == StatusPending || job.Status == StatusUnavailable && p.canRead(job.ContentType)) {
			resume = append(resume, job.SHA256)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("extract: list pending jobs: %w", err)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.mu.Lock()
	p.cancel, p.started = cancel, true
	p.mu.Unlock()
	for range p.workers {
		p.wg.Add(1)
		go p.work(bg)
	}
	if len(resume) > 0 {
		p.log.Info("resuming text extraction", "files", len(resume))
	}
	for _, sum := range resume {
		// An unavailable file is tried again now that its tools are here.
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
		p.push(sum)
	}
	return nil
}

// canRead reports whether the installed tools can read files of ctype.
func (p *Pool) canRead(ctype string) bool {
	t := p.x.Tools
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
// is not known yet. It writes the small job objects and returns; the reading
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
				*job = Job{SHA256: a.SHA256, ContentType: a.ContentType, Status: StatusPending, Records: []string{recordID}}
				return true
			}
			changed := false
			if !slices.Contains(job.Records, recordID) {
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
			p.push(a.SHA256)
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
		return Status{Status: job.Status, Chars: job.Chars, Error: job.Error}, true, nil
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

// process reads one file and records the outcome.
func (p *Pool) process(ctx context.Context, sum string) {
	job, _, err := p.load(ctx, sum)
	if err != nil || job == nil || job.Status != StatusPending {
		if err != nil && ctx.Err() == nil {
			p.log.Error("text extraction: cannot read the job", "sha256", sum, "err", err)
		}
		return
	}
	start := time.Now()
	res, err := p.read(ctx, job)
	if ctx.Err() != nil {
		return // shutting down: the job stays pending for the next start
	}
	status, msg := StatusDone, ""
	switch {
	case errors.Is(err, archive.ErrUnavailable):
		p.retryLater(ctx, sum, err)
		return
	case errors.Is(err, ErrUnavailable):
		status, msg = StatusUnavailable, strings.TrimPrefix(err.Error(), "extract: ")
	case err != nil:
		status, msg = StatusFailed, err.Error()
	default:
		if err := p.store.PutText(ctx, sum, res.Text); err != nil {
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
	chars := len([]rune(res.Text))
	_, err = p.update(ctx, sum, func(j *Job, exists bool) bool {
		if !exists {
			*j = *job
		}
		j.Status, j.Error, j.Chars, j.Pages, j.Method = status, msg, chars, res.Pages, res.Method
		return true
	})
	if err != nil {
		p.log.Error("text extraction: recording the outcome failed", "sha256", sum, "err", err)
		return
	}
	p.log.Info("text extraction", "sha256", sum, "type", job.ContentType, "status", status, "chars", chars,
		"pages", res.Pages, "method", res.Method, "error", msg, "took", time.Since(start).Round(time.Millisecond))
}

// retryLater leaves a job pending when storage failed, which is not the
// file's fault, and queues it again in a minute.
func (p *Pool) retryLater(ctx context.Context, sum string, err error) {
	p.log.Error("text extraction: storage failed; trying again in a minute", "sha256", sum, "err", err)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-ctx.Done():
		case <-time.After(time.Minute):
			p.push(sum)
		}
	}()
}

// read spools the blob to a scratch directory, where the tools can open it,
// and extracts its text.
func (p *Pool) read(ctx context.Context, job *Job) (Result, error) {
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
	return p.x.File(ctx, path, job.ContentType, dir)
}
