package web

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
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

// healthz tells whether the process is alive, with the state of what it needs.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "storage": s.storageState(c.UserContext()), "index": s.indexStatus.get(),
		"verify": s.fixity.view(), "ocr": s.ocrHealth()})
}

// readyz answers 503 while the server cannot serve: storage unreachable.
func (s *Server) readyz(c *fiber.Ctx) error {
	st := s.storageState(c.UserContext())
	status := http.StatusOK
	if st != "ok" {
		status = http.StatusServiceUnavailable
	}
	return c.Status(status).JSON(fiber.Map{"ready": status == http.StatusOK, "storage": st, "index": s.indexStatus.get()})
}
