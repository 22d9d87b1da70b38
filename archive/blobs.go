package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func blobKey(sum string) string { return fmt.Sprintf("blobs/sha256/%s/%s", sum[:2], sum) }

// ValidSHA256 reports whether s is a lower-case hex SHA-256.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// fileMover is implemented by Buckets that can take a spooled file without
// copying it (the local folder on the same file system).
type fileMover interface {
	PutFile(ctx context.Context, key, path string) (ObjectInfo, bool, error)
}

// PutBlob stores the bytes of an uploaded file, content-addressed, and returns
// the attachment that names them. The bytes are streamed to a temporary file
// while they are hashed and counted, so memory stays flat whatever the size;
// more than maxSize bytes is ETOOLARGE and a type Sijill does not accept is
// EUNSUPPORTED, judged by the bytes, never by the name. Nothing is stored then.
func (s *Store) PutBlob(ctx context.Context, r io.Reader, name string, maxSize int64) (Attachment, error) {
	tmp, err := os.CreateTemp(s.tmpDir, "upload-*")
	if err != nil {
		return Attachment{}, storageErr("spool upload", NoSpace(err))
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	h := sha256.New()
	head := &headBuffer{max: 8192}
	lr := &io.LimitedReader{R: r, N: maxSize + 1}
	n, err := io.Copy(io.MultiWriter(tmp, h, head), lr)
	if err != nil {
		if ctx.Err() != nil {
			return Attachment{}, ctx.Err()
		}
		var ae *Error
		if errors.As(err, &ae) {
			return Attachment{}, err
		}
		return Attachment{}, fmt.Errorf("archive: receive upload: %w", NoSpace(err))
	}
	if n > maxSize {
		return Attachment{}, Errorf(ETOOLARGE, "the file is larger than %d MB", maxSize>>20)
	}
	if n == 0 {
		return Attachment{}, Errorf(EINVALID, "the file %q is empty", name)
	}
	ctype := sniff(head.b, tmp, n)
	if ctype == "" {
		return Attachment{}, Errorf(EUNSUPPORTED, "the type of %q is not accepted: send PDF, PNG, JPEG, TIFF, WebP, DOCX or ODT", name)
	}
	if err := tmp.Sync(); err != nil {
		return Attachment{}, storageErr("spool upload", NoSpace(err))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	a := Attachment{SHA256: sum, Name: CleanFileName(name, ctype), Size: n, ContentType: ctype}

	key := blobKey(sum)
	if info, err := s.bucket.Stat(ctx, key); err == nil && info.Size == n {
		return a, nil // the same bytes are already stored
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Attachment{}, storageErr("stat blob", err)
	}
	if m, ok := s.bucket.(fileMover); ok {
		tmp.Close()
		if _, moved, err := m.PutFile(ctx, key, tmp.Name()); moved || err != nil {
			if err != nil {
				return Attachment{}, storageErr("store blob", notWritten(err))
			}
			return a, nil
		}
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return Attachment{}, storageErr("reopen upload", err)
	}
	defer f.Close()
	if _, err := s.bucket.Put(ctx, key, f, n); err != nil {
		return Attachment{}, storageErr("store blob", notWritten(err))
	}
	return a, nil
}

// headBuffer keeps the first bytes of a stream for type sniffing.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// sniff names the content type from the bytes themselves. Only the types a
// secretariat files are accepted: PDF, the common scan formats, and office
// documents (checked by the zip's contents, not its extension).
func sniff(head []byte, f io.ReaderAt, size int64) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "image/tiff"
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return "image/webp"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return sniffZip(f, size)
	}
	return ""
}

func sniffZip(f io.ReaderAt, size int64) string {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return ""
	}
	hasWord := false
	for _, zf := range zr.File {
		switch {
		case zf.Name == "mimetype":
			rc, err := zf.Open()
			if err != nil {
				return ""
			}
			b, _ := io.ReadAll(io.LimitReader(rc, 100))
			rc.Close()
			if string(b) == "application/vnd.oasis.opendocument.text" {
				return "application/vnd.oasis.opendocument.text"
			}
		case zf.Name == "word/document.xml":
			hasWord = true
		}
	}
	if hasWord {
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	}
	return ""
}

var extByType = map[string]string{
	"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif",
	"image/webp": ".webp", "application/vnd.oasis.opendocument.text": ".odt",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}

// otherExts are further extensions a type is known by.
var otherExts = map[string]string{".jpeg": "image/jpeg", ".tiff": "image/tiff"}

// WithExtension gives name the extension of its content type ctype (judged
// by the bytes): a name whose extension says otherwise (PDF bytes named
// letter.hta) gets the right one added, so that neither the browser nor the
// desktop that opens the download takes the file for something else.
func WithExtension(name, ctype string) string {
	want, ok := extByType[ctype]
	if !ok {
		return name
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == want || otherExts[ext] == ctype {
		return name
	}
	return name + want
}

// CleanFileName makes an uploaded file's name safe to store and to send back in
// a header: no directories, no control or bidi-override characters, NFC, at most
// 150 characters, and never empty. Arabic letters are kept.
func CleanFileName(name, ctype string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = norm.NFC.String(strings.ToValidUTF8(name, ""))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == '"' || r == '/' || r == ':' || r == '*' || r == '?' || r == '<' || r == '>' || r == '|':
			b.WriteRune('_')
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u200b', r == '\ufeff':
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Trim(strings.TrimSpace(b.String()), ".")
	for utf8.RuneCountInString(name) > 150 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		name = "file"
	}
	for utf8.RuneCountInString(name) > 150-len(extByType[ctype]) {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return WithExtension(name, ctype)
}

// OpenBlob opens the stored bytes of an attachment.
func (s *Store) OpenBlob(ctx context.Context, sum string) (io.ReadCloser, ObjectInfo, error) {
	if !ValidSHA256(sum) {
		return nil, ObjectInfo{}, Errorf(ENOTFOUND, "no such file")
	}
	rc, info, err := s.bucket.Get(ctx, blobKey(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ObjectInfo{}, Errorf(ENOTFOUND, "no such file")
	}
	if err != nil {
		return nil, ObjectInfo{}, storageErr("open blob", err)
	}
	return rc, info, nil
}

// Attach adds stored blobs to the record with id. The blobs were written
// before, so a record never names a file that is not there. Concurrent
// attachers are merged by retrying the compare-and-swap.
func (s *Store) Attach(ctx context.Context, actor, id string, files []Attachment) (*Record, error) {
	var names []string
	for _, a := range files {
		names = append(names, a.SHA256)
	}
	add := func(rec *Record, now time.Time) error {
		have := map[string]bool{}
		for _, a := range rec.Attachments {
			have[a.SHA256+"\x00"+a.Name] = true
		}
		for _, a := range files {
			if have[a.SHA256+"\x00"+a.Name] {
				continue
			}
			a.AddedAt, a.AddedBy = now, actor
			rec.Attachments = append(rec.Attachments, a)
		}
		if len(rec.Attachments) > maxList {
			return Errorf(EINVALID, "a record holds at most %d files", maxList)
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		rec, _, err := s.revise(ctx, actor, id, "", ActionAttach, strings.Join(names, ","),
			"files cannot be added to an annulled record", add)
		if ErrorCode(err) == EPRECONDITION && attempt < 10 {
			continue // another writer got in between: merge with its version
		}
		return rec, err
	}
}
