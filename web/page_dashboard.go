package web

import (
	"net/http"

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
	return u.render(c, http.StatusOK, "dashboard", "dashboard", d)
}
