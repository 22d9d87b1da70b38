package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// Cross-site request forgery protection.
//
// The session cookie is SameSite=Lax, so browsers already refuse to send it
// with another site's POST; the tokens below are the second lock. A signed-in
// page's token is derived from the session secret (which only the browser and
// the server know: the cookie is HttpOnly), so it needs no server-side state
// and dies with the session. The login form, before any session exists, uses a
// double-submit cookie.

const (
	// csrfField is the hidden form field every page form carries.
	csrfField = "csrf"
	// csrfHeader carries the token on the pages' XHR calls to /api/v1.
	csrfHeader = "X-CSRF-Token"
	// preCookie holds the login form's double-submit token.
	preCookie = "sijill_pre"
)

// sessionCSRF is the token for the session with secret.
func sessionCSRF(secret string) string {
	sum := sha256.Sum256([]byte("sijill csrf v1\x00" + secret))
	return hex.EncodeToString(sum[:])
}

// csrfToken is the token the current page embeds in its forms: the session's,
// or for a visitor not signed in the login cookie's (set here if missing).
func (u *ui) csrfToken(c *fiber.Ctx) string {
	if sec := c.Cookies(sessionCookie); sec != "" && user(c) != nil {
		return sessionCSRF(sec)
	}
	if v := c.Cookies(preCookie); len(v) == 32 {
		return v
	}
	b := make([]byte, 16)
	rand.Read(b)
	v := hex.EncodeToString(b)
	c.Cookie(&fiber.Cookie{Name: preCookie, Value: v, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: u.s.cfg.SecureCookies})
	// Let a form rendered in the same response see it as the request's cookie.
	c.Request().Header.SetCookie(preCookie, v)
	return v
}

func equalToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// checkFormCSRF verifies a signed-in page form's token.
func checkFormCSRF(c *fiber.Ctx, got string) error {
	if !equalToken(got, sessionCSRF(c.Cookies(sessionCookie))) {
		return archive.Errorf(archive.EFORBIDDEN, "the form's security token is missing or stale; reload the page")
	}
	return nil
}

// checkLoginCSRF verifies the login form's double-submit token.
func checkLoginCSRF(c *fiber.Ctx, got string) error {
	if !equalToken(got, c.Cookies(preCookie)) {
		return archive.Errorf(archive.EFORBIDDEN, "the form's security token is missing or stale; reload the page")
	}
	return nil
}

// apiCSRF guards the JSON API against forged requests that ride on the
// session cookie: a write authenticated by the cookie must carry the page's
// token in X-CSRF-Token. Programs that send Authorization: Bearer are exempt,
// since a browser never adds that header by itself; so is login, which a
// cookie cannot forge.
func (s *Server) apiCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if h := c.Get(fiber.HeaderAuthorization); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return c.Next()
	}
	sec := c.Cookies(sessionCookie)
	if sec == "" || c.Path() == "/api/v1/auth/login" {
		return c.Next()
	}
	if !equalToken(c.Get(csrfHeader), sessionCSRF(sec)) {
		drain(c)
		return archive.Errorf(archive.EFORBIDDEN, "a request authenticated by the session cookie must send the page's token in X-CSRF-Token")
	}
	return c.Next()
}
