package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sijill/sijill/export"
)

// TestExportOfARegisterYear: an auditor downloads a register year as a bag
// from the register page's link, a reader and a secretary may not; `sijill
// export` writes the same year as a zip that, unzipped, `sijill export
// --check` accepts and rejects — naming the file — once one byte of a scan
// is changed; and the bag's index opens offline in Chromium, right to left,
// with every entry and links to files that are there.
func TestExportOfARegisterYear(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	for _, u := range []struct{ name, role string }{{"auditor", "auditor"}, {"reader", "reader"}, {"clerk", "secretary"}} {
		if st := admin.call("POST", "/api/v1/users", map[string]string{"username": u.name, "password": "a long and private phrase", "role": u.role}, nil, nil); st != 201 {
			t.Fatalf("create %s: %d", u.name, st)
		}
	}
	var first, secret, dup record
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "تعيين أمين الصندوق", "committee": "المكتب السياسي"}, nil, &first)
	if resp, data := admin.upload("/api/v1/records/"+first.ID+"/attachments", map[string][]byte{"قرار التعيين.pdf": pdf}); resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, data)
	}
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار بشأن زمردة", "confidentiality": "confidential"}, nil, &secret)
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار سُجّل مرتين"}, nil, &dup)
	if st := admin.call("POST", "/api/v1/records/"+dup.ID+"/annul", map[string]string{"reason": "مكرر"}, nil, nil); st != 200 {
		t.Fatalf("annul: %d", st)
	}
	year := first.Year
	link := fmt.Sprintf("/api/v1/registers/decisions/%d/bag.zip", year)

	auditor := login(t, base, "auditor", "a long and private phrase")
	if _, html := page(t, base, fmt.Sprintf("/registers/decisions?year=%d", year), auditor.token); !strings.Contains(html, `href="`+link+`"`) {
		t.Error("the register page offers the auditor no export")
	}
	resp, body := auditor.raw("GET", link, nil, "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("the auditor's download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	downloaded := filepath.Join(t.TempDir(), "download.zip")
	os.WriteFile(downloaded, body, 0o644)
	bag, closer, err := export.Open(downloaded)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.Validate(bag); err != nil {
		t.Errorf("the downloaded bag: %v", err)
	}
	info, _ := export.Info(bag)
	closer.Close()
	if info["Sijill-Records"] != "3" || info["Sijill-Complete"] != "yes" || info["Sijill-Exported-By"] != "auditor" {
		t.Errorf("the downloaded bag's bag-info.txt: %v", info)
	}
	for _, who := range []string{"reader", "clerk"} {
		c := login(t, base, who, "a long and private phrase")
		if resp, _ := c.raw("GET", link, nil, "", nil); resp.StatusCode != 403 {
			t.Errorf("%s downloads the register's bag: %d", who, resp.StatusCode)
		}
		if _, html := page(t, base, fmt.Sprintf("/registers/decisions?year=%d", year), c.token); strings.Contains(html, "bag.zip") {
			t.Errorf("the register page offers %s an export", who)
		}
	}

	// The command line, beside the running server.
	out := filepath.Join(t.TempDir(), "decisions.zip")
	env := map[string]string{"SIJILL_DATA": m.Config.Data}
	if got, code := runSijill(t, env, "export", "--register", "decisions", "--year", fmt.Sprint(year), "-o", out); code != 0 || !strings.Contains(got, "3 entries") {
		t.Fatalf("sijill export: exit %d: %s", code, got)
	}
	dir := t.TempDir()
	unzip(t, out, dir)
	bagDir := filepath.Join(dir, fmt.Sprintf("decisions-%d", year))
	if got, code := runSijill(t, env, "export", "--check", bagDir); code != 0 || !strings.Contains(got, "a valid bag") {
		t.Fatalf("sijill export --check of the unzipped bag: exit %d: %s", code, got)
	}

	// Its index, opened offline.
	ctx, _ := browser(t)
	step(t, ctx, "open the bag's index", chromedp.Navigate("file://"+filepath.Join(bagDir, "data", "index.html")),
		chromedp.WaitVisible(chromedp.CSS("table")))
	if dir := eval[string](t, ctx, `getComputedStyle(document.body).direction`); dir != "rtl" {
		t.Errorf("the index reads %s", dir)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('tbody tr').length`); n != 3 {
		t.Errorf("the index shows %d entries, want 3", n)
	}
	if got := text(t, ctx, fmt.Sprintf("#n%d", dup.Number)); !strings.Contains(got, "ملغى") || !strings.Contains(got, "مكرر") {
		t.Errorf("the annulled entry is not marked: %q", got)
	}
	if over := eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`); over {
		t.Error("the index is wider than the window")
	}
	for _, href := range eval[[]string](t, ctx, `[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))`) {
		if _, err := os.Stat(filepath.Join(bagDir, "data", filepath.FromSlash(href))); err != nil {
			t.Errorf("the index links to %s, which is not in the bag", href)
		}
	}
	shotDir := filepath.Join("testdata", "screenshots")
	os.MkdirAll(shotDir, 0o755)
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Errorf("capture the index: %v", err)
	} else {
		os.WriteFile(filepath.Join(shotDir, "bag-index.png"), png, 0o644)
	}

	// One byte of a scan changed: the check fails and names the file.
	scan, _ := filepath.Glob(filepath.Join(bagDir, "data", "files", "*.pdf"))
	if len(scan) != 1 {
		t.Fatalf("files in the bag: %v", scan)
	}
	b, _ := os.ReadFile(scan[0])
	b[len(b)/2] ^= 1
	os.WriteFile(scan[0], b, 0o644)
	rel, _ := filepath.Rel(bagDir, scan[0])
	if got, code := runSijill(t, env, "export", "--check", bagDir); code != 1 || !strings.Contains(got, filepath.ToSlash(rel)) {
		t.Errorf("sijill export --check of a changed bag: exit %d, want 1 naming %s:\n%s", code, rel, got)
	}
}

// unzip extracts a zip file into dir, as an archivist's tool would.
func unzip(t *testing.T, name, dir string) {
	t.Helper()
	zr, err := zip.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("%s leaves the directory", f.Name)
		}
		if f.FileInfo().IsDir() {
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, err = io.Copy(&buf, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
