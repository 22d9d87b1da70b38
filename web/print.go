package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"os"
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
// The book goes to an unlinked temporary file and is streamed from there, so
// the server's memory does not grow with the register, and a failure half-way is
// still a clean JSON error, not a truncated download.
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
		EasternDigits: eastern, Hijri: hijri, Now: s.store.Now(), Location: s.store.Location(),
		TempDir: s.store.TempDir()}
	f, err := os.CreateTemp(s.store.TempDir(), "book-*.pdf")
	if err != nil {
		return fmt.Errorf("web: book: %w", err)
	}
	os.Remove(f.Name()) // the open file lives on until fasthttp has sent and closed it
	size, err := writeBook(ctx, f, opt, s.store.Records(ctx, reg, year))
	if err != nil {
		f.Close()
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: user(c).Username, Action: archive.ActionExport,
		Target: fmt.Sprintf("%s/%d", reg, year), Detail: "book.pdf", Remote: c.IP()})
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", fmt.Sprintf("%s-%d.pdf", reg, year)))
	return c.SendStream(f, int(size))
}

// writeBook renders a book into f and rewinds it, returning its size.
func writeBook(ctx context.Context, f *os.File, opt render.BookOptions, records iter.Seq2[*archive.Record, error]) (int64, error) {
	if err := render.Book(ctx, f, opt, records); err != nil {
		return 0, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return 0, fmt.Errorf("web: book: %w", err)
	}
	return size, nil
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
