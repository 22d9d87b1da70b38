package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// followStatuses in the order a decision moves through them.
var followStatuses = []string{archive.FollowPending, archive.FollowInProgress, archive.FollowDone, archive.FollowCancelled}

type followupPageData struct {
	Items       []followItem
	Status      string
	Responsible string
	Overdue     bool
	Statuses    []string
	ReportURL   string
}

// followupPage lists the decisions being followed up, filtered by status,
// responsible and overdue, with a link to the printable report.
func (u *ui) followupPage(c *fiber.Ctx) error {
	f := archive.FollowFilter{Status: c.Query("status"), Responsible: c.Query("responsible"), Overdue: c.Query("overdue") != ""}
	if !archive.ValidFollowStatus(f.Status) {
		f.Status = ""
	}
	items, err := u.s.followItems(c.UserContext(), user(c), f)
	if err != nil {
		return err
	}
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Responsible != "" {
		q.Set("responsible", f.Responsible)
	}
	if f.Overdue {
		q.Set("overdue", "true")
	}
	d := followupPageData{Items: items, Status: f.Status, Responsible: f.Responsible, Overdue: f.Overdue,
		Statuses: followStatuses, ReportURL: "/api/v1/followup/report.pdf"}
	if len(q) > 0 {
		d.ReportURL += "?" + q.Encode()
	}
	return u.render(c, http.StatusOK, "followup", "followup", d)
}

// recordLinks is what the record page shows of a record's links and, for a
// decision, of its follow-up.
type recordLinks struct {
	// Thread is every other record of the correspondence thread, with how it
	// relates to this one ("" when only through others).
	Thread []threadRow
	// Decisions are the decisions taken at these minutes.
	Decisions []threadRecord
	Follow    *archive.FollowUp
	FollowTag string
	Overdue   bool
	Statuses  []string
	// FollowErr is the field a refused follow-up change was wrong in.
	FollowErr string
	// Answer is the outgoing letter registered in reply to a letter that
	// needs one (ReplyDue), ReplyLate set when there is none and the day
	// has passed.
	Answer    *threadRecord
	ReplyLate bool
}

type threadRow struct {
	threadRecord
	Rel string // answers, answered_by, refers_to, referred_by, meeting, decision, or ""
}

// linksData fills the thread, a meeting's decisions and a decision's follow-up.
func (u *ui) linksData(c *fiber.Ctx, rec *archive.Record) (recordLinks, error) {
	ctx := c.UserContext()
	var l recordLinks
	tv, err := u.s.thread(ctx, user(c), rec, u.s.index == nil)
	if err != nil {
		return l, err
	}
	rel := map[string]string{}
	for _, k := range tv.Links {
		switch {
		case k.From == rec.ID && k.Kind == linkReply:
			rel[k.To] = "answers"
		case k.To == rec.ID && k.Kind == linkReply:
			rel[k.From] = "answered_by"
		case k.From == rec.ID && k.Kind == linkRef:
			rel[k.To] = "refers_to"
		case k.To == rec.ID && k.Kind == linkRef:
			rel[k.From] = "referred_by"
		case k.From == rec.ID && k.Kind == linkMeeting:
			rel[k.To] = "meeting"
		case k.To == rec.ID && k.Kind == linkMeeting:
			rel[k.From] = "decision"
		}
	}
	for _, r := range tv.Records {
		if r.ID == rec.ID {
			continue
		}
		if rel[r.ID] == "decision" {
			l.Decisions = append(l.Decisions, r)
			continue
		}
		l.Thread = append(l.Thread, threadRow{r, rel[r.ID]})
	}
	if rec.ReplyDue != "" {
		for _, r := range l.Thread {
			if r.Rel == "answered_by" && r.Status != archive.StatusAnnulled {
				l.Answer = &r.threadRecord
				break
			}
		}
		l.ReplyLate = l.Answer == nil && rec.ReplyDue < u.s.today()
	}
	if rec.Register == archive.Decisions {
		fu, etag, err := u.s.store.FollowUp(ctx, rec.ID)
		if err != nil {
			return l, err
		}
		l.Follow, l.FollowTag, l.Statuses = fu, etag, followStatuses
		l.Overdue = fu.Overdue(u.s.store.Now(), u.s.store.Location())
		l.FollowErr = c.Query("followup_error")
	}
	return l, nil
}

// followupSubmit applies the follow-up form of a decision's page and goes
// back to it (post, redirect, get). A refused change names its field in the
// redirect, so the page shows the message beside the form.
func (u *ui) followupSubmit(c *fiber.Ctx) error {
	vals, _, err := u.readPostedForm(c, false)
	if err != nil {
		return err
	}
	rec, _, err := u.s.visibleRecord(c)
	if err != nil {
		return err
	}
	str := func(k string) *string {
		if _, ok := vals[k]; !ok {
			return nil
		}
		v := vals.Get(k)
		return &v
	}
	ch := archive.FollowChange{Responsible: str("responsible"), Due: str("due"), Status: str("status"), Note: vals.Get("note")}
	_, _, err = u.s.store.SetFollowUp(c.UserContext(), user(c).Username, rec.ID, vals.Get("etag"), ch)
	var ve *archive.ValidationError
	switch {
	case errors.As(err, &ve) && len(ve.Fields) > 0:
		return c.Redirect("/records/"+rec.ID+"?followup_error="+url.QueryEscape(ve.Fields[0].Field)+"#followup", http.StatusSeeOther)
	case archive.ErrorCode(err) == archive.EPRECONDITION:
		return c.Redirect("/records/"+rec.ID+"?followup_error=conflict#followup", http.StatusSeeOther)
	case err != nil:
		return err
	}
	return c.Redirect("/records/"+rec.ID+"?followup=1#followup", http.StatusSeeOther)
}
