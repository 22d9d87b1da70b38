package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

func isMultipart(c *fiber.Ctx) bool {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	return mt == fiber.MIMEMultipartForm
}

// decodeStrict decodes a JSON value that arrived as a form part.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return archive.Errorf(archive.EINVALID, "invalid JSON in the record part: %v", err)
	}
	return nil
}

// readMultipart streams a multipart/form-data body: every part named "file" is
// stored with PutBlob as it arrives (hashed and sniffed, never held in
// memory), every other part goes to onField. A request larger than the upload
// limit is refused with 413 from its Content-Length before anything is stored.
// beforeFile, if set, runs before the first file is stored and may refuse the
// request: a page form's security token, a field that comes before its
// files, is checked there, so nothing is stored for a forged form.
func (s *Server) readMultipart(c *fiber.Ctx, onField func(name string, value []byte) error, beforeFile func() error) (files []archive.Attachment, err error) {
	defer func() {
		if err != nil {
			drain(c)
		}
	}()
	limit := s.cfg.MaxUploadBytes
	if n := c.Request().Header.ContentLength(); n > 0 && int64(n) > limit+(1<<20) {
		return nil, archive.Errorf(archive.ETOOLARGE, "the upload is larger than %d MB", limit>>20)
	}
	_, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || params["boundary"] == "" {
		return nil, archive.Errorf(archive.EINVALID, "malformed multipart Content-Type")
	}
	body := s.bodyStream(c)
	mr := multipart.NewReader(io.LimitReader(body, limit+(1<<20)), params["boundary"])
	fields := int64(0)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			// Read the body to its very end (the epilogue, the last chunk of a
			// chunked upload): bytes left unread when the connection closes, as it
			// does during a graceful shutdown, make the kernel reset it and the
			// client lose its 201 (TestGracefulShutdownDrainsUpload).
			io.Copy(io.Discard, io.LimitReader(body, drainLimit))
			break
		}
		if err != nil {
			return nil, archive.Errorf(archive.EINVALID, "malformed multipart body: %v", err)
		}
		name := part.FormName()
		if name == "file" {
			if beforeFile != nil && len(files) == 0 {
				if err := beforeFile(); err != nil {
					part.Close()
					return nil, err
				}
			}
			fname := part.FileName()
			var src io.Reader = part
			if fname == "" {
				// A page form whose file picker was left empty sends one empty,
				// nameless part: skip it rather than refuse the form.
				var first [1]byte
				n, _ := io.ReadFull(part, first[:])
				if n == 0 {
					part.Close()
					continue
				}
				src = io.MultiReader(bytes.NewReader(first[:n]), part)
			}
			a, err := s.store.PutBlob(c.UserContext(), clientReader{src}, fname, limit)
			part.Close()
			if err != nil {
				return nil, err
			}
			files = append(files, a)
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, jsonLimit+1-fields))
		part.Close()
		if err != nil {
			return nil, archive.Errorf(archive.EINVALID, "malformed multipart body: %v", err)
		}
		if fields += int64(len(value)); fields > jsonLimit {
			return nil, archive.Errorf(archive.ETOOLARGE, "the form's fields are larger than %d MB together", jsonLimit>>20)
		}
		if err := onField(name, value); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// clientReader marks a failure to read an uploaded part as the client's: a
// truncated or malformed body is a 400, not a server error.
type clientReader struct{ r io.Reader }

func (c clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = archive.Errorf(archive.EINVALID, "malformed or truncated upload: %v", err)
	}
	return n, err
}

func (s *Server) uploadAttachments(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	if !isMultipart(c) {
		return archive.Errorf(archive.EUNSUPPORTED, "send the files as multipart/form-data in parts named file")
	}
	files, err := s.readMultipart(c, func(string, []byte) error { return nil }, nil)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return archive.Errorf(archive.EINVALID, "no file: send one or more parts named file")
	}
	upd, err := s.store.Attach(c.UserContext(), user(c).Username, rec.ID, files)
	if err != nil {
		return err
	}
	s.enqueueText(c.UserContext(), rec.ID, files)
	added := map[string]bool{}
	for _, a := range files {
		added[a.SHA256+"\x00"+a.Name] = true
	}
	out := []archive.Attachment{}
	for _, a := range upd.Attachments {
		if added[a.SHA256+"\x00"+a.Name] {
			out = append(out, a)
		}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"attachments": out})
}

// contentDisposition names the file for the browser: an ASCII fallback and the
// real (often Arabic) name in RFC 5987 encoding, which every browser reads.
func contentDisposition(kind, name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, ascii, url.PathEscape(name))
}

func (s *Server) downloadAttachment(c *fiber.Ctx) error {
	rec, att, err := s.visibleAttachment(c)
	if err != nil {
		return err
	}
	sum := att.SHA256
	kind := "inline"
	if c.Query("download") != "" {
		kind = "attachment"
	}
	c.Set(fiber.HeaderContentType, att.ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(kind, archive.WithExtension(att.Name, att.ContentType)))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderETag, quote(sum))
	// The bytes never change, but who may read them does: a browser may
	// keep the file only if it asks again (If-None-Match, answered 304 after
	// the same checks as a download) before using it, so a record made
	// confidential since is not served from its cache. A confidential one
	// is not kept at all, and every read of it is audited.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	if rec.Confidentiality == archive.Confidential {
		c.Set(fiber.HeaderCacheControl, "no-store")
	} else if unquote(c.Get(fiber.HeaderIfNoneMatch)) == sum {
		return c.SendStatus(fiber.StatusNotModified)
	}
	rc, info, err := s.store.OpenBlob(c.UserContext(), sum)
	if err != nil {
		return err
	}
	if rec.Confidentiality == archive.Confidential {
		_ = s.store.Audit(c.UserContext(), archive.Event{Actor: user(c).Username, Action: archive.ActionDownload,
			Target: rec.ID, Detail: sum, Remote: c.IP()})
	}
	return c.SendStream(rc, int(info.Size))
}
