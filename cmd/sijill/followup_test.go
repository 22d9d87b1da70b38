package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
)

// decision registers a decision for a matrix case about follow-up.
func (f *matrixFixture) decision(t *testing.T, confidential bool) string {
	t.Helper()
	fl := archive.Fields{Subject: ptr("تكليف أمين المال بإعداد الميزانية")}
	if confidential {
		fl.Confidentiality = ptr(archive.Confidential)
	}
	rec, _, err := f.m.Store.Create(context.Background(), "admin", archive.Decisions, fl, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

// TestFollowUpThreadAndMeetingAPI drives a secretary's week through the API:
// a letter and its answer, a meeting and its decisions, the follow-up of a
// decision that falls overdue, and what a reader may see of it all.
func TestFollowUpThreadAndMeetingAPI(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "qari", "password": rolePassword, "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, base, "qari", rolePassword)
	mk := func(reg string, fields map[string]any) string {
		t.Helper()
		var rec record
		if st := admin.call("POST", "/api/v1/registers/"+reg+"/records", fields, nil, &rec); st != 201 {
			t.Fatalf("create %s %v: %d", reg, fields, st)
		}
		return rec.ID
	}
	letter := mk("incoming", map[string]any{"subject": "طلب ترخيص لتنظيم تجمع", "from": "عمالة الرباط"})
	answer := mk("outgoing", map[string]any{"subject": "جواب على طلب الترخيص", "to": "عمالة الرباط", "in_reply_to": letter})
	note := mk("outgoing", map[string]any{"subject": "إخبار الفروع بالتجمع", "refs": []string{letter}})
	secret := mk("outgoing", map[string]any{"subject": "ملاحظات سرية على الترخيص", "refs": []string{letter}, "confidentiality": "confidential"})
	minutes := mk("minutes", map[string]any{"subject": "محضر اجتماع المكتب السياسي", "attendees": []string{"أ", "ب"}, "agenda": []string{"الميزانية"}})
	dec := mk("decisions", map[string]any{"subject": "تكليف أمين المال بإعداد الميزانية", "meeting": minutes})
	secretDec := mk("decisions", map[string]any{"subject": "قرار سري", "meeting": minutes, "confidentiality": "confidential"})

	type thread struct {
		Root    string
		Records []struct{ ID string }
		Links   []struct{ From, To, Kind string }
	}
	ids := func(c *client, id string) (map[string]bool, thread) {
		t.Helper()
		var th thread
		if st := c.call("GET", "/api/v1/records/"+id+"/thread", nil, nil, &th); st != 200 {
			t.Fatalf("thread of %s: %d", id, st)
		}
		out := map[string]bool{}
		for _, r := range th.Records {
			out[r.ID] = true
		}
		return out, th
	}
	// Both directions: the letter shows its answer, and the answer its letter.
	got, th := ids(admin, letter)
	for _, want := range []string{letter, answer, note, secret} {
		if !got[want] {
			t.Errorf("thread of the letter lacks %s: %+v", want, th)
		}
	}
	answered := false
	for _, l := range th.Links {
		answered = answered || (l.From == answer && l.To == letter && l.Kind == "reply")
	}
	if !answered {
		t.Errorf("thread of the letter does not say it was answered by %s: %+v", answer, th.Links)
	}
	if got, th := ids(admin, answer); !got[letter] || !got[note] {
		t.Errorf("thread of the answer lacks the letter or its sibling: %+v", th)
	}
	if got, _ := ids(reader, letter); got[secret] || !got[answer] {
		t.Errorf("reader's thread of the letter: %v; want the answer and not the confidential note", got)
	}
	if got, _ := ids(admin, minutes); !got[dec] || !got[secretDec] {
		t.Errorf("the minutes' thread lacks its decisions: %v", got)
	}
	if got, _ := ids(reader, minutes); !got[dec] || got[secretDec] {
		t.Errorf("reader's thread of the minutes: %v; want only the normal decision", got)
	}

	// Follow-up: assigned, due yesterday in the organisation's zone, so overdue.
	yesterday := m.Store.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	type fu struct {
		Status, Responsible, Due string
		Overdue                  bool
		Notes                    []struct{ Text, Author string }
		History                  []struct{ From, To string }
	}
	var f fu
	if st := admin.call("PUT", "/api/v1/records/"+dec+"/followup", map[string]string{"responsible": "أمين المال", "due": yesterday, "status": "in_progress"}, nil, &f); st != 200 || !f.Overdue {
		t.Fatalf("set follow-up: %d %+v", st, f)
	}
	if st := admin.call("PUT", "/api/v1/records/"+secretDec+"/followup", map[string]string{"responsible": "أمين المال", "due": yesterday}, nil, nil); st != 200 {
		t.Fatalf("set secret follow-up: %d", st)
	}
	if st := admin.call("POST", "/api/v1/records/"+dec+"/followup/notes", map[string]string{"text": "المسودة جاهزة"}, nil, &f); st != 201 || len(f.Notes) != 1 || f.Notes[0].Author != "admin" {
		t.Fatalf("add note: %d %+v", st, f)
	}
	if st := admin.call("PUT", "/api/v1/records/"+dec+"/followup", map[string]string{"status": "finished"}, nil, nil); st != 400 {
		t.Errorf("unknown status: %d, want 400", st)
	}
	if st := admin.call("GET", "/api/v1/records/"+letter+"/followup", nil, nil, nil); st != 400 {
		t.Errorf("follow-up of a letter: %d, want 400", st)
	}
	type list struct {
		Followups []struct {
			DecisionID string `json:"decision_id"`
			Status     string
			LatestNote string `json:"latest_note"`
			Overdue    bool
		}
	}
	var l list
	if st := admin.call("GET", "/api/v1/followup?overdue=true&responsible="+urlQuery("أمين المال"), nil, nil, &l); st != 200 || len(l.Followups) != 2 {
		t.Fatalf("admin's overdue list: %d %+v, want both decisions", st, l)
	}
	if st := reader.call("GET", "/api/v1/followup?overdue=true", nil, nil, &l); st != 200 || len(l.Followups) != 1 ||
		l.Followups[0].DecisionID != dec || l.Followups[0].LatestNote != "المسودة جاهزة" {
		t.Fatalf("reader's overdue list: %d %+v, want only %s", st, l, dec)
	}
	if st := reader.call("GET", "/api/v1/records/"+secretDec+"/followup", nil, nil, nil); st != 404 {
		t.Errorf("reader reading a confidential decision's follow-up: %d, want 404", st)
	}
	// Done: no longer overdue; the history keeps every move.
	if st := admin.call("PUT", "/api/v1/records/"+dec+"/followup", map[string]string{"status": "done"}, nil, &f); st != 200 || f.Overdue || len(f.History) != 2 {
		t.Fatalf("mark done: %d %+v", st, f)
	}
	if st := reader.call("GET", "/api/v1/followup?overdue=true", nil, nil, &l); st != 200 || len(l.Followups) != 0 {
		t.Errorf("reader's overdue list after done: %+v, want empty", l)
	}
	resp, pdfData := admin.raw("GET", "/api/v1/followup/report.pdf", nil, "", nil)
	if resp.StatusCode != 200 || !bytes.HasPrefix(pdfData, []byte("%PDF-")) {
		t.Fatalf("report: %d %.40q", resp.StatusCode, pdfData)
	}
	// The decision's own record did not change: follow-up lives beside it.
	rec, _, err := m.Store.Get(context.Background(), dec)
	if err != nil || rec.Version != 1 {
		t.Errorf("decision after follow-up: version %d (%v), want 1", rec.Version, err)
	}
}

// TestImportCommand runs sijill import twice on a small sheet: the second run
// finds everything there and changes nothing; then the server serves and
// finds what was imported.
func TestImportCommand(t *testing.T) {
	ctx := context.Background()
	data, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "scan.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	sheet := "السجل,الرقم,التاريخ,الموضوع,المرسل,الملفات\n" +
		"وارد,12,2017-03-05,دعوة لحضور المؤتمر الإقليمي,الفرع الإقليمي,scan.pdf\n" +
		"وارد,13,2017-03-09,طلب انخراط جديد,مواطن,\n" +
		"وارد,14,2017-03-10,ملف غير موجود,مواطن,absent.pdf\n"
	csvPath := filepath.Join(dir, "register.csv")
	if err := os.WriteFile(csvPath, []byte(sheet), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "--csv", csvPath, "--files", dir, "--data", data,
		"--map", "السجل=register,الرقم=number,التاريخ=date,الموضوع=subject,المرسل=from,الملفات=files"}
	getenv := func(string) string { return "" }
	for i, want := range []string{"imported 2, already there 0, refused 1", "imported 0, already there 2, refused 1"} {
		var out, errOut bytes.Buffer
		if err := Run(ctx, args, getenv, &out, &errOut); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, errOut.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("run %d said %q, want %q", i+1, out.String(), want)
		}
	}
	report, err := os.ReadFile(filepath.Join(dir, "import-refused.csv"))
	if err != nil || !strings.Contains(string(report), "absent.pdf") || !strings.Contains(string(report), "incoming-2017-14") {
		t.Errorf("refusal report = %q %v", report, err)
	}
	// A server over the same data finds the imported letter by a word of it.
	m := openMainAt(t, data, nil)
	t.Cleanup(func() { m.Close() })
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	m.WaitIndexed() // the index catches up with the bucket in the background
	var rec record
	if st := admin.call("GET", "/api/v1/records/incoming-2017-12", nil, nil, &rec); st != 200 {
		t.Fatalf("imported record: %d", st)
	}
	var res struct{ Hits []struct{ ID string } }
	if st := admin.call("GET", "/api/v1/search?q="+urlQuery("المؤتمر الإقليمي"), nil, nil, &res); st != 200 || len(res.Hits) != 1 || res.Hits[0].ID != "incoming-2017-12" {
		t.Errorf("search for the imported letter: %d %+v", st, res)
	}
	// The imported scan was queued for reading; the server reads it in the
	// background, so its text state leaves "none" and ends.
	deadline := time.Now().Add(ocrCeiling)
	for {
		var got struct {
			Attachments []struct {
				Text struct{ Status string } `json:"text"`
			} `json:"attachments"`
		}
		admin.call("GET", "/api/v1/records/incoming-2017-12", nil, nil, &got)
		if len(got.Attachments) != 1 {
			t.Fatalf("imported record has %d files, want 1", len(got.Attachments))
		}
		st := got.Attachments[0].Text.Status
		if st == "done" || st == "failed" || st == "unavailable" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the imported scan's text is still %q: it was never queued for reading", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFollowUpPages follows a decision from the pages a secretary uses: the
// minutes list their decisions, the letter shows its answer, the decision's
// follow-up form saves, and the dashboard and the follow-up page show it overdue.
func TestFollowUpPages(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	mk := func(reg string, fields map[string]any) string {
		t.Helper()
		var rec record
		if st := admin.call("POST", "/api/v1/registers/"+reg+"/records", fields, nil, &rec); st != 201 {
			t.Fatalf("create %s: %d", reg, st)
		}
		return rec.ID
	}
	letter := mk("incoming", map[string]any{"subject": "استفسار عن موعد المؤتمر"})
	mk("outgoing", map[string]any{"subject": "جواب بتحديد موعد المؤتمر", "in_reply_to": letter})
	minutes := mk("minutes", map[string]any{"subject": "محضر الدورة العادية"})
	dec := mk("decisions", map[string]any{"subject": "تكليف لجنة التنظيم بحجز القاعة", "meeting": minutes})

	page := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(&http.Cookie{Name: "sijill_session", Value: admin.token})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 {
			checkHTML(t, path, string(b))
		}
		return resp.StatusCode, resp.Header.Get("Location"), html.UnescapeString(string(b))
	}
	if st, _, body := page("GET", "/records/"+minutes, nil); st != 200 || !strings.Contains(body, "القرارات المتخذة في هذا الاجتماع") || !strings.Contains(body, "تكليف لجنة التنظيم بحجز القاعة") {
		t.Errorf("minutes page: %d, lacks its decision", st)
	}
	if st, _, body := page("GET", "/records/"+letter, nil); st != 200 || !strings.Contains(body, "أُجيب عنه بـ") || !strings.Contains(body, "جواب بتحديد موعد المؤتمر") {
		t.Errorf("letter page: %d, does not show it was answered", st)
	}
	st, _, body := page("GET", "/records/"+dec, nil)
	if st != 200 || !strings.Contains(body, `action="/records/`+dec+`/followup"`) {
		t.Fatalf("decision page: %d, no follow-up form", st)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if csrf == nil {
		t.Fatal("no CSRF token on the decision page")
	}
	yesterday := m.Store.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	form := url.Values{"csrf": {csrf[1]}, "etag": {""}, "responsible": {"لجنة التنظيم"}, "due": {yesterday},
		"status": {"in_progress"}, "note": {"تم الاتصال بصاحب القاعة"}}
	if st, loc, _ := page("POST", "/records/"+dec+"/followup", form); st != 303 || !strings.Contains(loc, "followup=1") {
		t.Fatalf("follow-up form: %d → %q", st, loc)
	}
	form.Set("due", "غدا")
	if st, loc, _ := page("POST", "/records/"+dec+"/followup", form); st != 303 || !strings.Contains(loc, "followup_error=due") {
		t.Errorf("a bad due date: %d → %q, want back to the page naming the field", st, loc)
	}
	if _, _, body := page("GET", "/records/"+dec+"?followup=1", nil); !strings.Contains(body, "تم الاتصال بصاحب القاعة") || !strings.Contains(body, "متأخر") {
		t.Errorf("decision page after saving lacks the note or the overdue mark")
	}
	if _, _, body := page("GET", "/", nil); !strings.Contains(body, "قرارات تأخر تنفيذها") || !strings.Contains(body, "تكليف لجنة التنظيم بحجز القاعة") {
		t.Errorf("dashboard lacks the overdue decision")
	}
	if st, _, body := page("GET", "/followup?overdue=true", nil); st != 200 || !strings.Contains(body, "لجنة التنظيم") || !strings.Contains(body, "تم الاتصال بصاحب القاعة") {
		t.Errorf("follow-up page: %d, lacks the decision", st)
	}
}

// TestImportPage imports a small sheet and its scan through the admin page,
// twice: the second time everything is already there. The form starts the
// import in the background and sends the browser to a page that follows it.
func TestImportPage(t *testing.T) {
	m, admin, ip, csrf := openImportPage(t)
	base := m.Server.URL()
	sheet := "رقم,سنة,الموضوع,سجل,ملفات\n5,2016,محضر الجمع العام,محضر,محضر.pdf\n6,2016,محضر بلا ملف,محضر,غائب.pdf\n"
	mapping := "رقم=number\nسنة=year\nالموضوع=subject\nسجل=register\nملفات=files"
	files := map[string][]byte{"محضر.pdf": pdf}
	if body := ip.wait(ip.post(csrf, sheet, mapping, files)); !strings.Contains(body, "الصفوف 2: استُورد 1، وكان موجودًا من قبل 0، ورُفض 1") || !strings.Contains(body, "غائب.pdf") {
		t.Errorf("first import page lacks the counts or the refusal:\n%s", body)
	}
	if body := ip.wait(ip.post(csrf, sheet, mapping, files)); !strings.Contains(body, "الصفوف 2: استُورد 0، وكان موجودًا من قبل 1، ورُفض 1") {
		t.Errorf("second import page lacks the counts")
	}
	rec, _, err := m.Store.Get(context.Background(), "minutes-2016-5")
	if err != nil || len(rec.Attachments) != 1 || rec.Attachments[0].Name != "محضر.pdf" {
		t.Fatalf("imported minutes: %+v %v", rec, err)
	}
	// A sheet without a subject column is refused at once, the form kept.
	if st, _, body := ip.postRaw(csrf, "رقم,سجل\n7,محضر\n", "رقم=number\nسجل=register", nil); st != 422 || !strings.Contains(body, "subject") || !strings.Contains(body, "سجل=register") {
		t.Errorf("a sheet without subjects: %d, want 422 naming the column with the mapping kept", st)
	}
	if st, _, body := ip.send("GET", "/import?job=0123456789abcdef01234567", "", nil); st != 404 || !strings.Contains(body, "لا يُعرف هذا الاستيراد") {
		t.Errorf("an unknown import: %d", st)
	}
	reader := "qari"
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": reader, "password": rolePassword, "role": "reader"}, nil, nil); st != 201 {
		t.Fatal(st)
	}
	r := login(t, base, reader, rolePassword)
	req, _ := http.NewRequest("GET", base+"/import", nil)
	req.AddCookie(&http.Cookie{Name: "sijill_session", Value: r.token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("a reader opening the import page: %d, want 403", resp.StatusCode)
	}
}

// TestImportPageProgress imports 400 rows through the admin page and
// watches the page that follows it: a progress bar that only moves forward,
// the page reloading itself while the import runs, then the report, and
// every row in the register.
func TestImportPageProgress(t *testing.T) {
	_, admin, ip, csrf := openImportPage(t)
	const rows = 400
	var sheet strings.Builder
	sheet.WriteString("register,number,year,subject\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&sheet, "outgoing,%d,2015,رسالة قديمة رقم %d\n", i, i)
	}
	jobURL := ip.post(csrf, sheet.String(), "", nil)
	progress := regexp.MustCompile(`<progress id="imp-progress" class="upload-bar" max="(\d+)" value="(\d+)"`)
	last, seen := -1, 0
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st, hdr, body := ip.send("GET", jobURL, "", nil)
		if st != 200 {
			t.Fatalf("import page: %d", st)
		}
		p := progress.FindStringSubmatch(body)
		if p == nil {
			if !strings.Contains(body, fmt.Sprintf("الصفوف %d: استُورد %d، وكان موجودًا من قبل 0، ورُفض 0", rows, rows)) {
				t.Fatalf("the import ended without the expected report:\n%s", body)
			}
			if hdr.Get("Refresh") != "" {
				t.Errorf("the report page still reloads itself")
			}
			break
		}
		var max, done int
		fmt.Sscan(p[1], &max)
		fmt.Sscan(p[2], &done)
		if (max != rows && !(max == 0 && done == 0)) || done < last || done > max {
			t.Fatalf("progress %d of %d after %d", done, max, last)
		}
		if hdr.Get("Refresh") == "" {
			t.Errorf("the running import's page does not reload itself")
		}
		last = done
		seen++
		if time.Now().After(deadline) {
			t.Fatalf("the import still runs after 3 minutes (%d of %d)", done, max)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if seen == 0 {
		t.Errorf("the import of %d rows ended before its page could show it running", rows)
	}
	var list struct{ Total int }
	admin.call("GET", "/api/v1/registers/outgoing/records?year=2015", nil, nil, &list)
	if list.Total != rows {
		t.Errorf("the register holds %d records after the import, want %d", list.Total, rows)
	}
}

// TestImportPageInterruptedByShutdown stops the server in the middle of an
// import started from the page, starts it again and sends the same form: the
// rows imported before are skipped, the others imported, and every row is in
// the register and in the index exactly once.
func TestImportPageInterruptedByShutdown(t *testing.T) {
	dir := t.TempDir()
	// Enough rows that the import (hundreds of rows a second on a folder)
	// is still running when the test sees its first twenty.
	const rows = 5000
	var sheet strings.Builder
	sheet.WriteString("register,number,year,subject\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&sheet, "incoming,%d,2013,رسالة واردة قديمة رقم %d\n", i, i)
	}
	m := openMainAt(t, dir, nil)
	ip, csrf := importPageAt(t, m)
	jobURL := ip.post(csrf, sheet.String(), "", nil)
	progress := regexp.MustCompile(`<progress id="imp-progress" class="upload-bar" max="\d+" value="(\d+)"`)
	for deadline := time.Now().Add(5 * time.Minute); ; {
		_, _, body := ip.send("GET", jobURL, "", nil)
		p := progress.FindStringSubmatch(body)
		if p == nil {
			t.Fatalf("the import ended before the server could be stopped:\n%s", body)
		}
		if done, _ := strconv.Atoi(p[1]); done >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the import did not start within five minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m = openMainAt(t, dir, nil)
	t.Cleanup(func() { m.Close() })
	ip, csrf = importPageAt(t, m)
	body := ip.wait(ip.post(csrf, sheet.String(), "", nil))
	counts := regexp.MustCompile(`الصفوف (\d+): استُورد (\d+)، وكان موجودًا من قبل (\d+)، ورُفض (\d+)`).FindStringSubmatch(body)
	if counts == nil {
		t.Fatalf("no report after the second import:\n%s", body)
	}
	n := func(i int) int { v, _ := strconv.Atoi(counts[i]); return v }
	if n(1) != rows || n(2)+n(3) != rows || n(3) < 20 || n(4) != 0 {
		t.Errorf("second import: %s; want %d rows, those of the first run skipped (at least 20), the rest imported", counts[0], rows)
	}
	if got := numbersOf(t, m, archive.Incoming, 2013); len(got) != rows || got[0] != 1 || got[rows-1] != rows {
		t.Errorf("the register holds %d entries after both runs, want 1..%d", len(got), rows)
	}
	if c, err := m.Index.Count(); err != nil || c != rows {
		t.Errorf("the index holds %d records (%v), want %d", c, err, rows)
	}
}

// numbersOf lists the numbers of a register's year in the store.
func numbersOf(t *testing.T, m *Main, reg archive.Register, year int) []int {
	t.Helper()
	var out []int
	for rec, err := range m.Store.Records(context.Background(), reg, year) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec.Number)
	}
	return out
}

// openImportPage starts Sijill and opens the import page as the administrator.
func openImportPage(t *testing.T) (*Main, *client, importPageClient, string) {
	t.Helper()
	m := startMain(t, nil)
	ip, csrf := importPageAt(t, m)
	return m, &client{t: t, base: m.Server.URL(), token: ip.token}, ip, csrf
}

// importPageAt logs in to a running Sijill and opens its import page.
func importPageAt(t *testing.T, m *Main) (importPageClient, string) {
	t.Helper()
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	ip := importPageClient{t: t, base: m.Server.URL(), token: admin.token}
	st, _, body := ip.send("GET", "/import", "", nil)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if st != 200 || csrf == nil {
		t.Fatalf("import page: %d", st)
	}
	return ip, csrf[1]
}

// importPageClient speaks to the import page as a browser with a session would.
type importPageClient struct {
	t     *testing.T
	base  string
	token string
}

func (c importPageClient) send(method, path, ctype string, body io.Reader) (int, http.Header, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.AddCookie(&http.Cookie{Name: "sijill_session", Value: c.token})
	resp, err := noRedirect.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		checkHTML(c.t, path, string(b))
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, resp.Header, loc
	}
	return resp.StatusCode, resp.Header, html.UnescapeString(string(b))
}

// postRaw sends the import form and returns the status, headers and the page
// or, for a redirect, its Location.
func (c importPageClient) postRaw(csrf, sheet, mapping string, files map[string][]byte) (int, http.Header, string) {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf", csrf)
	w.WriteField("map", mapping)
	p, _ := w.CreateFormFile("csv", "sheet.csv")
	p.Write([]byte(sheet))
	for name, b := range files {
		p, _ = w.CreateFormFile("file", name)
		p.Write(b)
	}
	w.Close()
	return c.send("POST", "/import", w.FormDataContentType(), &buf)
}

// post sends the import form and returns the page that follows the import.
func (c importPageClient) post(csrf, sheet, mapping string, files map[string][]byte) string {
	c.t.Helper()
	st, _, loc := c.postRaw(csrf, sheet, mapping, files)
	if st != 303 || !strings.HasPrefix(loc, "/import?job=") {
		c.t.Fatalf("import form: %d %q, want 303 to the import's page", st, loc)
	}
	return loc
}

// wait returns the import's page once the import has ended.
func (c importPageClient) wait(jobURL string) string {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st, hdr, body := c.send("GET", jobURL, "", nil)
		if st != 200 {
			c.t.Fatalf("%s: %d", jobURL, st)
		}
		if hdr.Get("Refresh") == "" {
			return body
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the import still runs after five minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
