package web

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/render"
)

// followItem is one decision's follow-up as lists and reports show it: the
// decision's identity and an excerpt of its text beside the tracking.
type followItem struct {
	DecisionID  string            `json:"decision_id"`
	Year        int               `json:"year"`
	Number      int               `json:"number"`
	Date        string            `json:"date"`
	Subject     string            `json:"subject"`
	Excerpt     string            `json:"excerpt"`
	Responsible string            `json:"responsible"`
	Due         string            `json:"due"`
	Status      string            `json:"status"`
	LatestNote  string            `json:"latest_note"`
	Overdue     bool              `json:"overdue"`
	Annulled    bool              `json:"annulled,omitempty"`
	FollowUp    *archive.FollowUp `json:"-"`
}

// excerpt shortens text to about n characters at a word boundary.
func excerpt(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)[:n]
	if i := strings.LastIndex(string(r), " "); i > n/2 {
		return string(r)[:i] + "…"
	}
	return string(r) + "…"
}

// followItems returns the follow-ups matching f that u may see, with their
// decisions. Confidential decisions are left out for those who may not see
// them, as everywhere.
func (s *Server) followItems(ctx context.Context, u *archive.User, f archive.FollowFilter) ([]followItem, error) {
	fus, err := s.store.FollowUps(ctx, f)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(fus))
	for i, fu := range fus {
		ids[i] = fu.DecisionID
	}
	recs, err := s.store.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	now, loc := s.store.Now(), s.store.Location()
	out := []followItem{}
	for _, fu := range fus {
		rec, ok := recs[fu.DecisionID]
		if !ok || !canSee(u, rec) {
			continue
		}
		text := rec.Body
		if strings.TrimSpace(text) == "" {
			text = rec.Subject
		}
		out = append(out, followItem{DecisionID: rec.ID, Year: rec.Year, Number: rec.Number, Date: rec.Date,
			Subject: rec.Subject, Excerpt: excerpt(text, 160), Responsible: fu.Responsible, Due: fu.Due,
			Status: fu.Status, LatestNote: fu.LatestNote(), Overdue: fu.Overdue(now, loc),
			Annulled: rec.Status == archive.StatusAnnulled, FollowUp: fu})
	}
	return out, nil
}

// listFollowUps is GET /api/v1/followup?status=&responsible=&overdue=true.
func (s *Server) listFollowUps(c *fiber.Ctx) error {
	f := archive.FollowFilter{Status: c.Query("status"), Responsible: c.Query("responsible"), Overdue: c.QueryBool("overdue", false)}
	if f.Status != "" && !archive.ValidFollowStatus(f.Status) {
		return archive.Errorf(archive.EINVALID, "status must be pending, in_progress, done or cancelled")
	}
	items, err := s.followItems(c.UserContext(), user(c), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"followups": items, "total": len(items)})
}

// getFollowUp is GET /api/v1/records/{id}/followup.
func (s *Server) getFollowUp(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	fu, etag, err := s.store.FollowUp(c.UserContext(), rec.ID)
	if err != nil {
		return err
	}
	if etag != "" {
		c.Set(fiber.HeaderETag, quote(etag))
	}
	return c.JSON(s.followJSON(fu))
}

type followResponse struct {
	*archive.FollowUp
	Overdue bool `json:"overdue"`
}

func (s *Server) followJSON(fu *archive.FollowUp) followResponse {
	return followResponse{FollowUp: fu, Overdue: fu.Overdue(s.store.Now(), s.store.Location())}
}

// putFollowUp is PUT /api/v1/records/{id}/followup: set the responsible, the
// due date and the status (and optionally add a note). With If-Match the
// change applies only to the version the client read.
func (s *Server) putFollowUp(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	var ch archive.FollowChange
	if err := s.decodeJSON(c, &ch); err != nil {
		return err
	}
	fu, etag, err := s.store.SetFollowUp(c.UserContext(), user(c).Username, rec.ID, unquote(c.Get(fiber.HeaderIfMatch)), ch)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, quote(etag))
	return c.JSON(s.followJSON(fu))
}

type noteRequest struct {
	Text string `json:"text"`
}

// addFollowNote is POST /api/v1/records/{id}/followup/notes.
func (s *Server) addFollowNote(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	var req noteRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	fu, etag, err := s.store.AddFollowNote(c.UserContext(), user(c).Username, rec.ID, req.Text)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, quote(etag))
	return c.Status(fiber.StatusCreated).JSON(s.followJSON(fu))
}

// Link kinds of a thread: From points at To as ...
const (
	linkReply   = "reply"   // From answers To (InReplyTo)
	linkRef     = "ref"     // From refers to To (Refs)
	linkMeeting = "meeting" // From is a decision taken at the meeting To (Meeting)
)

type threadRecord struct {
	ID       string           `json:"id"`
	Register archive.Register `json:"register"`
	Year     int              `json:"year"`
	Number   int              `json:"number"`
	Date     string           `json:"date"`
	Subject  string           `json:"subject"`
	Status   string           `json:"status"`
}

type threadLink struct {
	From string `json:"from"`
	To   string `json:"to"`
	Kind string `json:"kind"`
}

// threadView is a record's correspondence thread: every record reachable
// from it by links in either direction (what it answers, what answers it,
// what it refers to and what refers to it, a decision's meeting and a
// meeting's decisions), with the links between them.
type threadView struct {
	Root    string         `json:"root"`
	Records []threadRecord `json:"records"`
	Links   []threadLink   `json:"links"`
	// Complete is false when the thread was cut at maxThread records.
	Complete bool `json:"complete"`
}

// maxThread bounds a thread so one record referred to by thousands stays cheap.
const maxThread = 200

// linksOf returns the records rec points at.
func linksOf(rec *archive.Record) []threadLink {
	var out []threadLink
	if rec.InReplyTo != "" {
		out = append(out, threadLink{rec.ID, rec.InReplyTo, linkReply})
	}
	if rec.Meeting != "" {
		out = append(out, threadLink{rec.ID, rec.Meeting, linkMeeting})
	}
	for _, r := range rec.Refs {
		out = append(out, threadLink{rec.ID, r, linkRef})
	}
	return out
}

// pointingAt returns the IDs of the records pointing at id. The index finds
// them with one term query on its link field; without a ready index the
// registers of id's year and the next (a reply or a decision is registered
// after what it points at) are scanned when scan is set, and nothing is
// found otherwise (pages do not wait for a scan while the index is rebuilt;
// without any index they do scan).
func (s *Server) pointingAt(ctx context.Context, id string, scan bool) ([]string, error) {
	if s.indexReady() {
		var ids []string
		for page := 1; ; page++ {
			res, err := s.index.Search(ctx, index.Query{LinksTo: id, SeeConfidential: true, Sort: "number", Page: page, Size: 100})
			if err != nil {
				return nil, err
			}
			for _, h := range res.Hits {
				ids = append(ids, h.ID)
			}
			if len(res.Hits) < 100 || len(ids) >= maxThread {
				return ids, nil
			}
		}
	}
	if !scan {
		return nil, nil
	}
	_, year, _, err := archive.ParseRecordID(id)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, reg := range archive.Registers() {
		for _, y := range []int{year, year + 1} {
			for rec, err := range s.store.Records(ctx, reg, y) {
				if err != nil {
					return nil, err
				}
				for _, l := range linksOf(rec) {
					if l.To == id {
						ids = append(ids, rec.ID)
						break
					}
				}
			}
		}
	}
	return ids, nil
}

// thread walks the links from root in both directions, keeping to what u
// may see: a confidential record is neither listed nor followed for readers.
// scan: see pointingAt.
func (s *Server) thread(ctx context.Context, u *archive.User, root *archive.Record, scan bool) (*threadView, error) {
	tv := &threadView{Root: root.ID, Records: []threadRecord{}, Links: []threadLink{}, Complete: true}
	seen := map[string]*archive.Record{root.ID: root}
	linkSeen := map[threadLink]bool{}
	queue := []*archive.Record{root}
	add := func(l threadLink) {
		if !linkSeen[l] {
			linkSeen[l] = true
			tv.Links = append(tv.Links, l)
		}
	}
	load := func(id string) (*archive.Record, error) {
		if r, ok := seen[id]; ok {
			return r, nil
		}
		rec, _, err := s.store.Get(ctx, id)
		if archive.ErrorCode(err) == archive.ENOTFOUND {
			seen[id] = nil
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !canSee(u, rec) {
			rec = nil
		}
		seen[id] = rec
		if rec != nil {
			if len(seen) > maxThread {
				tv.Complete = false
				return nil, nil
			}
			queue = append(queue, rec)
		}
		return rec, nil
	}
	for len(queue) > 0 {
		rec := queue[0]
		queue = queue[1:]
		tv.Records = append(tv.Records, threadRecord{ID: rec.ID, Register: rec.Register, Year: rec.Year,
			Number: rec.Number, Date: rec.Date, Subject: rec.Subject, Status: rec.Status})
		for _, l := range linksOf(rec) {
			to, err := load(l.To)
			if err != nil {
				return nil, err
			}
			if to != nil {
				add(l)
			}
		}
		from, err := s.pointingAt(ctx, rec.ID, scan)
		if err != nil {
			return nil, err
		}
		for _, id := range from {
			src, err := load(id)
			if err != nil {
				return nil, err
			}
			if src == nil {
				continue
			}
			for _, l := range linksOf(src) {
				if l.To == rec.ID {
					add(l)
				}
			}
		}
	}
	slices.SortFunc(tv.Records[1:], func(a, b threadRecord) int {
		if c := strings.Compare(a.Date, b.Date); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return tv, nil
}

// recordThread is GET /api/v1/records/{id}/thread.
func (s *Server) recordThread(c *fiber.Ctx) error {
	rec, _, err := s.visibleRecord(c)
	if err != nil {
		return err
	}
	tv, err := s.thread(c.UserContext(), user(c), rec, true)
	if err != nil {
		return err
	}
	return c.JSON(tv)
}

// followupReport is GET /api/v1/followup/report.pdf (same filters as the
// list): «تقرير متابعة تنفيذ القرارات», grouped by responsible, for the next
// meeting. Readers get the decisions they may see. It is audited as an export.
func (s *Server) followupReport(c *fiber.Ctx) error {
	f := archive.FollowFilter{Status: c.Query("status"), Responsible: c.Query("responsible"), Overdue: c.QueryBool("overdue", false)}
	if f.Status != "" && !archive.ValidFollowStatus(f.Status) {
		return archive.Errorf(archive.EINVALID, "status must be pending, in_progress, done or cancelled")
	}
	ctx := c.UserContext()
	items, err := s.followItems(ctx, user(c), f)
	if err != nil {
		return err
	}
	rows := make([]render.FollowRow, 0, len(items))
	for _, it := range items {
		if it.Annulled {
			continue
		}
		rows = append(rows, render.FollowRow{Responsible: it.Responsible, DecisionID: it.DecisionID, Number: it.Number,
			Year: it.Year, Date: it.Date, Excerpt: it.Excerpt, Due: it.Due, Status: it.Status,
			LatestNote: excerpt(it.LatestNote, 200), Overdue: it.Overdue})
	}
	eastern, _ := printFlags(c)
	var buf bytes.Buffer
	if err := render.FollowUpReport(ctx, &buf, render.ReportOptions{Organisation: s.cfg.Organisation,
		EasternDigits: eastern, Now: s.store.Now(), Location: s.store.Location(), Signer: s.cfg.Signer}, rows); err != nil {
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: user(c).Username, Action: archive.ActionExport,
		Target: "followup", Detail: "followup report.pdf", Remote: c.IP()})
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", "followup.pdf"))
	return c.Send(buf.Bytes())
}
