package web

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// accountData is the signed-in user's own page: the password change form and
// the live sessions.
type accountData struct {
	Sessions []sessionView
	Errors   map[string]string
	// Changed is set after a password change; Ended is how many other
	// sessions it ended.
	Changed bool
	Ended   int
	// PrefsSaved is set after the display preferences were saved.
	PrefsSaved bool
}

// E is the error message for field name.
func (d accountData) E(name string) string { return d.Errors[name] }

// sessionView is one of the user's sessions: never its secret.
type sessionView struct {
	ID                   string
	CreatedAt, ExpiresAt time.Time
	Current              bool
}

// accountPage shows the password form and the user's sessions.
func (u *ui) accountPage(c *fiber.Ctx) error {
	d := accountData{}
	if v := c.Query("changed"); v != "" {
		d.Changed = true
		d.Ended, _ = strconv.Atoi(v)
	}
	d.PrefsSaved = c.Query("prefs") != ""
	return u.renderAccount(c, http.StatusOK, d)
}

func (u *ui) renderAccount(c *fiber.Ctx, status int, d accountData) error {
	toks, err := u.s.store.UserTokens(c.UserContext(), user(c).Username)
	if err != nil {
		return err
	}
	cur := archive.TokenID(currentToken(c))
	for _, t := range toks {
		d.Sessions = append(d.Sessions, sessionView{ID: t.ID, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Current: t.ID == cur})
	}
	sort.SliceStable(d.Sessions, func(i, j int) bool { return d.Sessions[i].CreatedAt.After(d.Sessions[j].CreatedAt) })
	return u.render(c, status, "account", "account", d)
}

// accountPassword changes the user's own password, as POST
// /api/v1/auth/password does: the old one is checked and throttled like a
// login, and every other session of the user ends. This session stays.
func (u *ui) accountPassword(c *fiber.Ctx) error {
	vals, err := u.readPlainForm(c)
	if err != nil {
		return err
	}
	usr := user(c)
	oldPW, newPW := vals.Get("old"), vals.Get("new")
	refuse := func(status int, field, msg string) error {
		return u.renderAccount(c, status, accountData{Errors: map[string]string{field: msg}})
	}
	if _, err := u.s.checkLogin(c, usr.Username, oldPW); err != nil {
		switch archive.ErrorCode(err) {
		case archive.EUNAUTHORIZED:
			// Not 401: the session is fine, the old password is not.
			return refuse(http.StatusUnprocessableEntity, "old", "كلمة المرور الحالية غير صحيحة")
		case archive.ETOOMANY:
			return refuse(http.StatusTooManyRequests, "old", u.msgKey(c, "account.throttled"))
		}
		return err
	}
	switch {
	case newPW != vals.Get("again"):
		return refuse(http.StatusUnprocessableEntity, "again", u.msgKey(c, "account.mismatch"))
	case newPW == oldPW:
		return refuse(http.StatusUnprocessableEntity, "new", "كلمة المرور الجديدة هي القديمة نفسها")
	}
	ctx := c.UserContext()
	if _, err := u.s.store.UpdateUser(ctx, usr.Username, usr.Username, archive.UserUpdate{Password: &newPW}); err != nil {
		var ve *archive.ValidationError
		if errors.As(err, &ve) {
			return refuse(http.StatusUnprocessableEntity, "new", validationFields(ve)["password"])
		}
		return err
	}
	n, err := u.s.store.RevokeUserTokens(ctx, usr.Username, archive.TokenID(currentToken(c)))
	if err != nil {
		return err
	}
	return c.Redirect("/account?changed="+strconv.Itoa(n), http.StatusSeeOther)
}

// accountPrefs saves the user's display preferences: Eastern Arabic digits
// and Hijri dates on the pages, and as the default of the prints.
func (u *ui) accountPrefs(c *fiber.Ctx) error {
	vals, err := u.readPlainForm(c)
	if err != nil {
		return err
	}
	p := archive.Prefs{EasternDigits: vals.Get("eastern_digits") == "yes", Hijri: vals.Get("hijri") == "yes"}
	usr := user(c)
	if _, err := u.s.store.UpdateUser(c.UserContext(), usr.Username, usr.Username, archive.UserUpdate{Prefs: &p}); err != nil {
		return err
	}
	return c.Redirect("/account?prefs=1", http.StatusSeeOther)
}

// accountLogoutAll ends every session of the user, this one included (a
// session left open on a shared computer), and goes to the login page.
func (u *ui) accountLogoutAll(c *fiber.Ctx) error {
	if _, err := u.readPlainForm(c); err != nil {
		return err
	}
	ctx := c.UserContext()
	usr := user(c)
	if _, err := u.s.store.RevokeUserTokens(ctx, usr.Username, ""); err != nil {
		return err
	}
	_ = u.s.store.Audit(ctx, archive.Event{Actor: usr.Username, Action: archive.ActionLogout, Detail: "everywhere", Remote: c.IP()})
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: u.s.cfg.SecureCookies})
	return c.Redirect("/login", http.StatusSeeOther)
}
