package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
)

// rawConn opens a TCP connection to a server's address (base is http://…).
func rawConn(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports whether the server closes c (a read returns EOF or a
// reset) within d, reading and discarding whatever it sends meanwhile.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

// answerWithin reads the status line the server sends on c within d.
func answerWithin(c net.Conn, d time.Duration) (string, error) {
	c.SetReadDeadline(time.Now().Add(d))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// TestBodiesAreBoundedWhileRead: a JSON body sent in chunks, which announces
// no length, is refused with 413 once it passes the JSON limit and is never
// held whole (a 200 MB login body leaves the server's memory where it was);
// a body announcing 5 GB is refused at once, before a byte of it is sent.
func TestBodiesAreBoundedWhileRead(t *testing.T) {
	p := startProc(t, t.TempDir(), nil)
	before, err := peakRSS(p.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/auth/login", "/login"} {
		pr, pw := io.Pipe()
		go func() {
			chunk := bytes.Repeat([]byte(`{"username":"admin","password":"`), 1<<15)
			for sent := 0; sent < 200<<20; sent += len(chunk) {
				if _, err := pw.Write(chunk); err != nil {
					return // the server closed: as it should
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", p.base+path, pr)
		req.Header.Set("Content-Type", "application/json")
		if path == "/login" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.ContentLength = -1 // chunked
		resp, err := http.DefaultClient.Do(req)
		pr.CloseWithError(io.ErrClosedPipe)
		if err != nil {
			t.Fatalf("chunked 200 MB body to %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("chunked 200 MB body to %s: %d, want 413", path, resp.StatusCode)
		}
	}
	after, err := peakRSS(p.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if after > before+64 {
		t.Errorf("peak memory went from %.0f MB to %.0f MB for bodies it refused: they were held", before, after)
	}

	// 5 GB announced, nothing sent: 413 at once, on the API and the pages.
	for _, target := range []string{"/api/v1/auth/login", "/api/v1/records/incoming-2026-1/attachments", "/import"} {
		c := rawConn(t, p.base)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 5368709120\r\n\r\n", target)
		line, err := answerWithin(c, 5*time.Second)
		if err != nil || !strings.Contains(line, " 4") {
			t.Errorf("POST %s announcing 5 GB: %q %v, want a 4xx answer at once", target, line, err)
		}
	}
}

// TestSlowClientsCannotHoldConnections: connections that send nothing, or
// send their headers or body a byte at a time, are closed within the
// header timeout or the body's idle time; one address cannot open more than
// its share; and a real upload, slow but steady, goes through.
func TestSlowClientsCannotHoldConnections(t *testing.T) {
	p := startProc(t, t.TempDir(), map[string]string{
		"SIJILL_HEADER_TIMEOUT": "2s", "SIJILL_BODY_IDLE": "3s", "SIJILL_MAX_CONNS_PER_IP": "20",
	})
	tok := loginToken(t, p.base)
	c := &client{t: t, base: p.base, token: tok}
	var rec record
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}

	// A hundred silent connections from one address: twenty are taken and
	// closed after the header timeout, the others at once.
	var silent []net.Conn
	for range 100 {
		silent = append(silent, rawConn(t, p.base))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := 0
	for _, sc := range silent {
		wg.Go(func() {
			if !closedWithin(sc, 15*time.Second) {
				mu.Lock()
				open++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if open > 0 {
		t.Errorf("%d of 100 silent connections still open after 15 s (header timeout 2 s)", open)
	}

	// Headers dripped a byte every half second: closed by the header timeout.
	drip := rawConn(t, p.base)
	go func() {
		for _, b := range []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)) {
			if _, err := drip.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	}()
	if !closedWithin(drip, 15*time.Second) {
		t.Error("a connection dripping its headers is still open after 15 s")
	}

	// A body dripped a byte at a time after its headers: closed by the
	// body's idle time, not served for the length it announced.
	body := rawConn(t, p.base)
	fmt.Fprintf(body, "POST /api/v1/records/%s/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n", rec.ID, tok)
	go func() {
		for range 1000 {
			if _, err := body.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()
	if !closedWithin(body, 20*time.Second) {
		t.Error("a connection dripping its body is still open after 20 s (body idle 3 s)")
	}

	// A slow but steady upload (160 KB/s, 8 s, well past both timeouts)
	// goes through.
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", "scan.pdf")
	fw.Write(append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("0123456789abcdef"), 80<<10)...))
	w.Close()
	req, _ := http.NewRequest("POST", p.base+"/api/v1/records/"+rec.ID+"/attachments", &slowReader{r: &buf, rate: 160 << 10})
	req.ContentLength = int64(buf.Len())
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("a slow, steady upload of 1.3 MB: %d, want 201", resp.StatusCode)
	}
}

// slowReader gives its bytes at rate bytes a second, in 16 KB steps.
type slowReader struct {
	r    io.Reader
	rate int
}

func (s *slowReader) Read(p []byte) (int, error) {
	const step = 16 << 10
	if len(p) > step {
		p = p[:step]
	}
	n, err := s.r.Read(p)
	time.Sleep(time.Duration(n) * time.Second / time.Duration(s.rate))
	return n, err
}

// blobCount counts the files stored in a local-folder bucket.
func blobCount(t *testing.T, data string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(data, "bucket", "blobs"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// multipartForm builds a page form with fields (in order) and one file
// after them, or before them when fileFirst.
func multipartForm(fields [][2]string, fileFirst bool, file []byte) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	addFile := func() {
		p, _ := w.CreateFormFile("file", "scan.pdf")
		p.Write(file)
	}
	if fileFirst {
		addFile()
	}
	for _, f := range fields {
		w.WriteField(f[0], f[1])
	}
	if !fileFirst {
		addFile()
	}
	w.Close()
	return w.FormDataContentType(), &buf
}

// TestNothingStoredBeforeItIsAllowed: a body's files are stored only once
// the request is known to be allowed: a reader's multipart logout, a
// secretary's form with a forged or missing security token (or one put
// after the file), a stranger's upload: each is refused, and no file reaches
// the bucket.
func TestNothingStoredBeforeItIsAllowed(t *testing.T) {
	dir := t.TempDir()
	m := openMainAt(t, dir, nil)
	t.Cleanup(func() { m.Close() })
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	for name, role := range map[string]string{"reader": "reader", "sec": "secretary"} {
		if st := admin.call("POST", "/api/v1/users", map[string]string{"username": name, "password": "a long and private phrase", "role": role}, nil, nil); st != 201 {
			t.Fatalf("create %s: %d", name, st)
		}
	}
	reader := importPageClient{t: t, base: m.Server.URL(), token: login(t, m.Server.URL(), "reader", "a long and private phrase").token}
	sec := importPageClient{t: t, base: m.Server.URL(), token: login(t, m.Server.URL(), "sec", "a long and private phrase").token}
	_, _, page := sec.send("GET", "/registers/incoming/new", "", nil)
	csrf := regexpFind(t, `name="csrf" value="([^"]+)"`, page)
	file := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("unique bytes of a forged upload "), 2000)...)
	before := blobCount(t, dir)

	for _, tc := range []struct {
		name   string
		c      importPageClient
		path   string
		fields [][2]string
		first  bool
		want   int
	}{
		{"a reader's multipart logout", reader, "/logout", [][2]string{{"csrf", csrf}}, false, 415},
		{"a forged token", sec, "/registers/incoming/new", [][2]string{{"csrf", "forged"}, {"subject", "مزور"}}, false, 403},
		{"no token", sec, "/registers/incoming/new", [][2]string{{"subject", "مزور"}}, false, 403},
		{"the token after the file", sec, "/registers/incoming/new", [][2]string{{"csrf", csrf}, {"subject", "مزور"}}, true, 403},
	} {
		ctype, body := multipartForm(tc.fields, tc.first, file)
		if st, _, _ := tc.c.send("POST", tc.path, ctype, body); st != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, st, tc.want)
		}
	}
	// A stranger's upload and a reader's, through the API.
	var rec record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة"}, nil, &rec)
	stranger := &client{t: t, base: m.Server.URL()}
	if resp, _ := stranger.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"x.pdf": file}); resp.StatusCode != 401 {
		t.Errorf("a stranger's upload: %d, want 401", resp.StatusCode)
	}
	readerAPI := &client{t: t, base: m.Server.URL(), token: reader.token}
	if resp, _ := readerAPI.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"x.pdf": file}); resp.StatusCode != 403 {
		t.Errorf("a reader's upload: %d, want 403", resp.StatusCode)
	}
	if after := blobCount(t, dir); after != before {
		t.Errorf("refused requests stored %d files", after-before)
	}
	// The same form, sent as the page sends it, stores its file.
	ctype, body := multipartForm([][2]string{{"csrf", csrf}, {"subject", "رسالة مع ملف"}, {"confidentiality", "normal"}, {"idempotency_key", "k1"}}, false, file)
	if st, _, loc := sec.send("POST", "/registers/incoming/new", ctype, body); st != 303 || !strings.HasPrefix(loc, "/records/") {
		t.Fatalf("the genuine form: %d %q", st, loc)
	}
	if after := blobCount(t, dir); after != before+1 {
		t.Errorf("the genuine form stored %d files, want 1", after-before)
	}
}

func regexpFind(t *testing.T, re, s string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s not found", re)
	}
	return m[1]
}

// TestNoGuessAboutAConfidentialEntryCanBeConfirmed: a reader sees the
// chain link of the public entry that follows a confidential one, but not
// the salt that the confidential entry's hash covers: hashing the exact
// truth about it (register, number, time, subject, parties, files) does not
// give that link. Nor does a public reply show the ID of the confidential
// letter it answers, nor the register list a year of confidential entries
// only.
func TestNoGuessAboutAConfidentialEntryCanBeConfirmed(t *testing.T) {
	m := startMain(t, nil)
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "reader", "password": "a long and private phrase", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, m.Server.URL(), "reader", "a long and private phrase")
	var secret, public, reply record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "استقالة", "from": "أمين المال", "confidentiality": "confidential"}, nil, &secret)
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "دعوة"}, nil, &public)
	admin.call("POST", "/api/v1/registers/outgoing/records", map[string]any{"subject": "جواب", "in_reply_to": secret.ID}, nil, &reply)

	var seen struct {
		Chain     archive.Chain `json:"chain"`
		InReplyTo string        `json:"in_reply_to"`
	}
	if st := reader.call("GET", "/api/v1/records/"+public.ID, nil, nil, &seen); st != 200 || seen.Chain.Prev == "" {
		t.Fatalf("the reader reads the public entry: %d %+v", st, seen.Chain)
	}
	if seen.Chain.Salt != "" {
		t.Errorf("a reader is shown the chain salt %q", seen.Chain.Salt)
	}
	// The attacker's best case: every field of the confidential entry
	// guessed right, only the salt unknown.
	truth, _, err := m.Store.Get(t.Context(), secret.ID)
	if err != nil {
		t.Fatal(err)
	}
	guess := truth.Entry()
	guess.Salt, guess.V = "", 0
	if guess.Hash() == seen.Chain.Prev {
		t.Error("hashing the right guess without the salt gives the link the reader sees: the guess is confirmed")
	}
	if truth.Entry().Hash() != seen.Chain.Prev {
		t.Error("the link is not the hash of the entry before it, salt included: the chain is broken")
	}
	// An auditor sees the salt (and verify checks it).
	var audited struct{ Chain archive.Chain }
	admin.call("GET", "/api/v1/records/"+secret.ID, nil, nil, &audited)
	if audited.Chain.Salt == "" {
		t.Error("an administrator is not shown the salt")
	}

	if st := reader.call("GET", "/api/v1/records/"+reply.ID, nil, nil, &seen); st != 200 || seen.InReplyTo != "" {
		t.Errorf("a reader sees the public reply answer %q", seen.InReplyTo)
	}
	// A year of confidential entries only is not listed for a reader.
	var year record
	if _, _, err := m.Store.CreateAt(t.Context(), "admin", archive.Decisions, 2019, 1,
		archive.Fields{Subject: strPtr("قرار سري قديم"), Confidentiality: strPtr(archive.Confidential)}, nil, ""); err != nil {
		t.Fatal(err)
	}
	_ = year
	for _, tc := range []struct {
		c    *client
		want bool
	}{{reader, false}, {admin, true}} {
		var regs struct {
			Registers []struct {
				Name  string
				Years []int
			}
		}
		tc.c.call("GET", "/api/v1/registers", nil, nil, &regs)
		for _, r := range regs.Registers {
			if r.Name == "decisions" && slices.Contains(r.Years, 2019) != tc.want {
				t.Errorf("%s: decisions years %v, the confidential-only 2019 listed: %v", tc.c.token[:6], r.Years, !tc.want)
			}
		}
	}
}

func strPtr(s string) *string { return &s }

// TestAConfidentialPastStaysHidden: an entry registered as confidential and
// made public later shows a reader only its public self — not its
// confidential versions in the history (API and page), nor its first
// registration's subject in the record.
func TestAConfidentialPastStaysHidden(t *testing.T) {
	m := startMain(t, nil)
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "reader", "password": "a long and private phrase", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, m.Server.URL(), "reader", "a long and private phrase")
	const secret = "زمردة"
	var rec record
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار بشأن " + secret,
		"body": secret + " في المتن", "confidentiality": "confidential"}, nil, &rec)
	r, _ := admin.raw("GET", "/api/v1/records/"+rec.ID, nil, "", nil)
	if st := admin.call("PATCH", "/api/v1/records/"+rec.ID, map[string]string{"confidentiality": "normal",
		"subject": "قرار معلن", "body": "نص معلن"}, map[string]string{"If-Match": r.Header.Get("ETag")}, nil); st != 200 {
		t.Fatalf("make public: %d", st)
	}
	for _, path := range []string{"/api/v1/records/" + rec.ID, "/api/v1/records/" + rec.ID + "/history", "/records/" + rec.ID} {
		resp, body := reader.raw("GET", path, nil, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if strings.Contains(string(body), secret) {
			t.Errorf("a reader reads the confidential past of an entry at %s", path)
		}
	}
	// Those who may see confidential records still see the whole history.
	if _, body := admin.raw("GET", "/api/v1/records/"+rec.ID+"/history", nil, "", nil); !strings.Contains(string(body), secret) {
		t.Error("the administrator no longer sees the confidential version")
	}

	// A public reply to a confidential letter, printed: the administrator's
	// print cites the letter, a reader's does not name it.
	var letter, reply record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة سرية", "from": "جهة", "reference": "٧٧/سري",
		"confidentiality": "confidential"}, nil, &letter)
	admin.call("POST", "/api/v1/registers/outgoing/records", map[string]any{"subject": "جواب", "to": "جهة", "in_reply_to": letter.ID}, nil, &reply)
	cites := func(c *client) bool {
		resp, pdf := c.raw("GET", "/api/v1/records/"+reply.ID+"/print.pdf", nil, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("print the reply as %s: %d", c.token[:4], resp.StatusCode)
		}
		return strings.Contains(pdfText(t, pdf), "كتابكم")
	}
	if !cites(admin) {
		t.Error("the administrator's print of the reply does not cite its letter")
	}
	if cites(reader) {
		t.Error("a reader's print of a public reply cites the confidential letter it answers")
	}
}

// TestAttachmentsAreAskedForAgain: a browser may keep an attachment only if
// it asks again before using it, and once the record is confidential it is
// answered 404, not 304.
func TestAttachmentsAreAskedForAgain(t *testing.T) {
	m := startMain(t, nil)
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "reader", "password": "a long and private phrase", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, m.Server.URL(), "reader", "a long and private phrase")
	var rec record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة"}, nil, &rec)
	resp, body := admin.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"letter.hta": pdf})
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var up struct {
		Attachments []struct{ SHA256, Name string }
	}
	json.Unmarshal(body, &up)
	path := "/api/v1/records/" + rec.ID + "/attachments/" + up.Attachments[0].SHA256
	got, _ := reader.raw("GET", path+"?download=1", nil, "", nil)
	if cc := got.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") || strings.Contains(cc, "immutable") || strings.Contains(cc, "max-age=3") {
		t.Errorf("Cache-Control %q: a browser may use the file without asking", cc)
	}
	if cd := got.Header.Get("Content-Disposition"); !strings.Contains(cd, `letter.hta.pdf"`) {
		t.Errorf("PDF bytes named letter.hta are downloaded as %q, want the .pdf extension", cd)
	}
	etag := got.Header.Get("ETag")
	if again, _ := reader.raw("GET", path, nil, "", map[string]string{"If-None-Match": etag}); again.StatusCode != 304 {
		t.Errorf("asked again with its ETag: %d, want 304", again.StatusCode)
	}
	var cur record
	r, _ := admin.raw("GET", "/api/v1/records/"+rec.ID, nil, "", nil)
	if st := admin.call("PATCH", "/api/v1/records/"+rec.ID, map[string]string{"confidentiality": "confidential"},
		map[string]string{"If-Match": r.Header.Get("ETag")}, &cur); st != 200 {
		t.Fatalf("make confidential: %d", st)
	}
	if again, _ := reader.raw("GET", path, nil, "", map[string]string{"If-None-Match": etag}); again.StatusCode != 404 {
		t.Errorf("asked again after the record became confidential: %d, want 404", again.StatusCode)
	}
}

// TestAStrangerCannotLockTheOwnerOut: many wrong passwords for admin from
// one address throttle that address, while the owner, from another, logs
// in at once with the right one.
func TestAStrangerCannotLockTheOwnerOut(t *testing.T) {
	m := startMain(t, map[string]string{"SIJILL_TRUSTED_PROXIES": "127.0.0.1"})
	anon := &client{t: t, base: m.Server.URL()}
	try := func(addr, pw string) int {
		b, _ := json.Marshal(map[string]string{"username": "admin", "password": pw})
		resp, _ := anon.raw("POST", "/api/v1/auth/login", bytes.NewReader(b), "application/json", map[string]string{"X-Real-IP": addr})
		return resp.StatusCode
	}
	throttled := false
	for i := range 12 {
		if st := try("203.0.113.9", fmt.Sprintf("guess %d", i)); st == 429 {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Fatal("twelve wrong passwords from one address were not throttled")
	}
	if st := try("198.51.100.4", adminPassword); st != 200 {
		t.Errorf("the owner, from another address, with the right password: %d, want 200", st)
	}
	if st := try("203.0.113.9", adminPassword); st != 429 {
		t.Errorf("the right password from the guessing address: %d, want 429 (the password is not even checked)", st)
	}
}

// TestRedirectsStayHome: the language switch and the login form follow only
// a local path; what a browser would read as another site goes home.
func TestRedirectsStayHome(t *testing.T) {
	m := startMain(t, nil)
	for _, next := range []string{"/%09/evil.example", "//evil.example", "/%5C/evil.example", "https://evil.example/", "/%0A/evil.example"} {
		req, _ := http.NewRequest("GET", m.Server.URL()+"/lang/en?next="+next, nil)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("/lang/en?next=%s sends to %q, want /", next, loc)
		}
	}
}
