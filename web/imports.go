package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/importer"
)

// importProgress is an import started from the admin page, as its page shows
// it. It is kept in the bucket (reports/import/{id}.json) while the import
// runs and after it ends, so that every process serving the archive shows
// the same import, whichever runs it, and a restart does not lose its report.
type importProgress struct {
	ID       string           `json:"id"`
	Actor    string           `json:"actor"`
	Instance string           `json:"instance"` // the process running it
	Started  time.Time        `json:"started"`
	Updated  time.Time        `json:"updated"`
	Ended    time.Time        `json:"ended,omitzero"`
	Done     int              `json:"done"`
	Total    int              `json:"total"`
	Report   *importer.Report `json:"report,omitempty"` // once ended; nil if the CSV could not be read
	Error    string           `json:"error,omitempty"`
	// Running is not stored: it is worked out when read (see loadImport).
	Running bool `json:"-"`
}

func importReport(id string) string { return "import/" + id }

// saveEvery is how often a running import writes its progress to the bucket.
const saveEvery = time.Second

// importJobs are the imports this process runs, so that a shutdown
// interrupts them (sending the same import again finishes them).
type importJobs struct {
	ctx    context.Context // ends at shutdown, interrupting the runs
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newImportJobs() *importJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &importJobs{ctx: ctx, cancel: cancel}
}

// startImport runs an import in the background and returns its ID. run must
// report its progress through the function it is given.
func (s *Server) startImport(actor string, run func(ctx context.Context, progress func(done, total int)) (*importer.Report, error)) (string, error) {
	js := s.imports
	now := time.Now().UTC()
	p := &importProgress{ID: randomHex(12), Actor: actor, Instance: s.store.Instance(), Started: now, Updated: now}
	if err := s.store.SaveReport(js.ctx, importReport(p.ID), p); err != nil {
		return "", err
	}
	js.wg.Add(1)
	go func() {
		defer js.wg.Done()
		var mu sync.Mutex
		last := time.Now()
		rep, err := run(js.ctx, func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			p.Done, p.Total = done, total
			if time.Since(last) >= saveEvery {
				last = time.Now()
				p.Updated = last.UTC()
				if err := s.store.SaveReport(js.ctx, importReport(p.ID), p); err != nil {
					s.log.Warn("import progress not kept", "err", err)
				}
			}
		})
		mu.Lock()
		defer mu.Unlock()
		p.Report, p.Ended, p.Updated = rep, time.Now().UTC(), time.Now().UTC()
		if err != nil {
			p.Error = err.Error()
		}
		// Kept even when a shutdown interrupted the run: the page says so.
		if err := s.store.SaveReport(context.WithoutCancel(js.ctx), importReport(p.ID), p); err != nil {
			s.log.Error("import report not kept", "err", err)
		}
	}()
	return p.ID, nil
}

// loadImport reads an import's progress from the bucket; nil if there is no
// such import. It is running if it has not ended and its process is alive;
// one whose process died is shown as interrupted.
func (s *Server) loadImport(ctx context.Context, id string) (*importProgress, error) {
	var p importProgress
	ok, err := s.store.LoadReport(ctx, importReport(id), &p)
	if !ok || err != nil {
		return nil, err
	}
	if p.Ended.IsZero() {
		alive, err := s.store.Alive(ctx, p.Instance, p.Updated, time.Minute)
		if err != nil {
			return nil, err
		}
		p.Running = alive
		if !alive && p.Error == "" {
			p.Error = errImportStopped.Error()
		}
	}
	return &p, nil
}

var errImportStopped = errors.New("the server running the import stopped")

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

// validImportID reports whether id can name an import.
func validImportID(id string) bool { return archive.ValidKey("reports/" + importReport(id) + ".json") }
