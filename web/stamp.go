package web

import (
	"bytes"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/render"
)

// stampOptions reads a stamp request's label size (?size=62x29, the
// default, or 100x50) and says where the QR code points: the entry's page
// at the server's public address (Config.PublicURL), or at the address the
// request came to when none is configured.
func (s *Server) stampOptions(c *fiber.Ctx, rec *archive.Record) (render.StampOptions, error) {
	if rec.Status == archive.StatusAnnulled {
		// A stamp is proof of a registration; an annulled one proves none.
		return render.StampOptions{}, archive.Errorf(archive.ECONFLICT, "%s is annulled: it gets no registration stamp", rec.ID)
	}
	eastern, _ := printFlags(c)
	opt := render.StampOptions{Organisation: s.cfg.Organisation, EasternDigits: eastern,
		Now: s.store.Now(), Location: s.store.Location(), Label: render.LabelSmall}
	if v := c.Query("size"); v != "" {
		sz, err := render.ParseLabelSize(v)
		if err != nil {
			return opt, err
		}
		opt.Label = sz
	}
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		base = c.BaseURL()
	}
	opt.URL = base + "/records/" + rec.ID
	return opt, nil
}

// stampLabel prints the registration stamp of an entry on a label.
func (s *Server) stampLabel(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	opt, err := s.stampOptions(c, rec)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := render.StampLabel(c.UserContext(), &buf, opt, rec); err != nil {
		return err
	}
	s.auditPrint(c, rec, "stamp.pdf")
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", rec.ID+"-stamp.pdf"))
	return c.Send(buf.Bytes())
}

// stampedPage prints the first page of one of an entry's scans with the
// registration stamp on it, for the paper original's file. The stored scan
// is read, never changed.
func (s *Server) stampedPage(c *fiber.Ctx) error {
	rec, att, err := s.visibleAttachment(c)
	if err != nil {
		return err
	}
	opt, err := s.stampOptions(c, rec)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var page []byte
	err = s.withScanFile(ctx, *att, func(x extract.Extractor, path, dir string) error {
		page, err = x.FirstPage(ctx, path, att.ContentType, dir)
		return err
	})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := render.StampedPage(ctx, &buf, opt, rec, page); err != nil {
		return err
	}
	s.auditPrint(c, rec, "stamped.pdf "+att.SHA256)
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", rec.ID+"-stamped.pdf"))
	return c.Send(buf.Bytes())
}

// auditPrint records the print of a confidential entry, which leaves the
// archive like a download of its files.
func (s *Server) auditPrint(c *fiber.Ctx, rec *archive.Record, detail string) {
	if rec.Confidentiality == archive.Confidential {
		_ = s.store.Audit(c.UserContext(), archive.Event{Actor: user(c).Username, Action: archive.ActionExport,
			Target: rec.ID, Detail: detail, Remote: c.IP()})
	}
}
