package web

import (
	"context"
	"sync"
	"time"

	"github.com/sijill/sijill/archive/importer"
)

// importJob is an import started from the admin page. It runs after the
// request that started it has been answered, so that the page can show its
// progress and an import of thousands of rows does not hang on one request.
type importJob struct {
	id string

	mu          sync.Mutex
	done, total int
	report      *importer.Report
	err         error
	ended       time.Time // zero while it runs
}

// importProgress is what the import page shows of a job.
type importProgress struct {
	Done, Total int
	Running     bool
	Report      *importer.Report // once ended; nil if the CSV could not be read
	Err         error
}

func (j *importJob) progress() importProgress {
	j.mu.Lock()
	defer j.mu.Unlock()
	p := importProgress{Done: j.done, Total: j.total, Running: j.ended.IsZero(), Err: j.err}
	if !p.Running {
		p.Report = j.report
	}
	return p
}

// importJobs are the import runs of this server process, kept in memory for a
// day after they end. After a restart a job's page is gone, but the import
// is safe to send again: the rows it imported are skipped.
type importJobs struct {
	ctx    context.Context // ends at shutdown, interrupting the runs
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*importJob
}

// importKeep is how long an ended job's report stays available.
const importKeep = 24 * time.Hour

func newImportJobs() *importJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &importJobs{ctx: ctx, cancel: cancel, jobs: map[string]*importJob{}}
}

// start runs an import in the background. run must report its progress
// through the function it is given.
func (js *importJobs) start(run func(ctx context.Context, progress func(done, total int)) (*importer.Report, error)) *importJob {
	j := &importJob{id: randomHex(12)}
	js.mu.Lock()
	for id, old := range js.jobs {
		old.mu.Lock()
		expired := !old.ended.IsZero() && time.Since(old.ended) > importKeep
		old.mu.Unlock()
		if expired {
			delete(js.jobs, id)
		}
	}
	js.jobs[j.id] = j
	js.wg.Add(1)
	js.mu.Unlock()
	go func() {
		defer js.wg.Done()
		rep, err := run(js.ctx, func(done, total int) {
			j.mu.Lock()
			j.done, j.total = done, total
			j.mu.Unlock()
		})
		j.mu.Lock()
		j.report, j.err, j.ended = rep, err, time.Now()
		j.mu.Unlock()
	}()
	return j
}

func (js *importJobs) get(id string) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.jobs[id]
}

// stop interrupts the runs in flight and waits for them to end, until ctx
// is done.
func (js *importJobs) stop(ctx context.Context) error {
	js.cancel()
	done := make(chan struct{})
	go func() {
		js.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
