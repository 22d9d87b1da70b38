package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// registerPageSize is how many entries a register page lists.
const registerPageSize = 50

type registerData struct {
	Register archive.Register
	Year     int
	Years    []int
	Status   string
	Filter   string
	Records  []*archive.Record
	Total    int
	Page     int
	Pages    int
	// PageURL builds the link to another page with the same filters.
	PageURL func(page int) string
}

// registerList lists one register's year, newest first, with a status filter
// and a filter on the subject and parties.
func (u *ui) registerList(c *fiber.Ctx) error {
	reg, err := register(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	years, err := u.s.store.Years(ctx, reg)
	if err != nil {
		return err
	}
	now := u.s.store.Now().Year()
	if len(years) == 0 || years[0] != now {
		years = append([]int{now}, years...)
	}
	year, err := queryInt(c, "year", now, 1, 9999)
	if err != nil {
		return archive.Errorf(archive.ENOTFOUND, "no year %q", c.Query("year"))
	}
	page, err := queryInt(c, "page", 1, 1, 1<<20)
	if err != nil {
		page = 1
	}
	d := registerData{Register: reg, Year: year, Years: years, Status: c.Query("status"),
		Filter: strings.TrimSpace(c.Query("q")), Page: page}
	if d.Status != archive.StatusActive && d.Status != archive.StatusAnnulled {
		d.Status = ""
	}
	needle := strings.ToLower(d.Filter)
	var recs []*archive.Record
	for rec, err := range u.s.store.Records(ctx, reg, year) {
		if err != nil {
			return err
		}
		if !canSee(user(c), rec) || (d.Status != "" && rec.Status != d.Status) {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(strings.Join([]string{rec.Subject, rec.From,
			rec.To, rec.Reference, strconv.Itoa(rec.Number)}, "\x00")), needle) {
			continue
		}
		recs = append(recs, rec)
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	d.Total = len(recs)
	d.Pages = max(1, (d.Total+registerPageSize-1)/registerPageSize)
	d.Page = min(d.Page, d.Pages)
	from := min((d.Page-1)*registerPageSize, d.Total)
	d.Records = recs[from:min(from+registerPageSize, d.Total)]
	d.PageURL = func(p int) string {
		q := url.Values{"year": {strconv.Itoa(year)}, "page": {strconv.Itoa(p)}}
		if d.Status != "" {
			q.Set("status", d.Status)
		}
		if d.Filter != "" {
			q.Set("q", d.Filter)
		}
		return "/registers/" + string(reg) + "?" + q.Encode()
	}
	return u.render(c, http.StatusOK, "register", string(reg), d)
}
