package web

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// fixityView is the part of the last verification /healthz shows.
type fixityView struct {
	State    string    `json:"state"` // "not run yet", "ok", "problems" or "failed"
	Time     time.Time `json:"time,omitzero"`
	OK       bool      `json:"ok"`
	Problems int       `json:"problems"`
	Error    string    `json:"error,omitempty"`
}

func viewOf(run *archive.VerifyRun) fixityView {
	switch {
	case run == nil:
		return fixityView{State: "not run yet"}
	case run.Error != "":
		return fixityView{State: "failed", Time: run.Time, Error: run.Error}
	case run.Report.OK():
		return fixityView{State: "ok", Time: run.Time, OK: true}
	}
	return fixityView{State: "problems", Time: run.Time, Problems: len(run.Report.Problems)}
}

// fixityView reads the last verification from the bucket, where every
// process serving it keeps it.
func (s *Server) fixityView(ctx context.Context) fixityView {
	run, err := s.store.LastVerifyRun(ctx)
	if err != nil {
		return fixityView{State: "unknown", Error: archive.ErrorMessage(err)}
	}
	return viewOf(run)
}

// verifyLeaseTTL is how long a verification's lease lasts unless renewed;
// it is renewed every third of it while the run goes on.
const verifyLeaseTTL = 2 * time.Minute

// Verify checks the fixity of the whole archive now (archive.Store.Verify)
// and keeps the outcome in the bucket for /healthz, GET /api/v1/verify and
// the verification page of every process; every problem is logged. The
// processes sharing the bucket verify one at a time (a lease): a second
// caller anywhere gets ECONFLICT. actor is recorded in the audit trail.
func (s *Server) Verify(ctx context.Context, actor string) (*archive.VerifyReport, error) {
	lease, err := s.store.AcquireLease(ctx, archive.VerifyLease, verifyLeaseTTL)
	if errors.Is(err, archive.ErrLeaseHeld) {
		return nil, archive.Errorf(archive.ECONFLICT, "a verification is already running")
	}
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(verifyLeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if err := lease.Renew(runCtx); err != nil && runCtx.Err() == nil {
					cancel(err) // another process took over: stop
					return
				}
			}
		}
	}()
	rep, err := s.store.Verify(runCtx, actor, nil)
	cancel(nil)
	<-renewed
	defer lease.Release(context.WithoutCancel(ctx))
	if err != nil && ctx.Err() != nil {
		// Stopped by a shutdown: not a result, and not worth an error.
		s.log.Info("verification stopped before it finished", "err", err)
		return nil, err
	}
	run := archive.VerifyRun{Time: time.Now().UTC(), Actor: actor, Report: rep}
	if err != nil {
		run.Error = archive.ErrorMessage(err)
		run.Report = nil
	}
	if serr := s.store.SaveVerifyRun(ctx, run); serr != nil {
		s.log.Error("the verification report could not be kept", "err", serr)
	}
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

// VerifyIfDue runs the scheduled verification if the last one, by any
// process, is older than every, and returns when the next one is due. A
// verification running elsewhere is not waited for.
func (s *Server) VerifyIfDue(ctx context.Context, every time.Duration) time.Time {
	last, err := s.store.LastVerifyRun(ctx)
	if err != nil {
		s.log.Warn("cannot read the last verification; trying again in a minute", "err", err)
		return time.Now().Add(time.Minute)
	}
	if last != nil && time.Since(last.Time) < every {
		return last.Time.Add(every)
	}
	if _, err := s.Verify(ctx, "scheduler"); archive.ErrorCode(err) == archive.ECONFLICT {
		return time.Now().Add(time.Minute) // another process is verifying: look again then
	}
	return time.Now().Add(every)
}

// lastVerify answers the last report in full (auditors and admins).
func (s *Server) lastVerify(c *fiber.Ctx) error {
	run, err := s.store.LastVerifyRun(c.UserContext())
	if err != nil {
		return err
	}
	if run == nil {
		return archive.Errorf(archive.ENOTFOUND, "no verification has run yet: POST /api/v1/verify runs one")
	}
	v := viewOf(run)
	if run.Error != "" {
		return c.JSON(fiber.Map{"state": v.State, "time": run.Time, "error": run.Error, "report": run.Report})
	}
	return c.JSON(fiber.Map{"state": v.State, "time": run.Time, "report": run.Report})
}

// runVerify runs a verification now and answers its report.
func (s *Server) runVerify(c *fiber.Ctx) error {
	rep, err := s.Verify(c.UserContext(), user(c).Username)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"state": viewOf(&archive.VerifyRun{Report: rep}).State, "report": rep})
}
