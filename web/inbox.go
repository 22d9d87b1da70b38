package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
)

// The scan inbox (archive/inbox.go) through the API: drop scans in, see each
// with its text's state and what the text suggests, and take each out by
// registering it, attaching it to an entry, splitting it or discarding it.
// Only those who register (PermWrite) see it: a reader never learns what
// came in before it is registered, confidential or not.

// inboxView is an item as the API and the inbox page show it.
type inboxView struct {
	*archive.InboxItem
	// Text is the state of the file's text (pending, done...), as for an
	// attachment.
	Text *extract.Status `json:"text,omitempty"`
	// Suggestion is what the text suggests for the registration form.
	Suggestion *archive.Suggestion `json:"suggestion,omitempty"`
	// Excerpt is the text's beginning, for the secretary to recognise the
	// letter.
	Excerpt string `json:"excerpt,omitempty"`
}

// inboxView adds the text state, suggestion and excerpt to item.
func (s *Server) inboxView(ctx context.Context, item *archive.InboxItem) inboxView {
	v := inboxView{InboxItem: item}
	if s.extractor != nil {
		st := s.textStatus(ctx, item.File.SHA256)
		v.Text = &st
	}
	text, ok, err := s.store.Text(ctx, item.File.SHA256)
	if err != nil {
		s.log.Warn("reading an inbox item's text", "id", item.ID, "err", err)
	}
	if ok && strings.TrimSpace(text) != "" {
		sg := archive.SuggestIncoming(text)
		v.Suggestion = &sg
		v.Excerpt = excerpt(text, 280)
	}
	return v
}

// Splittable says whether the item's scan may hold several letters: a PDF
// or TIFF not known to have one page.
func (v inboxView) Splittable() bool {
	ct := v.File.ContentType
	if ct != "application/pdf" && ct != "image/tiff" {
		return false
	}
	return v.Text == nil || v.Text.Pages != 1
}

func (s *Server) listInbox(c *fiber.Ctx) error {
	items, err := s.store.InboxItems(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]inboxView, 0, len(items))
	for _, it := range items {
		out = append(out, s.inboxView(c.UserContext(), it))
	}
	return c.JSON(fiber.Map{"items": out, "total": len(out)})
}

// uploadInbox files every part named file as an inbox item and queues its
// text. The items exist when the answer (201) comes: the inbox page sends
// one file per request, so each file it shows as arrived is in the bucket.
func (s *Server) uploadInbox(c *fiber.Ctx) error {
	if !isMultipart(c) {
		return archive.Errorf(archive.EUNSUPPORTED, "send the scans as multipart/form-data in parts named file")
	}
	files, err := s.readMultipart(c, func(string, []byte) error { return nil }, nil)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return archive.Errorf(archive.EINVALID, "no file: send one or more parts named file")
	}
	items, err := s.fileIntoInbox(c, archive.InboxUpload, files, nil)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"items": items})
}

// fileIntoInbox makes an item of each stored file (with the IDs given, or
// fresh ones) and queues their text; no record carries them yet.
func (s *Server) fileIntoInbox(c *fiber.Ctx, source string, files []archive.Attachment, origins []string) ([]inboxView, error) {
	ctx := c.UserContext()
	out := make([]inboxView, 0, len(files))
	for i, a := range files {
		id, origin := "", ""
		if origins != nil {
			origin = origins[i]
			id = archive.InboxIDFor(origin)
		}
		item, _, err := s.store.AddToInbox(ctx, user(c).Username, c.IP(), id, source, origin, a)
		if err != nil {
			return nil, err
		}
		out = append(out, inboxView{InboxItem: item})
	}
	s.enqueueText(ctx, "", files)
	return out, nil
}

func (s *Server) getInboxItem(c *fiber.Ctx) error {
	item, err := s.store.InboxItem(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s.inboxView(c.UserContext(), item))
}

// inboxFile sends an item's scan, to look at before registering it.
func (s *Server) inboxFile(c *fiber.Ctx) error {
	item, err := s.store.InboxItem(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	a := item.File
	rc, info, err := s.store.OpenBlob(c.UserContext(), a.SHA256)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", archive.WithExtension(a.Name, a.ContentType)))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendStream(rc, int(info.Size))
}

// thumbWidth is the width of an inbox thumbnail in pixels: sharp enough on a
// dense screen at the 120 CSS pixels the page shows it at.
const thumbWidth = 240

// thumbKey keeps a file's thumbnail: drawing a scan's first page takes a few
// hundred milliseconds, and the inbox shows thirty at once.
func thumbKey(sum string) string { return "thumbs/" + sum + ".jpg" }

// inboxThumb sends a small picture of the first page of an item's scan,
// drawn once and kept in the bucket (derived, like the search index: not
// backed up).
func (s *Server) inboxThumb(c *fiber.Ctx) error {
	ctx := c.UserContext()
	item, err := s.store.InboxItem(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	a := item.File
	// An item's file never changes: its picture may be kept for the day.
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	if rc, _, err := s.store.Bucket().Get(ctx, thumbKey(a.SHA256)); err == nil {
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, 4<<20))
		if err == nil {
			c.Set(fiber.HeaderContentType, "image/jpeg")
			return c.Send(b)
		}
	}
	var thumb []byte
	err = s.withScanFile(ctx, a, func(x extract.Extractor, path, dir string) error {
		thumb, err = x.Thumbnail(ctx, path, a.ContentType, dir, thumbWidth)
		return err
	})
	if err != nil {
		return err
	}
	if _, err := s.store.Bucket().Put(ctx, thumbKey(a.SHA256), bytes.NewReader(thumb), int64(len(thumb))); err != nil {
		s.log.Warn("keeping a thumbnail", "sha256", a.SHA256, "err", err)
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	return c.Send(thumb)
}

// withScanFile copies the stored file a to a scratch folder and calls fn
// with it and the tools that draw and cut scans, holding one of the slots
// that bound how many scans are drawn at once (one decoded A4 scan can take
// a few hundred MB).
func (s *Server) withScanFile(ctx context.Context, a archive.Attachment, fn func(x extract.Extractor, path, dir string) error) error {
	dir, err := os.MkdirTemp(s.store.TempDir(), "scan-*")
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	defer os.RemoveAll(dir)
	f, err := os.CreateTemp(dir, "scan-*")
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	rc, _, err := s.store.OpenBlob(ctx, a.SHA256)
	if err != nil {
		f.Close()
		return err
	}
	_, err = io.Copy(f, rc)
	rc.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("web: read %s: %w", a.SHA256, err)
	}
	var tools extract.Tools
	if s.extractor != nil {
		tools = s.extractor.Tools()
	} else {
		tools = extract.DetectTools(ctx, "")
	}
	select {
	case s.pageSlots <- struct{}{}:
		defer func() { <-s.pageSlots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	err = fn(extract.Extractor{Tools: tools}, f.Name(), dir)
	if errors.Is(err, extract.ErrUnavailable) {
		return archive.Errorf(archive.EUNAVAILABLE, "the server cannot draw or cut this file: %v", err)
	}
	return err
}

// inboxRegisterRequest is the body of POST /api/v1/inbox/{id}/register: the
// entry's fields, as for POST /api/v1/registers/{register}/records.
type inboxRegisterRequest struct {
	Register archive.Register `json:"register"`
	Record   archive.Fields   `json:"record"`
}

// registerFromInbox registers an item's scan as a new entry (incoming unless
// the body names another register) and takes it out of the inbox.
func (s *Server) registerFromInbox(c *fiber.Ctx) error {
	var req inboxRegisterRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Register == "" {
		req.Register = archive.Incoming
	}
	if !req.Register.Valid() {
		return archive.Errorf(archive.EINVALID, "no register %q", req.Register)
	}
	item, err := s.store.InboxItem(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	rec, created, err := s.registerItem(c, item, req.Register, req.Record, nil)
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if !created {
		status = fiber.StatusOK
	}
	c.Set(fiber.HeaderLocation, "/api/v1/records/"+rec.ID)
	if rec, err = s.redactedOne(c.UserContext(), user(c), rec); err != nil {
		return err
	}
	return c.Status(status).JSON(rec)
}

// registerItem registers item's scan (first) and more files as a new entry
// of reg. Its idempotency key is the item's: a second press, or a colleague
// registering the same item at once, gets the same entry, and a crash
// between the entry and taking the item out is mended by registering again.
func (s *Server) registerItem(c *fiber.Ctx, item *archive.InboxItem, reg archive.Register, f archive.Fields, more []archive.Attachment) (*archive.Record, bool, error) {
	ctx := c.UserContext()
	files := append([]archive.Attachment{item.File}, more...)
	rec, created, err := s.store.Create(ctx, user(c).Username, reg, f, files, archive.InboxRegisterKey(item.ID))
	if err != nil {
		return nil, false, err
	}
	s.enqueueText(ctx, rec.ID, files)
	if err := s.store.TakeFromInbox(ctx, user(c).Username, c.IP(), archive.ActionInboxRegister, item, rec.ID, ""); err != nil {
		return nil, false, err
	}
	return rec, created, nil
}

// inboxAttachRequest names the entry an item's scan is added to: its ID, or
// its number and year ("12/2026") in the register named.
type inboxAttachRequest struct {
	Register archive.Register `json:"register"`
	Record   string           `json:"record"`
}

func (s *Server) attachFromInbox(c *fiber.Ctx) error {
	var req inboxAttachRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	item, err := s.store.InboxItem(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	rec, err := s.attachItem(c, item, req.Register, req.Record)
	if err != nil {
		return err
	}
	if rec, err = s.redactedOne(c.UserContext(), user(c), rec); err != nil {
		return err
	}
	return c.JSON(rec)
}

// attachItem adds item's scan to the entry ref (an ID, or number/year in
// reg, incoming by default) that the user may see, and takes the item out.
func (s *Server) attachItem(c *fiber.Ctx, item *archive.InboxItem, reg archive.Register, ref string) (*archive.Record, error) {
	ctx := c.UserContext()
	if reg == "" {
		reg = archive.Incoming
	}
	id := reg.RefID(strings.TrimSpace(ref))
	rec, _, err := s.store.Get(ctx, id)
	if err == nil && !canSee(user(c), rec) {
		err = archive.Errorf(archive.ENOTFOUND, "no record %s", id)
	}
	if err != nil {
		return nil, err
	}
	rec, err = s.store.Attach(ctx, user(c).Username, rec.ID, []archive.Attachment{item.File})
	if err != nil {
		return nil, err
	}
	s.enqueueText(ctx, rec.ID, []archive.Attachment{item.File})
	if err := s.store.TakeFromInbox(ctx, user(c).Username, c.IP(), archive.ActionInboxAttach, item, rec.ID, ""); err != nil {
		return nil, err
	}
	return rec, nil
}

// inboxSplitRequest says how to cut an item's scan: "1-2, 3, 4-6".
type inboxSplitRequest struct {
	Pages string `json:"pages"`
}

func (s *Server) splitInbox(c *fiber.Ctx) error {
	var req inboxSplitRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	item, err := s.store.InboxItem(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	items, err := s.splitItem(c, item, req.Pages)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"items": items})
}

// splitItem cuts item's scan into the parts pages names, each a new item
// (named by the item and its pages, so that doing it again after a crash
// makes the same items), and takes the item out.
func (s *Server) splitItem(c *fiber.Ctx, item *archive.InboxItem, pages string) ([]inboxView, error) {
	ctx := c.UserContext()
	a := item.File
	var files []archive.Attachment
	var origins []string
	err := s.withScanFile(ctx, a, func(x extract.Extractor, path, dir string) error {
		n, err := x.PageCount(ctx, path, a.ContentType)
		if err != nil {
			return err
		}
		parts, err := extract.ParsePageRanges(pages, n)
		if err != nil {
			return err
		}
		paths, err := x.Split(ctx, path, a.ContentType, dir, parts)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(a.Name, extOf(a.Name))
		for i, p := range paths {
			name := fmt.Sprintf("%s (%d-%d)%s", base, parts[i].From, parts[i].To, extOf(p))
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("web: split: %w", err)
			}
			part, err := s.store.PutBlob(ctx, f, name, s.cfg.MaxUploadBytes)
			f.Close()
			if err != nil {
				return err
			}
			files = append(files, part)
			origins = append(origins, fmt.Sprintf("%s %d-%d", item.ID, parts[i].From, parts[i].To))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, err := s.fileIntoInbox(c, archive.InboxSplit, files, origins)
	if err != nil {
		return nil, err
	}
	if err := s.store.TakeFromInbox(ctx, user(c).Username, c.IP(), archive.ActionInboxSplit, item, "", "pages "+pages); err != nil {
		return nil, err
	}
	return out, nil
}

// extOf is a file name's extension with its dot ("" without one).
func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 && i >= len(name)-6 {
		return name[i:]
	}
	return ""
}

// discardInbox takes an item out without registering it: a blank page, a
// scan made twice. Its file stays in the bucket and the audit trail says
// who discarded it.
func (s *Server) discardInbox(c *fiber.Ctx) error {
	item, err := s.store.InboxItem(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.store.TakeFromInbox(c.UserContext(), user(c).Username, c.IP(), archive.ActionInboxDiscard, item, "", ""); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
