package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// roles are the roles an administrator may give, in the order the forms
// offer them.
var roles = []string{archive.RoleSecretary, archive.RoleReader, archive.RoleAuditor, archive.RoleAdmin}

// usersData is the users page: every account and the form to add one, with
// what was typed and a message beside each refused field.
type usersData struct {
	Users  []*archive.User
	Roles  []string
	Values url.Values
	Errors map[string]string
	Added  string // the account just added
}

// V is the value typed in field name.
func (d usersData) V(name string) string { return d.Values.Get(name) }

// E is the error message for field name.
func (d usersData) E(name string) string { return d.Errors[name] }

// userData is one account's page: change its role, reset its password,
// disable or enable it.
type userData struct {
	Account *archive.User
	Roles   []string
	Self    bool
	Errors  map[string]string
	Done    string // what the last action changed: role, password, disabled, enabled
}

// E is the error message for field name.
func (d userData) E(name string) string { return d.Errors[name] }

// usersPage lists the accounts, oldest first, with the form to add one.
func (u *ui) usersPage(c *fiber.Ctx) error {
	return u.renderUsers(c, http.StatusOK, url.Values{"role": {archive.RoleReader}}, nil, c.Query("added"))
}

func (u *ui) renderUsers(c *fiber.Ctx, status int, vals url.Values, errs map[string]string, added string) error {
	users, err := u.s.store.Users(c.UserContext())
	if err != nil {
		return err
	}
	sort.SliceStable(users, func(i, j int) bool { return users[i].CreatedAt.Before(users[j].CreatedAt) })
	vals.Del("password") // a password never comes back in a page
	d := usersData{Users: users, Roles: roles, Values: vals, Errors: errs}
	if added != "" {
		for _, a := range users {
			if a.Username == added {
				d.Added = added
			}
		}
	}
	return u.render(c, status, "users", "users", d)
}

// userCreate adds the form's account. A refused form comes back with the name
// and role typed and the reason beside the field.
func (u *ui) userCreate(c *fiber.Ctx) error {
	vals, err := u.readPlainForm(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(vals.Get("username"))
	acc, err := u.s.store.CreateUser(c.UserContext(), user(c).Username, name, vals.Get("password"), vals.Get("role"))
	var ve *archive.ValidationError
	switch {
	case errors.As(err, &ve):
		return u.renderUsers(c, http.StatusUnprocessableEntity, vals, validationFields(ve), "")
	case archive.ErrorCode(err) == archive.ECONFLICT:
		return u.renderUsers(c, http.StatusConflict, vals, map[string]string{"username": u.msgKey(c, "users.exists")}, "")
	case err != nil:
		return err
	}
	return c.Redirect("/users?added="+url.QueryEscape(acc.Username), http.StatusSeeOther)
}

// userShow is one account's page.
func (u *ui) userShow(c *fiber.Ctx) error {
	acc, _, err := u.s.store.GetUser(c.UserContext(), c.Params("username"))
	if err != nil {
		return err
	}
	done := ""
	switch d := c.Query("done"); d {
	case "role", "password", "disabled", "enabled":
		done = d
	}
	return u.renderUser(c, http.StatusOK, acc, nil, done)
}

func (u *ui) renderUser(c *fiber.Ctx, status int, acc *archive.User, errs map[string]string, done string) error {
	d := userData{Account: acc, Roles: roles, Self: acc.Username == user(c).Username, Errors: errs, Done: done}
	return u.render(c, status, "user", "users", d)
}

// userUpdate applies one of the account page's forms (the "action" field:
// role, password, disable or enable). A disabled account or a reset password
// ends every session of the account, as the API does. An administrator may
// not disable their own account or give up their own role here: the server
// would be left without anyone to undo it.
func (u *ui) userUpdate(c *fiber.Ctx) error {
	vals, err := u.readPlainForm(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	acc, _, err := u.s.store.GetUser(ctx, c.Params("username"))
	if err != nil {
		return err
	}
	self := acc.Username == user(c).Username
	var up archive.UserUpdate
	var done string
	switch vals.Get("action") {
	case "role":
		role := vals.Get("role")
		if self && role != acc.Role {
			return u.renderUser(c, http.StatusConflict, acc, map[string]string{"role": u.msgKey(c, "users.self")}, "")
		}
		up.Role, done = &role, "role"
	case "password":
		pw := vals.Get("password")
		up.Password, done = &pw, "password"
	case "disable", "enable":
		if self {
			return u.renderUser(c, http.StatusConflict, acc, map[string]string{"disabled": u.msgKey(c, "users.self")}, "")
		}
		off := vals.Get("action") == "disable"
		up.Disabled, done = &off, map[bool]string{true: "disabled", false: "enabled"}[off]
	default:
		return archive.Errorf(archive.EINVALID, "unknown action %q", vals.Get("action"))
	}
	upd, err := u.s.store.UpdateUser(ctx, user(c).Username, acc.Username, up)
	var ve *archive.ValidationError
	switch {
	case errors.As(err, &ve):
		return u.renderUser(c, http.StatusUnprocessableEntity, acc, validationFields(ve), "")
	case err != nil:
		return err
	}
	if (up.Disabled != nil && *up.Disabled) || up.Password != nil {
		if _, err := u.s.store.RevokeUserTokens(ctx, upd.Username, ""); err != nil {
			return err
		}
	}
	return c.Redirect("/users/"+url.PathEscape(upd.Username)+"?done="+done, http.StatusSeeOther)
}

// readPlainForm reads a url-encoded page form and checks its CSRF token.
func (u *ui) readPlainForm(c *fiber.Ctx) (url.Values, error) {
	vals, _, err := u.readPostedForm(c, false)
	if err != nil {
		return nil, err
	}
	vals.Del(csrfField)
	return vals, nil
}

// validationFields is a field name to message map of ve, the first message
// of each field.
func validationFields(ve *archive.ValidationError) map[string]string {
	errs := map[string]string{}
	for _, fe := range ve.Fields {
		if _, dup := errs[fe.Field]; !dup {
			errs[fe.Field] = fe.Message
		}
	}
	return errs
}
