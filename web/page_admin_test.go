package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/web"
)

// adminSite is a real Server over a folder bucket with one signed-in user of
// each role; requests go through the Fiber app in-process, as a browser's
// would (session cookie, the page's CSRF token).
type adminSite struct {
	app    *fiber.App
	store  *archive.Store
	tokens map[string]string // role -> session secret
}

const adminTestPassword = "a long enough password"

func newAdminSite(t *testing.T) *adminSite {
	t.Helper()
	dir := t.TempDir()
	b, err := folder.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	store := archive.NewStore(b, archive.Options{TempDir: filepath.Join(dir, "bucket", ".tmp")})
	ctx := context.Background()
	s := &adminSite{store: store, tokens: map[string]string{}}
	for _, role := range []string{archive.RoleAdmin, archive.RoleSecretary, archive.RoleReader, archive.RoleAuditor} {
		if _, err := store.CreateUser(ctx, "test", role, adminTestPassword, role); err != nil {
			t.Fatal(err)
		}
		tok, _, err := store.IssueToken(ctx, role, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[role] = tok
	}
	srv := web.NewServer(web.Config{MaxUploadBytes: 64 << 10, Organisation: "الأمانة"}, store, slog.New(slog.DiscardHandler))
	s.app = srv.Handler()
	return s
}

// do sends a page request as the signed-in role ("" for nobody) in lang.
func (s *adminSite) do(t *testing.T, method, target, role, lang string, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://sijill.test"+target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if role != "" {
		req.AddCookie(&http.Cookie{Name: "sijill_session", Value: s.tokens[role]})
	}
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: "sijill_lang", Value: lang})
	}
	resp, err := s.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]+)">`)

// post sends a page form with the role's CSRF token, read from a page.
func (s *adminSite) post(t *testing.T, target, role, lang string, form url.Values) (int, string, http.Header) {
	t.Helper()
	_, page, _ := s.do(t, "GET", "/account", role, "", nil)
	m := csrfMeta.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the account page of %s", role)
	}
	f := url.Values{"csrf": {m[1]}}
	for k, v := range form {
		f[k] = v
	}
	return s.do(t, "POST", target, role, lang, f)
}

// TestAdminPagesRoles: each administration page answers each role as the
// permission matrix says, as an HTML page, and the navigation offers only
// what the role may open.
func TestAdminPagesRoles(t *testing.T) {
	s := newAdminSite(t)
	for _, tc := range []struct {
		path, role string
		status     int
		want       string
	}{
		{"/users", "admin", 200, `href="/users/reader"`},
		{"/users", "secretary", 403, "غير مسموح"},
		{"/users", "reader", 403, "غير مسموح"},
		{"/users", "auditor", 403, "غير مسموح"},
		{"/users/reader", "admin", 200, `value="disable"`},
		{"/users/admin", "admin", 200, "لا يمكنك تعطيل حسابك"},
		{"/users/nobody", "admin", 404, "غير موجود"},
		{"/users/reader", "reader", 403, "غير مسموح"},
		{"/audit", "admin", 200, "سجل التدقيق"},
		{"/audit", "auditor", 200, "سجل التدقيق"},
		{"/audit", "secretary", 403, "غير مسموح"},
		{"/audit", "reader", 403, "غير مسموح"},
		{"/verify", "admin", 200, "لم يجرِ تحقق"},
		{"/verify", "auditor", 200, "لم يجرِ تحقق"},
		{"/verify", "reader", 403, "غير مسموح"},
		{"/account", "reader", 200, "هذه الجلسة"},
		{"/account", "auditor", 200, "كلمة المرور الحالية"},
		{"/account", "", 303, ""},
		{"/users", "", 303, ""},
		// The scan inbox: those who register, never a reader.
		{"/inbox", "admin", 200, "لا ملفات تنتظر التسجيل"},
		{"/inbox", "secretary", 200, `data-url="/api/v1/inbox"`},
		{"/inbox", "reader", 403, "غير مسموح"},
		{"/inbox", "auditor", 403, "غير مسموح"},
		{"/inbox", "", 303, ""},
	} {
		t.Run(tc.path+" as "+tc.role, func(t *testing.T) {
			st, body, hdr := s.do(t, "GET", tc.path, tc.role, "", nil)
			if st != tc.status {
				t.Fatalf("GET %s as %q: %d, want %d", tc.path, tc.role, st, tc.status)
			}
			if st == 303 {
				if loc := hdr.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
					t.Errorf("sent to %q, not the login page", loc)
				}
				return
			}
			if !strings.Contains(body, tc.want) || !strings.Contains(body, `<html lang="ar" dir="rtl">`) {
				t.Errorf("GET %s as %s: the Arabic page lacks %q", tc.path, tc.role, tc.want)
			}
			if strings.Contains(body, " style=") || strings.Contains(body, "<style") {
				t.Errorf("GET %s: inline style", tc.path)
			}
		})
	}
	for role, want := range map[string][3]bool{
		"admin": {true, true, true}, "auditor": {false, true, true}, "secretary": {false, false, false}, "reader": {false, false, false},
	} {
		_, body, _ := s.do(t, "GET", "/account", role, "", nil)
		got := [3]bool{strings.Contains(body, `<a href="/users"`), strings.Contains(body, `<a href="/audit"`), strings.Contains(body, `<a href="/verify"`)}
		if got != want {
			t.Errorf("%s's navigation offers users, audit, verify: %v, want %v", role, got, want)
		}
	}
}

// TestUserForms: adding an account and changing one, with the refusals
// beside their fields in Arabic and, on the English pages, in English.
func TestUserForms(t *testing.T) {
	s := newAdminSite(t)
	for _, tc := range []struct {
		name     string
		lang     string
		form     url.Values
		status   int
		want     string // in the page, or the redirect's Location
		notWant  string
		username string // an account that must then exist
	}{
		{"bad name", "", url.Values{"username": {"أحمد"}, "password": {"secret password"}, "role": {"reader"}}, 422,
			"اسم المستخدم من 2 إلى 32 حرفًا", "secret password", ""},
		{"bad name in English", "en", url.Values{"username": {"A"}, "password": {"secret password"}, "role": {"reader"}}, 422,
			"The user name is 2 to 32 small Latin letters", "حرفًا لاتينيًا", ""},
		{"short password", "", url.Values{"username": {"sara"}, "password": {"short"}, "role": {"reader"}}, 422,
			`value="sara"`, "", ""},
		{"short password in English", "en", url.Values{"username": {"sara"}, "password": {"short"}, "role": {"reader"}}, 422,
			"The password must be 10 to 256 characters long", "", ""},
		{"bad role", "en", url.Values{"username": {"sara"}, "password": {"secret password"}, "role": {"king"}}, 422,
			"The role is one of", "", ""},
		{"existing name", "", url.Values{"username": {"reader"}, "password": {"secret password"}, "role": {"reader"}}, 409,
			"يوجد مستخدم بهذا الاسم", "", ""},
		{"added", "", url.Values{"username": {"Sara "}, "password": {"secret password"}, "role": {"secretary"}}, 303,
			"/users?added=sara", "", "sara"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body, hdr := s.post(t, "/users", "admin", tc.lang, tc.form)
			if st != tc.status {
				t.Fatalf("status %d, want %d", st, tc.status)
			}
			if st == 303 {
				body = hdr.Get("Location")
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("want %q in %.300s", tc.want, body)
			}
			if tc.notWant != "" && strings.Contains(body, tc.notWant) {
				t.Errorf("the page shows %q", tc.notWant)
			}
			if tc.username != "" {
				if u, _, err := s.store.GetUser(context.Background(), tc.username); err != nil || u.Role != archive.RoleSecretary {
					t.Errorf("the account was not made: %v %v", u, err)
				}
			}
		})
	}
	if st, _, _ := s.do(t, "POST", "/users", "admin", "", url.Values{"username": {"x2"}, "password": {"secret password"}, "role": {"reader"}}); st != 403 {
		t.Errorf("a form without its token: %d, want 403", st)
	}

	// Changing an account: role, password, disable; every session of a
	// disabled account or one whose password was reset ends.
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		target   string
		form     url.Values
		status   int
		want     string
		loggedIn bool // the reader's session still works afterwards
		check    func(*archive.User) bool
	}{
		{"role", "/users/reader", url.Values{"action": {"role"}, "role": {"auditor"}}, 303, "?done=role", true,
			func(u *archive.User) bool { return u.Role == archive.RoleAuditor }},
		{"bad role", "/users/reader", url.Values{"action": {"role"}, "role": {"king"}}, 422, "الدور أحد", true,
			func(u *archive.User) bool { return u.Role == archive.RoleAuditor }},
		{"short password", "/users/reader", url.Values{"action": {"password"}, "password": {"short"}}, 422, "كلمة المرور بين 10 و256 حرفًا", true,
			func(u *archive.User) bool { return archive.CheckPassword(u.PasswordHash, adminTestPassword) }},
		{"own role", "/users/admin", url.Values{"action": {"role"}, "role": {"reader"}}, 409, "لا يمكنك", true,
			func(u *archive.User) bool { return true }},
		{"own account", "/users/admin", url.Values{"action": {"disable"}}, 409, "لا يمكنك", true,
			func(u *archive.User) bool { return true }},
		{"unknown action", "/users/reader", url.Values{"action": {"delete"}}, 400, "", true,
			func(u *archive.User) bool { return !u.Disabled }},
		{"reset password", "/users/reader", url.Values{"action": {"password"}, "password": {"a new password"}}, 303, "?done=password", false,
			func(u *archive.User) bool { return archive.CheckPassword(u.PasswordHash, "a new password") }},
		{"disable", "/users/secretary", url.Values{"action": {"disable"}}, 303, "?done=disabled", false,
			func(u *archive.User) bool { return u.Disabled }},
		{"enable", "/users/secretary", url.Values{"action": {"enable"}}, 303, "?done=enabled", false,
			func(u *archive.User) bool { return !u.Disabled }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body, hdr := s.post(t, tc.target, "admin", "", tc.form)
			if st != tc.status {
				t.Fatalf("status %d, want %d: %.300s", st, tc.status, body)
			}
			if st == 303 {
				body = hdr.Get("Location")
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("want %q in %.300s", tc.want, body)
			}
			name := strings.TrimPrefix(tc.target, "/users/")
			u, _, err := s.store.GetUser(ctx, name)
			if err != nil || !tc.check(u) {
				t.Errorf("the account afterwards: %+v %v", u, err)
			}
			if st, _, _ := s.do(t, "GET", "/account", "reader", "", nil); (st == 200) != tc.loggedIn {
				t.Errorf("the reader's session afterwards: %d, want logged in %v", st, tc.loggedIn)
			}
		})
	}
	if st, _, _ := s.do(t, "GET", "/account", "secretary", "", nil); st != 303 {
		t.Errorf("a disabled (then enabled) account's old session still works: %d", st)
	}
}

// TestAccountPage: changing one's own password checks the old one, keeps
// this session and ends the others; logging out everywhere ends them all.
func TestAccountPage(t *testing.T) {
	s := newAdminSite(t)
	ctx := context.Background()
	other, _, err := s.store.IssueToken(ctx, "reader", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		lang       string
		form       url.Values
		status     int
		want       string
		field      string
		otherAlive bool
	}{
		{"wrong old password", "", url.Values{"old": {"wrong password"}, "new": {"another password"}, "again": {"another password"}}, 422, "كلمة المرور الحالية غير صحيحة", "old", true},
		{"wrong old password in English", "en", url.Values{"old": {"wrong password"}, "new": {"another password"}, "again": {"another password"}}, 422, "The current password is wrong", "old", true},
		{"mismatch", "", url.Values{"old": {adminTestPassword}, "new": {"another password"}, "again": {"another passwort"}}, 422, "لم تطابق", "again", true},
		{"same", "en", url.Values{"old": {adminTestPassword}, "new": {adminTestPassword}, "again": {adminTestPassword}}, 422, "The new password is the same as the old one", "new", true},
		{"too short", "", url.Values{"old": {adminTestPassword}, "new": {"short"}, "again": {"short"}}, 422, "كلمة المرور بين 10 و256 حرفًا", "new", true},
		{"changed", "", url.Values{"old": {adminTestPassword}, "new": {"another password"}, "again": {"another password"}}, 303, "/account?changed=1", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body, hdr := s.post(t, "/account/password", "reader", tc.lang, tc.form)
			if st != tc.status {
				t.Fatalf("status %d, want %d", st, tc.status)
			}
			if st == 303 {
				body = hdr.Get("Location")
			} else if !regexp.MustCompile(`id="err-` + tc.field + `" role="alert">[^<]*` + regexp.QuoteMeta(tc.want)).MatchString(body) {
				t.Errorf("%q is not beside the field %s", tc.want, tc.field)
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("want %q in %.300s", tc.want, body)
			}
			if _, _, err := s.store.LookupToken(ctx, other); (err == nil) != tc.otherAlive {
				t.Errorf("the other session alive: %v, want %v", err == nil, tc.otherAlive)
			}
		})
	}
	if st, body, _ := s.do(t, "GET", "/account?changed=1", "reader", "", nil); st != 200 || !strings.Contains(body, "أُنهيت جلساتك الأخرى: 1") {
		t.Errorf("after the change this session is gone or the page does not say so: %d", st)
	}
	st, _, hdr := s.post(t, "/account/logout-all", "reader", "", nil)
	if st != 303 || hdr.Get("Location") != "/login" {
		t.Fatalf("log out everywhere: %d %s", st, hdr.Get("Location"))
	}
	if st, _, _ := s.do(t, "GET", "/account", "reader", "", nil); st != 303 {
		t.Errorf("after logging out everywhere the session still works: %d", st)
	}
	evs, _ := s.store.AuditEvents(ctx, archive.AuditFilter{Actor: "reader", Action: archive.ActionLogout})
	if len(evs) != 1 || evs[0].Detail != "everywhere" {
		t.Errorf("log out everywhere is not in the audit trail: %+v", evs)
	}
}

// TestAuditPage: the filter, the labels, and paging through more events
// than a page holds (many written in the same instant) without losing or
// repeating one.
func TestAuditPage(t *testing.T) {
	s := newAdminSite(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	for i := 0; i < 120; i++ {
		ev := archive.Event{Time: at, Actor: "reader", Action: archive.ActionDownload, Target: "incoming-2026-1"}
		if i%3 == 0 {
			ev.Time = at.Add(time.Duration(i) * time.Second)
		}
		if i%10 == 0 {
			ev.Actor, ev.Action, ev.Target = "admin", archive.ActionUserUpdate, "reader"
		}
		if err := s.store.Audit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	rows := regexp.MustCompile(`<tr class="event" data-action="([a-z._]+)"`)
	more := regexp.MustCompile(`<a class="btn btn-small" rel="next" href="([^"]+)">`)
	for _, tc := range []struct {
		name, query string
		lang        string
		status      int
		events      int
		want        string
	}{
		// The 120 events above and the 4 accounts' creation by "test".
		{"everything", "", "", 200, 124, "تنزيل ملف"},
		{"everything in English", "", "en", 200, 124, "File downloaded"},
		{"actor", "?actor=admin", "", 200, 12, "تعديل حساب"},
		{"action", "?action=user.update", "", 200, 12, "تعديل حساب"},
		{"action family", "?action=user.", "", 200, 16, "إنشاء حساب"},
		{"target", "?target=reader", "", 200, 13, "reader"},
		{"until the day before", "?until=2026-03-09", "", 200, 0, "لا أحداث"},
		{"the day", "?since=2026-03-10&until=2026-03-10", "", 200, 120, "09:30"},
		{"bad date", "?since=10/3/2026", "", 400, 0, "التاريخ غير صالح"},
		{"bad range", "?since=2026-03-11&until=2026-03-10", "en", 400, 0, "The start date is after the end date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			next := "/audit" + tc.query
			for pages := 0; next != ""; pages++ {
				st, body, _ := s.do(t, "GET", next, "auditor", tc.lang, nil)
				if st != tc.status {
					t.Fatalf("GET %s: %d, want %d", next, st, tc.status)
				}
				if pages == 0 && !strings.Contains(body, tc.want) {
					t.Errorf("the page lacks %q", tc.want)
				}
				n := len(rows.FindAllString(body, -1))
				if n > 50 {
					t.Errorf("%d events on a page", n)
				}
				ids := regexp.MustCompile(`data-id="([0-9A-Z]+)"`).FindAllStringSubmatch(body, -1)
				for _, id := range ids {
					seen = append(seen, id[1])
				}
				next = ""
				if m := more.FindStringSubmatch(body); m != nil {
					next = strings.ReplaceAll(m[1], "&amp;", "&")
				}
				if pages > 10 {
					t.Fatal("the pages do not end")
				}
			}
			uniq := map[string]bool{}
			for _, id := range seen {
				uniq[id] = true
			}
			if len(seen) != tc.events || len(uniq) != tc.events {
				t.Errorf("paged through %d events (%d different), want %d", len(seen), len(uniq), tc.events)
			}
		})
	}
}

// TestFormMessagesInEnglish: the record form's refusals, Arabic messages of
// the archive, are shown in English on the English pages and unchanged on
// the Arabic ones.
func TestFormMessagesInEnglish(t *testing.T) {
	s := newAdminSite(t)
	for _, tc := range []struct {
		lang, want, notWant string
	}{
		{"en", "The subject is required", "الموضوع مطلوب"},
		{"", "الموضوع مطلوب", "The subject is required"},
	} {
		st, body, _ := s.post(t, "/registers/outgoing/new", "secretary", tc.lang, url.Values{
			"subject": {""}, "date": {"2026/13/45"}, "in_reply_to": {"nothing"}})
		if st != 422 {
			t.Fatalf("%s: status %d, want 422", tc.lang, st)
		}
		if !regexp.MustCompile(`id="err-subject" role="alert">` + regexp.QuoteMeta(tc.want)).MatchString(body) {
			t.Errorf("%s: %q is not beside the subject", tc.lang, tc.want)
		}
		if strings.Contains(body, tc.notWant) {
			t.Errorf("%s: the page shows %q", tc.lang, tc.notWant)
		}
		if tc.lang == "en" && (!strings.Contains(body, "The date is not valid") || !strings.Contains(body, `The reference &#34;nothing&#34; is not a valid entry number`)) {
			t.Errorf("the date and reference refusals are not in English")
		}
	}
}

// TestInboxPageEnglish: the scan inbox in English is left to right and
// says what it is in English.
func TestInboxPageEnglish(t *testing.T) {
	s := newAdminSite(t)
	st, body, _ := s.do(t, "GET", "/inbox", "secretary", "en", nil)
	if st != 200 || !strings.Contains(body, `<html lang="en" dir="ltr">`) || !strings.Contains(body, "No files wait to be registered.") {
		t.Errorf("GET /inbox in English: %d\n%.600s", st, body)
	}
}
