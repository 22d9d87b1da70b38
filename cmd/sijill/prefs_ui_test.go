package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDisplayPrefsUI: a secretary who reads Eastern Arabic digits and Hijri
// dates sets them once on the account page; the record page then shows the
// number, the dates and the registration time in Eastern digits with the
// Hijri date beside each date — what was typed (the reference) as typed —
// and the entry's print, without asking, in Eastern digits with the Hijri
// date. Another user still sees Western digits; the print's own setting
// still wins over the preference.
func TestDisplayPrefsUI(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	var rec record
	if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{
		"subject": "طلب لقاء", "from": "جمعية النور", "reference": "ق/117/2024", "received_date": "2026-03-15"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "katib", "password": "a long and private phrase", "role": "secretary"}, nil, nil); st != 201 {
		t.Fatalf("create secretary: %d", st)
	}

	ctx, _ := browser(t)
	browserLogin(t, ctx, base, "katib", "a long and private phrase")
	step(t, ctx, "set Eastern digits and Hijri dates",
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=eastern_digits]`)),
		chromedp.Click(chromedp.CSS(`input[name=eastern_digits]`)),
		chromedp.Click(chromedp.CSS(`input[name=hijri]`)),
		chromedp.Click(chromedp.CSS(`form[action="/account/prefs"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	shot(t, ctx, "prefs-account")
	step(t, ctx, "open the entry", chromedp.Navigate(base+"/records/"+rec.ID), chromedp.WaitVisible(chromedp.CSS(".meta")))
	meta := text(t, ctx, ".meta")
	for _, want := range []string{"١/٢٠٢٦", "٢٠٢٦-٠٣-١٥", "(١٤٤٧/٠٩/٢٦ هـ)", "ق/117/2024"} {
		if !strings.Contains(meta, want) {
			t.Errorf("the record page with Eastern digits and Hijri dates does not show %q:\n%s", want, meta)
		}
	}
	if strings.Contains(meta, "1/2026") || strings.Contains(meta, "2026-03-15") {
		t.Errorf("the record page still shows Western digits in a number or a date:\n%s", meta)
	}
	shot(t, ctx, "prefs-record")

	// The print, as the page's button fetches it: Eastern digits, Hijri date.
	if got := pdfText(t, fetchPDF(t, ctx, `a[href$="/print.pdf"]`)); !strings.Contains(got, "١/٢٠٢٦") || !strings.Contains(got, "هـ") {
		t.Errorf("the print does not follow the preference (Eastern digits, Hijri date):\n%s", got)
	}
	// The print's own setting wins; another user sees Western digits.
	if _, b := admin.raw("GET", "/api/v1/records/"+rec.ID+"/print.pdf", nil, "", nil); !strings.Contains(pdfText(t, b), "1/2026") {
		t.Error("the administrator's print (no preference) is not in Western digits")
	}
	katib := login(t, base, "katib", "a long and private phrase")
	if _, b := katib.raw("GET", "/api/v1/records/"+rec.ID+"/print.pdf?eastern=0&hijri=0", nil, "", nil); !strings.Contains(pdfText(t, b), "1/2026") {
		t.Error("eastern=0 on the print does not override the preference")
	}
	var me struct {
		Prefs struct {
			EasternDigits bool `json:"eastern_digits"`
			Hijri         bool `json:"hijri"`
		}
	}
	if st := katib.call("GET", "/api/v1/auth/me", nil, nil, &me); st != 200 || !me.Prefs.EasternDigits || !me.Prefs.Hijri {
		t.Errorf("/auth/me: %d %+v", st, me)
	}
}
