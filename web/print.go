package web

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render"
)

// printFlags reads the optional print settings of a request.
func printFlags(c *fiber.Ctx) (eastern, hijri bool) {
	return c.QueryBool("eastern", false), c.QueryBool("hijri", false)
}

// book renders the register book of one register and year as PDF. It is an
// official export, so it is audited. Confidential entries are in it (the
// digest on its closing certificate covers every entry): only roles with the
// print permission, who all see confidential records, reach it.
//
// render.Book completes the PDF before writing it, so it is rendered into a
// buffer (about 1.5 MB for 10,000 entries) and a failure is still a clean
// JSON error, not a truncated download.
func (s *Server) book(c *fiber.Ctx) error {
	reg, err := register(c)
	if err != nil {
		return err
	}
	year, err := strconv.Atoi(c.Params("year"))
	if err != nil || year < 1 || year > 9999 {
		return archive.Errorf(archive.ENOTFOUND, "no year %q", c.Params("year"))
	}
	ctx := c.UserContext()
	eastern, hijri := printFlags(c)
	opt := render.BookOptions{Organisation: s.cfg.Organisation, Register: reg, Year: year,
		EasternDigits: eastern, Hijri: hijri, Now: s.store.Now(), Location: s.store.Location()}
	var buf bytes.Buffer
	if err := render.Book(ctx, &buf, opt, s.store.Records(ctx, reg, year)); err != nil {
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: user(c).Username, Action: archive.ActionExport,
		Target: fmt.Sprintf("%s/%d", reg, year), Detail: "book.pdf", Remote: c.IP()})
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", fmt.Sprintf("%s-%d.pdf", reg, year)))
	return c.Send(buf.Bytes())
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
	var buf bytes.Buffer
	if err := render.RecordPrint(c.UserContext(), &buf, opt, rec); err != nil {
		return err
	}
	if rec.Confidentiality == archive.Confidential {
		// A printed confidential record leaves the archive: audited like a
		// download of its files.
		_ = s.store.Audit(c.UserContext(), archive.Event{Actor: user(c).Username, Action: archive.ActionExport,
			Target: rec.ID, Detail: "print.pdf", Remote: c.IP()})
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", rec.ID+".pdf"))
	return c.Send(buf.Bytes())
}
