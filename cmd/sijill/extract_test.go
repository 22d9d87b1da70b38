package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/internal/scantest/printed"
)

// needOCR fails, never skips, without the real tools.
func needOCR(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"tesseract", "pdftotext", "pdftoppm", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make test` (it installs tesseract-ocr-ara and poppler-utils)", tool)
		}
	}
}

// openMainAt runs Sijill in-process on the data directory dir.
func openMainAt(t *testing.T, dir string, env map[string]string) *Main {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "SIJILL_TESSDATA" { // the model make test fetched, as the spawned servers get
			return os.Getenv(k)
		}
		return ""
	}
	cfg, err := parseConfig(newFlagSet(), []string{"--addr", "127.0.0.1:0", "--data", dir}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AdminPassword = adminPassword
	m := &Main{Config: cfg, Logger: failureLog(t)}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

type textState struct {
	Status string `json:"status"`
	Chars  int    `json:"chars"`
	Error  string `json:"error"`
}

type recordWithText struct {
	ID          string `json:"id"`
	Attachments []struct {
		Name string     `json:"name"`
		Text *textState `json:"text"`
	} `json:"attachments"`
}

// waitText polls the record until none of its files is pending and returns
// their text states by file name.
// ocrCeiling bounds a wait for text extraction. A scanned page takes seconds
// to read on a quiet machine and minutes on a loaded two-core one under the
// race detector, with other tests' readers queued before it: the ceiling is
// there to catch a reader that never finishes, not to time it.
const ocrCeiling = 10 * time.Minute

func waitText(t *testing.T, c *client, id string, d time.Duration) map[string]textState {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var rec recordWithText
		if st := c.call("GET", "/api/v1/records/"+id, nil, nil, &rec); st != 200 {
			t.Fatalf("GET %s: %d", id, st)
		}
		out := map[string]textState{}
		pending := false
		for _, a := range rec.Attachments {
			if a.Text == nil {
				t.Fatalf("%s: attachment %s has no text state", id, a.Name)
			}
			out[a.Name] = *a.Text
			pending = pending || a.Text.Status == "pending"
		}
		if !pending {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: files still pending after %s: %+v", id, d, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// createRecordWithFile registers a record and its file in one multipart request.
func createRecordWithFile(t *testing.T, c *client, reg string, fields map[string]any, name string, data []byte) record {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	js, _ := json.Marshal(fields)
	w.WriteField("record", string(js))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, name))
	p, _ := w.CreatePart(h)
	p.Write(data)
	w.Close()
	resp, body := c.raw("POST", "/api/v1/registers/"+reg+"/records", &buf, w.FormDataContentType(), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("create with %s: %d %s", name, resp.StatusCode, body)
	}
	var rec record
	json.Unmarshal(body, &rec)
	return rec
}

func searchIDs(t *testing.T, c *client, q string) []string {
	t.Helper()
	var res searchResult
	if st := c.call("GET", "/api/v1/search?q="+urlQuery(q), nil, nil, &res); st != 200 {
		t.Fatalf("search %q: %d", q, st)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

// TestOCRSearch: a scanned Arabic letter (noisy, slightly rotated) and a
// born-digital Arabic PDF become searchable by their words once their text
// is read in the background; a corrupt file ends as failed with a reason and
// nothing else breaks; /healthz says OCR is available.
func TestOCRSearch(t *testing.T) {
	needOCR(t)
	ctx := context.Background()
	m := startMain(t, map[string]string{"SIJILL_OCR_WORKERS": "2"})
	admin := login(t, m.Server.URL(), "admin", adminPassword)

	scan, err := printed.ScanPNG(ctx, "دعوة إلى اجتماع المكتب السياسي",
		"يشرفنا أن ندعوكم إلى حضور اجتماع المكتب السياسي لمناقشة التقرير المالي وتحضير المؤتمر الجهوي بمدينة بوزنيقة.", 3)
	if err != nil {
		t.Fatal(err)
	}
	born, err := printed.PDF(ctx, "ميثاق الأخلاقيات", "صادق المجلس الوطني على ميثاق الأخلاقيات وأحال مشروع النظام الداخلي على لجنة التحكيم.")
	if err != nil {
		t.Fatal(err)
	}
	var scanned record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة واردة", "from": "الكتابة الجهوية"}, nil, &scanned)
	if resp, body := admin.upload("/api/v1/records/"+scanned.ID+"/attachments", map[string][]byte{"scan.png": scan}); resp.StatusCode != 201 {
		t.Fatalf("upload scan: %d %s", resp.StatusCode, body)
	}
	digital := createRecordWithFile(t, admin, "decisions", map[string]any{"subject": "قرار المجلس"}, "قرار.pdf", born)
	corrupt := createRecordWithFile(t, admin, "incoming", map[string]any{"subject": "ملف تالف"}, "broken.pdf",
		append([]byte("%PDF-1.5\n"), bytes.Repeat([]byte("\x00\xffgarbage"), 300)...))

	for _, tc := range []struct {
		id, file, status string
	}{
		{scanned.ID, "scan.png", "done"},
		{digital.ID, "قرار.pdf", "done"},
		{corrupt.ID, "broken.pdf", "failed"},
	} {
		st := waitText(t, admin, tc.id, ocrCeiling)[tc.file]
		if st.Status != tc.status {
			t.Errorf("%s %s: %+v, want %s", tc.id, tc.file, st, tc.status)
		}
		if tc.status == "done" && st.Chars < 50 {
			t.Errorf("%s %s: only %d characters read", tc.id, tc.file, st.Chars)
		}
		if tc.status == "failed" && st.Error == "" {
			t.Errorf("%s %s: failed without a reason", tc.id, tc.file)
		}
	}
	// Words only the scan holds: OCR of a noisy page misses a word now and
	// then, as it would on a real scan, but the letter is found by most.
	scanWords := []string{"يشرفنا", "ندعوكم", "لمناقشة", "التقرير", "المؤتمر", "الجهوي", "بمدينة", "بوزنيقة"}
	found := 0
	for _, q := range scanWords {
		if ids := searchIDs(t, admin, q); len(ids) == 1 && ids[0] == scanned.ID {
			found++
		}
	}
	if found < len(scanWords)*3/4 {
		var text string
		if rec, _, err := m.Store.Get(ctx, scanned.ID); err == nil && len(rec.Attachments) > 0 {
			text, _, _ = m.Store.Text(ctx, rec.Attachments[0].SHA256)
		}
		t.Errorf("the scanned letter is found by %d of its %d words, want at least %d; its text:\n%s", found, len(scanWords), len(scanWords)*3/4, text)
	}
	// A born-digital PDF's text layer is exact: every word finds it.
	for _, q := range []string{"الأخلاقيات", "لجنة التحكيم", "النظام الداخلي"} {
		if ids := searchIDs(t, admin, q); len(ids) != 1 || ids[0] != digital.ID {
			t.Errorf("search %q: %v, want [%s]", q, ids, digital.ID)
		}
	}
	// The corrupt file broke nothing: the server still registers and serves.
	var after record
	if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "بعد الملف التالف"}, nil, &after); st != 201 {
		t.Errorf("create after a corrupt file: %d", st)
	}
	var health struct {
		OCR map[string]any `json:"ocr"`
	}
	admin.call("GET", "/healthz", nil, nil, &health)
	if health.OCR["tesseract"] != true || health.OCR["pdftotext"] != true || health.OCR["available"] != true || health.OCR["model"] != "best" {
		t.Errorf("/healthz ocr: %v, want every tool and the best Arabic model (make test fetches it into bin/tessdata)", health.OCR)
	}
}

// TestOCRRestartFinishesQueue: a server stopped with files still queued
// reads them after the next start, and they become searchable.
func TestOCRRestartFinishesQueue(t *testing.T) {
	needOCR(t)
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"SIJILL_OCR_WORKERS": "1"}
	m1 := openMainAt(t, dir, env)
	admin := login(t, m1.Server.URL(), "admin", adminPassword)
	places := []string{"بوزنيقة", "الزمامرة", "تطوان"}
	var ids []string
	for i, place := range places {
		scan, err := printed.ScanPNG(ctx, "دعوة إلى الملتقى الجهوي", "ينظم الفرع الإقليمي ملتقى جهويا بمدينة "+place+" لتكريم المناضلين.", uint64(i+10))
		if err != nil {
			t.Fatal(err)
		}
		var rec record
		admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": fmt.Sprintf("دعوة رقم %d", i+1)}, nil, &rec)
		if resp, body := admin.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"scan.png": scan}); resp.StatusCode != 201 {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		ids = append(ids, rec.ID)
	}
	m1.Close()
	pending := 0
	for _, id := range ids {
		rec, _, err := m1.Store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		st, _, err := m1.Extract.Status(ctx, rec.Attachments[0].SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == "pending" {
			pending++
		}
	}
	if pending == 0 {
		t.Fatal("every file was read before the stop; the test proves nothing")
	}

	m2 := openMainAt(t, dir, env)
	defer m2.Close()
	m2.WaitIndexed()
	admin = login(t, m2.Server.URL(), "admin", adminPassword)
	for i, id := range ids {
		if st := waitText(t, admin, id, ocrCeiling)["scan.png"]; st.Status != "done" {
			t.Errorf("%s after restart: %+v", id, st)
		}
		// Found by its words (OCR may miss one): its town, which only it
		// holds, or the words all three share.
		found := 0
		for _, q := range []string{places[i], "الفرع", "الإقليمي", "ملتقى", "المناضلين"} {
			if slices.Contains(searchIDs(t, admin, q), id) {
				found++
			}
		}
		if found < 3 {
			t.Errorf("%s after restart: found by %d of its 5 words, want at least 3 (%d of %d files were pending at the stop)", id, found, pending, len(ids))
		}
	}
}

// docx is a minimal Word document holding text.
func docx(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>`, text)
	zw.Close()
	return buf.Bytes()
}

// TestReindexReusesText: sijill reindex indexes the stored text without
// reading the files again; reindex --ocr reads them again.
func TestReindexReusesText(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m1 := openMainAt(t, dir, nil)
	admin := login(t, m1.Server.URL(), "admin", adminPassword)
	rec := createRecordWithFile(t, admin, "minutes", map[string]any{"subject": "محضر"}, "محضر.docx", docx(t, "ناقش المكتب حصيلة المخيم الصيفي"))
	if st := waitText(t, admin, rec.ID, ocrCeiling)["محضر.docx"]; st.Status != "done" {
		t.Fatalf("DOCX: %+v", st)
	}
	sum := rec.Attachments[0].SHA256
	before, err := m1.Extract.Job(ctx, sum)
	if err != nil || before == nil {
		t.Fatalf("job: %v %v", before, err)
	}
	m1.Close()

	getenv := func(string) string { return "" }
	for _, tc := range []struct {
		args    []string
		reread  bool
		outWant string
	}{
		{[]string{"reindex", "--data", dir}, false, "indexed 1 records"},
		{[]string{"reindex", "--ocr", "--data", dir}, true, "1 done, 0 failed"},
	} {
		var out, errb bytes.Buffer
		if err := Run(ctx, tc.args, getenv, &out, &errb); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errb.String())
		}
		if !strings.Contains(out.String(), tc.outWant) {
			t.Errorf("%v: output %q, want %q", tc.args, out.String(), tc.outWant)
		}
		m := openMainAt(t, dir, nil)
		after, _ := m.Extract.Job(ctx, sum)
		if reread := after.Updated.After(before.Updated); reread != tc.reread {
			t.Errorf("%v: file read again: %v, want %v", tc.args, reread, tc.reread)
		}
		before = after
		c := login(t, m.Server.URL(), "admin", adminPassword)
		if ids := searchIDs(t, c, "المخيم الصيفي"); len(ids) != 1 || ids[0] != rec.ID {
			t.Errorf("%v: search finds %v, want [%s]", tc.args, ids, rec.ID)
		}
		m.Close()
	}
}
