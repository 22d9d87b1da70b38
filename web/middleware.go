package web

import (
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// middleware installs what every request passes through.
func (s *Server) middleware() {
	s.app.Use(recover.New())
}
