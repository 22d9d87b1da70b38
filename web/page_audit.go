package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// auditPageSize is how many events the audit page shows at a time.
const auditPageSize = 50

// auditActions are the actions and action families the filter offers, in
// the order they are listed. An action of the trail that is not here is
// still shown, under its own name.
var auditActions = []string{
	"record.", archive.ActionCreate, archive.ActionUpdate, archive.ActionAnnul, archive.ActionAttach, archive.ActionTextCorrect,
	"auth.", archive.ActionLogin, archive.ActionLoginFailed, archive.ActionLogout,
	"user.", archive.ActionUserCreate, archive.ActionUserUpdate,
	archive.ActionDownload, archive.ActionExport, archive.ActionVerify,
}

// auditData is the audit page: the filter as typed, the events found, and
// the link to the older ones when there are more.
type auditData struct {
	Actor, Action, Target string
	Since, Until          string // dates, YYYY-MM-DD in the organisation's zone
	Actions               []string
	Events                []archive.Event
	More                  string // the "older events" link, empty at the end
	Paged                 bool   // this is not the newest page
	Error                 string // a refused filter, shown above the form
}

// auditPage shows the newest events of the trail that match the filter,
// auditPageSize at a time. The "older" link carries a cursor: the time and ID
// of the last event shown, so events written meanwhile do not shift the pages.
func (u *ui) auditPage(c *fiber.Ctx) error {
	loc := u.s.store.Location()
	d := auditData{Actor: strings.TrimSpace(c.Query("actor")), Action: c.Query("action"),
		Target: strings.TrimSpace(c.Query("target")), Since: c.Query("since"), Until: c.Query("until"),
		Actions: auditActions}
	f := archive.AuditFilter{Actor: d.Actor, Action: d.Action, Target: d.Target}
	bad := func(key string) error {
		d.Error = u.msgKey(c, key)
		return u.render(c, http.StatusBadRequest, "audit", "audit", d)
	}
	if d.Since != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.Since, loc)
		if err != nil {
			return bad("audit.bad_date")
		}
		f.Since = t
	}
	if d.Until != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.Until, loc)
		if err != nil {
			return bad("audit.bad_date")
		}
		// The whole of the last day.
		f.Until = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return bad("audit.bad_range")
	}
	var afterID string
	if cur := c.Query("before"); cur != "" {
		ts, id, ok := strings.Cut(cur, "_")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil {
			return archive.Errorf(archive.EINVALID, "malformed audit cursor %q", cur)
		}
		if f.Until.IsZero() || t.Before(f.Until) {
			f.Until = t
		}
		afterID = id
		d.Paged = true
	}
	// Events written in the same instant as the cursor's come first; fetch
	// enough to step over them and still know whether there are more.
	f.Limit = auditPageSize + 1
	if afterID != "" {
		f.Limit += 50
	}
	evs, err := u.s.store.AuditEvents(c.UserContext(), f)
	if err != nil {
		return err
	}
	if afterID != "" {
		evs = afterCursor(evs, f.Until, afterID)
	}
	if len(evs) > auditPageSize {
		evs = evs[:auditPageSize]
		last := evs[len(evs)-1]
		q := url.Values{}
		for k, v := range map[string]string{"actor": d.Actor, "action": d.Action, "target": d.Target, "since": d.Since, "until": d.Until} {
			if v != "" {
				q.Set(k, v)
			}
		}
		q.Set("before", last.Time.UTC().Format(time.RFC3339Nano)+"_"+last.ID)
		d.More = "/audit?" + q.Encode()
	}
	d.Events = evs
	return u.render(c, http.StatusOK, "audit", "audit", d)
}

// afterCursor drops, from newest-first events fetched up to the cursor's
// time at, those at that very time up to and including the cursor's event:
// the previous page showed them.
func afterCursor(evs []archive.Event, at time.Time, id string) []archive.Event {
	for i, ev := range evs {
		if !ev.Time.Equal(at) {
			break
		}
		if ev.ID == id {
			return evs[i+1:]
		}
	}
	return evs
}

// ActionLabel is an audit action's name in the page's language ("record.", a
// family, included); an action without a label shows as it is stored.
func (v *view) ActionLabel(action string) string {
	if _, ok := v.tr.msgs["audit.action."+action]; ok {
		return v.T("audit.action." + action)
	}
	return action
}

// Stamp is an event's time to the second in the organisation's zone: several
// events of one minute must be told apart.
func (v *view) Stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(v.loc).Format(time.DateTime)
}

// IsRecord reports whether an event's target is a record, to link to it.
func (v *view) IsRecord(target string) bool {
	_, _, _, err := archive.ParseRecordID(target)
	return err == nil
}
