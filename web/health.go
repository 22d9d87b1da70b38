package web

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// storageState probes the bucket with a cheap Stat.
func (s *Server) storageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := s.store.Bucket().Stat(ctx, "health/probe"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "unavailable"
	}
	return "ok"
}

// healthz tells whether the process is alive. Anyone may ask; only an
// administrator or auditor (by token or session) is told the details: the
// state of storage and index, the last verification, the text extraction
// tools and queue. A stranger learns nothing of the archive from it.
func (s *Server) healthz(c *fiber.Ctx) error {
	if !s.mayAudit(c) {
		return c.JSON(fiber.Map{"status": "ok"})
	}
	return c.JSON(fiber.Map{"status": "ok", "storage": s.storageState(c.UserContext()), "index": s.indexState(),
		"verify": s.fixityView(c.UserContext()), "ocr": s.ocrHealth()})
}

// readyz answers 503 while the process should not be sent requests: storage
// unreachable, or its search index not in step with the bucket (being
// rebuilt, behind the change feed, or refusing writes for lack of disk).
// Load balancers ask it; it says only what is wrong, nothing of the archive.
func (s *Server) readyz(c *fiber.Ctx) error {
	st := s.storageState(c.UserContext())
	ix := s.indexState()
	status := http.StatusOK
	if st != "ok" || (ix != "ready" && ix != "none") {
		status = http.StatusServiceUnavailable
	}
	return c.Status(status).JSON(fiber.Map{"ready": status == http.StatusOK, "storage": st, "index": ix})
}

// mayAudit reports whether the request carries the token or session of a
// user who may see the archive's health in detail. It never fails the
// request: a missing or bad token is simply not privileged.
func (s *Server) mayAudit(c *fiber.Ctx) bool {
	tok := bearer(c)
	if tok == "" {
		return false
	}
	_, u, err := s.store.LookupToken(c.UserContext(), tok)
	return err == nil && archive.Can(u.Role, archive.PermAudit)
}
