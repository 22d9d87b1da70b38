package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserLogin signs in through the login page and waits for the dashboard.
func browserLogin(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	step(t, ctx, "log in as "+user,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".tiles")))
}

// browserLogout uses the top bar's button.
func browserLogout(t *testing.T, ctx context.Context) {
	t.Helper()
	step(t, ctx, "log out", chromedp.Click(chromedp.CSS(".topbar form button")), chromedp.WaitVisible(chromedp.CSS("#username")))
}

// TestAdminUI drives the administration pages in headless Chromium: the
// administrator adds a reader (after a refused password), the reader logs in
// and is refused the users and audit pages, the audit trail shows the
// reader's login, and a verification run from its page comes out ok. Every
// page is photographed on a desktop and a phone screen.
func TestAdminUI(t *testing.T) {
	m := startMain(t, map[string]string{"SIJILL_ORG": "حزب التقدم — الأمانة العامة"})
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{
		"subject": "دعوة إلى اجتماع الأمانة العامة", "from": "وزارة الداخلية"}, nil, nil); st != 201 {
		t.Fatalf("seed: %d", st)
	}
	ctx, console := browser(t)

	browserLogin(t, ctx, base, "admin", adminPassword)
	step(t, ctx, "open the users page",
		chromedp.Click(chromedp.CSS(`.mainnav a[href="/users"]`)),
		chromedp.WaitVisible(chromedp.CSS("#f-username")))
	shot(t, ctx, "admin-01-users")

	// A password too short: refused beside the field, the name kept.
	step(t, ctx, "add a reader with a short password",
		chromedp.SendKeys(chromedp.CSS("#f-username"), "qari"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "short"),
		chromedp.SetValue(chromedp.CSS("#f-role"), "reader"),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#form-errors")))
	if msg := text(t, ctx, "#err-password"); !strings.Contains(msg, "كلمة المرور بين 10 و256 حرفًا") {
		t.Errorf("no message beside the password: %q", msg)
	}
	if v := eval[string](t, ctx, `document.querySelector('#f-username').value + '|' + document.querySelector('#f-role').value + '|' + document.querySelector('#f-password').value`); v != "qari|reader|" {
		t.Errorf("after the refusal the form holds %q, want the name and role and no password", v)
	}
	shot(t, ctx, "admin-02-users-error")
	step(t, ctx, "add the reader",
		chromedp.SendKeys(chromedp.CSS("#f-password"), "reader password"),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	if rows := eval[[]string](t, ctx, `[...document.querySelectorAll('table.users tbody tr')].map(r => r.cells[0].textContent.trim() + ':' + r.cells[1].textContent.trim())`); !slices.Contains(rows, "qari:قارئ") {
		t.Errorf("the users table: %q", rows)
	}
	step(t, ctx, "open the reader's account",
		chromedp.Click(chromedp.CSS(`a[href="/users/qari"]`)),
		chromedp.WaitReady(chromedp.CSS(`input[name=action][value=role]`)))
	shot(t, ctx, "admin-03-user")
	browserLogout(t, ctx)

	// The reader: no administration in the navigation, a 403 page at the
	// addresses, and their own account page.
	browserLogin(t, ctx, base, "qari", "reader password")
	if n := eval[int](t, ctx, `document.querySelectorAll('.mainnav a[href="/users"], .mainnav a[href="/audit"], .mainnav a[href="/verify"]').length`); n != 0 {
		t.Errorf("the reader's navigation offers %d administration pages", n)
	}
	for _, p := range []string{"/users", "/audit", "/verify", "/users/admin"} {
		step(t, ctx, "reader opens "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(".error-page")))
		if code := text(t, ctx, ".status-code"); code != "403" {
			t.Errorf("reader at %s: status %q on the page, want 403", p, code)
		}
	}
	shot(t, ctx, "admin-04-reader-403")
	step(t, ctx, "reader's account", chromedp.Click(chromedp.CSS("a.who")), chromedp.WaitVisible(chromedp.CSS("#f-old")))
	if n := eval[int](t, ctx, `document.querySelectorAll('table.sessions tbody tr').length`); n != 1 {
		t.Errorf("the reader's account lists %d sessions, want 1", n)
	}
	shot(t, ctx, "admin-05-account")
	browserLogout(t, ctx)

	// The audit trail shows the reader's login, labelled in Arabic.
	browserLogin(t, ctx, base, "admin", adminPassword)
	step(t, ctx, "open the audit trail",
		chromedp.Click(chromedp.CSS(`.mainnav a[href="/audit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#f-actor")),
		chromedp.SendKeys(chromedp.CSS("#f-actor"), "qari"),
		chromedp.Click(chromedp.CSS("form.filters button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`#f-actor[value="qari"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.audit")))
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll('tr.event')].map(r => r.dataset.action + ':' + r.cells[1].textContent.trim() + ':' + r.cells[2].textContent.trim())`)
	if !slices.Contains(rows, "auth.login:qari:دخول") {
		t.Errorf("the audit trail for qari: %q, want the login", rows)
	}
	if when := text(t, ctx, "tr.event td"); !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`).MatchString(strings.TrimSpace(when)) {
		t.Errorf("an event's time: %q", when)
	}
	step(t, ctx, "the whole trail", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	shot(t, ctx, "admin-06-audit")

	// Verification from its page.
	step(t, ctx, "open verification",
		chromedp.Click(chromedp.CSS(`.mainnav a[href="/verify"]`)),
		chromedp.WaitVisible(chromedp.CSS(".verify-state")))
	if st := text(t, ctx, ".verify-state strong"); !strings.Contains(st, "لم يجرِ") {
		t.Errorf("before any run the page says %q", st)
	}
	step(t, ctx, "verify now",
		chromedp.Click(chromedp.CSS(`form[action="/verify"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".verify-state.state-ok")))
	if st := text(t, ctx, ".verify-state strong"); st != "سليم" {
		t.Errorf("after the run the page says %q, want ok (سليم)", st)
	}
	if books := eval[[]string](t, ctx, `[...document.querySelectorAll('table.books tbody tr')].map(r => r.cells[0].textContent + ':' + r.cells[2].textContent)`); !slices.Contains(books, "سجل الوارد:1") {
		t.Errorf("book digests: %q", books)
	}
	shot(t, ctx, "admin-07-verify")

	// Phone width.
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	for _, p := range []struct{ path, wait, name string }{
		{"/users", "#f-username", "admin-08-phone-users"},
		{"/users/qari", "#f-role", "admin-09-phone-user"},
		{"/audit", "table.audit", "admin-10-phone-audit"},
		{"/verify", ".verify-state", "admin-11-phone-verify"},
		{"/account", "#f-old", "admin-12-phone-account"},
	} {
		step(t, ctx, "phone "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		shot(t, ctx, p.name)
	}
	step(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	// In English the refusals of the archive are English too.
	step(t, ctx, "switch to English", chromedp.Navigate(base+"/users"), chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitReady(chromedp.CSS(`html[lang="en"] #f-username`)))
	step(t, ctx, "a bad user name in English",
		chromedp.SendKeys(chromedp.CSS("#f-username"), "A"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "reader password"),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#form-errors")))
	if msg := text(t, ctx, "#err-username"); !strings.HasPrefix(msg, "The user name is 2 to 32") {
		t.Errorf("the English page's message: %q", msg)
	}
	shotIn(t, ctx, "admin-13-users-english", "en")
	step(t, ctx, "audit in English", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll('tr.event[data-action="auth.login"] td:nth-child(3)')].map(td => td.textContent)`); len(got) == 0 || got[0] != "Login" {
		t.Errorf("login events in English: %q", got)
	}
	shotIn(t, ctx, "admin-14-audit-english", "en")
	step(t, ctx, "verify in English", chromedp.Navigate(base+"/verify"), chromedp.WaitVisible(chromedp.CSS(".verify-state.state-ok")))
	shotIn(t, ctx, "admin-15-verify-english", "en")

	for _, msg := range console() {
		if msg.Type == chromedp.ConsoleError || msg.IsException() {
			// The refused forms and the reader's refused pages answer with
			// their statuses on purpose.
			if strings.Contains(msg.Text, "Failed to load resource") && regexp.MustCompile(`status of (403|409|422) `).MatchString(msg.Text) {
				continue
			}
			t.Errorf("browser console: %s %s (%s)", msg.Type, msg.Text, msg.URL)
		}
	}
}
