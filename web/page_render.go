package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/importer"
	"github.com/sijill/sijill/render"
)

//go:embed templates
var templateFS embed.FS

// pageNames are the views the application renders. Each templates/{name}.html
// defines "title" and "content" and is parsed with the layout at start: a
// missing or broken view stops the server from starting, not a user's request.
var pageNames = []string{"login", "dashboard", "register", "form", "record", "search", "error",
	"users", "user", "account", "audit", "verify", "followup", "import", "inbox"}

// views holds the parsed templates, one complete template set per page.
type views struct {
	pages map[string]*template.Template
}

func parseViews(assets *assets) (*views, error) {
	funcs := template.FuncMap{
		"asset": assets.url,
		"join":  strings.Join,
		"lines": func(l []string) string { return strings.Join(l, "\n") },
		"add":   func(a, b int) int { return a + b },
		"sub":   func(a, b int) int { return a - b },
		// kb is a file size, isolated left to right (U+2066…U+2069) so that
		// "2 KB" does not come out as "KB 2" in an Arabic sentence.
		"kb": func(n int64) string {
			if n >= 1<<20 {
				return "\u2066" + strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB\u2069"
			}
			return "\u2066" + strconv.FormatInt(max(n/1024, 1), 10) + " KB\u2069"
		},
		"isImage": func(ct string) bool {
			// Browsers show these inline; TIFF scans are offered for download only.
			return ct == "image/png" || ct == "image/jpeg" || ct == "image/webp"
		},
		"isPDF": func(ct string) bool { return ct == "application/pdf" },
		"fld": func(v *view, name, typ string, required bool) fieldData {
			f, _ := v.Page.(formData)
			return fieldData{V: v, Name: name, Type: typ, Required: required, Value: f.V(name), Error: f.E(name)}
		},
		"choiceOf": func(v *view, name string, f formData) choiceData { return choiceData{V: v, Name: name, Form: f} },
		"dropzone": func(v *view, url string, max int64) dropzoneData {
			return dropzoneData{V: v, URL: url, Max: max}
		},
		"pager": func(v *view, page, pages int, url func(int) string) pagerData {
			return pagerData{V: v, Page: page, Pages: pages, url: url}
		},
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	v := &views{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: clone layout: %w", err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("web: parse view %s: %w", name, err)
		}
		for _, def := range []string{"title", "content"} {
			if t.Lookup(def) == nil {
				return nil, fmt.Errorf("web: view %s does not define %q", name, def)
			}
		}
		v.pages[name] = t
	}
	return v, nil
}

// fieldData is one labelled form field with its value and error message.
type fieldData struct {
	V            *view
	Name, Type   string
	Value, Error string
	Required     bool
}

// choiceData is a field that names another record, with recent ones offered.
type choiceData struct {
	V    *view
	Name string
	Form formData
}

// dropzoneData is the upload widget: URL is the record's attachments API
// (empty on the new-record form, which sends its files with the record).
type dropzoneData struct {
	V   *view
	URL string
	Max int64
}

// pagerData is the "previous / page n of m / next" bar.
type pagerData struct {
	V           *view
	Page, Pages int
	url         func(int) string
}

// URL is the link to page p.
func (p pagerData) URL(n int) string { return p.url(n) }

// view is what every page template receives: the request's language and user,
// the CSRF token for its forms, and the page's own data in Page.
type view struct {
	Lang, Dir string
	Org       string
	User      *archive.User
	CSRF      string
	Path      string // the current path and query, for the language switch
	Nav       string // the active navigation item
	Page      any

	tr  *catalogue
	loc *time.Location
}

// T translates a message key of the catalogue, formatting args into it.
func (v *view) T(key string, args ...any) string { return v.tr.text(key, args...) }

// Why says why an import refused a row, in the page's language; a reason
// the catalogue does not know is shown as the importer wrote it.
func (v *view) Why(r importer.Refusal) string {
	key := "import.why." + r.Code
	if _, ok := v.tr.msgs[key]; !ok {
		return r.Reason
	}
	args := make([]any, len(r.Args))
	for i, a := range r.Args {
		args[i] = a
	}
	return v.tr.text(key, args...)
}

// OtherLang is the language the switch offers.
func (v *view) OtherLang() string {
	if v.Lang == "en" {
		return "ar"
	}
	return "en"
}

// LangURL is the link that switches to the other language and comes back here.
func (v *view) LangURL() string {
	return "/lang/" + v.OtherLang() + "?next=" + url.QueryEscape(v.Path)
}

// Can reports whether the signed-in user has perm, so templates hide what the
// role may not do.
func (v *view) Can(perm string) bool { return v.User != nil && archive.Can(v.User.Role, perm) }

// Registers lists the registers for the navigation.
func (v *view) Registers() []archive.Register { return archive.Registers() }

// RegTitle is a register's name in the page's language.
func (v *view) RegTitle(r any) string { return v.T("register." + fmt.Sprint(r)) }

// Time shows a time in the organisation's zone, isolated left to right
// (U+2066…U+2069): in an Arabic sentence, "2026-11-30 14:05" would otherwise
// come out as "14:05 2026-11-30".
func (v *view) Time(t any) string {
	switch t := t.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return "\u2066" + v.digits(t.In(v.loc).Format("2006-01-02 15:04")) + "\u2069"
	case *time.Time:
		if t == nil || t.IsZero() {
			return ""
		}
		return "\u2066" + v.digits(t.In(v.loc).Format("2006-01-02 15:04")) + "\u2069"
	}
	return ""
}

// digits writes s's ASCII digits as Eastern Arabic ones when the user
// prefers them.
func (v *view) digits(s string) string {
	if v.User == nil || !v.User.Prefs.EasternDigits {
		return s
	}
	return render.EasternDigits(s)
}

// numberSpan finds what the templates mark as a number or a date: a span of
// class refno or date holding plain text.
var numberSpan = regexp.MustCompile(`<span class="(refno|date)"([^>]*)>([^<]*)</span>`)

// withPrefs applies the user's display preferences to a rendered page: the
// numbers and dates the templates mark (numberSpan) in Eastern Arabic
// digits, and the Hijri date beside each Gregorian date. Only those spans
// change — what people typed (subjects, texts, form values) is shown as
// typed, and addresses and attributes are never touched.
func (v *view) withPrefs(page []byte) []byte {
	if v.User == nil || v.User.Prefs == (archive.Prefs{}) {
		return page
	}
	p := v.User.Prefs
	return numberSpan.ReplaceAllFunc(page, func(m []byte) []byte {
		sub := numberSpan.FindSubmatch(m)
		class, attrs, text := string(sub[1]), string(sub[2]), string(sub[3])
		var hijri string
		if class == "date" && p.Hijri {
			// A day as the records write it (2026-03-15); a time is not one.
			if t, err := time.Parse(time.DateOnly, text); err == nil {
				if y, mo, da := render.HijriDate(t); y > 0 {
					hijri = fmt.Sprintf(` <span class="hijri" dir="rtl">(%d/%02d/%02d هـ)</span>`, y, mo, da)
				}
			}
		}
		if p.EasternDigits {
			text, hijri = render.EasternDigits(text), render.EasternDigits(hijri)
		}
		return []byte(`<span class="` + class + `"` + attrs + `>` + text + `</span>` + hijri)
	})
}

// render executes the page template name with data and sends it as HTML.
func (u *ui) render(c *fiber.Ctx, status int, name, nav string, page any) error {
	t, ok := u.views.pages[name]
	if !ok {
		return fmt.Errorf("web: no view %q", name)
	}
	v := u.newView(c, nav, page)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(v.withPrefs(buf.Bytes()))
}

func (u *ui) newView(c *fiber.Ctx, nav string, page any) *view {
	lang := langOf(c)
	v := &view{Lang: lang, Dir: "rtl", Org: u.s.cfg.Organisation, User: user(c), Nav: nav, Page: page,
		tr: u.catalogues[lang], loc: u.s.store.Location(), Path: string(c.Request().RequestURI())}
	if c.Method() != fiber.MethodGet {
		// A form shown again after a refused post: the language switch
		// goes back to the page the form belongs to, which answers GET.
		v.Path = strings.TrimSuffix(c.Path(), "/annul")
	}
	if lang == "en" {
		// The English interface reads left to right; the records themselves
		// stay Arabic and are marked dir="auto" where they are shown.
		v.Dir = "ltr"
	}
	v.CSRF = u.csrfToken(c)
	return v
}

// langOf is the request's language: the switch cookie, Arabic by default.
func langOf(c *fiber.Ctx) string {
	if c.Cookies(langCookie) == "en" {
		return "en"
	}
	return "ar"
}

const langCookie = "sijill_lang"

// safeNext returns next if it is a path on this site, else "/": the login and
// language redirects must not send anyone elsewhere.
func safeNext(next string) string {
	// Browsers drop tabs, newlines and carriage returns from URLs and read
	// a backslash as a slash: "/\t/evil.example" is "//evil.example" to
	// them. Anything but a plain local path goes home.
	if next == "" || next[0] != '/' || strings.ContainsAny(next, "\\") || strings.IndexFunc(next, unicode.IsControl) >= 0 ||
		strings.ContainsRune(next, ' ') {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(next, "//") ||
		strings.IndexFunc(u.Path, unicode.IsControl) >= 0 || strings.ContainsRune(u.Path, '\\') {
		return "/"
	}
	return next
}
