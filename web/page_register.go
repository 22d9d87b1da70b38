package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
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
	// The index counts and pages without reading the whole year; only the
	// page's records are read from storage. A filter is a search, with the
	// search page's Arabic analysis (hamza, ta marbuta, Eastern digits,
	// prefixes); when it finds nothing, or is not a valid query, the filter
	// looks for the text inside the subject, parties, reference and number,
	// so that a part of a word or a reference still finds its entry.
	fromIndex := u.s.indexReady() && page*registerPageSize <= 10000
	if fromIndex {
		err := u.registerPageFromIndex(c, &d)
		switch {
		case archive.ErrorCode(err) == archive.EINVALID:
			fromIndex = false
		case err != nil:
			return err
		case d.Filter != "" && d.Total == 0:
			fromIndex = false
		}
	}
	if !fromIndex {
		d.Records, d.Total = nil, 0
		if err := u.registerPageFromStore(c, &d); err != nil {
			return err
		}
	}
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

func (u *ui) registerPageFromIndex(c *fiber.Ctx, d *registerData) error {
	ctx := c.UserContext()
	res, err := u.s.index.Search(ctx, index.Query{Text: d.Filter, Register: string(d.Register), Year: d.Year, Status: d.Status,
		Sort: "-number", Page: d.Page, Size: registerPageSize,
		SeeConfidential: archive.Can(user(c).Role, archive.PermConfidential)})
	if err != nil {
		return err
	}
	d.Total = int(res.Total)
	d.Pages = max(1, (d.Total+registerPageSize-1)/registerPageSize)
	for _, h := range res.Hits {
		rec, _, err := u.s.store.Get(ctx, h.ID)
		if archive.ErrorCode(err) == archive.ENOTFOUND {
			continue // an index entry ahead of storage: a reindex repairs it
		}
		if err != nil {
			return err
		}
		if canSee(user(c), rec) {
			d.Records = append(d.Records, rec)
		}
	}
	return nil
}

// registerPageFromStore reads the whole year: for the filter on parts of
// words, which the index does not do, and when there is no ready index.
func (u *ui) registerPageFromStore(c *fiber.Ctx, d *registerData) error {
	needle := strings.ToLower(d.Filter)
	var recs []*archive.Record
	for rec, err := range u.s.store.Records(c.UserContext(), d.Register, d.Year) {
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
	return nil
}
