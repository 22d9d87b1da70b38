package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

type loginData struct {
	Username string
	Next     string
	Failed   bool
	// Throttled: too many failures for this name or address; wait.
	Throttled bool
}

// loginForm shows the sign-in form; a visitor already signed in goes on.
func (u *ui) loginForm(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if sec := c.Cookies(sessionCookie); sec != "" {
		if _, _, err := u.s.store.LookupToken(c.UserContext(), sec); err == nil {
			return c.Redirect(next, http.StatusSeeOther)
		}
	}
	return u.render(c, http.StatusOK, "login", "", loginData{Next: next})
}

// loginSubmit checks the password, opens a session (the same cookie the API
// login sets) and goes where the visitor was heading.
func (u *ui) loginSubmit(c *fiber.Ctx) error {
	form, _, err := u.readForm(c, false, func(v url.Values) error { return checkLoginCSRF(c, v.Get(csrfField)) })
	if err != nil {
		return err
	}
	name := strings.TrimSpace(form.Get("username"))
	next := safeNext(form.Get("next"))
	ctx := c.UserContext()
	usr, err := u.s.checkLogin(c, name, form.Get("password"))
	switch archive.ErrorCode(err) {
	case "":
	case archive.EUNAUTHORIZED:
		// The name stays typed; the password never comes back.
		return u.render(c, http.StatusUnauthorized, "login", "", loginData{Username: name, Next: next, Failed: true})
	case archive.ETOOMANY:
		return u.render(c, http.StatusTooManyRequests, "login", "", loginData{Username: name, Next: next, Throttled: true})
	default:
		return err
	}
	secret, tok, err := u.s.store.IssueToken(ctx, usr.Username, u.s.cfg.TokenTTL)
	if err != nil {
		return err
	}
	_ = u.s.store.Audit(ctx, archive.Event{Actor: usr.Username, Action: archive.ActionLogin, Remote: c.IP()})
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: secret, Path: "/", Expires: tok.ExpiresAt,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: u.s.cfg.SecureCookies})
	c.ClearCookie(preCookie)
	return c.Redirect(next, http.StatusSeeOther)
}

// logout ends the session and returns to the login page.
func (u *ui) logout(c *fiber.Ctx) error {
	if _, _, err := u.readPostedForm(c, false); err != nil {
		return err
	}
	tok, _ := c.Locals("token").(string)
	if err := u.s.store.RevokeToken(c.UserContext(), tok); err != nil {
		return err
	}
	_ = u.s.store.Audit(c.UserContext(), archive.Event{Actor: user(c).Username, Action: archive.ActionLogout, Remote: c.IP()})
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: u.s.cfg.SecureCookies})
	return c.Redirect("/login", http.StatusSeeOther)
}

// switchLang remembers the chosen language for a year and goes back.
func (u *ui) switchLang(c *fiber.Ctx) error {
	lang := c.Params("lang")
	if _, ok := u.catalogues[lang]; !ok {
		lang = "ar"
	}
	c.Cookie(&fiber.Cookie{Name: langCookie, Value: lang, Path: "/", Expires: time.Now().AddDate(1, 0, 0),
		SameSite: fiber.CookieSameSiteLaxMode, Secure: u.s.cfg.SecureCookies})
	return c.Redirect(safeNext(c.Query("next")), http.StatusSeeOther)
}
