package web

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// verifyData is the verification page: the last result the server keeps
// (the one /healthz reports), with its problems and each book's digest and
// chain head, to compare with a printed book's closing certificate.
type verifyData struct {
	State   string // "not run yet", "ok", "problems" or "failed"
	At      time.Time
	Error   string
	Report  *archive.VerifyReport
	Running bool
	Ran     bool // this page follows a run started from it
}

// StateKey is the catalogue key of the state.
func (d verifyData) StateKey() string {
	switch d.State {
	case "ok", "problems", "failed":
		return "verify.state." + d.State
	}
	return "verify.state.none"
}

// verifyPage shows the last verification, whichever process ran it.
func (u *ui) verifyPage(c *fiber.Ctx) error {
	run, err := u.s.store.LastVerifyRun(c.UserContext())
	if err != nil {
		return err
	}
	running, err := u.s.store.LeaseHeld(c.UserContext(), archive.VerifyLease)
	if err != nil {
		return err
	}
	v := viewOf(run)
	d := verifyData{State: v.State, At: v.Time, Error: v.Error, Running: running, Ran: c.Query("ran") != ""}
	if run != nil {
		d.Report = run.Report
	}
	return u.render(c, http.StatusOK, "verify", "verify", d)
}

// verifyRun verifies the archive now (as POST /api/v1/verify does) and shows
// the result; one already running is a 409 page.
func (u *ui) verifyRun(c *fiber.Ctx) error {
	if _, err := u.readPlainForm(c); err != nil {
		return err
	}
	if _, err := u.s.Verify(c.UserContext(), user(c).Username); err != nil && archive.ErrorCode(err) == archive.ECONFLICT {
		return err
	}
	// A run that could not read the archive is kept as the last result
	// and shown on the page, like one that found problems.
	return c.Redirect("/verify?ran=1", http.StatusSeeOther)
}

// ProblemLabel is a verification problem's kind in the page's language; an
// unknown kind shows as it is.
func (v *view) ProblemLabel(kind string) string {
	if _, ok := v.tr.msgs["verify.kind."+kind]; ok {
		return v.T("verify.kind." + kind)
	}
	return kind
}
