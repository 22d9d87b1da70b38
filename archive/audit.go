package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event is one append-only entry of the audit trail: who did what to which
// object, when, with the SHA-256 of the object before and after the change so
// an auditor can match the trail against the stored versions.
type Event struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Before string    `json:"before,omitempty"`
	After  string    `json:"after,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"`
}

// Audit actions.
const (
	ActionCreate      = "record.create"
	ActionUpdate      = "record.update"
	ActionAnnul       = "record.annul"
	ActionAttach      = "record.attach"
	ActionLogin       = "auth.login"
	ActionLoginFailed = "auth.login_failed"
	ActionLogout      = "auth.logout"
	ActionUserCreate  = "user.create"
	ActionUserUpdate  = "user.update"
	ActionDownload    = "attachment.download"
	ActionExport      = "export"
)

func auditKey(t time.Time, id string) string {
	t = t.UTC()
	return fmt.Sprintf("audit/%04d/%02d/%s.json", t.Year(), int(t.Month()), id)
}

// Audit appends ev to the trail. Events are create-only objects named by ULID,
// so they sort by time and are never overwritten.
func (s *Store) Audit(ctx context.Context, ev Event) error {
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Time = ev.Time.UTC()
	ev.ID = s.newULID(ev.Time)
	if _, err := s.createJSON(ctx, auditKey(ev.Time, ev.ID), ev); err != nil {
		return storageErr("append audit event", err)
	}
	return nil
}

// auditBestEffort records an event after a write that already succeeded: the
// write must not be reported as failed, so a failure here is only logged.
func (s *Store) auditBestEffort(ctx context.Context, ev Event) {
	if err := s.Audit(ctx, ev); err != nil {
		s.log.Error("audit event lost", "action", ev.Action, "target", ev.Target, "err", err)
	}
}

// AuditFilter selects audit events. Zero fields match everything.
type AuditFilter struct {
	Actor  string
	Action string // exact, or a prefix ending in "." such as "record."
	Target string
	Since  time.Time
	Until  time.Time
	Limit  int // newest first; default 100, at most 1000
}

// AuditEvents returns the newest events matching f, newest first.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter) ([]Event, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var keys []string
	if err := s.bucket.List(ctx, "audit/", func(o ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return nil, storageErr("list audit", err)
	}
	var out []Event
	for i := len(keys) - 1; i >= 0 && len(out) < f.Limit; i-- {
		var ev Event
		if _, err := s.readJSON(ctx, keys[i], &ev); err != nil {
			return nil, storageErr("read audit", err)
		}
		if !f.Since.IsZero() && ev.Time.Before(f.Since) {
			break
		}
		if (!f.Until.IsZero() && ev.Time.After(f.Until)) ||
			(f.Actor != "" && ev.Actor != f.Actor) ||
			(f.Target != "" && ev.Target != f.Target) ||
			(f.Action != "" && ev.Action != f.Action && !(strings.HasSuffix(f.Action, ".") && strings.HasPrefix(ev.Action, f.Action))) {
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

// EachEvent calls fn with every event of the trail, oldest first, reading
// ahead so that a pass over a year's trail is not a round trip per event. An
// export uses it to gather the events of a register's records, which may lie
// in any month after the records were made. It stops at fn's first error.
func (s *Store) EachEvent(ctx context.Context, fn func(Event) error) error {
	var keys []string
	if err := s.bucket.List(ctx, "audit/", func(o ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return storageErr("list audit", err)
	}
	return s.readAhead(ctx, keys, func(key string, b []byte, err error) error {
		if err != nil {
			return storageErr("read audit", err)
		}
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return fmt.Errorf("archive: audit event %s: %w", key, err)
		}
		return fn(ev)
	})
}
