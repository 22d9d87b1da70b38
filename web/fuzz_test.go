package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/web"
)

// fuzzServer is a real Server over a folder bucket and a real index, with a
// secretary's token; requests go through the Fiber app in-process.
type fuzzServer struct {
	app   *fiber.App
	token string
	rec   string // an existing record to attach files to
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	dir := f.TempDir()
	b, err := folder.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		f.Fatal(err)
	}
	store := archive.NewStore(b, archive.Options{TempDir: filepath.Join(dir, "bucket", ".tmp")})
	ctx := context.Background()
	if _, err := store.CreateUser(ctx, "test", "sec", "a long enough password", archive.RoleSecretary); err != nil {
		f.Fatal(err)
	}
	token, _, err := store.IssueToken(ctx, "sec", 24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ix.Close() })
	srv := web.NewServer(web.Config{MaxUploadBytes: 64 << 10}, store, slog.New(slog.DiscardHandler))
	srv.SetIndex(ix)
	store.OnRecordWritten(ix.Hook(store))
	rec, _, err := store.Create(ctx, "sec", archive.Incoming, archive.Fields{Subject: strPtr("ملف الاختبار")}, nil, "")
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzServer{app: srv.Handler(), token: token, rec: rec.ID}
}

func strPtr(s string) *string { return &s }

// do sends a request through the app and returns its status and body.
func (s *fuzzServer) do(t *testing.T, method, target, ctype string, body io.Reader) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "http://sijill.test"+target, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func noServerError(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s: %d %s", what, status, body)
	}
}

const fuzzBoundary = "sijillFuzzBoundary"

var pdfSeed = []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// multipartBody builds a well-formed form with one file part (and a record part when record != "").
func multipartBody(filename string, content []byte, record string) []byte {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.SetBoundary(fuzzBoundary)
	if record != "" {
		p, _ := w.CreateFormField("record")
		p.Write([]byte(record))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, strings.NewReplacer(`"`, `\"`, "\r", "", "\n", "").Replace(filename)))
	h.Set("Content-Type", "application/pdf")
	p, _ := w.CreatePart(h)
	p.Write(content)
	w.Close()
	return buf.Bytes()
}

// FuzzUpload sends arbitrary multipart bodies, file names and file contents
// to the two upload endpoints (a record with its files, and files added to a
// record) through the real Fiber app: never a 5xx or a panic, and whatever is
// accepted is an allowed type under a clean name.
//
//	go test ./web -run '^$' -fuzz FuzzUpload -fuzztime 30s
func FuzzUpload(f *testing.F) {
	f.Add(multipartBody("كتاب.pdf", pdfSeed, ""), "كتاب.pdf", pdfSeed, `{"subject":"موضوع"}`)
	f.Add([]byte("--"+fuzzBoundary+"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-"), "../../etc/passwd", []byte("<html><script>"), `{"subject":`)
	f.Add([]byte("--"+fuzzBoundary+"--\r\n"), "\u202egnp.exe", []byte("\x89PNG\r\n\x1a\n"), `{"subject":"x","colour":1}`)
	f.Add([]byte{}, "", []byte{}, "")
	f.Add(bytes.Repeat([]byte("A"), 70<<10), "big.pdf", append(append([]byte{}, pdfSeed...), make([]byte, 70<<10)...), `{"subject":"x"}`)
	f.Add([]byte("PK\x03\x04garbage"), "x.docx", []byte("PK\x03\x04\x14\x00\x00\x00"), `null`)
	f.Add([]byte("--"+fuzzBoundary+"\r\nContent-Disposition: form-data; name=\"record\"\r\n\r\n{\"subject\":\"s\"}\r\n--"+fuzzBoundary+"--"), "a\x00b.pdf", pdfSeed, `[]`)
	s := newFuzzServer(f)
	ctype := "multipart/form-data; boundary=" + fuzzBoundary
	f.Fuzz(func(t *testing.T, raw []byte, filename string, content []byte, record string) {
		attach := "/api/v1/records/" + s.rec + "/attachments"
		st, body := s.do(t, "POST", attach, ctype, bytes.NewReader(raw))
		noServerError(t, "raw body to attachments", st, body)
		st, body = s.do(t, "POST", "/api/v1/registers/incoming/records", ctype, bytes.NewReader(raw))
		noServerError(t, "raw body to records", st, body)

		st, body = s.do(t, "POST", attach, ctype, bytes.NewReader(multipartBody(filename, content, "")))
		noServerError(t, "file to attachments", st, body)
		if st == http.StatusCreated {
			var out struct{ Attachments []archive.Attachment }
			json.Unmarshal(body, &out)
			for _, a := range out.Attachments {
				checkStored(t, a)
			}
		}
		st, body = s.do(t, "POST", "/api/v1/registers/incoming/records", ctype, bytes.NewReader(multipartBody(filename, content, record)))
		noServerError(t, "record with a file", st, body)
		if st == http.StatusCreated {
			var rec archive.Record
			json.Unmarshal(body, &rec)
			for _, a := range rec.Attachments {
				checkStored(t, a)
			}
		}
	})
}

func checkStored(t *testing.T, a archive.Attachment) {
	t.Helper()
	switch a.ContentType {
	case "application/pdf", "image/png", "image/jpeg", "image/tiff", "image/webp",
		"application/vnd.oasis.opendocument.text", "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
	default:
		t.Fatalf("stored a file of type %q", a.ContentType)
	}
	if a.Name == "" || strings.ContainsAny(a.Name, "/\\\"") || strings.IndexFunc(a.Name, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}) >= 0 {
		t.Fatalf("stored a file under the name %q", a.Name)
	}
}

// FuzzCreateJSON sends arbitrary JSON bodies to record creation: never a 5xx.
//
//	go test ./web -run '^$' -fuzz FuzzCreateJSON -fuzztime 30s
func FuzzCreateJSON(f *testing.F) {
	for _, s := range []string{`{"subject":"قرار"}`, `{"subject":""}`, `{"subject":"x","date":"2026-02-30"}`, `{"refs":["incoming-0-0"]}`,
		`{"subject":"x","tags":[` + strings.Repeat(`"t",`, 300) + `"t"]}`, `{"subject":"\ud800"}`, `{"subject":1}`, `{}{}`, `null`, `{"confidentiality":"secret","subject":"x"}`} {
		f.Add(s)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body string) {
		st, out := s.do(t, "POST", "/api/v1/registers/decisions/records", "application/json", strings.NewReader(body))
		noServerError(t, "create", st, out)
	})
}

// maxFuzzURL keeps a fuzzed query string inside the request line fasthttp
// reads; the query parser itself refuses text above 500 characters.
const maxFuzzURL = 3000

// FuzzSearchEndpoint sends arbitrary query strings to GET /api/v1/search:
// a bad query is a 400 that says why, never a 5xx.
//
//	go test ./web -run '^$' -fuzz FuzzSearchEndpoint -fuzztime 30s
func FuzzSearchEndpoint(f *testing.F) {
	for _, q := range []string{"", "قرار", `"a b" OR (c -d) e*`, "((", "*", "ال*", "-", strings.Repeat("(", 300), "\xff"} {
		f.Add(q, "incoming", "2026", "1", "-date")
	}
	f.Add("x", "", "-1", "0", "nonsense")
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, q, register, year, page, sort string) {
		v := url.Values{"q": {q}, "register": {register}, "year": {year}, "page": {page}, "sort": {sort}}
		if len(v.Encode()) > maxFuzzURL {
			// fasthttp answers a request line above its 4 KB read buffer with
			// 431 before any handler runs; app.Test reports that as an error.
			return
		}
		st, out := s.do(t, "GET", "/api/v1/search?"+v.Encode(), "", nil)
		noServerError(t, "search "+v.Encode(), st, out)
	})
}

// doChunked sends body in chunks (no Content-Length), with the session as a
// bearer token and as the pages' cookie.
func (s *fuzzServer) doChunked(t *testing.T, method, target, ctype string, body []byte) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "http://sijill.test"+target, io.NopCloser(bytes.NewReader(body)))
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.AddCookie(&http.Cookie{Name: "sijill_session", Value: s.token})
	resp, err := s.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// FuzzBodies sends arbitrary bodies, in chunks (so no length is announced),
// to every route that reads one, JSON and page forms alike, once as they
// are and once repeated past the JSON limit: never a 5xx, and a body past
// the limit is refused (413) without being held.
//
//	go test ./web -run '^$' -fuzz FuzzBodies -fuzztime 30s
func FuzzBodies(f *testing.F) {
	for _, b := range []string{`{"subject":"قرار"}`, `{"username":"admin","password":"x"}`, `{"reason":"مكرر"}`,
		"csrf=x&subject=%D9%82", "subject=" + strings.Repeat("ب", 1000), `{"old":"a","new":"b"}`, "", "\x00\xff", `{"subject":` + strings.Repeat("[", 5000)} {
		f.Add([]byte(b))
	}
	s := newFuzzServer(f)
	routes := []struct{ method, path, ctype string }{
		{"POST", "/api/v1/auth/login", "application/json"},
		{"POST", "/api/v1/registers/incoming/records", "application/json"},
		{"PATCH", "/api/v1/records/" + s.rec, "application/json"},
		{"POST", "/api/v1/records/" + s.rec + "/annul", "application/json"},
		{"POST", "/api/v1/auth/password", "application/json"},
		{"POST", "/api/v1/users", "application/json"},
		{"POST", "/login", "application/x-www-form-urlencoded"},
		{"POST", "/logout", "application/x-www-form-urlencoded"},
		{"POST", "/registers/incoming/new", "application/x-www-form-urlencoded"},
		{"POST", "/records/" + s.rec + "/annul", "application/x-www-form-urlencoded"},
		{"POST", "/account/password", "application/x-www-form-urlencoded"},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, r := range routes {
			st, out := s.doChunked(t, r.method, r.path, r.ctype, body)
			noServerError(t, r.method+" "+r.path, st, out)
		}
		if len(body) == 0 {
			return
		}
		big := bytes.Repeat(body, (4<<20)/len(body)+2) // past the 4 MB JSON limit
		for _, r := range routes {
			st, out := s.doChunked(t, r.method, r.path, r.ctype, big)
			noServerError(t, r.method+" "+r.path+" past the limit", st, out)
			if st != http.StatusRequestEntityTooLarge && st != http.StatusUnauthorized && st != http.StatusForbidden &&
				st != http.StatusPreconditionRequired && st != http.StatusTooManyRequests {
				t.Fatalf("%s %s with %d bytes: %d, want 413 (or a refusal before the body)", r.method, r.path, len(big), st)
			}
		}
	})
}
