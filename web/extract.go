package web

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
)

// TextExtractor is what the server needs of the background text extraction
// (extract.Pool): queue a record's files, and say how far each has got.
type TextExtractor interface {
	Enqueue(ctx context.Context, recordID string, files []archive.Attachment) error
	Status(ctx context.Context, sum string) (extract.Status, bool, error)
	Tools() extract.Tools
	Workers() int
	Queued() int
}

// enqueueText queues the text extraction of files newly carried by recordID.
// It runs before the record is indexed (see extract.Pool.Enqueue). A failure
// to queue does not fail the upload: the files are stored, and sijill
// reindex --ocr reads them later.
func (s *Server) enqueueText(ctx context.Context, recordID string, files []archive.Attachment) {
	if s.extractor == nil || len(files) == 0 {
		return
	}
	if err := s.extractor.Enqueue(ctx, recordID, files); err != nil {
		s.log.Error("files stored but their text extraction not queued; run sijill reindex --ocr", "id", recordID, "err", err)
	}
}

// attachmentView is an attachment as the API shows it: with the state of its
// text, which is not part of the record's stored JSON.
type attachmentView struct {
	archive.Attachment
	Text *extract.Status `json:"text,omitempty"`
}

// recordView is a record with its attachments' text states; its Attachments
// field hides the embedded record's.
type recordView struct {
	*archive.Record
	Attachments []attachmentView `json:"attachments"`
}

// withTextStatus adds to each attachment of rec the state of its text:
// pending, done (with its character count), failed (with the reason) or
// unavailable (the tool is not installed); "none" for a file stored when no
// extraction was queued for it.
func (s *Server) withTextStatus(ctx context.Context, rec *archive.Record) any {
	if s.extractor == nil {
		return rec
	}
	out := recordView{Record: rec, Attachments: make([]attachmentView, len(rec.Attachments))}
	cache := map[string]*extract.Status{}
	for i, a := range rec.Attachments {
		st, ok := cache[a.SHA256]
		if !ok {
			v := s.textStatus(ctx, a.SHA256)
			st = &v
			cache[a.SHA256] = st
		}
		out.Attachments[i] = attachmentView{Attachment: a, Text: st}
	}
	return out
}

// textStatus is the state of the text of file sum; "unknown" when its job
// cannot be read, "none" when no extraction was queued for it.
func (s *Server) textStatus(ctx context.Context, sum string) extract.Status {
	v, found, err := s.extractor.Status(ctx, sum)
	switch {
	case err != nil:
		s.log.Warn("reading a text extraction job", "sha256", sum, "err", err)
		v = extract.Status{Status: "unknown"}
	case !found:
		v = extract.Status{Status: "none"}
	}
	return v
}

// ocrHealth tells /healthz which extraction tools are installed, how many
// workers read files and how many files wait.
func (s *Server) ocrHealth() fiber.Map {
	if s.extractor == nil {
		return fiber.Map{"enabled": false}
	}
	t := s.extractor.Tools()
	return fiber.Map{"enabled": true, "available": t.OCR() && t.Pdftotext && t.Pdftoppm,
		"tesseract": t.Tesseract, "arabic": t.Arabic, "pdftotext": t.Pdftotext, "pdftoppm": t.Pdftoppm, "pdfinfo": t.Pdfinfo,
		"model": t.Model, "model_note": t.ModelNote,
		"workers": s.extractor.Workers(), "queued": s.extractor.Queued()}
}

// attachmentText is the text of a file as the record page and the API show
// it: a person's correction, or what was read from the file.
type attachmentText struct {
	Text      string                  `json:"text"`
	Corrected *archive.TextCorrection `json:"correction,omitempty"`
}

// attachmentTexts reads the text of each of rec's files that has one.
func (s *Server) attachmentTexts(c *fiber.Ctx, rec *archive.Record) (map[string]attachmentText, error) {
	out := map[string]attachmentText{}
	for _, a := range rec.Attachments {
		if _, done := out[a.SHA256]; done {
			continue
		}
		t, ok, err := s.store.AttachmentText(c.UserContext(), a)
		if err != nil {
			return nil, err
		}
		if ok {
			out[a.SHA256] = attachmentText{Text: t, Corrected: a.Corrected}
		}
	}
	return out, nil
}

// visibleAttachment reads the record of the route's :id, as the caller may
// see it, and its file named by :sha256.
func (s *Server) visibleAttachment(c *fiber.Ctx) (*archive.Record, *archive.Attachment, error) {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return nil, nil, err
	}
	for i := range rec.Attachments {
		if rec.Attachments[i].SHA256 == c.Params("sha256") {
			return rec, &rec.Attachments[i], nil
		}
	}
	return nil, nil, archive.Errorf(archive.ENOTFOUND, "no such file in %s", rec.ID)
}

// getText answers the text of one of a record's files: the correction when
// a person made one (with who and when), else what was read from the file.
func (s *Server) getText(c *fiber.Ctx) error {
	_, att, err := s.visibleAttachment(c)
	if err != nil {
		return err
	}
	t, ok, err := s.store.AttachmentText(c.UserContext(), *att)
	if err != nil {
		return err
	}
	if !ok {
		return archive.Errorf(archive.ENOTFOUND, "the text of this file has not been read yet")
	}
	return c.JSON(attachmentText{Text: t, Corrected: att.Corrected})
}

// correctText keeps a person's correction of a file's text ({"text": ...}).
func (s *Server) correctText(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	upd, err := s.store.CorrectText(c.UserContext(), user(c).Username, rec.ID, c.Params("sha256"), body.Text)
	if err != nil {
		return err
	}
	return c.JSON(s.withTextStatus(c.UserContext(), upd))
}
