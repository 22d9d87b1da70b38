package web

// pageRoutes registers the web application's pages (server-rendered, Arabic,
// right to left).
func (s *Server) pageRoutes() {}
