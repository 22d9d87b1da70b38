package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// userView is an account as the API shows it: never the password hash.
type userView struct {
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func viewUser(u *archive.User) userView {
	return userView{Username: u.Username, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	users, err := s.store.Users(c.UserContext())
	if err != nil {
		return err
	}
	out := []userView{}
	for _, u := range users {
		out = append(out, viewUser(u))
	}
	return c.JSON(fiber.Map{"users": out})
}

type newUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var req newUser
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.store.CreateUser(c.UserContext(), user(c).Username, req.Username, req.Password, req.Role)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewUser(u))
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	var req archive.UserUpdate
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.store.UpdateUser(c.UserContext(), user(c).Username, c.Params("username"), req)
	if err != nil {
		return err
	}
	if (req.Disabled != nil && *req.Disabled) || req.Password != nil {
		// A disabled account or a reset password ends every session of the
		// account (a disabled user's tokens are refused anyway; this removes them).
		if _, err := s.store.RevokeUserTokens(c.UserContext(), u.Username, ""); err != nil {
			return err
		}
	}
	return c.JSON(viewUser(u))
}

func (s *Server) listAudit(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	f := archive.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), Target: c.Query("target"), Limit: limit}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return archive.Errorf(archive.EINVALID, "%s must be an RFC 3339 time", p.name)
			}
			*p.dst = t
		}
	}
	evs, err := s.store.AuditEvents(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"events": nonNil(evs)})
}
