package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

type dashboardData struct {
	Year      int
	Registers []dashboardRegister
	Indexing  bool
	// Overdue are the decisions whose execution is past due (page_followup.go).
	Overdue []followItem
	// AwaitingReply are the incoming letters that need an answer and have
	// none yet, the earliest due first.
	AwaitingReply []awaitingItem
	// Inbox is how many scans wait in the scan inbox (shown to those who
	// register them).
	Inbox int
}

type awaitingItem struct {
	index.Hit
	Late bool
}

type dashboardRegister struct {
	Name   archive.Register
	Count  int
	Latest []index.Hit
}

// dashboard shows this year's count of each register and its latest entries.
// It asks the index, which counts without reading every record, and falls
// back to reading the registers when there is no index.
func (u *ui) dashboard(c *fiber.Ctx) error {
	ctx := c.UserContext()
	see := archive.Can(user(c).Role, archive.PermConfidential)
	d := dashboardData{Year: u.s.store.Now().Year(), Indexing: u.s.indexState() == "rebuilding"}
	if archive.Can(user(c).Role, archive.PermWrite) {
		n, err := u.s.store.InboxCount(ctx)
		if err != nil {
			return err
		}
		d.Inbox = n
	}
	for _, reg := range archive.Registers() {
		r := dashboardRegister{Name: reg}
		if u.s.index != nil {
			res, err := u.s.index.Search(ctx, index.Query{Register: string(reg), Year: d.Year,
				Sort: "-number", Size: 5, SeeConfidential: see})
			if err != nil {
				return err
			}
			r.Count, r.Latest = int(res.Total), res.Hits
		} else {
			var all []index.Hit
			for rec, err := range u.s.store.Records(ctx, reg, d.Year) {
				if err != nil {
					return err
				}
				if canSee(user(c), rec) {
					all = append(all, index.Hit{ID: rec.ID, Register: string(rec.Register), Year: rec.Year,
						Number: rec.Number, Date: rec.Date, Subject: rec.Subject})
				}
			}
			r.Count = len(all)
			for i := len(all) - 1; i >= 0 && len(r.Latest) < 5; i-- {
				r.Latest = append(r.Latest, all[i])
			}
		}
		d.Registers = append(d.Registers, r)
	}
	overdue, err := u.s.followItems(ctx, user(c), archive.FollowFilter{Overdue: true})
	if err != nil {
		return err
	}
	d.Overdue = overdue
	if d.AwaitingReply, err = u.s.awaitingReply(ctx, user(c)); err != nil {
		return err
	}
	return u.render(c, http.StatusOK, "dashboard", "dashboard", d)
}

// maxAwaiting bounds the letters awaiting a reply that the dashboard lists.
const maxAwaiting = 100

// awaitingReply lists the active incoming letters u may see that need an
// answer (ReplyDue) and have no active outgoing letter registered in reply,
// the earliest due first. A letter's replies are found through the index's
// links and confirmed on the stored records: a link may also be a mere
// reference.
func (s *Server) awaitingReply(ctx context.Context, u *archive.User) ([]awaitingItem, error) {
	if s.index == nil {
		return nil, nil
	}
	see := archive.Can(u.Role, archive.PermConfidential)
	res, err := s.index.Search(ctx, index.Query{Register: string(archive.Incoming), AwaitingReply: true,
		Status: archive.StatusActive, Sort: "reply_due", Size: maxAwaiting, SeeConfidential: see})
	if err != nil {
		return nil, err
	}
	today := s.today()
	var out []awaitingItem
	for _, h := range res.Hits {
		links, err := s.index.Search(ctx, index.Query{LinksTo: h.ID, Register: string(archive.Outgoing),
			Status: archive.StatusActive, Size: 20, SeeConfidential: see})
		if err != nil {
			return nil, err
		}
		answered := false
		for _, l := range links.Hits {
			rec, _, err := s.store.Get(ctx, l.ID)
			if err != nil {
				return nil, err
			}
			if rec.InReplyTo == h.ID && rec.Status == archive.StatusActive {
				answered = true
				break
			}
		}
		if !answered {
			out = append(out, awaitingItem{h, h.ReplyDue < today})
		}
	}
	return out, nil
}

// today is the date in the organisation's time zone, as dates are typed.
func (s *Server) today() string {
	return s.store.Now().Format(time.DateOnly) // Now is in the organisation's zone
}
