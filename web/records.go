package web

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

// canSee reports whether u may know that rec exists at all. Confidential
// records are invisible, not forbidden, to those without the permission.
func canSee(u *archive.User, rec *archive.Record) bool {
	return rec.Confidentiality != archive.Confidential || archive.Can(u.Role, archive.PermConfidential)
}

// related loads the record a record points at (the letter it answers, its
// meeting) for the page or print of it, or nil when there is none, it cannot
// be read, or the user may not see it: what is named there must not reveal a
// confidential record.
func (s *Server) related(c *fiber.Ctx, id string) *archive.Record {
	if id == "" {
		return nil
	}
	r, _, err := s.store.Get(c.UserContext(), id)
	if err != nil || !canSee(user(c), r) {
		return nil
	}
	return r
}

// visibleRecord loads the record named by the :id parameter, answering 404 for
// one the user may not see.
func (s *Server) visibleRecord(c *fiber.Ctx) (*archive.Record, string, error) {
	rec, etag, err := s.store.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return nil, "", err
	}
	if !canSee(user(c), rec) {
		return nil, "", archive.Errorf(archive.ENOTFOUND, "no record %s", c.Params("id"))
	}
	return rec, etag, nil
}

func register(c *fiber.Ctx) (archive.Register, error) {
	reg := archive.Register(c.Params("register"))
	if !reg.Valid() {
		return "", archive.Errorf(archive.ENOTFOUND, "no register %q: use incoming, outgoing, decisions or minutes", reg)
	}
	return reg, nil
}

type registerInfo struct {
	Name  archive.Register `json:"name"`
	Title string           `json:"title"`
	Years []int            `json:"years"`
}

// listRegisters lists the registers with their years. A reader is not
// shown a year that holds only confidential entries: that such a year
// exists is itself something they may not know.
func (s *Server) listRegisters(c *fiber.Ctx) error {
	var out []registerInfo
	for _, reg := range archive.Registers() {
		years, err := s.store.Years(c.UserContext(), reg)
		if err != nil {
			return err
		}
		if !archive.Can(user(c).Role, archive.PermConfidential) && len(years) > 0 {
			if years, err = s.visibleYears(c.UserContext(), reg, years); err != nil {
				return err
			}
		}
		if years == nil {
			years = []int{}
		}
		out = append(out, registerInfo{Name: reg, Title: reg.Title(), Years: years})
	}
	return c.JSON(fiber.Map{"registers": out})
}

// visibleYears keeps the years of reg that hold a record a reader may see,
// as the readers' part of the index counts them (without an index: none is
// left out, since the index is what keeps this cheap).
func (s *Server) visibleYears(ctx context.Context, reg archive.Register, years []int) ([]int, error) {
	if s.index == nil {
		return years, nil
	}
	res, err := s.index.Search(ctx, index.Query{Register: string(reg), Size: 1})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(years, func(y int) bool { return res.Facets["year"][strconv.Itoa(y)] == 0 }), nil
}

func queryInt(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, archive.Errorf(archive.EINVALID, "%s must be a number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// listRecords pages through one register's year, newest first unless
// order=asc. Confidential entries are skipped (and not counted) for those
// who may not see them.
func (s *Server) listRecords(c *fiber.Ctx) error {
	reg, err := register(c)
	if err != nil {
		return err
	}
	year, err := queryInt(c, "year", s.store.Now().Year(), 1, 9999)
	if err != nil {
		return err
	}
	page, err := queryInt(c, "page", 1, 1, 1<<20)
	if err != nil {
		return err
	}
	size, err := queryInt(c, "size", 50, 1, 500)
	if err != nil {
		return err
	}
	u := user(c)
	var recs []*archive.Record
	for rec, err := range s.store.Records(c.UserContext(), reg, year) {
		if err != nil {
			return err
		}
		if canSee(u, rec) {
			recs = append(recs, rec)
		}
	}
	if c.Query("order") != "asc" {
		for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
			recs[i], recs[j] = recs[j], recs[i]
		}
	}
	total := len(recs)
	from := min((page-1)*size, total)
	to := min(from+size, total)
	shown, err := s.redacted(c.UserContext(), u, recs[from:to]...)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"register": reg, "year": year, "total": total, "page": page, "size": size,
		"records": nonNil(shown)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) createRecord(c *fiber.Ctx) error {
	reg, err := register(c)
	if err != nil {
		return err
	}
	var f archive.Fields
	var files []archive.Attachment
	if isMultipart(c) {
		// A record with its scanned files in one request: the files are stored
		// first, then the record that names them.
		var sawRecord bool
		files, err = s.readMultipart(c, func(name string, value []byte) error {
			if name != "record" {
				return nil
			}
			sawRecord = true
			return decodeStrict(value, &f)
		}, nil)
		if err != nil {
			return err
		}
		if !sawRecord {
			return archive.Errorf(archive.EINVALID, "the multipart form needs a part named record with the record's JSON")
		}
	} else if err := s.decodeJSON(c, &f); err != nil {
		return err
	}
	key := c.Get("Idempotency-Key")
	if len(key) > 200 {
		return archive.Errorf(archive.EINVALID, "Idempotency-Key is longer than 200 characters")
	}
	rec, created, err := s.store.Create(c.UserContext(), user(c).Username, reg, f, files, key)
	if err != nil {
		return err
	}
	s.enqueueText(c.UserContext(), rec.ID, files)
	_, etag, err := s.store.Get(c.UserContext(), rec.ID)
	if err == nil {
		c.Set(fiber.HeaderETag, quote(etag))
	}
	c.Set(fiber.HeaderLocation, "/api/v1/records/"+rec.ID)
	status := fiber.StatusCreated
	if !created {
		status = fiber.StatusOK
	}
	if rec, err = s.redactedOne(c.UserContext(), user(c), rec); err != nil {
		return err
	}
	return c.Status(status).JSON(rec)
}

func quote(etag string) string { return `"` + etag + `"` }

func unquote(etag string) string {
	etag = strings.TrimSpace(etag)
	etag = strings.TrimPrefix(etag, "W/")
	return strings.Trim(etag, `"`)
}

func (s *Server) getRecord(c *fiber.Ctx) error {
	rec, etag, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, quote(etag))
	if rec, err = s.redactedOne(c.UserContext(), user(c), rec); err != nil {
		return err
	}
	return c.JSON(s.withTextStatus(c.UserContext(), rec))
}

func (s *Server) updateRecord(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	match := c.Get(fiber.HeaderIfMatch)
	if match == "" {
		return c.Status(fiber.StatusPreconditionRequired).JSON(errorBody{
			Error: "send If-Match with the ETag of the version you edited", Code: "precondition_required"})
	}
	var f archive.Fields
	if err := s.decodeJSON(c, &f); err != nil {
		return err
	}
	upd, etag, err := s.store.Update(c.UserContext(), user(c).Username, rec.ID, unquote(match), f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, quote(etag))
	if upd, err = s.redactedOne(c.UserContext(), user(c), upd); err != nil {
		return err
	}
	return c.JSON(upd)
}

type annulRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) annulRecord(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	var req annulRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	upd, etag, err := s.store.Annul(c.UserContext(), user(c).Username, rec.ID, unquote(c.Get(fiber.HeaderIfMatch)), req.Reason)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, quote(etag))
	if upd, err = s.redactedOne(c.UserContext(), user(c), upd); err != nil {
		return err
	}
	return c.JSON(upd)
}

func (s *Server) recordHistory(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	hist, err := s.store.History(c.UserContext(), rec.ID)
	if err != nil {
		return err
	}
	if hist, err = s.redacted(c.UserContext(), user(c), hist...); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"versions": nonNil(hist)})
}
