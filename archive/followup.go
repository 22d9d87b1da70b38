package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Follow-up statuses of a decision's execution.
const (
	FollowPending    = "pending"
	FollowInProgress = "in_progress"
	FollowDone       = "done"
	FollowCancelled  = "cancelled"
)

// ValidFollowStatus reports whether st is one of the follow-up statuses.
func ValidFollowStatus(st string) bool {
	switch st {
	case FollowPending, FollowInProgress, FollowDone, FollowCancelled:
		return true
	}
	return false
}

// ActionFollowUp is the audit action of every change to a decision's follow-up.
const ActionFollowUp = "followup.update"

// FollowNote is a dated remark on the execution of a decision.
type FollowNote struct {
	Time   time.Time `json:"time"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

// StatusChange is one step of a follow-up's history: who moved it from which
// status to which, and when. Changes of the responsible or the due date are
// kept too, so the history answers "who promised what by when".
type StatusChange struct {
	Time        time.Time `json:"time"`
	Actor       string    `json:"actor"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Responsible string    `json:"responsible,omitempty"`
	Due         string    `json:"due,omitempty"`
}

// FollowUp is the execution tracking of one decision. It is kept beside the
// record (followup/{id}.json), not inside it, so following up a decision never
// adds versions to the register entry or touches its hash chain.
type FollowUp struct {
	DecisionID  string         `json:"decision_id"`
	Responsible string         `json:"responsible"`
	Due         string         `json:"due,omitempty"` // YYYY-MM-DD in the organisation's time zone
	Status      string         `json:"status"`
	Notes       []FollowNote   `json:"notes"`
	History     []StatusChange `json:"history"`
	Version     int            `json:"version"`
	UpdatedAt   time.Time      `json:"updated_at,omitzero"`
	UpdatedBy   string         `json:"updated_by,omitempty"`
}

// LatestNote is the most recent note, or "".
func (f *FollowUp) LatestNote() string {
	if len(f.Notes) == 0 {
		return ""
	}
	return f.Notes[len(f.Notes)-1].Text
}

// Overdue reports whether the decision should have been executed by now: its
// due date lies before today's date in loc (the organisation's time zone, not
// the server's) and it is still pending or in progress.
func (f *FollowUp) Overdue(now time.Time, loc *time.Location) bool {
	if f.Due == "" || (f.Status != FollowPending && f.Status != FollowInProgress) {
		return false
	}
	return f.Due < now.In(loc).Format(time.DateOnly)
}

// FollowChange is a change to a follow-up; nil fields stay as they are. Note,
// when not empty, is appended as a dated note.
type FollowChange struct {
	Responsible *string `json:"responsible"`
	Due         *string `json:"due"`
	Status      *string `json:"status"`
	Note        string  `json:"note"`
}

func followKey(id string) string { return "followup/" + id + ".json" }

// maxNotes bounds one follow-up so a loop of notes cannot grow it without end.
const maxNotes = 2000

// FollowUp returns the follow-up of decision id and its ETag. A decision not
// followed up yet has a pending follow-up with an empty ETag. Only decisions
// are followed up; other records are EINVALID.
func (s *Store) FollowUp(ctx context.Context, id string) (*FollowUp, string, error) {
	reg, _, _, err := ParseRecordID(id)
	if err != nil {
		return nil, "", err
	}
	if reg != Decisions {
		return nil, "", Errorf(EINVALID, "only decisions are followed up; %s is not a decision", id)
	}
	var f FollowUp
	etag, err := s.readJSON(ctx, followKey(id), &f)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, _, err := s.Get(ctx, id); err != nil {
			return nil, "", err
		}
		return &FollowUp{DecisionID: id, Status: FollowPending, Notes: []FollowNote{}, History: []StatusChange{}}, "", nil
	case err != nil:
		return nil, "", storageErr("read follow-up", err)
	}
	return &f, etag, nil
}

// SetFollowUp applies ch to decision id's follow-up and returns it with its new
// ETag. With a non-empty etag the change applies only if nobody changed the
// follow-up since it was read (EPRECONDITION otherwise); with "" a concurrent
// change is retried on the fresh state, since notes and status moves commute.
// Every change is audited.
func (s *Store) SetFollowUp(ctx context.Context, actor, id, etag string, ch FollowChange) (*FollowUp, string, error) {
	for attempt := 0; ; attempt++ {
		cur, curTag, err := s.FollowUp(ctx, id)
		if err != nil {
			return nil, "", err
		}
		if etag != "" && etag != curTag {
			return nil, "", Errorf(EPRECONDITION, "the follow-up of %s was changed by someone else; reload it", id)
		}
		before := ""
		if curTag != "" {
			before = sha256Hex(marshal(cur))
		}
		next, err := applyFollow(cur, ch, actor, s.now().UTC().Truncate(time.Millisecond))
		if err != nil {
			return nil, "", err
		}
		b := marshal(next)
		var info ObjectInfo
		if curTag == "" {
			info, err = s.bucket.Create(ctx, followKey(id), bytes.NewReader(b), int64(len(b)))
		} else {
			info, err = s.bucket.Replace(ctx, followKey(id), curTag, bytes.NewReader(b), int64(len(b)))
		}
		if errors.Is(err, fs.ErrExist) || errors.Is(err, ErrPrecondition) || (curTag != "" && errors.Is(err, fs.ErrNotExist)) {
			if etag != "" {
				return nil, "", Errorf(EPRECONDITION, "the follow-up of %s was changed by someone else; reload it", id)
			}
			if attempt < 10 {
				continue
			}
			return nil, "", Errorf(ECONFLICT, "the follow-up of %s is being changed by others; retry", id)
		}
		if err != nil {
			return nil, "", storageErr("write follow-up", err)
		}
		s.auditBestEffort(ctx, Event{Time: next.UpdatedAt, Actor: actor, Action: ActionFollowUp, Target: id,
			Before: before, After: sha256Hex(b), Detail: followDetail(cur, next)})
		return next, info.ETag, nil
	}
}

// AddFollowNote appends a dated note to decision id's follow-up.
func (s *Store) AddFollowNote(ctx context.Context, actor, id, text string) (*FollowUp, string, error) {
	if strings.TrimSpace(text) == "" {
		return nil, "", &ValidationError{Fields: []FieldError{{"note", "الملاحظة فارغة"}}}
	}
	return s.SetFollowUp(ctx, actor, id, "", FollowChange{Note: text})
}

func followDetail(a, b *FollowUp) string {
	var parts []string
	if a.Status != b.Status {
		parts = append(parts, "status "+a.Status+"->"+b.Status)
	}
	if a.Responsible != b.Responsible {
		parts = append(parts, "responsible")
	}
	if a.Due != b.Due {
		parts = append(parts, "due "+b.Due)
	}
	if len(a.Notes) != len(b.Notes) {
		parts = append(parts, "note")
	}
	return strings.Join(parts, "; ")
}

// applyFollow returns cur with ch applied, or the field errors of ch.
func applyFollow(cur *FollowUp, ch FollowChange, actor string, now time.Time) (*FollowUp, error) {
	next := *cur
	next.Notes = append([]FollowNote{}, cur.Notes...)
	next.History = append([]StatusChange{}, cur.History...)
	var errs []FieldError
	if ch.Responsible != nil {
		v := strings.TrimSpace(*ch.Responsible)
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxField {
			errs = append(errs, FieldError{"responsible", fmt.Sprintf("النص أطول من %d حرفًا", maxField)})
		}
		next.Responsible = v
	}
	if ch.Due != nil {
		v := strings.TrimSpace(*ch.Due)
		if v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				errs = append(errs, FieldError{"due", "التاريخ غير صالح؛ الصيغة المطلوبة YYYY-MM-DD"})
			}
		}
		next.Due = v
	}
	if ch.Status != nil {
		if !ValidFollowStatus(*ch.Status) {
			errs = append(errs, FieldError{"status", "الحالة إحدى: pending, in_progress, done, cancelled"})
		}
		next.Status = *ch.Status
	}
	if note := strings.TrimSpace(ch.Note); note != "" {
		if !utf8.ValidString(note) || utf8.RuneCountInString(note) > 10*maxField {
			errs = append(errs, FieldError{"note", fmt.Sprintf("الملاحظة أطول من %d حرفًا", 10*maxField)})
		}
		if len(next.Notes) >= maxNotes {
			errs = append(errs, FieldError{"note", "بلغت الملاحظات حدّها"})
		}
		next.Notes = append(next.Notes, FollowNote{Time: now, Author: actor, Text: note})
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Fields: errs}
	}
	if next.Status != cur.Status || next.Responsible != cur.Responsible || next.Due != cur.Due || cur.Version == 0 {
		next.History = append(next.History, StatusChange{Time: now, Actor: actor, From: cur.Status, To: next.Status,
			Responsible: next.Responsible, Due: next.Due})
	}
	next.Version++
	next.UpdatedAt = now
	next.UpdatedBy = actor
	return &next, nil
}

// FollowFilter selects follow-ups. Zero fields match everything.
type FollowFilter struct {
	Status      string
	Responsible string // exact match after trimming
	Overdue     bool   // only those overdue now in the organisation's time zone
}

// FollowUps returns the follow-ups matching f in decision-ID key order,
// reading only those changed since this Store last listed them; they are
// shared, so callers must not change them. The caller hides those of
// confidential decisions from readers.
func (s *Store) FollowUps(ctx context.Context, f FollowFilter) ([]*FollowUp, error) {
	etags, err := s.listETags(ctx, "followup/")
	if err != nil {
		return nil, storageErr("list follow-ups", err)
	}
	keys := make([]string, 0, len(etags))
	for k := range etags {
		if strings.HasSuffix(k, ".json") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	now := s.now()
	resp := strings.TrimSpace(f.Responsible)
	var out []*FollowUp
	for _, k := range keys {
		fu, err := s.followUps.read(ctx, s, k, etags[k])
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, storageErr("read follow-up", err)
		}
		if (f.Status != "" && fu.Status != f.Status) || (resp != "" && fu.Responsible != resp) ||
			(f.Overdue && !fu.Overdue(now, s.loc)) {
			continue
		}
		out = append(out, fu)
	}
	return out, nil
}
