package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTagsUI: a secretary tags a letter in the registration form (commas,
// Arabic or Latin, a tag typed twice kept once), the record page shows the
// tags as links, a tag's link lists the records with that tag, the edit form
// comes with the tags filled in and a tag taken out is gone from the page and
// from the search; a reader filtering by a tag sees no confidential record
// carrying it, not even in the count.
func TestTagsUI(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	var other, secret record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "طلب دعم مالي", "tags": []string{"ميزانية"}}, nil, &other)
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار سري", "tags": []string{"ميزانية"},
		"confidentiality": "confidential"}, nil, &secret)
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة بلا وسم"}, nil, nil)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "reader", "password": "a reader's long passphrase", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, base, "reader", "a reader's long passphrase")

	ctx, _ := browser(t)
	browserLogin(t, ctx, base, "admin", adminPassword)
	step(t, ctx, "open the incoming form", chromedp.Navigate(base+"/registers/incoming/new"), chromedp.WaitVisible(chromedp.CSS("#f-tags")))
	if hint := text(t, ctx, "#hint-tags"); !strings.Contains(hint, "فاصلة") {
		t.Errorf("the tags field does not say how to separate tags: %q", hint)
	}
	step(t, ctx, "register a tagged letter",
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "دعوة إلى المؤتمر الوطني"),
		chromedp.SendKeys(chromedp.CSS("#f-tags"), "ميزانية، مؤتمر وطني , ميزانية"),
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	id := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/records/")
	if tags := eval[[]string](t, ctx, `[...document.querySelectorAll('a.tag')].map(a => a.textContent)`); strings.Join(tags, "|") != "ميزانية|مؤتمر وطني" {
		t.Errorf("the record page shows the tags %q, want ميزانية and مؤتمر وطني once each", tags)
	}
	shot(t, ctx, "tags-record")
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	shot(t, ctx, "tags-record-phone")
	step(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	// A tag's link: the search filtered by it, the filter shown filled in.
	eval[bool](t, ctx, `[...document.querySelectorAll('a.tag')].find(a => a.textContent === 'مؤتمر وطني').click(), true`)
	step(t, ctx, "follow the tag مؤتمر وطني", chromedp.WaitVisible(chromedp.CSS("#results-h")))
	if v := eval[string](t, ctx, `document.querySelector('#s-tag').value`); v != "مؤتمر وطني" {
		t.Errorf("the tag filter shows %q", v)
	}
	if hits := eval[[]string](t, ctx, `[...document.querySelectorAll('.hit h3 a')].map(a => a.getAttribute('href'))`); strings.Join(hits, " ") != "/records/"+id {
		t.Errorf("the tag مؤتمر وطني lists %q, want only %s", hits, id)
	}
	shot(t, ctx, "tags-search")
	// The tag ميزانية: both letters for the administrator, the confidential decision too.
	step(t, ctx, "filter by ميزانية", chromedp.Navigate(base+"/search?tag="+url.QueryEscape("ميزانية")), chromedp.WaitVisible(chromedp.CSS("#results-h")))
	if n := eval[int](t, ctx, `document.querySelectorAll('.hit').length`); n != 3 {
		t.Errorf("the administrator sees %d records tagged ميزانية, want 3", n)
	}

	// The edit form holds the tags; one taken out is gone everywhere.
	step(t, ctx, "edit the tags", chromedp.Navigate(base+"/records/"+id+"/edit"), chromedp.WaitVisible(chromedp.CSS("#f-tags")))
	if v := eval[string](t, ctx, `document.querySelector('#f-tags').value`); v != "ميزانية، مؤتمر وطني" {
		t.Errorf("the edit form's tags: %q", v)
	}
	step(t, ctx, "keep only مؤتمر وطني",
		chromedp.SetValue(chromedp.CSS("#f-tags"), "مؤتمر وطني"),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	if tags := eval[[]string](t, ctx, `[...document.querySelectorAll('a.tag')].map(a => a.textContent)`); strings.Join(tags, "|") != "مؤتمر وطني" {
		t.Errorf("after the edit the record page shows the tags %q", tags)
	}

	// A reader filtering by ميزانية: only the letter, and a count of one.
	total := regexp.MustCompile(`id="results-h"[^>]*>([^<]*)<`)
	st, body := page(t, base, "/search?tag="+url.QueryEscape("ميزانية"), reader.token)
	if st != 200 {
		t.Fatalf("the reader's tag search: %d", st)
	}
	if strings.Contains(body, secret.ID) || strings.Contains(body, "قرار سري") || !strings.Contains(body, other.ID) || strings.Contains(body, id) {
		t.Errorf("the reader's search for the tag ميزانية shows the wrong records")
	}
	if mm := total.FindStringSubmatch(body); mm == nil || !strings.Contains(mm[1], "1") || strings.Contains(mm[1], "2") {
		t.Errorf("the reader's count of records tagged ميزانية: %q, want 1", mm)
	}
}
