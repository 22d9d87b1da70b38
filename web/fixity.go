package web

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// fixityState is the last verification of the archive, shown by /healthz so a
// monitoring system notices an altered or missing file.
type fixityState struct {
	mu      sync.Mutex
	running bool
	last    *archive.VerifyReport
	err     string
	at      time.Time
}

// fixityView is the part of the last verification /healthz shows.
type fixityView struct {
	State    string    `json:"state"` // "not run yet", "ok", "problems" or "failed"
	Time     time.Time `json:"time,omitzero"`
	OK       bool      `json:"ok"`
	Problems int       `json:"problems"`
	Error    string    `json:"error,omitempty"`
}

func (f *fixityState) view() fixityView {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.err != "":
		return fixityView{State: "failed", Time: f.at, Error: f.err}
	case f.last == nil:
		return fixityView{State: "not run yet"}
	case f.last.OK():
		return fixityView{State: "ok", Time: f.last.Finished, OK: true}
	}
	return fixityView{State: "problems", Time: f.last.Finished, Problems: len(f.last.Problems)}
}

// Verify checks the fixity of the whole archive now (archive.Store.Verify),
// keeps the result for /healthz and GET /api/v1/verify, and logs every
// problem. Only one verification runs at a time: a second caller gets
// ECONFLICT. actor is recorded in the audit trail.
func (s *Server) Verify(ctx context.Context, actor string) (*archive.VerifyReport, error) {
	f := &s.fixity
	f.mu.Lock()
	if f.running {
		f.mu.Unlock()
		return nil, archive.Errorf(archive.ECONFLICT, "a verification is already running")
	}
	f.running = true
	f.mu.Unlock()

	rep, err := s.store.Verify(ctx, actor, nil)
	if err != nil && ctx.Err() != nil {
		// Stopped by a shutdown: not a result, and not worth an error.
		f.mu.Lock()
		f.running = false
		f.mu.Unlock()
		s.log.Info("verification stopped before it finished", "err", err)
		return nil, err
	}

	f.mu.Lock()
	f.running = false
	f.at = time.Now().UTC()
	if err != nil {
		f.err = err.Error()
	} else {
		f.err, f.last = "", rep
	}
	f.mu.Unlock()
	switch {
	case err != nil:
		s.log.Error("verification could not run", "err", err)
	case rep.OK():
		s.log.Info("verification passed", "records", rep.Records, "versions", rep.Versions, "blobs", rep.Blobs)
	default:
		for _, p := range rep.Problems {
			s.log.Error("verification problem", "kind", p.Kind, "key", p.Key, "record", p.Record, "detail", p.Detail)
		}
		s.log.Error("verification found problems", "problems", len(rep.Problems))
	}
	return rep, err
}

// lastVerify answers the last report in full (auditors and admins).
func (s *Server) lastVerify(c *fiber.Ctx) error {
	s.fixity.mu.Lock()
	rep, at, msg := s.fixity.last, s.fixity.at, s.fixity.err
	s.fixity.mu.Unlock()
	if msg != "" {
		return c.JSON(fiber.Map{"state": "failed", "time": at, "error": msg, "report": rep})
	}
	if rep == nil {
		return archive.Errorf(archive.ENOTFOUND, "no verification has run since the server started: POST /api/v1/verify runs one")
	}
	return c.JSON(fiber.Map{"state": s.fixity.view().State, "report": rep})
}

// runVerify runs a verification now and answers its report.
func (s *Server) runVerify(c *fiber.Ctx) error {
	rep, err := s.Verify(c.UserContext(), user(c).Username)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"state": s.fixity.view().State, "report": rep})
}
