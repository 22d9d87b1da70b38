package web

import (
	"bufio"
	"fmt"
	"iter"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render"
)

// printOptions reads the optional print settings of a request.
func printFlags(c *fiber.Ctx) (eastern, hijri bool) {
	return c.QueryBool("eastern", false), c.QueryBool("hijri", false)
}

// book streams the register book of one register and year as PDF. It is an
// official export, so it is audited. Confidential entries are in it: only
// roles with the print permission (which all see confidential records) reach it.
func (s *Server) book(c *fiber.Ctx) error {
	reg, err := register(c)
	if err != nil {
		return err
	}
	year, err := strconv.Atoi(c.Params("year"))
	if err != nil || year < 1 || year > 9999 {
		return archive.Errorf(archive.ENOTFOUND, "no year %q", c.Params("year"))
	}
	// Read the first record before answering, so a storage failure is a 503
	// and not a broken PDF.
	ctx := c.UserContext()
	next, stop := iter.Pull2(s.store.Records(ctx, reg, year))
	first, ferr, ok := next()
	if ok && ferr != nil {
		stop()
		return ferr
	}
	records := func(yield func(*archive.Record, error) bool) {
		defer stop()
		if !ok || !yield(first, nil) {
			return
		}
		for {
			rec, err, ok := next()
			if !ok || !yield(rec, err) {
				return
			}
		}
	}
	eastern, hijri := printFlags(c)
	opt := render.BookOptions{Organisation: s.cfg.Organisation, Register: reg, Year: year,
		EasternDigits: eastern, Hijri: hijri, Now: s.store.Now(), Location: s.store.Location()}
	_ = s.store.Audit(ctx, archive.Event{Actor: user(c).Username, Action: archive.ActionExport,
		Target: fmt.Sprintf("%s/%d", reg, year), Detail: "book.pdf", Remote: c.IP()})
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", fmt.Sprintf("%s-%d.pdf", reg, year)))
	log := s.log
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		if err := render.Book(ctx, w, opt, records); err != nil {
			log.Error("register book failed while streaming", "register", reg, "year", year, "err", err)
		}
		w.Flush()
	}))
	return nil
}

// printRecord renders one record as an official letter or decision.
func (s *Server) printRecord(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	eastern, hijri := printFlags(c)
	opt := render.PrintOptions{Organisation: s.cfg.Organisation, EasternDigits: eastern, Hijri: hijri,
		Now: s.store.Now(), Location: s.store.Location()}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", rec.ID+".pdf"))
	return render.RecordPrint(c.UserContext(), c.Response().BodyWriter(), opt, rec)
}
