package web

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/sijill/sijill/archive"
)

const sessionCookie = "sijill_session"

// user is the authenticated account of a request, set by authenticate.
func user(c *fiber.Ctx) *archive.User {
	u, _ := c.Locals("user").(*archive.User)
	return u
}

// bearer returns the token of the request: the Authorization header, or the
// session cookie the web pages use.
func bearer(c *fiber.Ctx) string {
	if h := c.Get(fiber.HeaderAuthorization); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return c.Cookies(sessionCookie)
}

// authenticate rejects every request without a valid token with 401.
func (s *Server) authenticate(c *fiber.Ctx) error {
	tok := bearer(c)
	if tok == "" {
		return archive.Errorf(archive.EUNAUTHORIZED, "log in first: send Authorization: Bearer <token>")
	}
	_, u, err := s.store.LookupToken(c.UserContext(), tok)
	if err != nil {
		return err
	}
	c.Locals("user", u)
	c.Locals("token", tok)
	return c.Next()
}

// require lets the request through only if the user's role has perm.
func (s *Server) require(perm string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if u := user(c); u == nil || !archive.Can(u.Role, perm) {
			return archive.Errorf(archive.EFORBIDDEN, "your role may not do this")
		}
		return c.Next()
	}
}

// loginLimiter throttles login attempts per address, against password guessing.
func (s *Server) loginLimiter() fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        20,
		Expiration: time.Minute,
		LimitReached: func(c *fiber.Ctx) error {
			return archive.Errorf(archive.ETOOMANY, "too many login attempts; wait a minute")
		},
	})
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	u, err := s.checkLogin(c, req.Username, req.Password)
	if err != nil {
		return err
	}
	secret, tok, err := s.store.IssueToken(ctx, u.Username, s.cfg.TokenTTL)
	if err != nil {
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: u.Username, Action: archive.ActionLogin, Remote: c.IP()})
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: secret, Path: "/", Expires: tok.ExpiresAt,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies})
	return c.JSON(fiber.Map{"token": secret, "expires_at": tok.ExpiresAt, "username": u.Username, "role": u.Role})
}

func (s *Server) logout(c *fiber.Ctx) error {
	tok, _ := c.Locals("token").(string)
	if err := s.store.RevokeToken(c.UserContext(), tok); err != nil {
		return err
	}
	_ = s.store.Audit(c.UserContext(), archive.Event{Actor: user(c).Username, Action: archive.ActionLogout, Remote: c.IP()})
	c.ClearCookie(sessionCookie)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	u := user(c)
	return c.JSON(fiber.Map{"username": u.Username, "role": u.Role, "prefs": u.Prefs})
}

// setPrefs sets the user's own display preferences (Eastern digits, Hijri
// dates), on the pages and as the default of the prints.
func (s *Server) setPrefs(c *fiber.Ctx) error {
	var p archive.Prefs
	if err := s.decodeJSON(c, &p); err != nil {
		return err
	}
	u := user(c)
	upd, err := s.store.UpdateUser(c.UserContext(), u.Username, u.Username, archive.UserUpdate{Prefs: &p})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"username": upd.Username, "role": upd.Role, "prefs": upd.Prefs})
}

// decodeJSON reads a JSON body strictly: a malformed body or an unknown field is
// a 400 that names the problem; a body above jsonLimit, announced or sent in
// chunks, is a 413 and never held whole.
func (s *Server) decodeJSON(c *fiber.Ctx, v any) error {
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		drain(c)
		return archive.Errorf(archive.EUNSUPPORTED, "send the body as application/json")
	}
	body, err := s.readBody(c, jsonLimit)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return archive.Errorf(archive.EINVALID, "invalid JSON body: %v", err)
	}
	if dec.More() {
		return archive.Errorf(archive.EINVALID, "invalid JSON body: more than one value")
	}
	return nil
}
