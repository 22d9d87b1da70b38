package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"
)

// ActionTextCorrect is the audit action of a corrected attachment text.
const ActionTextCorrect = "record.correct_text" // a record.* action: a new version of the record, which Verify matches to it

// maxCorrected bounds a corrected text, as the machine's is bounded
// (extract.MaxText): a letter is a few KB, a long report a few hundred.
const maxCorrected = 1 << 20

// correctedKey is where a corrected text is kept: by its own SHA-256, so it
// is written once, never replaced, and a retried correction writes nothing
// new (backup copies it as it copies blobs).
func correctedKey(sum string) string { return fmt.Sprintf("text/corrected/%s.txt", sum) }

// CorrectText keeps text as a person's correction of what was read from the
// file sum of the record id (OCR mistakes, a word Tesseract could not read).
// The machine's text stays where it is; the corrected text is stored beside
// it and the record names it on the file's attachments, in a new version of
// the record — audited like every change, the earlier correction kept in the
// earlier version — so search, in every process following the bucket, reads
// the correction from then on. The text is written before the record names
// it, so a record never names a text that is not there.
func (s *Store) CorrectText(ctx context.Context, actor, id, sum, text string) (*Record, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	switch {
	case !utf8.ValidString(text):
		return nil, Errorf(EINVALID, "the corrected text is not UTF-8")
	case len(text) > maxCorrected:
		return nil, Errorf(EINVALID, "a corrected text holds at most %d KB", maxCorrected>>10)
	case strings.TrimSpace(text) == "":
		return nil, Errorf(EINVALID, "the corrected text is empty")
	}
	h := sha256.Sum256([]byte(text))
	tsum := hex.EncodeToString(h[:])
	if _, err := s.bucket.Create(ctx, correctedKey(tsum), strings.NewReader(text), int64(len(text))); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, storageErr("store corrected text", notWritten(err))
	}
	correct := func(rec *Record, now time.Time) error {
		found := false
		for i := range rec.Attachments {
			if rec.Attachments[i].SHA256 == sum {
				rec.Attachments[i].Corrected = &TextCorrection{SHA256: tsum, By: actor, At: now}
				found = true
			}
		}
		if !found {
			return Errorf(ENOTFOUND, "no such file in %s", id)
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		rec, _, err := s.revise(ctx, actor, id, "", ActionTextCorrect, sum+" "+tsum,
			"the text of an annulled record's files cannot be corrected", correct)
		if ErrorCode(err) == EPRECONDITION && attempt < 10 {
			continue // another writer got in between: correct its version
		}
		return rec, err
	}
}

// CorrectedText returns a corrected text by its SHA-256.
func (s *Store) CorrectedText(ctx context.Context, tsum string) (string, error) {
	if !ValidSHA256(tsum) {
		return "", Errorf(EINVALID, "invalid sha256 %q", tsum)
	}
	rc, _, err := s.bucket.Get(ctx, correctedKey(tsum))
	if errors.Is(err, fs.ErrNotExist) {
		return "", Errorf(ENOTFOUND, "no corrected text %s", tsum)
	}
	if err != nil {
		return "", storageErr("read corrected text", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxCorrected+1))
	if err != nil {
		return "", storageErr("read corrected text", err)
	}
	return string(b), nil
}

// AttachmentText returns the text search reads for the attachment a: its
// correction when a person corrected it (a.Corrected), else what was read
// from the file; ok is false when neither exists yet.
func (s *Store) AttachmentText(ctx context.Context, a Attachment) (text string, ok bool, err error) {
	if a.Corrected != nil {
		t, err := s.CorrectedText(ctx, a.Corrected.SHA256)
		return t, err == nil, err
	}
	return s.Text(ctx, a.SHA256)
}
