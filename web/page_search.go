package web

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

const searchPageSize = 20

type searchData struct {
	Q                          url.Values
	Ran                        bool
	Error                      string
	Total                      uint64
	Hits                       []searchHit
	Registers, Years           []facet
	Page, Pages                int
	Indexing                   bool
	PageURL                    func(page int) string
	FacetURL                   func(name, value string) string
	Register, Status, From, To string
	Tag                        string
	Year                       int
	Sort                       string
	Text                       string
}

type searchHit struct {
	index.Hit
	Snippets []snippet
}

type snippet struct {
	Field string
	HTML  template.HTML
}

type facet struct {
	Value    string
	Count    int
	Selected bool
}

// safeHighlight trusts a highlight fragment as HTML only if it is what the
// index promises: text already escaped, with no tag but <mark> and </mark>.
// Anything else is shown escaped, as text.
func safeHighlight(s string) template.HTML {
	rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
	if strings.ContainsAny(rest, "<>") || strings.Count(s, "<mark>") != strings.Count(s, "</mark>") {
		return template.HTML(template.HTMLEscapeString(s))
	}
	return template.HTML(s)
}

// highlightOrder is the order snippets are shown in.
var highlightOrder = []string{"subject", "body", "attachments", "from", "to", "committee", "tags"}

// searchPage runs a search from the query string and shows hits with their
// highlighted snippets, the facets of all matches and the query help.
func (u *ui) searchPage(c *fiber.Ctx) error {
	d := searchData{Q: url.Values{}, Text: strings.TrimSpace(c.Query("q")), Register: c.Query("register"),
		Status: c.Query("status"), From: c.Query("from"), To: c.Query("to"), Sort: c.Query("sort"),
		Tag: strings.TrimSpace(c.Query("tag"))}
	for _, k := range []string{"q", "register", "year", "status", "from", "to", "sort", "tag"} {
		if v := strings.TrimSpace(c.Query(k)); v != "" {
			d.Q.Set(k, v)
		}
	}
	d.Year, _ = strconv.Atoi(c.Query("year"))
	d.Page, _ = strconv.Atoi(c.Query("page"))
	d.Page = max(d.Page, 1)
	link := func(q url.Values) string { return "/search?" + q.Encode() }
	d.PageURL = func(p int) string {
		q := cloneValues(d.Q)
		q.Set("page", strconv.Itoa(p))
		return link(q)
	}
	d.FacetURL = func(name, value string) string {
		q := cloneValues(d.Q)
		if q.Get(name) == value {
			q.Del(name)
		} else {
			q.Set(name, value)
		}
		return link(q)
	}
	if len(d.Q) == 0 {
		return u.render(c, http.StatusOK, "search", "search", d)
	}
	if u.s.index == nil {
		return archive.Errorf(archive.EUNAVAILABLE, "search is not available on this server")
	}
	d.Ran = true
	d.Indexing = u.s.indexState() == "rebuilding"
	res, err := u.s.index.Search(c.UserContext(), index.Query{Text: d.Text, Register: d.Register, Year: d.Year,
		Status: d.Status, From: d.From, To: d.To, Sort: d.Sort, Tag: d.Tag, Page: d.Page, Size: searchPageSize,
		SeeConfidential: archive.Can(user(c).Role, archive.PermConfidential)})
	if archive.ErrorCode(err) == archive.EINVALID {
		d.Error = archive.ErrorMessage(err)
		return u.render(c, http.StatusBadRequest, "search", "search", d)
	}
	if err != nil {
		return err
	}
	d.Total = res.Total
	d.Pages = max(1, int((res.Total+searchPageSize-1)/searchPageSize))
	for _, h := range res.Hits {
		sh := searchHit{Hit: h}
		for _, f := range highlightOrder {
			for _, frag := range h.Highlights[f] {
				sh.Snippets = append(sh.Snippets, snippet{Field: f, HTML: safeHighlight(frag)})
			}
		}
		d.Hits = append(d.Hits, sh)
	}
	if err := u.registrationDates(c, d.Hits); err != nil {
		return err
	}
	d.Registers = facets(res.Facets["register"], d.Register, false)
	d.Years = facets(res.Facets["year"], c.Query("year"), true)
	return u.render(c, http.StatusOK, "search", "search", d)
}

func facets(m map[string]int, selected string, desc bool) []facet {
	var out []facet
	for v, n := range m {
		out = append(out, facet{Value: v, Count: n, Selected: v == selected})
	}
	sort.Slice(out, func(i, j int) bool {
		if desc {
			return out[i].Value > out[j].Value
		}
		return out[i].Count > out[j].Count || out[i].Count == out[j].Count && out[i].Value < out[j].Value
	})
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k != "page" {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

// registrationDates gives the hits of entries that carry no date of their own
// (most incoming letters are registered without one) the day they were
// registered, so that every hit says when.
func (u *ui) registrationDates(c *fiber.Ctx, hits []searchHit) error {
	var ids []string
	for _, h := range hits {
		if h.Date == "" {
			ids = append(ids, h.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	recs, err := u.s.store.GetMany(c.UserContext(), ids)
	if err != nil {
		return err
	}
	for i := range hits {
		if r, ok := recs[hits[i].ID]; ok && hits[i].Date == "" {
			hits[i].Date = r.CreatedAt.In(u.s.store.Location()).Format(time.DateOnly)
		}
	}
	return nil
}
