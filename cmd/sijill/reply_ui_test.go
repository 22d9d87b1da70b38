package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/chromedp/chromedp"
)

// easternDigits writes n in Eastern Arabic digits, as many secretariats do.
func easternDigits(n int) string {
	return strings.Map(func(r rune) rune { return '٠' + r - '0' }, fmt.Sprint(n))
}

// TestRepliesAndDecisionsFromTheirLetter: "register a reply" on an incoming
// letter drafts the reply to its sender about its subject; the letter it
// answers can be typed as its number and year in Eastern digits; an annulled
// letter offers no reply; a decision started from a meeting takes the
// meeting's date and committee.
func TestRepliesAndDecisionsFromTheirLetter(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	var letter, dup, meeting record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "طلب موعد للقاء", "from": "جمعية الشباب"}, nil, &letter)
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة سجلت مرتين", "from": "جمعية الشباب"}, nil, &dup)
	if st := admin.call("POST", "/api/v1/records/"+dup.ID+"/annul", map[string]string{"reason": "مكرر"}, nil, nil); st != 200 {
		t.Fatalf("annul: %d", st)
	}
	admin.call("POST", "/api/v1/registers/minutes/records", map[string]any{"subject": "اجتماع المكتب السياسي",
		"date": fmt.Sprintf("%d-01-15", letter.Year), "committee": "المكتب السياسي"}, nil, &meeting)

	ctx, _ := browser(t)
	browserLogin(t, ctx, base, "admin", adminPassword)
	step(t, ctx, "reply to the letter", chromedp.Navigate(base+"/records/"+letter.ID),
		chromedp.Click(chromedp.CSS(`a[href*="in_reply_to="]`)), chromedp.WaitVisible(chromedp.CSS("#f-to")))
	if to := eval[string](t, ctx, `document.querySelector('#f-to').value`); to != "جمعية الشباب" {
		t.Errorf("the reply goes to %q, want the letter's sender", to)
	}
	if subj := eval[string](t, ctx, `document.querySelector('#f-subject').value`); !strings.Contains(subj, "طلب موعد للقاء") {
		t.Errorf("the reply's subject draft is %q", subj)
	}
	// The reply as typed in a word processor, chosen in the registration
	// form's picker, which takes DOCX as the server does: registered with
	// the entry, in its one version.
	docx := filepath.Join(t.TempDir(), "الرد.docx")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>نحيطكم علما بموعد اللقاء</w:t></w:r></w:p></w:body></w:document>`))
	zw.Close()
	os.WriteFile(docx, zbuf.Bytes(), 0o644)
	step(t, ctx, "choose the DOCX", chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{docx}),
		chromedp.WaitVisible(chromedp.CSS(".upload-item")))
	if st := text(t, ctx, ".upload-item .upload-status"); strings.Contains(st, "نوع الملف غير مقبول") {
		t.Errorf("the picker refuses a DOCX: %q", st)
	}
	typed := easternDigits(letter.Number) + "/" + easternDigits(letter.Year)
	eval[bool](t, ctx, `(document.querySelector('#f-in_reply_to').value = '', true)`)
	step(t, ctx, "type the letter's number in Eastern digits and register",
		chromedp.SendKeys(chromedp.CSS("#f-in_reply_to"), typed),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	id := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/records/")
	var reply struct {
		InReplyTo   string            `json:"in_reply_to"`
		To          string            `json:"to"`
		Version     int               `json:"version"`
		Attachments []json.RawMessage `json:"attachments"`
	}
	if st := admin.call("GET", "/api/v1/records/"+id, nil, nil, &reply); st != 200 || reply.InReplyTo != letter.ID || reply.To != "جمعية الشباب" ||
		reply.Version != 1 || len(reply.Attachments) != 1 {
		t.Errorf("the reply registered as %s (%d): %+v, want it to answer %s", id, st, reply, letter.ID)
	}

	// Printed, the reply cites the letter it answers, by its number in the
	// incoming register.
	resp, pdf := admin.raw("GET", "/api/v1/records/"+id+"/print.pdf", nil, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("print the reply: %d", resp.StatusCode)
	}
	// Without the spaces and the bidi marks pdftotext puts around runs.
	printed := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, pdfText(t, pdf))
	cite := fmt.Sprintf("إشارة:كتابكمالمقيدلدينافيسجلالواردبرقم%d/%d", letter.Number, letter.Year)
	if !strings.Contains(printed, cite) {
		t.Errorf("the printed reply does not cite its letter (%s):\n%s", cite, printed)
	}

	step(t, ctx, "open the annulled letter", chromedp.Navigate(base+"/records/"+dup.ID), chromedp.WaitVisible(chromedp.CSS("h1")))
	if n := eval[int](t, ctx, `document.querySelectorAll('a[href*="in_reply_to="]').length`); n != 0 {
		t.Error("an annulled letter offers to register a reply")
	}

	step(t, ctx, "a decision from the meeting", chromedp.Navigate(base+"/records/"+meeting.ID),
		chromedp.Click(chromedp.CSS(`a[href*="meeting="]`)), chromedp.WaitVisible(chromedp.CSS("#f-committee")))
	if d := eval[string](t, ctx, `document.querySelector('#f-date').value`); d != fmt.Sprintf("%d-01-15", letter.Year) {
		t.Errorf("the decision is dated %q, want the meeting's date", d)
	}
	if c := eval[string](t, ctx, `document.querySelector('#f-committee').value`); c != "المكتب السياسي" {
		t.Errorf("the decision's committee is %q, want the meeting's", c)
	}
}
