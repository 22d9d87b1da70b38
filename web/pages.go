package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// ui is the web application: server-rendered pages that call the Store and
// the Index directly, one file per page or action (page_*.go).
type ui struct {
	s          *Server
	views      *views
	assets     *assets
	catalogues map[string]*catalogue
}

// newUI loads the embedded catalogues, static files and templates. Any of them
// missing or broken is a programming error that must stop the server at start.
func newUI(s *Server) (*ui, error) {
	cats, err := loadCatalogues()
	if err != nil {
		return nil, err
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	v, err := parseViews(a)
	if err != nil {
		return nil, err
	}
	return &ui{s: s, views: v, assets: a, catalogues: cats}, nil
}

// pageRoutes registers the web application's pages (server-rendered, Arabic,
// right to left). Every route of the application is listed here.
func (s *Server) pageRoutes() {
	u, err := newUI(s)
	if err != nil {
		// Templates and catalogues are embedded: this fails in tests, never
		// on a server that was built from a tested tree.
		panic(err)
	}
	app := s.app
	app.Get("/static/:sum/:name", u.assets.serve)
	app.Get("/lang/:lang", u.switchLang)

	app.Get("/login", u.page(u.loginForm))
	app.Post("/login", s.loginLimiter(), u.page(u.loginSubmit))
	app.Post("/logout", u.auth, u.page(u.logout))

	app.Get("/", u.auth, u.need(archive.PermRead), u.page(u.dashboard))
	app.Get("/search", u.auth, u.need(archive.PermRead), u.page(u.searchPage))
	app.Get("/registers/:register", u.auth, u.need(archive.PermRead), u.page(u.registerList))
	app.Get("/registers/:register/new", u.auth, u.need(archive.PermWrite), u.page(u.recordNew))
	app.Post("/registers/:register/new", u.auth, u.need(archive.PermWrite), u.page(u.recordCreate))
	app.Get("/records/:id", u.auth, u.need(archive.PermRead), u.page(u.recordShow))
	app.Get("/records/:id/edit", u.auth, u.need(archive.PermWrite), u.page(u.recordEdit))
	app.Post("/records/:id/edit", u.auth, u.need(archive.PermWrite), u.page(u.recordUpdate))
	app.Post("/records/:id/annul", u.auth, u.need(archive.PermWrite), u.page(u.recordAnnul))
	app.Post("/records/:id/text/:sha256", u.auth, u.need(archive.PermWrite), u.page(u.recordText))
	app.Post("/records/:id/followup", u.auth, u.need(archive.PermWrite), u.page(u.followupSubmit))
	app.Get("/inbox", u.auth, u.need(archive.PermWrite), u.page(u.inboxPage))
	app.Post("/inbox/:id/attach", u.auth, u.need(archive.PermWrite), u.page(u.inboxStep(u.inboxAttach)))
	app.Post("/inbox/:id/split", u.auth, u.need(archive.PermWrite), u.page(u.inboxStep(u.inboxSplit)))
	app.Post("/inbox/:id/discard", u.auth, u.need(archive.PermWrite), u.page(u.inboxStep(u.inboxDiscard)))
	app.Get("/followup", u.auth, u.need(archive.PermRead), u.page(u.followupPage))
	app.Get("/import", u.auth, u.need(archive.PermUsers), u.page(u.importPage))
	app.Post("/import", u.auth, u.need(archive.PermUsers), u.page(u.importRun))

	// Administration (page_users.go, page_account.go, page_audit.go, page_verify.go).
	app.Get("/account", u.auth, u.page(u.accountPage))
	app.Post("/account/password", u.auth, u.page(u.accountPassword))
	app.Post("/account/logout-all", u.auth, u.page(u.accountLogoutAll))
	app.Post("/account/prefs", u.auth, u.page(u.accountPrefs))
	app.Get("/users", u.auth, u.need(archive.PermUsers), u.page(u.usersPage))
	app.Post("/users", u.auth, u.need(archive.PermUsers), u.page(u.userCreate))
	app.Get("/users/:username", u.auth, u.need(archive.PermUsers), u.page(u.userShow))
	app.Post("/users/:username", u.auth, u.need(archive.PermUsers), u.page(u.userUpdate))
	app.Get("/audit", u.auth, u.need(archive.PermAudit), u.page(u.auditPage))
	app.Get("/verify", u.auth, u.need(archive.PermAudit), u.page(u.verifyPage))
	app.Post("/verify", u.auth, u.need(archive.PermAudit), u.page(u.verifyRun))

	// Anything else outside the API is a page that does not exist.
	app.Use(u.page(func(c *fiber.Ctx) error {
		return archive.Errorf(archive.ENOTFOUND, "no page %s", c.Path())
	}))
}

// page runs a page handler and answers its error as an HTML page in the
// user's language with the right status, never as the API's JSON.
func (u *ui) page(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := h(c)
		if err == nil {
			return nil
		}
		return u.errorPage(c, err)
	}
}

// auth lets a request through with a valid session cookie and sends everyone
// else to the login page, to come back here afterwards.
func (u *ui) auth(c *fiber.Ctx) error {
	if sec := c.Cookies(sessionCookie); sec != "" {
		_, usr, err := u.s.store.LookupToken(c.UserContext(), sec)
		if err == nil {
			c.Locals("user", usr)
			c.Locals("token", sec)
			return c.Next()
		}
		if code := archive.ErrorCode(err); code != archive.EUNAUTHORIZED {
			return u.errorPage(c, err)
		}
	}
	if c.Method() != fiber.MethodGet {
		return u.errorPage(c, archive.Errorf(archive.EUNAUTHORIZED, "log in first"))
	}
	return c.Redirect("/login?next="+url.QueryEscape(string(c.Request().RequestURI())), http.StatusSeeOther)
}

// need answers 403 to a role without perm.
func (u *ui) need(perm string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if usr := user(c); usr == nil || !archive.Can(usr.Role, perm) {
			return u.errorPage(c, archive.Errorf(archive.EFORBIDDEN, "your role may not do this"))
		}
		return c.Next()
	}
}

// errorPage renders err as an Arabic (or English) page with the status its
// code maps to. Internal details stay in the log.
func (u *ui) errorPage(c *fiber.Ctx, err error) error {
	// A request refused before its body was read must not leave the body
	// on the connection (see drain).
	drain(c)
	status := statusOf(archive.ErrorCode(err))
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status = fe.Code
	}
	switch {
	case status >= 500:
		u.s.log.Error("page failed", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	default:
		u.s.log.Info("page error", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	}
	if status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout {
		c.Set(fiber.HeaderRetryAfter, "5")
	}
	key := "error.other"
	switch status {
	case 400, 401, 403, 404, 409, 412, 413, 415, 429, 503, 504, 507:
		key = "error." + strconv.Itoa(status)
	}
	return u.render(c, status, "error", "", errorData{Status: status, Key: key})
}

type errorData struct {
	Status int
	Key    string
}
