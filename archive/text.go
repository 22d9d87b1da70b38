package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

func textKey(sum string) string { return fmt.Sprintf("text/sha256/%s.txt", sum) }

// PutText stores the text extracted from the blob sum (its PDF text layer or
// OCR), once per distinct file, so a reindex never has to extract it again.
func (s *Store) PutText(ctx context.Context, sum, text string) error {
	if !ValidSHA256(sum) {
		return Errorf(EINVALID, "invalid sha256 %q", sum)
	}
	if _, err := s.bucket.Put(ctx, textKey(sum), strings.NewReader(text), int64(len(text))); err != nil {
		return storageErr("store extracted text", err)
	}
	return nil
}

// Text returns the stored text of blob sum; ok is false when none is stored yet.
func (s *Store) Text(ctx context.Context, sum string) (text string, ok bool, err error) {
	if !ValidSHA256(sum) {
		return "", false, nil
	}
	rc, _, err := s.bucket.Get(ctx, textKey(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, storageErr("read extracted text", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return "", false, storageErr("read extracted text", err)
	}
	return string(b), true, nil
}

// Texts returns the stored text of every attachment of rec that has one, in
// attachment order, for indexing the record with its files.
func (s *Store) Texts(ctx context.Context, rec *Record) ([]string, error) {
	texts, _, err := s.TextsOf(ctx, rec)
	return texts, err
}

// TextsOf is Texts with the files that have no text stored yet (by SHA-256),
// so the index knows to look again once they have. A file's text is its
// correction when a person corrected it (CorrectText).
func (s *Store) TextsOf(ctx context.Context, rec *Record) (texts, missing []string, err error) {
	seen := map[string]bool{}
	for _, a := range rec.Attachments {
		if seen[a.SHA256] {
			continue
		}
		seen[a.SHA256] = true
		t, ok, err := s.AttachmentText(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case !ok:
			missing = append(missing, a.SHA256)
		case t != "":
			texts = append(texts, t)
		}
	}
	return texts, missing, nil
}

// HasText reports whether the text of file sum is stored.
func (s *Store) HasText(ctx context.Context, sum string) (bool, error) {
	if !ValidSHA256(sum) {
		return false, nil
	}
	_, err := s.bucket.Stat(ctx, textKey(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, storageErr("look for extracted text", err)
	}
	return true, nil
}

// CountRecords counts the record objects of every register and year.
func (s *Store) CountRecords(ctx context.Context) (int, error) {
	keys, err := s.recordKeys(ctx, "records/")
	return len(keys), err
}
