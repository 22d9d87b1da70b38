package web

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render"
)

// printFlags reads the optional print settings of a request; without them,
// the user's display preferences decide.
func printFlags(c *fiber.Ctx) (eastern, hijri bool) {
	var p archive.Prefs
	if u := user(c); u != nil {
		p = u.Prefs
	}
	return c.QueryBool("eastern", p.EasternDigits), c.QueryBool("hijri", p.Hijri)
}

// book renders the register book of one register and year as PDF. It is an
// official export, so it is audited. Confidential entries are in it (the
// digest on its closing certificate covers every entry): only roles with the
// print permission, who all see confidential records, reach it.
//
// The book goes to an unlinked temporary file and is streamed from there
// (tempFile).
func (s *Server) book(c *fiber.Ctx) error {
	reg, year, err := registerYear(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	eastern, hijri := printFlags(c)
	opt := render.BookOptions{Organisation: s.cfg.Organisation, Register: reg, Year: year,
		EasternDigits: eastern, Hijri: hijri, Now: s.store.Now(), Location: s.store.Location(),
		TempDir: s.store.TempDir(), Signer: s.cfg.Signer}
	f, size, err := s.tempFile("book-*.pdf", func(w io.Writer) error {
		return render.Book(ctx, w, opt, s.store.Records(ctx, reg, year))
	})
	if err != nil {
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: user(c).Username, Action: archive.ActionExport,
		Target: fmt.Sprintf("%s/%d", reg, year), Detail: "book.pdf", Remote: c.IP()})
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", fmt.Sprintf("%s-%d.pdf", reg, year)))
	return c.SendStream(f, int(size))
}

// registerYear reads the :register and :year of a route.
func registerYear(c *fiber.Ctx) (archive.Register, int, error) {
	reg, err := register(c)
	if err != nil {
		return "", 0, err
	}
	year, err := strconv.Atoi(c.Params("year"))
	if err != nil || year < 1 || year > 9999 {
		return "", 0, archive.Errorf(archive.ENOTFOUND, "no year %q", c.Params("year"))
	}
	return reg, year, nil
}

// tempFile runs write into an unlinked temporary file and returns it rewound,
// with its size, for c.SendStream (which closes it once sent). What is sent
// whole this way — a register book, a bag — does not sit in memory, and a
// failure half-way is still a clean error, not a truncated download.
func (s *Server) tempFile(pattern string, write func(io.Writer) error) (*os.File, int64, error) {
	f, err := os.CreateTemp(s.store.TempDir(), pattern)
	if err != nil {
		return nil, 0, fmt.Errorf("web: %w", archive.NoSpace(err))
	}
	os.Remove(f.Name()) // the open file lives on until fasthttp has sent and closed it
	err = write(f)
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, archive.NoSpace(err) // a full disk is 507, not a failed render
	}
	return f, size, nil
}

// printRecord renders one record as an official letter or decision.
func (s *Server) printRecord(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	eastern, hijri := printFlags(c)
	opt := render.PrintOptions{Organisation: s.cfg.Organisation, EasternDigits: eastern, Hijri: hijri,
		Now: s.store.Now(), Location: s.store.Location(), Signer: s.cfg.Signer}
	// The letter a reply answers and a decision's meeting are cited only when
	// this reader may see them.
	opt.InReplyTo, opt.Meeting = s.related(c, rec.InReplyTo), s.related(c, rec.Meeting)
	var buf bytes.Buffer
	if err := render.RecordPrint(c.UserContext(), &buf, opt, rec); err != nil {
		return err
	}
	s.auditPrint(c, rec, "print.pdf")
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", rec.ID+".pdf"))
	return c.Send(buf.Bytes())
}
