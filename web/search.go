package web

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

// Index is what the server needs of the search index. The index is kept
// up to date by the Store's hook and by following the bucket (see
// index.Index.Follow); the server only searches it and shows its state.
type Index interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	// State is "ready", "rebuilding", "behind" or "disk_full".
	State() string
}

// indexState is the state of the search index, "none" without one.
func (s *Server) indexState() string {
	if s.index == nil {
		return "none"
	}
	return s.index.State()
}

// indexReady reports whether the index may be trusted to hold every record
// (for pages that would otherwise read the registers themselves).
func (s *Server) indexReady() bool { return s.indexState() == "ready" }

func (s *Server) search(c *fiber.Ctx) error {
	if s.index == nil {
		return archive.Errorf(archive.EUNAVAILABLE, "search is not available on this server")
	}
	q := index.Query{
		Text: c.Query("q"), Register: c.Query("register"), Committee: c.Query("committee"),
		Tag: c.Query("tag"), Status: c.Query("status"), From: c.Query("from"), To: c.Query("to"),
		Sort: c.Query("sort"), SeeConfidential: archive.Can(user(c).Role, archive.PermConfidential),
	}
	var err error
	if q.Year, err = queryInt(c, "year", 0, 0, 9999); err != nil {
		return err
	}
	if q.Page, err = queryInt(c, "page", 1, 1, 10000); err != nil {
		return err
	}
	if q.Size, err = queryInt(c, "size", 20, 1, 100); err != nil {
		return err
	}
	res, err := s.index.Search(c.UserContext(), q)
	if err != nil {
		return err
	}
	state := s.indexState()
	c.Set("X-Sijill-Index", state)
	return c.JSON(searchResponse{Result: res, Indexing: state == "rebuilding"})
}

type searchResponse struct {
	*index.Result
	Indexing bool `json:"indexing,omitempty"`
}
