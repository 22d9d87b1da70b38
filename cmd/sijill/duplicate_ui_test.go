package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDuplicateWarning: registering an incoming letter whose sender and
// reference (typed with other spacing and Eastern digits), or whose subject
// and date, match an entry already registered shows that entry and
// registers nothing — not even the scan chosen with it — until the secretary
// confirms; a letter with its own reference is registered at once.
func TestDuplicateWarning(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	var byRef, bySubject record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "طلب معلومات",
		"from": "وزارة الداخلية", "reference": "ق/2024/117"}, nil, &byRef)
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "دعوة لحضور الندوة الوطنية",
		"from": "جمعية الشباب", "reference_date": "2026-11-20"}, nil, &bySubject)
	count := func() int {
		var list struct{ Total int }
		admin.call("GET", fmt.Sprintf("/api/v1/registers/incoming/records?year=%d", byRef.Year), nil, nil, &list)
		return list.Total
	}

	ctx, _ := browser(t)
	browserLogin(t, ctx, base, "admin", adminPassword)

	// The same sender and reference, typed differently: the page warns.
	step(t, ctx, "register the letter again",
		chromedp.Navigate(base+"/registers/incoming/new"), chromedp.WaitVisible(chromedp.CSS("#f-from")),
		chromedp.SendKeys(chromedp.CSS("#f-from"), "وزارة  الداخلية"),
		chromedp.SendKeys(chromedp.CSS("#f-reference"), "ق/٢٠٢٤/١١٧"),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "طلب معلومات إضافية"),
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#duplicate")))
	if href := eval[string](t, ctx, `document.querySelector('#duplicate a').getAttribute('href')`); href != "/records/"+byRef.ID {
		t.Errorf("the warning points at %q, want the entry %s", href, byRef.ID)
	}
	if n := count(); n != 2 {
		t.Errorf("the warned registration made an entry: %d incoming entries, want 2", n)
	}
	shot(t, ctx, "duplicate-warning")
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	shot(t, ctx, "duplicate-warning-phone")
	step(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))
	step(t, ctx, "register it all the same",
		chromedp.Click(chromedp.CSS(`#duplicate button[name="confirm_duplicate"]`)),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	if n := count(); n != 3 {
		t.Errorf("after confirming: %d incoming entries, want 3", n)
	}
	if h := text(t, ctx, "h1"); !strings.Contains(h, "طلب معلومات إضافية") {
		t.Errorf("the confirmed entry is %q", h)
	}

	// The same subject and date, with a scan: the page warns through the
	// API path, the scan is not stored, and the next press registers.
	scanPath := filepath.Join(t.TempDir(), "دعوة.png")
	scan(t, scanPath)
	scanBytes, _ := os.ReadFile(scanPath)
	sum := sha256.Sum256(scanBytes)
	step(t, ctx, "register the invitation again with its scan",
		chromedp.Navigate(base+"/registers/incoming/new"), chromedp.WaitVisible(chromedp.CSS("#f-from")),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "دعوة لحضور  الندوة الوطنية"),
		chromedp.SetValue(chromedp.CSS("#f-reference_date"), "2026-11-20"),
		chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{scanPath}),
		chromedp.WaitVisible(chromedp.CSS(".upload-item")),
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#duplicate")))
	if href := eval[string](t, ctx, `document.querySelector('#duplicate a').getAttribute('href')`); href != "/records/"+bySubject.ID {
		t.Errorf("the warning points at %q, want the entry %s", href, bySubject.ID)
	}
	if _, _, err := m.Store.OpenBlob(t.Context(), hex.EncodeToString(sum[:])); err == nil {
		t.Error("the warned registration stored its scan")
	}
	if n := count(); n != 3 {
		t.Errorf("the warned registration made an entry: %d incoming entries, want 3", n)
	}
	step(t, ctx, "register it all the same",
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	id := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/records/")
	var got struct{ Attachments []struct{ SHA256 string } }
	if st := admin.call("GET", "/api/v1/records/"+id, nil, nil, &got); st != 200 || len(got.Attachments) != 1 {
		t.Errorf("the confirmed entry %s: %d, %d files, want its scan", id, st, len(got.Attachments))
	}

	// Another reference of the same sender: no question asked.
	step(t, ctx, "register another letter of the ministry",
		chromedp.Navigate(base+"/registers/incoming/new"), chromedp.WaitVisible(chromedp.CSS("#f-from")),
		chromedp.SendKeys(chromedp.CSS("#f-from"), "وزارة الداخلية"),
		chromedp.SendKeys(chromedp.CSS("#f-reference"), "ق/2024/118"),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "طلب معلومات"),
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	if n := count(); n != 5 {
		t.Errorf("%d incoming entries, want 5", n)
	}
}
