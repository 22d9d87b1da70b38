package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

type passwordChange struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// changePassword lets the current user change their own password. The old
// password is checked (and throttled like a login, so a stolen session cannot
// be used to guess it); every other session of the user ends, so whoever else
// held one is out.
func (s *Server) changePassword(c *fiber.Ctx) error {
	var req passwordChange
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	u := user(c)
	if _, err := s.checkLogin(c, u.Username, req.Old); err != nil {
		if archive.ErrorCode(err) == archive.EUNAUTHORIZED {
			// Not 401: the session is fine, the old password is not.
			return &archive.ValidationError{Fields: []archive.FieldError{{Field: "old", Message: "كلمة المرور الحالية غير صحيحة"}}}
		}
		return err
	}
	if req.New == req.Old {
		return &archive.ValidationError{Fields: []archive.FieldError{{Field: "new", Message: "كلمة المرور الجديدة هي القديمة نفسها"}}}
	}
	ctx := c.UserContext()
	if _, err := s.store.UpdateUser(ctx, u.Username, u.Username, archive.UserUpdate{Password: &req.New}); err != nil {
		return err
	}
	n, err := s.store.RevokeUserTokens(ctx, u.Username, archive.TokenID(currentToken(c)))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"changed": true, "sessions_ended": n})
}

func currentToken(c *fiber.Ctx) string {
	tok, _ := c.Locals("token").(string)
	return tok
}

// tokenView is a session as its owner sees it: never the secret.
type tokenView struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current"`
}

// listTokens shows the current user's live sessions and tokens.
func (s *Server) listTokens(c *fiber.Ctx) error {
	toks, err := s.store.UserTokens(c.UserContext(), user(c).Username)
	if err != nil {
		return err
	}
	cur := archive.TokenID(currentToken(c))
	out := []tokenView{}
	for _, t := range toks {
		out = append(out, tokenView{ID: t.ID, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Current: t.ID == cur})
	}
	return c.JSON(fiber.Map{"tokens": out})
}

// revokeToken ends one of the current user's tokens (a session left open on
// another computer). Another user's token is 404, as an unknown one.
func (s *Server) revokeToken(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := c.Params("id")
	if err := s.store.RevokeTokenID(ctx, user(c).Username, id); err != nil {
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: user(c).Username, Action: archive.ActionLogout, Detail: "token " + id[:12], Remote: c.IP()})
	if id == archive.TokenID(currentToken(c)) {
		c.ClearCookie(sessionCookie)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// revokeAllTokens logs the current user out everywhere, this session included.
func (s *Server) revokeAllTokens(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := user(c)
	n, err := s.store.RevokeUserTokens(ctx, u.Username, "")
	if err != nil {
		return err
	}
	_ = s.store.Audit(ctx, archive.Event{Actor: u.Username, Action: archive.ActionLogout, Detail: "everywhere", Remote: c.IP()})
	c.ClearCookie(sessionCookie)
	return c.JSON(fiber.Map{"sessions_ended": n})
}
