package web

import (
	"context"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

// Index is what the server needs of the search index.
type Index interface {
	Put(ctx context.Context, rec *archive.Record, texts []string) error
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	Rebuild(ctx context.Context, src index.Source, progress func(done, total int)) error
	NeedsRebuild() bool
	Count() (uint64, error)
}

// indexState says whether search results are complete: "ready", "indexing"
// while a rebuild runs, "failed" if the last rebuild failed, "none" without an index.
type indexState struct{ v atomic.Value }

func (s *indexState) get() string {
	if v, ok := s.v.Load().(string); ok {
		return v
	}
	return "none"
}
func (s *indexState) set(v string) { s.v.Store(v) }

// Source is the archive as the index rebuild reads it.
type Source struct{ Store *archive.Store }

// Records implements index.Source.
func (s Source) Records(ctx context.Context, fn func(*archive.Record) error) error {
	for rec, err := range s.Store.AllRecords(ctx) {
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// Texts implements index.Source.
func (s Source) Texts(ctx context.Context, rec *archive.Record) ([]string, error) {
	return s.Store.Texts(ctx, rec)
}

// CountRecords implements index.RecordCounter, for progress against a total.
func (s Source) CountRecords(ctx context.Context) (int, error) { return s.Store.CountRecords(ctx) }

// RebuildIndex rebuilds the index from storage, logging progress. Searches
// keep working on the old index meanwhile and report "indexing".
func (s *Server) RebuildIndex(ctx context.Context) error {
	s.indexStatus.set("indexing")
	last := -1
	err := s.index.Rebuild(ctx, Source{s.store}, func(done, total int) {
		if pct := done * 100 / max(total, 1); pct/10 != last/10 {
			last = pct
			s.log.Info("rebuilding the search index", "done", done, "total", total)
		}
	})
	if err != nil {
		s.indexStatus.set("failed")
		return err
	}
	s.indexStatus.set("ready")
	s.log.Info("search index ready")
	return nil
}

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
	state := s.indexStatus.get()
	c.Set("X-Sijill-Index", state)
	return c.JSON(searchResponse{Result: res, Indexing: state == "indexing"})
}

type searchResponse struct {
	*index.Result
	Indexing bool `json:"indexing,omitempty"`
}
