package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"
)

func historyKey(reg Register, year, number, version int) string {
	return fmt.Sprintf("history/%s/%d/%06d/%06d.json", reg, year, number, version)
}

// revise writes the next version of the record with id: it refuses a stale
// etag ("" takes the current version) and an annulled record (with
// annulledMsg), lets change edit a copy, and writes it (see write.go): the
// audit event of action and detail first, the current version kept under
// history/, then the record swapped in only if nobody changed it since it was
// read. A stale etag is EPRECONDITION.
func (s *Store) revise(ctx context.Context, actor, id, etag, action, detail, annulledMsg string,
	change func(rec *Record, now time.Time) error) (*Record, string, error) {
	old, cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if etag != "" && etag != cur {
		return nil, "", Errorf(EPRECONDITION, "the record was changed by someone else; reload it and try again")
	}
	if old.Status == StatusAnnulled {
		return nil, "", Errorf(ECONFLICT, "%s", annulledMsg)
	}
	rec := cloneRecord(old)
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := change(rec, now); err != nil {
		return nil, "", err
	}
	rec.Version++
	rec.UpdatedAt, rec.UpdatedBy = &now, actor
	oldBytes, b := marshal(old), marshal(rec)
	intent, err := s.intend(ctx, Event{Time: now, Actor: actor, Action: action, Target: id, Detail: detail,
		Before: sha256Hex(oldBytes), After: sha256Hex(b)})
	if err != nil {
		return nil, "", err
	}
	if _, err := s.bucket.Create(ctx, historyKey(old.Register, old.Year, old.Number, old.Version),
		bytes.NewReader(oldBytes), int64(len(oldBytes))); err != nil && !errors.Is(err, fs.ErrExist) {
		s.abort(ctx, intent, "the current version could not be kept")
		return nil, "", storageErr("keep record version", notWritten(err))
	}
	info, err := s.replaceObject(ctx, recordKey(rec.Register, rec.Year, rec.Number), cur, b)
	switch {
	case errors.Is(err, ErrPrecondition):
		s.abort(ctx, intent, "the record was changed by someone else")
		return nil, "", Errorf(EPRECONDITION, "the record was changed by someone else; reload it and try again")
	case errors.Is(err, fs.ErrNotExist):
		s.abort(ctx, intent, "the record is missing")
		return nil, "", Errorf(ENOTFOUND, "no record %s", rec.ID)
	case errors.Is(err, ErrOutcomeUnknown):
		return nil, "", storageErr("update record", err)
	case err != nil:
		s.abort(ctx, intent, "the storage refused the new version: "+err.Error())
		return nil, "", storageErr("update record", err)
	}
	s.written(ctx, rec, info.ETag)
	return rec, info.ETag, nil
}

// Update changes the editable fields of the record with id, if its current ETag
// is etag. The registered entry (number, registration time, subject and parties
// as registered) never changes; the previous version is kept and audited.
func (s *Store) Update(ctx context.Context, actor, id, etag string, f Fields) (*Record, string, error) {
	return s.revise(ctx, actor, id, etag, ActionUpdate, "", "an annulled record cannot be edited",
		func(rec *Record, _ time.Time) error {
			f.apply(rec)
			if errs := rec.validate(); len(errs) > 0 {
				return &ValidationError{Fields: errs}
			}
			return nil
		})
}

// Annul marks the record as annulled with a reason. It stays in its register,
// with its number, and is printed marked «ملغى».
func (s *Store) Annul(ctx context.Context, actor, id, etag, reason string) (*Record, string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, "", &ValidationError{Fields: []FieldError{{"reason", "سبب الإلغاء مطلوب"}}}
	}
	if utf8.RuneCountInString(reason) > maxField || !utf8.ValidString(reason) {
		return nil, "", &ValidationError{Fields: []FieldError{{"reason", fmt.Sprintf("السبب أطول من %d حرفًا", maxField)}}}
	}
	return s.revise(ctx, actor, id, etag, ActionAnnul, reason, "the record is already annulled",
		func(rec *Record, now time.Time) error {
			rec.Status, rec.AnnulReason, rec.AnnulledAt, rec.AnnulledBy = StatusAnnulled, reason, &now, actor
			return nil
		})
}

// History returns the earlier versions of a record, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]*Record, error) {
	reg, year, num, err := ParseRecordID(id)
	if err != nil {
		return nil, err
	}
	var out []*Record
	err = s.bucket.List(ctx, fmt.Sprintf("history/%s/%d/%06d/", reg, year, num), func(o ObjectInfo) error {
		var r Record
		if _, err := s.readJSON(ctx, o.Key, &r); err != nil {
			return err
		}
		out = append(out, &r)
		return nil
	})
	if err != nil {
		return nil, storageErr("list history", err)
	}
	return out, nil
}

func cloneRecord(r *Record) *Record {
	c := *r
	c.Tags = append([]string(nil), r.Tags...)
	c.Refs = append([]string(nil), r.Refs...)
	c.Attendees = append([]string(nil), r.Attendees...)
	c.Apologies = append([]string(nil), r.Apologies...)
	c.Agenda = append([]string(nil), r.Agenda...)
	c.Attachments = append([]Attachment{}, r.Attachments...)
	return &c
}
