package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
	"github.com/sijill/sijill/internal/ocrset"
	"github.com/sijill/sijill/internal/scantest"
)

// inboxItemJSON is an inbox item as the API shows it.
type inboxItemJSON struct {
	ID   string `json:"id"`
	File struct {
		SHA256      string `json:"sha256"`
		Name        string `json:"name"`
		Size        int64  `json:"size"`
		ContentType string `json:"content_type"`
	} `json:"file"`
	Source     string `json:"source"`
	Origin     string `json:"origin"`
	Text       *struct{ Status string }
	Suggestion *archive.Suggestion `json:"suggestion"`
}

func inboxItems(c *client) []inboxItemJSON {
	c.t.Helper()
	var out struct{ Items []inboxItemJSON }
	if st := c.call("GET", "/api/v1/inbox", nil, nil, &out); st != 200 {
		c.t.Fatalf("GET /api/v1/inbox: %d", st)
	}
	return out.Items
}

// waitJS waits until the page's expression is true, across the page's own
// reloads (an evaluation during one fails and is tried again).
func waitJS(t *testing.T, ctx context.Context, what, expr string, ceiling time.Duration) {
	t.Helper()
	deadline := time.Now().Add(ceiling)
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %s (%s: %v)", what, ceiling, expr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// linesPage is a small "scanned" page of lines of ink, different for each n.
func linesPage(n int) []byte {
	img := image.NewGray(image.Rect(0, 0, 420, 594))
	for i := range img.Pix {
		img.Pix[i] = 0xf4
	}
	for y := 60 + n%7; y < 560; y += 28 {
		for x := 50; x < 370-((y+n*13)%97); x++ {
			img.SetGray(x, y, color.Gray{0x20})
			img.SetGray(x, y+1, color.Gray{0x20})
		}
	}
	return scantest.EncodePNG(img)
}

// isoDate turns the OCR set's day/month/year into the form's YYYY-MM-DD.
func isoDate(dmy string) string {
	p := strings.Split(strings.Map(archive.LatinDigit, dmy), "/")
	return p[2] + "-" + p[1] + "-" + p[0]
}

// TestScanInbox is the secretary's morning in Chromium, on a MinIO bucket:
// thirty scans dropped at once on the inbox page become thirty items, each
// with its first page; five letters are registered from the inbox with the
// form filled from their text (the sender's reference and date, the
// subject), one scan is added to an entry registered before, a two-page
// scan is split in two; a file left in the watched folder and one put under
// the bucket's drop prefix come in by themselves; a reader never sees the
// inbox; every step is in the audit trail. Then the server is killed in the
// middle of a second drop, and every file the page had shown as arrived is
// in the inbox of the server started again.
func TestScanInbox(t *testing.T) {
	cfg := minio.Config(s3test.BucketName())
	env := s3Env(cfg)
	env["SIJILL_SCAN_POLL"] = "300ms"
	data := t.TempDir()
	p := startProc(t, data, env)
	admin := login(t, p.base, "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "reader", "password": rolePassword, "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	var earlier record
	if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "طلب المشاركة في الندوة الجهوية", "from": "جمعية الأمل"}, nil, &earlier); st != 201 {
		t.Fatalf("create the earlier entry: %d", st)
	}

	// Thirty scans: the thirteen letters of the OCR set as a scanner and a
	// phone make them (PNG, JPEG, TIFF, an image-only two-page PDF), and
	// seventeen small pages.
	letters, err := ocrset.Letters()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	byName := map[string]ocrset.Letter{}
	ext := map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif", "application/pdf": ".pdf"}
	for _, l := range letters {
		b, ct, err := l.File(t.Context(), 1)
		if err != nil {
			t.Fatalf("scanning %s: %v", l.Name, err)
		}
		name := l.Name + ext[ct]
		byName[name] = l
		paths = append(paths, filepath.Join(dir, name))
		if err := os.WriteFile(paths[len(paths)-1], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := len(paths); i < 30; i++ {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("صفحة-%02d.png", i+1)))
		if err := os.WriteFile(paths[len(paths)-1], linesPage(i), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx, _ := browser(t)
	step(t, ctx, "desktop", chromedp.EmulateViewport(1366, 768))
	browserLogin(t, ctx, p.base, "admin", adminPassword)
	step(t, ctx, "drop thirty scans on the inbox",
		chromedp.Navigate(p.base+"/inbox"), chromedp.WaitReady(chromedp.CSS("#files")),
		chromedp.SetUploadFiles(chromedp.CSS("#files"), paths))
	// The page sends them one by one and shows the inbox again when all
	// have arrived.
	waitJS(t, ctx, "thirty items on the inbox page", `document.querySelectorAll('[data-inbox-item]').length === 30`, 5*time.Minute)
	items := inboxItems(admin)
	if len(items) != 30 {
		t.Fatalf("%d inbox items, want 30", len(items))
	}
	itemOf := map[string]inboxItemJSON{}
	for _, it := range items {
		itemOf[it.File.Name] = it
	}
	for _, path := range paths {
		b, _ := os.ReadFile(path)
		sum := sha256.Sum256(b)
		if it, ok := itemOf[filepath.Base(path)]; !ok || it.File.SHA256 != hex.EncodeToString(sum[:]) || it.Source != archive.InboxUpload {
			t.Errorf("%s: item %+v, want the file as sent", filepath.Base(path), it)
		}
	}

	// The texts are read in the background; the page follows by itself.
	five := []string{"02-naskh-300-rotated.png", "04-sans-200.png", "06-kacstnaskh-300-speckles.png", "11-kacstoffice-300-rotated.png", "13-naskh-photo.jpg"}
	deadline := time.Now().Add(15 * time.Minute)
	for {
		pending := 0
		for _, it := range inboxItems(admin) {
			if it.Text == nil || it.Text.Status == "pending" {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d scans still unread after 15 minutes", pending)
		}
		time.Sleep(time.Second)
	}
	waitJS(t, ctx, "the page showing every text read", `!document.querySelector('[data-text-state="pending"]') && document.querySelectorAll('[data-inbox-item]').length === 30`, uiCeiling)
	// The first pages load as they come into view: show them all.
	step(t, ctx, "a window as tall as the inbox", chromedp.EmulateViewport(1366, 30000))
	waitJS(t, ctx, "every item's first page drawn",
		`[...document.querySelectorAll('.inbox-thumb img')].every(i => i.complete && i.naturalWidth > 0) && document.querySelectorAll('.inbox-thumb img').length === 30`, uiCeiling)
	step(t, ctx, "desktop", chromedp.EmulateViewport(1366, 768))
	shot(t, ctx, "inbox")
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	shot(t, ctx, "inbox-phone")
	step(t, ctx, "desktop", chromedp.EmulateViewport(1366, 768))

	// Five letters registered from the inbox, the form filled from their text.
	sameRef := 0
	for i, name := range five {
		it, l := itemOf[name], byName[name]
		step(t, ctx, "open the registration of "+name,
			chromedp.Navigate(p.base+"/registers/incoming/new?inbox="+it.ID), chromedp.WaitVisible(chromedp.CSS("#inbox-item")))
		got := eval[map[string]string](t, ctx, `Object.fromEntries(['from','reference','reference_date','subject'].map(n => [n, document.querySelector('#f-'+n).value]))`)
		if got["reference_date"] != isoDate(l.Date) {
			t.Errorf("%s: the form's date is %q, want the letter's %s", name, got["reference_date"], isoDate(l.Date))
		}
		if got["subject"] == "" || got["from"] == "" {
			t.Errorf("%s: the form has no subject or sender drafted: %v", name, got)
		}
		if got["reference"] == l.Reference {
			sameRef++
		}
		if i == 0 {
			shot(t, ctx, "inbox-register")
			step(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
			shot(t, ctx, "inbox-register-phone")
			step(t, ctx, "desktop", chromedp.EmulateViewport(1366, 768))
		}
		step(t, ctx, "register "+name,
			chromedp.Click(chromedp.CSS("form[data-create] button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("a[data-inbox-back]")))
		id := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/records/")
		var rec struct {
			record
			ReferenceDate string `json:"reference_date"`
			Reference     string `json:"reference"`
		}
		if st := admin.call("GET", "/api/v1/records/"+id, nil, nil, &rec); st != 200 || len(rec.Attachments) != 1 ||
			rec.Attachments[0].SHA256 != it.File.SHA256 || rec.ReferenceDate != got["reference_date"] || rec.Subject != got["subject"] {
			t.Errorf("%s registered as %s: %d %+v, want its scan and the form's fields %v", name, id, st, rec, got)
		}
	}
	if sameRef < 3 {
		t.Errorf("the sender's reference was drafted as written on %d of the five letters, want at least 3", sameRef)
	}

	// A page added to the entry registered before.
	page := itemOf["صفحة-20.png"]
	step(t, ctx, "add a page to an earlier entry",
		chromedp.Navigate(p.base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#item-"+page.ID)),
		chromedp.Click(chromedp.CSS("#item-"+page.ID+" details.inbox-step summary")),
		chromedp.SetValue(chromedp.CSS("#reg-"+page.ID), "incoming"),
		chromedp.SendKeys(chromedp.CSS("#rec-"+page.ID), fmt.Sprintf("%d/%d", earlier.Number, earlier.Year)),
		chromedp.Submit(chromedp.CSS("#rec-"+page.ID)))
	waitJS(t, ctx, "the inbox saying the page was added", `location.search.includes('done=attached') && !!document.querySelector('.alert-ok')`, uiCeiling)
	var withPage record
	if admin.call("GET", "/api/v1/records/"+earlier.ID, nil, nil, &withPage); len(withPage.Attachments) != 1 || withPage.Attachments[0].SHA256 != page.File.SHA256 {
		t.Errorf("the earlier entry has %+v, want the page added", withPage.Attachments)
	}

	// The two-page scan split into two letters.
	two := itemOf["09-sans-300-two-page-pdf.pdf"]
	step(t, ctx, "split the two-page scan",
		chromedp.Click(chromedp.CSS("#item-"+two.ID+" details.inbox-step:nth-of-type(2) summary")),
		chromedp.SendKeys(chromedp.CSS("#pages-"+two.ID), "١، ٢"),
		chromedp.Submit(chromedp.CSS("#pages-"+two.ID)))
	waitJS(t, ctx, "the inbox saying the scan was split", `location.search.includes('done=split') && !!document.querySelector('.alert-ok')`, uiCeiling)
	var parts []inboxItemJSON
	for _, it := range inboxItems(admin) {
		if it.Source == archive.InboxSplit {
			parts = append(parts, it)
		}
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts in the inbox after the split, want 2", len(parts))
	}
	for _, part := range parts {
		resp, b := admin.raw("GET", "/api/v1/inbox/"+part.ID+"/file", nil, "", nil)
		f := filepath.Join(t.TempDir(), "part.pdf")
		os.WriteFile(f, b, 0o644)
		out, err := exec.Command("pdfinfo", f).CombinedOutput()
		if resp.StatusCode != 200 || err != nil || !strings.Contains(string(out), "Pages:           1\n") {
			t.Errorf("part %s: %d %v %s, want a one-page PDF", part.File.Name, resp.StatusCode, err, out)
		}
	}

	// A file from the watched folder and one under the drop prefix.
	if err := os.WriteFile(filepath.Join(data, "scans", "من الماسح.png"), linesPage(100), 0o644); err != nil {
		t.Fatal(err)
	}
	bucket, err := s3.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	drop := linesPage(101)
	if _, err := bucket.Put(t.Context(), archive.InboxDropPrefix+"scan-0042.png", bytes.NewReader(drop), int64(len(drop))); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(uiCeiling); ; time.Sleep(200 * time.Millisecond) {
		var sources []string
		for _, it := range inboxItems(admin) {
			if it.Source == archive.InboxFolder || it.Source == archive.InboxBucket {
				sources = append(sources, it.Source+" "+it.File.Name)
			}
		}
		if len(sources) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("from the folder and the drop prefix: %v, want both", sources)
		}
	}
	left := len(inboxItems(admin))
	if want := 30 - 5 - 1 - 1 + 2 + 2; left != want {
		t.Errorf("%d items left in the inbox, want %d", left, want)
	}

	step(t, ctx, "the dashboard", chromedp.Navigate(p.base+"/"), chromedp.WaitVisible(chromedp.CSS("#inbox-waiting")))
	if got := text(t, ctx, "#inbox-waiting"); !strings.Contains(got, fmt.Sprint(left)) {
		t.Errorf("the dashboard says %q, want the %d scans waiting", got, left)
	}

	// Every step is in the audit trail.
	var audit struct {
		Events []struct{ Action, Actor string }
	}
	admin.call("GET", "/api/v1/audit?action=inbox.&limit=1000", nil, nil, &audit)
	count := map[string]int{}
	for _, e := range audit.Events {
		count[e.Action]++
	}
	if count[archive.ActionInboxAdd] != 30+2+2 || count[archive.ActionInboxRegister] != 5 || count[archive.ActionInboxAttach] != 1 || count[archive.ActionInboxSplit] != 1 {
		t.Errorf("the audit trail of the inbox: %v", count)
	}

	// A reader never sees the inbox.
	reader := login(t, p.base, "reader", rolePassword)
	if st := reader.call("GET", "/api/v1/inbox", nil, nil, nil); st != 403 {
		t.Errorf("a reader listing the inbox: %d, want 403", st)
	}
	rctx, _ := browser(t)
	browserLogin(t, rctx, p.base, "reader", rolePassword)
	if n := eval[int](t, rctx, `document.querySelectorAll('a[href="/inbox"]').length`); n != 0 {
		t.Errorf("the reader's pages link to the inbox %d times", n)
	}

	// The server killed in the middle of a drop: what the page showed as
	// arrived is in the inbox of the next server.
	var big []string
	for i := range 24 {
		noise := make([]byte, 3<<20)
		rand.Read(noise)
		path := filepath.Join(dir, fmt.Sprintf("كبير-%02d.png", i))
		if err := os.WriteFile(path, append(linesPage(200+i), noise...), 0o644); err != nil {
			t.Fatal(err)
		}
		big = append(big, path)
	}
	step(t, ctx, "drop twenty-four large scans",
		chromedp.Navigate(p.base+"/inbox"), chromedp.WaitReady(chromedp.CSS("#files")),
		chromedp.SetUploadFiles(chromedp.CSS("#files"), big))
	waitJS(t, ctx, "three scans arrived", `document.querySelectorAll('.upload-item.done').length >= 3`, uiCeiling)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait()
	waitJS(t, ctx, "the page saying the rest did not arrive", `[...document.querySelectorAll('.upload-item')].every(r => r.classList.contains('done') || r.classList.contains('error'))`, uiCeiling)
	acked := eval[[]string](t, ctx, `[...document.querySelectorAll('.upload-item.done .upload-name')].map(e => e.textContent)`)
	if len(acked) >= len(big) {
		t.Fatal("every scan arrived before the kill: the test proves nothing")
	}
	if failed := eval[int](t, ctx, `document.querySelectorAll('.upload-item.error').length`); failed == 0 {
		t.Error("the page shows no scan as not arrived")
	}
	p2 := startProc(t, data, env)
	after := map[string]inboxItemJSON{}
	for _, it := range inboxItems(login(t, p2.base, "admin", adminPassword)) {
		after[it.File.Name] = it
	}
	for _, name := range acked {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		sum := sha256.Sum256(b)
		it, ok := after[name]
		if !ok || it.File.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s was shown as arrived but is not in the inbox after the kill", name)
			continue
		}
		if rc, _, err := bucket.Get(t.Context(), "blobs/sha256/"+it.File.SHA256[:2]+"/"+it.File.SHA256); err != nil {
			t.Errorf("%s: its file is not stored: %v", name, err)
		} else {
			rc.Close()
		}
	}
	t.Logf("%d of %d large scans acknowledged before the kill", len(acked), len(big))
}
