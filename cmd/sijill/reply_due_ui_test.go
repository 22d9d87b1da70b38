package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAwaitingReply: incoming letters marked as needing an answer by a day
// are listed on the dashboard, the earliest first and the late ones marked,
// until an outgoing letter is registered in reply; a letter that is merely
// referred to stays listed; the due day is set in the form and shown on the
// letter's page with the reply once there is one; only incoming letters take
// one.
func TestAwaitingReply(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	now := m.Store.Now().In(m.Store.Location())
	day := func(d int) string { return now.AddDate(0, 0, d).Format(time.DateOnly) }
	var late, soon, plain record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "طلب رأي في مشروع النظام الداخلي",
		"from": "فرع الشمال", "reply_due": day(-2)}, nil, &late)
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "استفسار عن موعد المؤتمر",
		"from": "فرع الجنوب", "reply_due": day(10)}, nil, &soon)
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة للعلم", "from": "جمعية"}, nil, &plain)
	// An outgoing letter that only refers to soon does not answer it.
	if st := admin.call("POST", "/api/v1/registers/outgoing/records", map[string]any{"subject": "تعميم على الفروع",
		"refs": []string{soon.ID}}, nil, nil); st != 201 {
		t.Fatalf("outgoing with a reference: %d", st)
	}
	var refused apiError
	if st := admin.call("POST", "/api/v1/registers/outgoing/records", map[string]any{"subject": "صادر", "reply_due": day(3)}, nil, &refused); st != 400 ||
		len(refused.Fields) == 0 || refused.Fields[0].Field != "reply_due" {
		t.Errorf("a reply due day on an outgoing letter: %d %+v, want 400 on reply_due", st, refused)
	}

	ctx, _ := browser(t)
	browserLogin(t, ctx, base, "admin", adminPassword)
	awaiting := func() []string {
		step(t, ctx, "open the dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".tiles")))
		return eval[[]string](t, ctx, `[...document.querySelectorAll('ol.awaiting > li')].map(li =>
			li.querySelector('a').getAttribute('href').replace('/records/', '') + (li.classList.contains('late') ? ' late' : ''))`)
	}
	if got := strings.Join(awaiting(), ", "); got != late.ID+" late, "+soon.ID {
		t.Errorf("the dashboard lists as awaiting a reply %q, want %s (late) then %s", got, late.ID, soon.ID)
	}
	shot(t, ctx, "awaiting-dashboard")

	// The late letter's page says so; its reply is registered from it.
	step(t, ctx, "open the late letter", chromedp.Navigate(base+"/records/"+late.ID), chromedp.WaitVisible(chromedp.CSS(".reply-state")))
	if st := text(t, ctx, ".reply-state"); !strings.Contains(st, "تأخّر الرد") || !strings.Contains(st, day(-2)) {
		t.Errorf("the late letter's page shows %q", st)
	}
	step(t, ctx, "register the reply",
		chromedp.Click(chromedp.CSS(`a[href*="in_reply_to="]`)), chromedp.WaitVisible(chromedp.CSS("#f-to")),
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	reply := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/records/")
	step(t, ctx, "open the letter again", chromedp.Navigate(base+"/records/"+late.ID), chromedp.WaitVisible(chromedp.CSS(".reply-state")))
	if href := eval[string](t, ctx, `(document.querySelector('.reply-state a') || {getAttribute: () => ''}).getAttribute('href')`); href != "/records/"+reply {
		t.Errorf("the answered letter's page links to %q, want its reply %s", href, reply)
	}
	shot(t, ctx, "awaiting-answered")
	if got := strings.Join(awaiting(), ", "); got != soon.ID {
		t.Errorf("after the reply the dashboard lists %q, want only %s", got, soon.ID)
	}

	// The due day set in the edit form: the letter joins the list.
	step(t, ctx, "mark the plain letter as needing a reply",
		chromedp.Navigate(base+"/records/"+plain.ID+"/edit"), chromedp.WaitVisible(chromedp.CSS("#f-reply_due")),
		chromedp.SetValue(chromedp.CSS("#f-reply_due"), day(1)),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	if got := strings.Join(awaiting(), ", "); got != plain.ID+", "+soon.ID {
		t.Errorf("after the edit the dashboard lists %q, want %s then %s", got, plain.ID, soon.ID)
	}
	// On a phone the list fits the screen's width.
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)),
		chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("ol.awaiting")))
	shot(t, ctx, "awaiting-dashboard-phone")
}
