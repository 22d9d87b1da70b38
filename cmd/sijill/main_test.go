package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
)

// minio is one MinIO server shared by the tests of this package; sijillBin is
// the sijill program built once, for the tests that run real processes.
var (
	minio     *s3test.Server
	sijillBin string
)

func TestMain(m *testing.M) {
	extract.RunChildIfAsked() // the in-process servers read files in children of this binary
	srv, stop, err := s3test.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	minio = srv
	dir, err := os.MkdirTemp("", "sijill-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sijillBin = filepath.Join(dir, "sijill")
	if out, err := exec.Command("go", "build", "-o", sijillBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building sijill: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminPassword = "correct horse battery"

// startMain runs Sijill in-process on port 0 in a new data directory with env
// as its environment, until the test ends.
func startMain(t *testing.T, env map[string]string) *Main {
	t.Helper()
	m := openMainAt(t, t.TempDir(), env)
	t.Cleanup(func() { m.Close() })
	return m
}

func s3Env(cfg s3.Config) map[string]string {
	return map[string]string{
		"SIJILL_S3_ENDPOINT": cfg.Endpoint, "SIJILL_S3_BUCKET": cfg.Bucket,
		"SIJILL_S3_ACCESS_KEY": cfg.AccessKey, "SIJILL_S3_SECRET_KEY": cfg.SecretKey,
	}
}

// client speaks the JSON API as a user's program would.
type client struct {
	t     testing.TB
	base  string
	token string
}

func login(t testing.TB, base, user, password string) *client {
	t.Helper()
	c := &client{t: t, base: base}
	var out struct{ Token string }
	if st := c.call("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": password}, nil, &out); st != 200 {
		t.Fatalf("login %s: status %d", user, st)
	}
	c.token = out.Token
	return c
}

// call sends a JSON request and decodes a JSON answer into out (if non-nil).
func (c *client) call(method, path string, body any, hdr map[string]string, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	resp, data := c.raw(method, path, r, "application/json", hdr)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func (c *client) raw(method, path string, body io.Reader, ctype string, hdr map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// upload posts files as multipart parts named file.
func (c *client) upload(path string, files map[string][]byte) (*http.Response, []byte) {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, n))
		h.Set("Content-Type", "application/octet-stream")
		p, _ := w.CreatePart(h)
		p.Write(files[n])
	}
	w.Close()
	return c.raw("POST", path, &buf, w.FormDataContentType(), nil)
}

type record struct {
	ID              string `json:"id"`
	Number          int    `json:"number"`
	Year            int    `json:"year"`
	Subject         string `json:"subject"`
	Status          string `json:"status"`
	AnnulReason     string `json:"annul_reason"`
	Confidentiality string `json:"confidentiality"`
	Attachments     []struct {
		SHA256      string `json:"sha256"`
		Name        string `json:"name"`
		Size        int64  `json:"size"`
		ContentType string `json:"content_type"`
	} `json:"attachments"`
}

type apiError struct {
	Error  string `json:"error"`
	Code   string `json:"code"`
	Fields []struct{ Field, Message string }
}

var pdf = []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

func TestAPI(t *testing.T) {
	m := startMain(t, map[string]string{"SIJILL_MAX_UPLOAD_MB": "1"})
	base := m.Server.URL()
	anon := &client{t: t, base: base}
	for _, p := range []string{"/api/v1/registers", "/api/v1/records/incoming-2026-1", "/api/v1/audit", "/api/v1/nothing"} {
		var e apiError
		if st := anon.call("GET", p, nil, nil, &e); st != 401 || e.Code != "unauthorized" {
			t.Errorf("GET %s without a token: %d %+v, want 401", p, st, e)
		}
	}
	var e apiError
	if st := anon.call("POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": "nope"}, nil, &e); st != 401 {
		t.Fatalf("wrong password: %d", st)
	}
	admin := login(t, base, "admin", adminPassword)

	var rec record
	st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{
		"subject": "دعوة لحضور اجتماع المجلس الوطني", "from": "الكتابة الجهوية", "date": "2026-01-27"},
		map[string]string{"Idempotency-Key": "scan-0001"}, &rec)
	if st != 201 || rec.Number != 1 || rec.Status != "active" {
		t.Fatalf("create: %d %+v", st, rec)
	}
	var again record
	if st := admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "دعوة لحضور اجتماع المجلس الوطني"},
		map[string]string{"Idempotency-Key": "scan-0001"}, &again); st != 200 || again.ID != rec.ID {
		t.Fatalf("retried create: %d %+v, want the same record %s", st, again, rec.ID)
	}

	// Bad input: clear 4xx errors, nothing stored.
	for _, tc := range []struct {
		name, path string
		body       string
		status     int
		code       string
	}{
		{"malformed JSON", "/api/v1/registers/incoming/records", `{"subject":`, 400, "invalid"},
		{"unknown field", "/api/v1/registers/incoming/records", `{"subject":"x","colour":"red"}`, 400, "invalid"},
		{"no subject", "/api/v1/registers/incoming/records", `{"from":"x"}`, 400, "invalid"},
		{"bad date", "/api/v1/registers/outgoing/records", `{"subject":"x","date":"27/01/2026"}`, 400, "invalid"},
		{"unknown register", "/api/v1/registers/letters/records", `{"subject":"x"}`, 404, "not_found"},
	} {
		resp, data := admin.raw("POST", tc.path, strings.NewReader(tc.body), "application/json", nil)
		json.Unmarshal(data, &e)
		if resp.StatusCode != tc.status || e.Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, resp.StatusCode, data, tc.status, tc.code)
		}
	}

	// Edits are compare-and-swap on the ETag.
	resp, _ := admin.raw("GET", "/api/v1/records/"+rec.ID, nil, "", nil)
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET record: no ETag")
	}
	if st := admin.call("PATCH", "/api/v1/records/"+rec.ID, map[string]string{"subject": "دعوة مصححة"}, map[string]string{"If-Match": `"stale"`}, &e); st != 412 {
		t.Fatalf("stale If-Match: %d %+v", st, e)
	}
	var upd record
	if st := admin.call("PATCH", "/api/v1/records/"+rec.ID, map[string]string{"subject": "دعوة مصححة"}, map[string]string{"If-Match": etag}, &upd); st != 200 || upd.Subject != "دعوة مصححة" {
		t.Fatalf("PATCH: %d %+v", st, upd)
	}
	if st := admin.call("PATCH", "/api/v1/records/"+rec.ID, map[string]string{"subject": "ثالثة"}, map[string]string{"If-Match": etag}, &e); st != 412 {
		t.Fatalf("second PATCH with the first ETag: %d", st)
	}

	// Attachments: stored by content, served back with their Arabic name.
	resp, data := admin.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"رسالة الدعوة.pdf": pdf})
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, data)
	}
	var up struct {
		Attachments []struct {
			SHA256      string `json:"sha256"`
			Name        string `json:"name"`
			ContentType string `json:"content_type"`
		}
	}
	json.Unmarshal(data, &up)
	if len(up.Attachments) != 1 || up.Attachments[0].Name != "رسالة الدعوة.pdf" || up.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("upload answer %s", data)
	}
	resp, got := admin.raw("GET", "/api/v1/records/"+rec.ID+"/attachments/"+up.Attachments[0].SHA256+"?download=1", nil, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, pdf) || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=UTF-8''%D8%B1%D8%B3%D8%A7%D9%84%D8%A9%20%D8%A7%D9%84%D8%AF%D8%B9%D9%88%D8%A9.pdf") {
		t.Fatalf("download: %d %v %q", resp.StatusCode, resp.Header, got[:min(len(got), 40)])
	}
	resp, data = admin.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"letter.pdf": []byte("<html><script>alert(1)</script>")})
	if resp.StatusCode != 415 {
		t.Errorf("HTML named .pdf: %d %s, want 415", resp.StatusCode, data)
	}
	big := append(append([]byte{}, pdf...), make([]byte, 3<<20)...)
	resp, data = admin.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"big.pdf": big})
	if resp.StatusCode != 413 {
		t.Errorf("3 MB over a 1 MB limit: %d %s, want 413", resp.StatusCode, data)
	}

	// Annulment keeps the entry; the next entry takes the next number.
	var ann record
	if st := admin.call("POST", "/api/v1/records/"+rec.ID+"/annul", map[string]string{"reason": "سُجّلت مرتين"}, nil, &ann); st != 200 || ann.Status != "annulled" || ann.AnnulReason != "سُجّلت مرتين" {
		t.Fatalf("annul: %d %+v", st, ann)
	}
	var second record
	admin.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة ثانية"}, nil, &second)
	if second.Number != 2 {
		t.Fatalf("after an annulment the next number is %d, want 2", second.Number)
	}

	// Confidential records do not exist for a reader.
	var secret record
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار سري", "confidentiality": "confidential"}, nil, &secret)
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار عادي"}, nil, nil)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "member", "password": "member password", "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create reader: %d", st)
	}
	reader := login(t, base, "member", "member password")
	if st := reader.call("GET", "/api/v1/records/"+secret.ID, nil, nil, &e); st != 404 {
		t.Errorf("reader GET confidential: %d, want 404", st)
	}
	var list struct {
		Total   int
		Records []record
	}
	reader.call("GET", "/api/v1/registers/decisions/records", nil, nil, &list)
	if list.Total != 1 || len(list.Records) != 1 || list.Records[0].Subject != "قرار عادي" {
		t.Errorf("reader's list of decisions: %+v", list)
	}
	if st := reader.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "x"}, nil, &e); st != 403 {
		t.Errorf("reader creating a record: %d, want 403", st)
	}
	admin.call("GET", "/api/v1/registers/decisions/records", nil, nil, &list)
	if list.Total != 2 {
		t.Errorf("admin sees %d decisions, want 2", list.Total)
	}

	// Logout revokes the token.
	if st := reader.call("POST", "/api/v1/auth/logout", nil, nil, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if st := reader.call("GET", "/api/v1/registers", nil, nil, nil); st != 401 {
		t.Errorf("after logout: %d, want 401", st)
	}
	var audit struct {
		Events []struct{ Action, Target string }
	}
	admin.call("GET", "/api/v1/audit?target="+rec.ID, nil, nil, &audit)
	var actions []string
	for _, ev := range audit.Events {
		actions = append(actions, ev.Action)
	}
	if want := "record.annul record.attach record.update record.create"; strings.Join(actions, " ") != want {
		t.Errorf("audit of %s: %v, want %s", rec.ID, actions, want)
	}
}

// createMany fires n creates at once, spread over the servers, and returns the
// numbers they were given.
func createMany(t *testing.T, clients []*client, reg string, n int) []int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []int
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rec record
			c := clients[i%len(clients)]
			if st := c.call("POST", "/api/v1/registers/"+reg+"/records", map[string]any{"subject": fmt.Sprintf("رسالة رقم %d", i)}, nil, &rec); st != 201 {
				t.Errorf("create %d: status %d", i, st)
				return
			}
			mu.Lock()
			got = append(got, rec.Number)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Ints(got)
	return got
}

func wantOneToN(t *testing.T, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d numbers, want %d: %v", len(got), n, got)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("numbers are not exactly 1..%d: %v", n, got)
		}
	}
}

func TestConcurrentCreatesOneProcessLocalFolder(t *testing.T) {
	m := startMain(t, nil)
	c := login(t, m.Server.URL(), "admin", adminPassword)
	wantOneToN(t, createMany(t, []*client{c}, "outgoing", 50), 50)
}

// proc is a sijill serve process.
type proc struct {
	cmd  *exec.Cmd
	base string
	data string // its --data
	out  *procLog

	waitOnce sync.Once
	waitErr  error
}

// wait waits for the process to exit, once however many callers (a test and
// its cleanup) wait: exec.Cmd.Wait must not be called twice.
func (p *proc) wait() error {
	p.waitOnce.Do(func() { p.waitErr = p.cmd.Wait() })
	return p.waitErr
}

// procLog is the file a process writes its output to; the test reads it
// for failure messages while the process runs.
type procLog struct{ path string }

func (l *procLog) String() string {
	b, _ := os.ReadFile(l.path)
	return string(b)
}

func startProc(t testing.TB, dataDir string, env map[string]string) *proc {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sijillBin, "serve", "--data", dataDir, "--addr", "127.0.0.1:"+port)
	cmd.Env = append(os.Environ(), "SIJILL_ADMIN_PASSWORD="+adminPassword)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, base: "http://127.0.0.1:" + port, data: dataDir, out: &procLog{path: filepath.Join(t.TempDir(), "sijill.log")}}
	logFile, err := os.Create(p.out.path)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	err = cmd.Start()
	logFile.Close() // the process has its own copy
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); p.wait() })
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.base + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sijill did not start: %s\nMinIO's log:\n%s", p.out, minio.Log())
	return nil
}

func TestConcurrentCreatesTwoProcessesOneMinIOBucket(t *testing.T) {
	env := s3Env(minio.Config(s3test.BucketName()))
	a := startProc(t, t.TempDir(), env)
	b := startProc(t, t.TempDir(), env)
	clients := []*client{login(t, a.base, "admin", adminPassword), login(t, b.base, "admin", adminPassword)}
	wantOneToN(t, createMany(t, clients, "outgoing", 50), 50)
	// Both processes see the same register.
	var list struct{ Total int }
	clients[1].call("GET", "/api/v1/registers/outgoing/records", nil, nil, &list)
	if list.Total != 50 {
		t.Fatalf("the second process lists %d records, want 50", list.Total)
	}
}

func TestStorageOutageIs503AndRecovers(t *testing.T) {
	srv := s3test.Start(t)
	m := startMain(t, s3Env(srv.Config(s3test.BucketName())))
	c := login(t, m.Server.URL(), "admin", adminPassword)
	var first record
	if st := c.call("POST", "/api/v1/registers/minutes/records", map[string]any{"subject": "محضر الاجتماع الأول"}, nil, &first); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	var e apiError
	start := time.Now()
	st := c.call("POST", "/api/v1/registers/minutes/records", map[string]any{"subject": "محضر أثناء العطل"}, nil, &e)
	if st != 503 || e.Code != "unavailable" {
		t.Fatalf("create with MinIO down: %d %+v, want 503 unavailable", st, e)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("the 503 took %v; a user waits for it", d)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var next record
	if st := c.call("POST", "/api/v1/registers/minutes/records", map[string]any{"subject": "محضر بعد العودة"}, nil, &next); st != 201 || next.Number != 2 {
		t.Fatalf("after MinIO returned: %d %+v, want number 2", st, next)
	}
	var list struct{ Records []record }
	c.call("GET", "/api/v1/registers/minutes/records?order=asc", nil, nil, &list)
	if len(list.Records) != 2 || list.Records[0].Subject != "محضر الاجتماع الأول" || list.Records[1].Subject != "محضر بعد العودة" {
		t.Fatalf("register after the outage: %+v", list.Records)
	}
}

func freePort() (string, error) {
	l, err := netListen()
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := strings.Cut(l.Addr().String(), ":")
	return port, nil
}
