package web

import (
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/export"
)

// exportBag sends a register year as a zipped BagIt bag (export.Bag) to an
// administrator or auditor. Confidential entries are in it only for those who
// may see them. Like the book, the bag is made in a temporary file and sent
// from there (tempFile): a year of scans does not sit in memory.
func (s *Server) exportBag(c *fiber.Ctx) error {
	reg, year, err := registerYear(c)
	if err != nil {
		return err
	}
	u := user(c)
	ctx := c.UserContext()
	var sum *export.Summary
	f, size, err := s.tempFile("bag-*.zip", func(w io.Writer) (err error) {
		sum, err = export.WriteZip(ctx, s.store, w, export.Options{Organisation: s.cfg.Organisation, Register: reg,
			Year: year, Confidential: archive.Can(u.Role, archive.PermConfidential), ExportedBy: u.Username,
			Now: s.store.Now(), Location: s.store.Location(), TempDir: s.store.TempDir(), Signer: s.cfg.Signer})
		return err
	})
	if err != nil {
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: u.Username, Action: archive.ActionExport,
		Target: fmt.Sprintf("%s/%d", reg, year), Detail: fmt.Sprintf("bag.zip complete=%v", sum.Complete), Remote: c.IP()})
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", export.Name(reg, year)+".zip"))
	return c.SendStream(f, int(size))
}
