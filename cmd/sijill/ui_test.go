package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath finds the browser the UI tests drive. It is a required tool:
// without it the tests fail and say how to get it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run `make test`, which installs it (Debian package chromium)")
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a tab's
// context, and the console messages the pages wrote so far.
func browser(t *testing.T) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "ar"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	var mu sync.Mutex
	var msgs []chromedp.ConsoleMessage
	stream := chromedp.Console(ctx)
	go func() {
		for m, err := range stream {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	}()
	return ctx, func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]chromedp.ConsoleMessage(nil), msgs...)
	}
}

// uiCeiling bounds one browser step: long enough for a loaded two-core
// machine running the race detector, short enough that a page that never
// shows what it should fails the test rather than the whole run.
const uiCeiling = 2 * time.Minute

// step runs browser actions with a deadline, failing the test with what was
// being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, uiCeiling)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, uiCeiling)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, uiCeiling)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return v
}

var (
	scriptTag = regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	onAttr    = regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)
	styleAttr = regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle\s*=|<style[\s>]`)
	htmlOpen  = regexp.MustCompile(`<html lang="ar" dir="rtl">`)
)

// checkHTML asserts what the Content-Security-Policy and the Arabic layout
// need of every page: no inline script or style, lang="ar" dir="rtl".
func checkHTML(t *testing.T, name, html string) {
	t.Helper()
	if !htmlOpen.MatchString(html) {
		t.Errorf("%s: no <html lang=\"ar\" dir=\"rtl\">", name)
	}
	for _, s := range scriptTag.FindAllStringSubmatch(html, -1) {
		if !strings.Contains(s[1], " src=") || strings.TrimSpace(s[2]) != "" {
			t.Errorf("%s: inline script: %.200s", name, s[0])
		}
	}
	if m := onAttr.FindString(html); m != "" {
		t.Errorf("%s: inline event handler: %.200s", name, m)
	}
	if m := styleAttr.FindString(html); m != "" {
		t.Errorf("%s: inline style: %.200s", name, m)
	}
}

// fetchPDF fetches the PDF the page's link sel points at, as the browser
// would with the user's session, and returns its bytes.
func fetchPDF(t *testing.T, ctx context.Context, sel string) []byte {
	t.Helper()
	b64 := eval[string](t, ctx, `(async () => {
		const r = await fetch(document.querySelector('`+sel+`').href);
		if (r.headers.get('Content-Type') !== 'application/pdf') return 'status ' + r.status;
		const b = new Uint8Array(await r.arrayBuffer());
		let s = ''; for (const c of b) s += String.fromCharCode(c);
		return btoa(s);
	})()`, chromedp.EvalAwaitPromise)
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("the PDF of %s: %s", sel, b64)
	}
	return pdf
}

// shot checks the page the browser shows and saves its screenshot under
// testdata/screenshots for a person to look at: the page must be right to
// left, fit the width of the window, and load its Arabic heading font.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shotIn(t, ctx, name, "ar")
}

// shotIn is shot for a page in lang: Arabic right to left, English left to right.
func shotIn(t *testing.T, ctx context.Context, name, lang string) {
	t.Helper()
	html := eval[string](t, ctx, `document.documentElement.outerHTML`)
	want := "rtl"
	if lang == "ar" {
		checkHTML(t, name, html)
	} else {
		want = "ltr"
		if !strings.Contains(html, `<html lang="en" dir="ltr">`) {
			t.Errorf("%s: no <html lang=\"en\" dir=\"ltr\">", name)
		}
	}
	if dir := eval[string](t, ctx, `getComputedStyle(document.body).direction`); dir != want {
		t.Errorf("%s: body direction %q, want %s", name, dir, want)
	}
	if over := eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`); over {
		t.Errorf("%s: the page is wider than the window (horizontal overflow)", name)
	}
	if ok := eval[bool](t, ctx, `document.fonts.ready.then(() => document.fonts.check('700 20px "Sijill Amiri"', 'سجل'))`, chromedp.EvalAwaitPromise); !ok {
		t.Errorf("%s: the Amiri heading font did not load", name)
	}
	// Grow the window to the whole page and capture it: Chromium's capture
	// "beyond the viewport" misplaces right-to-left pages.
	size := eval[[]int64](t, ctx, `[window.innerWidth, window.innerHeight, document.documentElement.scrollHeight]`)
	var opts []chromedp.EmulateViewportOption
	if size[0] < 600 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(1))
	}
	sctx, cancel := context.WithTimeout(ctx, uiCeiling)
	defer cancel()
	step(t, sctx, "grow the window", chromedp.EmulateViewport(size[0], size[2], opts...), chromedp.Sleep(100*time.Millisecond))
	buf, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	step(t, sctx, "restore the window", chromedp.EmulateViewport(size[0], size[1], opts...))
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// scan draws a small "scanned letter": a white page with lines of ink.
func scan(t *testing.T, path string) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 420, 594))
	for i := range img.Pix {
		img.Pix[i] = 0xf4
	}
	for y := 60; y < 560; y += 28 {
		for x := 50; x < 370-(y%97); x++ {
			img.SetGray(x, y, color.Gray{0x20})
			img.SetGray(x, y+1, color.Gray{0x20})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// page fetches a page as a signed-in browser would (the session cookie).
func page(t *testing.T, base, path, token string) (int, string) {
	t.Helper()
	resp, body := sendPage(t, "GET", base+path, token, "", nil)
	return resp.StatusCode, body
}

// sendPage sends a request as a browser with the session cookie of token
// would (redirects not followed) and returns the answer and its body.
func sendPage(t *testing.T, method, url, token, ctype string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "sijill_session", Value: token})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestUI drives the web application in headless Chromium through a
// secretary's day: log in, register an incoming letter with its scan, find it
// by a word typed without hamza, open it, annul another entry, print the book.
func TestUI(t *testing.T) {
	m := startMain(t, map[string]string{"SIJILL_MAX_UPLOAD_MB": "1", "SIJILL_ORG": "حزب التقدم — الأمانة العامة"})
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	year := m.Store.Now().Year()

	// An entry registered earlier, to be annulled in the browser.
	var wrong record
	if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{
		"subject": "رسالة سُجّلت خطأً مرتين", "from": "جمعية الشباب"}, nil, &wrong); st != 201 {
		t.Fatalf("seed: %d", st)
	}
	var secret record
	if st := admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{
		"subject": "قرار سري بشأن الميزانية", "confidentiality": "confidential"}, nil, &secret); st != 201 {
		t.Fatalf("seed: %d", st)
	}
	var minutes record
	if st := admin.call("POST", "/api/v1/registers/minutes/records", map[string]any{
		"subject": "اجتماع المكتب السياسي", "date": fmt.Sprintf("%d-01-15", year),
		"attendees": []string{"أحمد", "فاطمة"}, "agenda": []string{"الميزانية", "المؤتمر"}}, nil, &minutes); st != 201 {
		t.Fatalf("seed: %d", st)
	}

	files := t.TempDir()
	scanPath := filepath.Join(files, "رسالة-الدعوة.png")
	scan(t, scanPath)
	bigPath := filepath.Join(files, "كبير.png")
	if err := os.WriteFile(bigPath, make([]byte, 3<<19), 0o644); err != nil {
		t.Fatal(err)
	}
	txtPath := filepath.Join(files, "ملاحظات.txt")
	os.WriteFile(txtPath, []byte("نص"), 0o644)
	pdfPath := filepath.Join(files, "ملحق.pdf")
	os.WriteFile(pdfPath, pdf, 0o644)

	ctx, console := browser(t)

	// Log in: a page behind the login goes there and comes back.
	step(t, ctx, "open the dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	if loc := eval[string](t, ctx, `location.pathname + location.search`); !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	shot(t, ctx, "01-login")
	step(t, ctx, "log in with a wrong password",
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-error")))
	if v := eval[string](t, ctx, `document.querySelector('#username').value`); v != "admin" {
		t.Errorf("the user name typed was lost after a failed login: %q", v)
	}
	step(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".tiles")))
	if org := text(t, ctx, ".brand-org"); org != "حزب التقدم — الأمانة العامة" {
		t.Errorf("top bar shows %q, not the organisation", org)
	}
	shot(t, ctx, "02-dashboard")

	// Register an incoming letter. First without a subject: the server
	// refuses it, says why beside the field and keeps what was typed.
	step(t, ctx, "open the incoming form",
		chromedp.Click(chromedp.CSS(`a[href="/registers/incoming/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#f-from")))
	step(t, ctx, "submit without a subject",
		chromedp.SendKeys(chromedp.CSS("#f-from"), "وزارة الداخلية"),
		chromedp.SendKeys(chromedp.CSS("#f-reference"), "ق/2024/117"),
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#form-errors")))
	if msg := text(t, ctx, "#err-subject"); !strings.Contains(msg, "الموضوع مطلوب") {
		t.Errorf("no Arabic message beside the subject: %q", msg)
	}
	if v := eval[string](t, ctx, `document.querySelector('#f-from').value + '|' + document.querySelector('#f-reference').value`); v != "وزارة الداخلية|ق/2024/117" {
		t.Errorf("typed values lost after a refused form: %q", v)
	}
	if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "f-subject" {
		t.Errorf("the cursor is in %q, not in the field to correct", focused)
	}
	shot(t, ctx, "03-incoming-form-error")

	// Now with the subject and files: a scan, one too large and one of a
	// refused type. The two bad ones are refused in the page, with a reason.
	step(t, ctx, "choose files",
		chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{scanPath, bigPath, txtPath}),
		chromedp.WaitVisible(chromedp.CSS(".upload-item:nth-child(3)")))
	// With files chosen the page registers through the API; a refusal is
	// shown beside the field without leaving the page, so the files stay.
	step(t, ctx, "submit the files without a subject",
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("form[data-create] > p.alert-error")))
	if msg := text(t, ctx, "#err-subject"); !strings.Contains(msg, "الموضوع مطلوب") {
		t.Errorf("no message beside the subject after the API refused it: %q", msg)
	}
	// The refused form stored nothing, not even its scan.
	scanBytes, _ := os.ReadFile(scanPath)
	scanSum := sha256.Sum256(scanBytes)
	if _, _, err := m.Store.OpenBlob(t.Context(), hex.EncodeToString(scanSum[:])); err == nil {
		t.Error("a refused registration stored its scan")
	}
	step(t, ctx, "fill in the subject",
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "دعوة إلى اجتماع الأمانة العامة للحزب"))
	states := eval[[]string](t, ctx, `[...document.querySelectorAll('.upload-item')].map(li => li.className + ':' + li.querySelector('.upload-status').textContent)`)
	if len(states) != 3 || strings.Contains(states[0], "error") || !strings.Contains(states[1], "أكبر من الحد المسموح") || !strings.Contains(states[2], "نوع الملف غير مقبول") {
		t.Errorf("file rows: %q", states)
	}
	shot(t, ctx, "04-incoming-form-files")
	step(t, ctx, "register the letter",
		chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	loc := eval[string](t, ctx, `location.pathname`)
	id := strings.TrimPrefix(loc, "/records/")
	if !strings.HasPrefix(id, fmt.Sprintf("incoming-%d-", year)) {
		t.Fatalf("after registering, at %s", loc)
	}
	// The registration's banner offers the label for the paper original.
	if href := eval[string](t, ctx, `document.querySelector('.alert-ok a[href$="/stamp.pdf"]')?.getAttribute('href') ?? ''`); href != "/api/v1/records/"+id+"/stamp.pdf" {
		t.Errorf("the registration banner's label link: %q", href)
	}
	// One registration is one version, its scan included: the book must not
	// say «عُدّل بعد القيد» of a letter nobody amended.
	var registered struct {
		Version     int               `json:"version"`
		Attachments []json.RawMessage `json:"attachments"`
	}
	if st := admin.call("GET", "/api/v1/records/"+id, nil, nil, &registered); st != 200 || registered.Version != 1 || len(registered.Attachments) != 1 {
		t.Errorf("the letter registered with its scan: version %d with %d files, want version 1 with 1", registered.Version, len(registered.Attachments))
	}
	if w := eval[int](t, ctx, `(async () => { const i = document.querySelector('img.scan'); await i.decode(); return i.naturalWidth })()`, chromedp.EvalAwaitPromise); w != 420 {
		t.Errorf("the scan is not shown inline: natural width %d", w)
	}
	if st := text(t, ctx, ".attachment .text-state"); !strings.Contains(st, "نص") {
		t.Errorf("the scan's text extraction state is not shown: %q", st)
	}
	// The scan is read in the background; the page shows the outcome by
	// itself, nobody presses reload.
	wasPending := eval[bool](t, ctx, `!!document.querySelector('.text-pending')`)
	waitCtx, cancelWait := context.WithTimeout(ctx, ocrCeiling) // a ceiling that only catches a hang
	if _, err := chromedp.Run(waitCtx, chromedp.WaitVisible(chromedp.CSS(".attachment .text-done"))); err != nil {
		t.Errorf("the record page did not show the scan's text as read: %v (pending when the page opened: %v)", err, wasPending)
	}
	cancelWait()
	shot(t, ctx, "05-record")

	// The registration stamp, as the secretary prints it from the page: the
	// label and the scan's first page with the stamp, fetched by the
	// browser's own session; their QR codes open this entry.
	for _, sel := range []string{"a[data-stamp]", "a[data-stamped]"} {
		if q := qrOf(t, fetchPDF(t, ctx, sel)); !strings.HasSuffix(q, "/records/"+id) || !strings.HasPrefix(q, "http") {
			t.Errorf("%s from the record page: its QR code reads %q, want the address of /records/%s", sel, q, id)
		}
	}

	// More pages of the same letter from the picker on the record page: one
	// request per file, each with its progress bar, and the page shows them.
	step(t, ctx, "upload a PDF on the record page",
		chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{pdfPath}),
		chromedp.WaitVisible(chromedp.CSS("iframe.pdf")))
	if n := eval[int](t, ctx, `document.querySelectorAll('.attachment').length`); n != 2 {
		t.Errorf("%d attachments shown, want 2", n)
	}

	// Correct a detail: the form comes filled in, and the change is kept as
	// a new version in the history.
	step(t, ctx, "correct the sender's reference",
		chromedp.Click(chromedp.CSS(`a[href="/records/`+id+`/edit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#f-reference")))
	if v := eval[string](t, ctx, `document.querySelector('#f-subject').value`); v != "دعوة إلى اجتماع الأمانة العامة للحزب" {
		t.Errorf("the edit form is not filled in: subject %q", v)
	}
	shot(t, ctx, "05b-edit")
	step(t, ctx, "save the correction",
		chromedp.Clear(chromedp.CSS("#f-reference")),
		chromedp.SendKeys(chromedp.CSS("#f-reference"), "ق/2024/118"),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	if got := text(t, ctx, ".meta"); !strings.Contains(got, "ق/2024/118") {
		t.Errorf("the corrected reference is not shown: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('.card table tbody tr').length`); n != 3 {
		t.Errorf("history rows: %d, want 3 (registered with its scan, a PDF added, a correction)", n)
	}

	// Search a word of the subject typed without hamza (الامانة for الأمانة).
	step(t, ctx, "search",
		chromedp.Click(chromedp.CSS(`.mainnav a[href="/search"]`)),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "الامانة"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".hit")))
	hits := eval[[]string](t, ctx, `[...document.querySelectorAll('.hit h3 a')].map(a => a.getAttribute('href'))`)
	if len(hits) != 1 || hits[0] != "/records/"+id {
		t.Errorf("search for الامانة: %q, want /records/%s", hits, id)
	}
	if marks := eval[[]string](t, ctx, `[...document.querySelectorAll('.snippet mark')].map(m => m.textContent)`); len(marks) == 0 || marks[0] != "الأمانة" {
		t.Errorf("highlighted words: %q", marks)
	}
	shot(t, ctx, "06-search")

	// The scan's text, as read, is on the record page: the secretary puts
	// right what the machine could not read, and search finds the word.
	step(t, ctx, "correct a scan's text",
		chromedp.Navigate(base+"/records/"+id),
		chromedp.WaitVisible(chromedp.CSS("details.attachment-text summary")),
		chromedp.Click(chromedp.CSS("details.attachment-text summary")),
		chromedp.WaitVisible(chromedp.CSS("details.attachment-text textarea")),
		chromedp.SetValue(chromedp.CSS("details.attachment-text textarea"), "دعوة إلى اجتماع اللجنة الزعفرانية"),
		chromedp.Click(chromedp.CSS("details.attachment-text button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("details.attachment-text .badge")))
	if got := text(t, ctx, "details.attachment-text .badge"); !strings.Contains(got, "admin") {
		t.Errorf("the corrected text does not say who corrected it: %q", got)
	}
	shot(t, ctx, "06b-text-corrected")
	step(t, ctx, "search the corrected word",
		chromedp.Navigate(base+"/search?q="+url.QueryEscape("الزعفرانية")),
		chromedp.WaitVisible(chromedp.CSS(".hit")))
	if hits := eval[[]string](t, ctx, `[...document.querySelectorAll('.hit h3 a')].map(a => a.getAttribute('href'))`); len(hits) != 1 || hits[0] != "/records/"+id {
		t.Errorf("search for the corrected word الزعفرانية: %q, want /records/%s", hits, id)
	}
	step(t, ctx, "open the hit", chromedp.Click(chromedp.CSS(".hit h3 a")), chromedp.WaitVisible(chromedp.CSS("img.scan")))

	// Annul the wrong entry: a reason is required, and given it stays in
	// the register marked annulled.
	step(t, ctx, "open the wrong entry",
		chromedp.Navigate(base+"/records/"+wrong.ID),
		chromedp.WaitVisible(chromedp.CSS("#f-reason")),
		chromedp.Click(chromedp.CSS(".danger-zone button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#err-reason")))
	if msg := text(t, ctx, "#err-reason"); !strings.Contains(msg, "سبب الإلغاء مطلوب") {
		t.Errorf("annulling without a reason: %q", msg)
	}
	if msg := text(t, ctx, "#err-confirm"); !strings.Contains(msg, "أكّد الإلغاء") {
		t.Errorf("annulling without the confirmation: %q", msg)
	}
	// A reason alone is not enough: the annulment is confirmed too. The page
	// that refused the missing reason already marks the confirmation, so the
	// answer to this submit is the page whose reason is no longer in error.
	step(t, ctx, "annul with a reason, unconfirmed",
		chromedp.SendKeys(chromedp.CSS("#f-reason"), "مكرر: سُجّل مرتين"),
		chromedp.Click(chromedp.CSS(".danger-zone button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#f-reason:not([aria-invalid])")),
		chromedp.WaitVisible(chromedp.CSS("#f-confirm[aria-invalid]")))
	var still record
	if admin.call("GET", "/api/v1/records/"+wrong.ID, nil, nil, &still); still.Status != "active" {
		t.Errorf("an unconfirmed annulment annulled the entry: %q", still.Status)
	}
	step(t, ctx, "annul",
		chromedp.Click(chromedp.CSS("#f-confirm")),
		chromedp.Click(chromedp.CSS(".danger-zone button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-danger")))
	if got := text(t, ctx, ".alert-danger"); !strings.Contains(got, "مكرر: سُجّل مرتين") {
		t.Errorf("the annulled entry does not show its reason: %q", got)
	}
	shot(t, ctx, "07-annulled")

	step(t, ctx, "open the register",
		chromedp.Click(chromedp.CSS(`.mainnav a[href="/registers/incoming"]`)),
		chromedp.WaitVisible(chromedp.CSS(".table")))
	if n := eval[int](t, ctx, `document.querySelectorAll('tbody tr').length`); n != 2 {
		t.Errorf("the register lists %d entries, want 2", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('tbody tr.annulled').length`); n != 1 {
		t.Errorf("%d annulled rows, want 1", n)
	}
	shot(t, ctx, "08-register")

	// Found by search, the annulled entry says it is annulled, and an
	// incoming letter shows its sender.
	var hit string
	for deadline := time.Now().Add(uiCeiling); ; {
		step(t, ctx, "search the annulled entry", chromedp.Navigate(base+"/search?q="+url.QueryEscape("مرتين")),
			chromedp.WaitVisible(chromedp.CSS("#results-h")))
		hit = eval[string](t, ctx, `(document.querySelector('.hit-annulled') || {}).innerText || ''`)
		if hit != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the index takes the annulment
	}
	if !strings.Contains(hit, "ملغى") || !strings.Contains(hit, "جمعية الشباب") || !strings.Contains(hit, m.Store.Now().Format(time.DateOnly)) {
		t.Errorf("the annulled entry in the search results: %q, want it marked «ملغى» with its sender and the day it was registered", hit)
	}
	shot(t, ctx, "08b-search-annulled")
	step(t, ctx, "back to the register", chromedp.Navigate(base+"/registers/incoming"), chromedp.WaitVisible(chromedp.CSS(".table")))

	// The register book, as the print button gets it with the session.
	head := eval[string](t, ctx, `(async () => {
		const a = document.querySelector('a[href$="/book.pdf"]');
		const r = await fetch(a.href);
		const b = new Uint8Array(await r.arrayBuffer());
		return r.status + ' ' + r.headers.get('content-type') + ' ' + String.fromCharCode(...b.slice(0, 5));
	})()`, chromedp.EvalAwaitPromise)
	if head != "200 application/pdf %PDF-" {
		t.Errorf("register book download: %q", head)
	}

	// Other registers' forms fit their paper originals.
	step(t, ctx, "open the minutes form", chromedp.Navigate(base+"/registers/minutes/new"), chromedp.WaitVisible(chromedp.CSS("#f-attendees")))
	shot(t, ctx, "09-minutes-form")
	step(t, ctx, "open the decisions form", chromedp.Navigate(base+"/registers/decisions/new"), chromedp.WaitVisible(chromedp.CSS("#f-meeting")))
	if n := eval[int](t, ctx, `document.querySelectorAll('#list-meeting option').length`); n != 1 {
		t.Errorf("the meeting list offers %d minutes, want 1", n)
	}

	// A decision taken at a meeting, registered from the minutes' page.
	step(t, ctx, "register a decision of the meeting",
		chromedp.Navigate(base+"/records/"+minutes.ID),
		chromedp.Click(chromedp.CSS(`a[href="/registers/decisions/new?meeting=`+minutes.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#f-meeting")))
	if v := eval[string](t, ctx, `document.querySelector('#f-meeting').value`); v != minutes.ID {
		t.Errorf("the decision form names meeting %q, want %s", v, minutes.ID)
	}
	step(t, ctx, "save the decision",
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "اعتماد ميزانية السنة"),
		chromedp.SendKeys(chromedp.CSS("#f-body"), "قرر المكتب السياسي اعتماد الميزانية كما عرضها أمين المال."),
		chromedp.Click(chromedp.CSS("main form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	if got := text(t, ctx, ".meta"); !strings.Contains(got, "اجتماع المكتب السياسي") {
		t.Errorf("the decision does not link its meeting: %q", got)
	}
	shot(t, ctx, "09b-decision")

	// An error page is a page, in Arabic, with its status.
	step(t, ctx, "open a missing record", chromedp.Navigate(base+fmt.Sprintf("/records/incoming-%d-999", year)), chromedp.WaitVisible(chromedp.CSS(".error-page")))
	shot(t, ctx, "10-not-found")

	// On a phone's screen.
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)),
		chromedp.Navigate(base+"/records/"+id), chromedp.WaitVisible(chromedp.CSS("img.scan")))
	shot(t, ctx, "11-phone-record")
	step(t, ctx, "phone search", chromedp.Navigate(base+"/search?q="+url.QueryEscape("اجتماع")), chromedp.WaitVisible(chromedp.CSS(".hit")))
	// The filters fold away: the first result is on the first screen.
	if top := eval[float64](t, ctx, `document.querySelector('.hit').getBoundingClientRect().top`); top > 844 {
		t.Errorf("on a phone the first search result starts %.0f px down, below the first screen (844 px)", top)
	}
	shot(t, ctx, "12-phone-search")
	// A register on a phone: one card per entry, nothing to scroll sideways,
	// the subject on a line of its own above the rest.
	step(t, ctx, "phone register", chromedp.Navigate(base+"/registers/incoming"), chromedp.WaitVisible(chromedp.CSS("table.cards td.subject")))
	if over := eval[bool](t, ctx, `[...document.querySelectorAll('.table-wrap')].some(w => w.scrollWidth > w.clientWidth + 1)`); over {
		t.Error("on a phone the register table scrolls sideways")
	}
	if ok := eval[bool](t, ctx, `(() => { const c = document.querySelector('table.cards td.subject'); const r = c.closest('tr').getBoundingClientRect();
		return c.getBoundingClientRect().width > r.width * 0.8 && c.getBoundingClientRect().top - r.top < 20 })()`); !ok {
		t.Error("on a phone the subject is not the first line of its card, across the card")
	}
	shot(t, ctx, "12b-phone-register")
	// The navigation stays one row on the laptop widths where ten items
	// wrapped to two.
	for _, w := range []int64{1366, 1280} {
		step(t, ctx, fmt.Sprintf("desktop %d", w), chromedp.EmulateViewport(w, 768), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".tiles")))
		if rows := eval[int](t, ctx, `new Set([...document.querySelectorAll('.mainnav li')].map(li => Math.round(li.getBoundingClientRect().top))).size`); rows != 1 {
			t.Errorf("at %d px the navigation takes %d rows, want one", w, rows)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('.mainnav li').length`); n < 10 {
			t.Errorf("the admin's navigation has %d items, want all ten", n)
		}
		if hidden := eval[bool](t, ctx, `(() => { const u = document.querySelector('.mainnav ul'); return u.scrollWidth > u.clientWidth + 1 })()`); hidden {
			t.Errorf("at %d px part of the navigation is scrolled out of sight", w)
		}
		shot(t, ctx, fmt.Sprintf("12c-desktop-%d", w))
	}
	step(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	// The English switch changes every message and comes back.
	step(t, ctx, "switch to English", chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(".tiles")))
	if got := eval[string](t, ctx, `document.documentElement.lang + ' ' + document.querySelector('h1').textContent`); got != "en Home" {
		t.Errorf("after the English switch: %q", got)
	}
	step(t, ctx, "a record in English", chromedp.Navigate(base+"/records/"+id), chromedp.WaitVisible(chromedp.CSS("img.scan")))
	shotIn(t, ctx, "13-record-english", "en")
	step(t, ctx, "home in English", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".tiles")))
	step(t, ctx, "back to Arabic", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(".tiles")))
	if got := eval[string](t, ctx, `document.documentElement.lang`); got != "ar" {
		t.Errorf("after switching back: lang %q", got)
	}

	// Log out: the session ends and the pages need a login again.
	step(t, ctx, "log out", chromedp.Click(chromedp.CSS(".topbar form button")), chromedp.WaitVisible(chromedp.CSS("#username")))
	step(t, ctx, "come back", chromedp.Navigate(base+"/registers/incoming"), chromedp.WaitVisible(chromedp.CSS("#username")))

	for _, msg := range console() {
		if msg.Type == chromedp.ConsoleError || msg.IsException() {
			// The refused login and forms and the missing record answer
			// with their statuses on purpose; anything else is a fault
			// (a script error, a refused inline script or style, a
			// resource that failed).
			if strings.Contains(msg.Text, "Failed to load resource") && regexp.MustCompile(`status of (400|401|404|422) `).MatchString(msg.Text) {
				continue
			}
			t.Errorf("browser console: %s %s (%s)", msg.Type, msg.Text, msg.URL)
		}
	}
}

// TestPagesRolesAndCSRF checks what a browser cannot show by itself: readers
// do not get forms that write, confidential records do not exist for them,
// every page answers with its status as Arabic HTML, and the API refuses a
// cookie-authenticated write without the page's token.
func TestPagesRolesAndCSRF(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "reader", "password": "reader password", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	var secret, plain record
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار سري", "confidentiality": "confidential"}, nil, &secret)
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة عادية"}, nil, &plain)
	reader := login(t, base, "reader", "reader password")

	for _, tc := range []struct {
		name, path, token string
		status            int
		want              string
	}{
		{"anonymous goes to login", "/", "", 303, ""},
		{"login page", "/login", "", 200, "تسجيل الدخول"},
		{"dashboard", "/", admin.token, 200, "سجل الوارد"},
		{"register", "/registers/incoming", admin.token, 200, "رسالة عادية"},
		{"unknown register", "/registers/nothing", admin.token, 404, "غير موجود"},
		{"unknown page", "/nothing/here", admin.token, 404, "الصفحة غير موجودة"},
		{"admin sees the confidential record", "/records/" + secret.ID, admin.token, 200, "قرار سري"},
		{"reader reads a record", "/records/" + plain.ID, reader.token, 200, "رسالة عادية"},
		{"reader does not see the confidential record", "/records/" + secret.ID, reader.token, 404, "غير موجود"},
		{"reader gets no form", "/registers/incoming/new", reader.token, 403, "غير مسموح"},
		{"search page", "/search?q=" + url.QueryEscape("رسالة"), reader.token, 200, "رسالة عادية"},
		{"malformed query", "/search?q=" + url.QueryEscape(`"غير مغلق`), reader.token, 400, "search-error"},
		{"reader's search does not find the confidential record", "/search?q=" + url.QueryEscape("قرار"), reader.token, 200, "النتائج: 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := page(t, base, tc.path, tc.token)
			if st != tc.status {
				t.Fatalf("GET %s: %d, want %d", tc.path, st, tc.status)
			}
			if st == 303 {
				return
			}
			checkHTML(t, tc.path, body)
			if !strings.Contains(body, tc.want) {
				t.Errorf("GET %s: page lacks %q", tc.path, tc.want)
			}
			if tc.token == reader.token && strings.Contains(body, `action="/records/`) {
				t.Errorf("GET %s: a reader is shown a form that writes", tc.path)
			}
		})
	}

	// A register of more than one page: newest first, 50 to a page, the
	// same through the index and through the filter that reads storage.
	for i := 1; i <= 52; i++ {
		if st := admin.call("POST", "/api/v1/registers/outgoing/records", map[string]any{
			"subject": fmt.Sprintf("رسالة صادرة رقم %d", i), "to": "وزارة العدل"}, nil, nil); st != 201 {
			t.Fatalf("create outgoing %d: %d", i, st)
		}
	}
	rows := regexp.MustCompile(`<tr class="[a-z]*">`)
	for _, tc := range []struct {
		query      string
		rows       int
		first, not string
	}{
		{"", 50, "رسالة صادرة رقم 52", "رسالة صادرة رقم 2<"},
		{"?page=2", 2, "رسالة صادرة رقم 2<", "رسالة صادرة رقم 3<"},
		// The filter is a search: the word as typed with another
		// spelling (ه for ة), Eastern digits.
		{"?q=" + url.QueryEscape("صادره"), 50, "رسالة صادرة رقم 52", "رسالة صادرة رقم 2<"},
		{"?q=" + url.QueryEscape("رقم ١٩"), 1, "رسالة صادرة رقم 19<", "رسالة صادرة رقم 1<"},
		// A part of a word no search finds is looked for in the text.
		{"?q=" + url.QueryEscape("ادرة رقم 1"), 11, "رسالة صادرة رقم 19", "رسالة صادرة رقم 20"},
		{"?status=annulled", 0, "لا قيود تطابق", "رسالة صادرة"},
	} {
		st, body := page(t, base, "/registers/outgoing"+tc.query, reader.token)
		if st != 200 {
			t.Fatalf("register%s: %d", tc.query, st)
		}
		if n := len(rows.FindAllString(body, -1)); n != tc.rows {
			t.Errorf("register%s: %d rows, want %d", tc.query, n, tc.rows)
		}
		if !strings.Contains(body, tc.first) || strings.Contains(body, tc.not) {
			t.Errorf("register%s: want %q and not %q", tc.query, tc.first, tc.not)
		}
	}

	// The upload XHR authenticates with the cookie: without the page's token
	// it is refused; with it, or with a bearer token, it goes through.
	upload := func(hdr map[string]string, cookie bool) int {
		var buf bytes.Buffer
		buf.WriteString("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n")
		buf.Write(pdf)
		buf.WriteString("\r\n--b--\r\n")
		req, _ := http.NewRequest("POST", base+"/api/v1/records/"+plain.ID+"/attachments", &buf)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		if cookie {
			req.AddCookie(&http.Cookie{Name: "sijill_session", Value: admin.token})
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	_, dash := page(t, base, "/", admin.token)
	tok := regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]+)">`).FindStringSubmatch(dash)
	if tok == nil {
		t.Fatal("no CSRF token in the page")
	}
	if st := upload(nil, true); st != 403 {
		t.Errorf("cookie upload without X-CSRF-Token: %d, want 403", st)
	}
	if st := upload(map[string]string{"X-CSRF-Token": "0123"}, true); st != 403 {
		t.Errorf("cookie upload with a wrong X-CSRF-Token: %d, want 403", st)
	}
	if st := upload(map[string]string{"X-CSRF-Token": tok[1]}, true); st != 201 {
		t.Errorf("cookie upload with the page's token: %d, want 201", st)
	}
	if st := upload(map[string]string{"Authorization": "Bearer " + admin.token}, false); st != 201 {
		t.Errorf("bearer upload: %d, want 201", st)
	}

	// Without JavaScript the incoming form posts everything, files included,
	// as one multipart form. An empty file picker sends an empty part, which
	// is no file; a refused form comes back with what was typed.
	post := func(fields [][2]string, file []byte) (int, string, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, f := range fields {
			w.WriteField(f[0], f[1])
		}
		fw, _ := w.CreateFormFile("file", map[bool]string{true: "", false: "رسالة.pdf"}[file == nil])
		fw.Write(file)
		w.Close()
		resp, b := sendPage(t, "POST", base+"/registers/incoming/new", admin.token, w.FormDataContentType(), &buf)
		return resp.StatusCode, resp.Header.Get("Location"), b
	}
	st, _, body := post([][2]string{{"csrf", tok[1]}, {"from", "بلدية الرباط"}, {"subject", ""}}, nil)
	if st != 422 || !strings.Contains(body, "الموضوع مطلوب") || !strings.Contains(body, `value="بلدية الرباط"`) {
		t.Errorf("refused form without JavaScript: %d, message or typed value missing", st)
	}
	checkHTML(t, "refused form", body)
	st, loc, _ := post([][2]string{{"csrf", tok[1]}, {"from", "بلدية الرباط"}, {"subject", "طلب ترخيص"}, {"idempotency_key", "k1"}}, pdf)
	if st != 303 || !strings.HasPrefix(loc, "/records/incoming-") {
		t.Fatalf("form with a file: %d %s", st, loc)
	}
	var made record
	admin.call("GET", "/api/v1/records/"+strings.TrimSuffix(strings.TrimPrefix(loc, "/records/"), "?created=1"), nil, nil, &made)
	if made.Subject != "طلب ترخيص" || len(made.Attachments) != 1 || made.Attachments[0].Name != "رسالة.pdf" {
		t.Errorf("registered from the form: %+v", made)
	}
	if st, loc2, _ := post([][2]string{{"csrf", tok[1]}, {"subject", "طلب ترخيص"}, {"idempotency_key", "k1"}}, pdf); st != 303 || loc2 != loc {
		t.Errorf("the same form sent twice: %d %s, want the first entry %s", st, loc2, loc)
	}

	// Two people correct the same entry: the second is told, and keeps what
	// they typed.
	_, edit := page(t, base, "/records/"+made.ID+"/edit", admin.token)
	etag := regexp.MustCompile(`name="etag" value="([^"]+)"`).FindStringSubmatch(edit)
	if etag == nil {
		t.Fatal("no etag in the edit form")
	}
	save := func(subject string) (int, string) {
		form := url.Values{"csrf": {tok[1]}, "etag": {etag[1]}, "subject": {subject}, "from": {"بلدية الرباط"}}
		resp, b := sendPage(t, "POST", base+"/records/"+made.ID+"/edit", admin.token,
			"application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		return resp.StatusCode, b
	}
	if st, _ := save("طلب ترخيص مؤقت"); st != 303 {
		t.Errorf("first correction: %d", st)
	}
	if st, body := save("طلب ترخيص دائم"); st != 409 || !strings.Contains(body, "طلب ترخيص دائم") || !strings.Contains(body, "عدّل شخص آخر") {
		t.Errorf("second correction on the same version: %d, or the typed text or the explanation is missing", st)
	}
	admin.call("GET", "/api/v1/records/"+made.ID, nil, nil, &made)
	if made.Subject != "طلب ترخيص مؤقت" {
		t.Errorf("after the conflict the subject is %q", made.Subject)
	}
	if st, _ := page(t, base, "/records/"+made.ID+"/edit", reader.token); st != 403 {
		t.Errorf("a reader opening the edit form: %d, want 403", st)
	}

	// A page form without its token is refused and changes nothing.
	form := url.Values{"reason": {"بلا رمز"}, "confirm": {"yes"}}
	resp, _ := sendPage(t, "POST", base+"/records/"+plain.ID+"/annul", admin.token,
		"application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if resp.StatusCode != 403 {
		t.Errorf("annul form without a token: %d, want 403", resp.StatusCode)
	}
	var got record
	admin.call("GET", "/api/v1/records/"+plain.ID, nil, nil, &got)
	if got.Status != "active" {
		t.Errorf("a forged form annulled the record")
	}
}
