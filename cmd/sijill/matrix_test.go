package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/internal/scantest"
)

// The roles of the matrix, in column order, and the password of each test user.
var matrixRoles = []string{archive.RoleAdmin, archive.RoleSecretary, archive.RoleReader, archive.RoleAuditor, "anonymous"}

const rolePassword = "a long enough password"

// matrixFixture is an archive with one user per role, a normal and a
// confidential record, each with a file.
type matrixFixture struct {
	m          *Main
	normal     record
	secret     record
	normalFile string // SHA-256 of the normal record's file
	secretFile string
	year       int
	users      map[string]string // role -> username
	n          int               // counter for unique names
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	t.Helper()
	m := startMain(t, nil)
	f := &matrixFixture{m: m, users: map[string]string{archive.RoleAdmin: "admin"}}
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	for _, role := range []string{archive.RoleSecretary, archive.RoleReader, archive.RoleAuditor} {
		name := "the-" + role
		if st := admin.call("POST", "/api/v1/users", map[string]string{"username": name, "password": rolePassword, "role": role}, nil, nil); st != 201 {
			t.Fatalf("create %s: %d", name, st)
		}
		f.users[role] = name
	}
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "target", "password": rolePassword, "role": "reader"}, nil, nil); st != 201 {
		t.Fatalf("create target: %d", st)
	}
	mk := func(fields map[string]any, file []byte) (record, string) {
		var rec record
		if st := admin.call("POST", "/api/v1/registers/incoming/records", fields, nil, &rec); st != 201 {
			t.Fatalf("create %v: %d", fields, st)
		}
		resp, data := admin.upload("/api/v1/records/"+rec.ID+"/attachments", map[string][]byte{"ملف.pdf": file})
		var up struct{ Attachments []struct{ SHA256 string } }
		if json.Unmarshal(data, &up); resp.StatusCode != 201 || len(up.Attachments) != 1 {
			t.Fatalf("upload: %d %s", resp.StatusCode, data)
		}
		return rec, up.Attachments[0].SHA256
	}
	f.normal, f.normalFile = mk(map[string]any{"subject": "محضر اجتماع لجنة الشباب", "committee": "لجنة الشباب", "tags": []string{"شباب"}}, pdf)
	f.secret, f.secretFile = mk(map[string]any{"subject": "خطة زعفرانية للمؤتمر", "committee": "اللجنة السرية", "tags": []string{"خطة"},
		"confidentiality": "confidential"}, append(append([]byte{}, pdf...), "% secret\n"...))
	f.year = f.normal.Year
	if _, err := m.Server.Verify(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	return f
}

// token issues a fresh token for role ("" for anonymous), so that cases that
// end sessions do not disturb the others.
func (f *matrixFixture) token(t *testing.T, role string) string {
	t.Helper()
	name, ok := f.users[role]
	if !ok {
		return ""
	}
	secret, _, err := f.m.Store.IssueToken(context.Background(), name, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func (f *matrixFixture) etag(t *testing.T, id string) string {
	t.Helper()
	_, etag, err := f.m.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return `"` + etag + `"`
}

// fresh registers a new record for a case that uses one up (annulment).
func (f *matrixFixture) fresh(t *testing.T, confidential bool) string {
	t.Helper()
	fl := archive.Fields{Subject: ptr("قيد للإلغاء")}
	if confidential {
		fl.Confidentiality = ptr(archive.Confidential)
	}
	rec, _, err := f.m.Store.Create(context.Background(), "admin", archive.Incoming, fl, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

func ptr(s string) *string { return &s }

// req is one request of the matrix.
type req struct {
	path  string
	body  io.Reader
	ctype string
	hdr   map[string]string
}

func jsonReq(path string, v any) req {
	b, _ := json.Marshal(v)
	return req{path: path, body: bytes.NewReader(b), ctype: "application/json"}
}

func uploadReq(path string) req {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	p, _ := w.CreateFormFile("file", "مرفق.pdf")
	p.Write(append(append([]byte{}, pdf...), "% matrix\n"...))
	w.Close()
	return req{path: path, body: &buf, ctype: w.FormDataContentType()}
}

// TestAccessMatrix sends every API endpoint as every role and without a
// token, and checks the status each gets: what a role may do it can, what
// it may not it is refused (403), and a confidential record does not exist
// (404) for a reader. A route missing from the table fails the test, so a
// new endpoint cannot ship without its row.
func TestAccessMatrix(t *testing.T) {
	f := newMatrixFixture(t)
	N, C := f.normal.ID, f.secret.ID
	const (
		ok   = 200
		made = 201
		gone = 204
		bad  = 400
		no   = 401
		deny = 403
		nf   = 404
	)
	tests := []struct {
		method, route string // route as registered in web/server.go
		name          string
		build         func(t *testing.T, role, token string) req
		want          [5]int // admin, secretary, reader, auditor, anonymous
	}{
		{"GET", "/healthz", "", func(*testing.T, string, string) req { return req{path: "/healthz"} }, [5]int{ok, ok, ok, ok, ok}},
		{"GET", "/readyz", "", func(*testing.T, string, string) req { return req{path: "/readyz"} }, [5]int{ok, ok, ok, ok, ok}},
		{"POST", "/api/v1/auth/login", "own password; anonymous a wrong one", func(t *testing.T, role, _ string) req {
			name, pw := f.users[role], rolePassword
			switch role {
			case archive.RoleAdmin:
				pw = adminPassword
			case "anonymous":
				name, pw = "admin", "wrong password"
			}
			return jsonReq("/api/v1/auth/login", map[string]string{"username": name, "password": pw})
		}, [5]int{ok, ok, ok, ok, no}},
		{"POST", "/api/v1/auth/logout", "", func(*testing.T, string, string) req { return req{path: "/api/v1/auth/logout"} }, [5]int{gone, gone, gone, gone, no}},
		{"GET", "/api/v1/auth/me", "", func(*testing.T, string, string) req { return req{path: "/api/v1/auth/me"} }, [5]int{ok, ok, ok, ok, no}},
		{"PUT", "/api/v1/auth/prefs", "own display preferences", func(*testing.T, string, string) req {
			return jsonReq("/api/v1/auth/prefs", map[string]bool{"eastern_digits": false, "hijri": false})
		}, [5]int{ok, ok, ok, ok, no}},
		{"POST", "/api/v1/auth/password", "wrong old password", func(*testing.T, string, string) req {
			return jsonReq("/api/v1/auth/password", map[string]string{"old": "not the password", "new": "whatever it may be"})
		}, [5]int{bad, bad, bad, bad, no}},
		{"GET", "/api/v1/auth/tokens", "", func(*testing.T, string, string) req { return req{path: "/api/v1/auth/tokens"} }, [5]int{ok, ok, ok, ok, no}},
		{"DELETE", "/api/v1/auth/tokens", "", func(*testing.T, string, string) req { return req{path: "/api/v1/auth/tokens"} }, [5]int{ok, ok, ok, ok, no}},
		{"DELETE", "/api/v1/auth/tokens/:id", "own token", func(_ *testing.T, _, token string) req {
			id := archive.TokenID(token)
			if token == "" {
				id = strings.Repeat("a", 64)
			}
			return req{path: "/api/v1/auth/tokens/" + id}
		}, [5]int{gone, gone, gone, gone, no}},
		{"GET", "/api/v1/registers", "", func(*testing.T, string, string) req { return req{path: "/api/v1/registers"} }, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/registers/:register/records", "", func(*testing.T, string, string) req {
			return req{path: "/api/v1/registers/incoming/records"}
		}, [5]int{ok, ok, ok, ok, no}},
		{"POST", "/api/v1/registers/:register/records", "", func(*testing.T, string, string) req {
			return jsonReq("/api/v1/registers/outgoing/records", map[string]string{"subject": "جواب"})
		}, [5]int{made, made, deny, deny, no}},
		{"GET", "/api/v1/records/:id", "normal", func(*testing.T, string, string) req { return req{path: "/api/v1/records/" + N} }, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id", "confidential", func(*testing.T, string, string) req { return req{path: "/api/v1/records/" + C} }, [5]int{ok, ok, nf, ok, no}},
		{"PATCH", "/api/v1/records/:id", "normal", func(t *testing.T, _, _ string) req {
			r := jsonReq("/api/v1/records/"+N, map[string]string{"body": "تصحيح"})
			r.hdr = map[string]string{"If-Match": f.etag(t, N)}
			return r
		}, [5]int{ok, ok, deny, deny, no}},
		{"PATCH", "/api/v1/records/:id", "confidential", func(t *testing.T, _, _ string) req {
			r := jsonReq("/api/v1/records/"+C, map[string]string{"body": "تصحيح"})
			r.hdr = map[string]string{"If-Match": f.etag(t, C)}
			return r
		}, [5]int{ok, ok, deny, deny, no}},
		{"POST", "/api/v1/records/:id/annul", "normal", func(t *testing.T, _, _ string) req {
			return jsonReq("/api/v1/records/"+f.fresh(t, false)+"/annul", map[string]string{"reason": "مكرر"})
		}, [5]int{ok, ok, deny, deny, no}},
		{"GET", "/api/v1/records/:id/history", "normal", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/history"}
		}, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/history", "confidential", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + C + "/history"}
		}, [5]int{ok, ok, nf, ok, no}},
		{"POST", "/api/v1/records/:id/attachments", "normal", func(*testing.T, string, string) req {
			return uploadReq("/api/v1/records/" + N + "/attachments")
		}, [5]int{made, made, deny, deny, no}},
		{"GET", "/api/v1/records/:id/attachments/:sha256", "normal", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/attachments/" + f.normalFile}
		}, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/attachments/:sha256", "confidential", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + C + "/attachments/" + f.secretFile}
		}, [5]int{ok, ok, nf, ok, no}},
		{"GET", "/api/v1/records/:id/attachments/:sha256", "confidential file named under a normal record", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/attachments/" + f.secretFile}
		}, [5]int{nf, nf, nf, nf, no}},
		{"GET", "/api/v1/registers/:register/:year/book.pdf", "", func(*testing.T, string, string) req {
			return req{path: fmt.Sprintf("/api/v1/registers/incoming/%d/book.pdf", f.year)}
		}, [5]int{ok, ok, deny, ok, no}},
		{"GET", "/api/v1/registers/:register/:year/bag.zip", "", func(*testing.T, string, string) req {
			return req{path: fmt.Sprintf("/api/v1/registers/incoming/%d/bag.zip", f.year)}
		}, [5]int{ok, deny, deny, ok, no}},
		{"GET", "/api/v1/records/:id/print.pdf", "normal", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/print.pdf"}
		}, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/print.pdf", "confidential", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + C + "/print.pdf"}
		}, [5]int{ok, ok, nf, ok, no}},
		{"GET", "/api/v1/records/:id/stamp.pdf", "normal", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/stamp.pdf"}
		}, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/stamp.pdf", "confidential", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + C + "/stamp.pdf"}
		}, [5]int{ok, ok, nf, ok, no}},
		// The fixture's files are PDFs without a page to draw: those who see
		// the record are told so (400), the others learn nothing (404).
		{"GET", "/api/v1/records/:id/attachments/:sha256/stamped.pdf", "normal", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/attachments/" + f.normalFile + "/stamped.pdf"}
		}, [5]int{bad, bad, bad, bad, no}},
		{"GET", "/api/v1/records/:id/attachments/:sha256/stamped.pdf", "confidential", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + C + "/attachments/" + f.secretFile + "/stamped.pdf"}
		}, [5]int{bad, bad, nf, bad, no}},
		{"PUT", "/api/v1/records/:id/attachments/:sha256/text", "normal", func(*testing.T, string, string) req {
			return jsonReq("/api/v1/records/"+N+"/attachments/"+f.normalFile+"/text", map[string]string{"text": "نص مصحح"})
		}, [5]int{ok, ok, deny, deny, no}},
		{"PUT", "/api/v1/records/:id/attachments/:sha256/text", "confidential", func(*testing.T, string, string) req {
			return jsonReq("/api/v1/records/"+C+"/attachments/"+f.secretFile+"/text", map[string]string{"text": "نص مصحح"})
		}, [5]int{ok, ok, deny, deny, no}},
		{"GET", "/api/v1/records/:id/attachments/:sha256/text", "normal", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/attachments/" + f.normalFile + "/text"}
		}, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/attachments/:sha256/text", "confidential", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + C + "/attachments/" + f.secretFile + "/text"}
		}, [5]int{ok, ok, nf, ok, no}},
		{"GET", "/api/v1/search", "", func(*testing.T, string, string) req { return req{path: "/api/v1/search?q=" + urlQuery("اجتماع")} }, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/users", "", func(*testing.T, string, string) req { return req{path: "/api/v1/users"} }, [5]int{ok, deny, deny, deny, no}},
		{"POST", "/api/v1/users", "", func(*testing.T, string, string) req {
			f.n++
			return jsonReq("/api/v1/users", map[string]string{"username": fmt.Sprintf("new%d", f.n), "password": rolePassword, "role": "reader"})
		}, [5]int{made, deny, deny, deny, no}},
		{"PATCH", "/api/v1/users/:username", "", func(*testing.T, string, string) req {
			return jsonReq("/api/v1/users/target", map[string]string{"role": "reader"})
		}, [5]int{ok, deny, deny, deny, no}},
		{"GET", "/api/v1/audit", "", func(*testing.T, string, string) req { return req{path: "/api/v1/audit"} }, [5]int{ok, deny, deny, ok, no}},
		{"GET", "/api/v1/verify", "", func(*testing.T, string, string) req { return req{path: "/api/v1/verify"} }, [5]int{ok, deny, deny, ok, no}},
		{"POST", "/api/v1/verify", "", func(*testing.T, string, string) req { return req{path: "/api/v1/verify"} }, [5]int{ok, deny, deny, ok, no}},
		{"GET", "/api/v1/followup", "", func(*testing.T, string, string) req { return req{path: "/api/v1/followup?overdue=true"} }, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/followup/report.pdf", "", func(*testing.T, string, string) req { return req{path: "/api/v1/followup/report.pdf"} }, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/followup", "normal", func(t *testing.T, _, _ string) req {
			return req{path: "/api/v1/records/" + f.decision(t, false) + "/followup"}
		}, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/followup", "confidential", func(t *testing.T, _, _ string) req {
			return req{path: "/api/v1/records/" + f.decision(t, true) + "/followup"}
		}, [5]int{ok, ok, nf, ok, no}},
		{"PUT", "/api/v1/records/:id/followup", "normal", func(t *testing.T, _, _ string) req {
			return jsonReq("/api/v1/records/"+f.decision(t, false)+"/followup", map[string]string{"status": "in_progress", "responsible": "أمين المال"})
		}, [5]int{ok, ok, deny, deny, no}},
		{"PUT", "/api/v1/records/:id/followup", "confidential", func(t *testing.T, _, _ string) req {
			return jsonReq("/api/v1/records/"+f.decision(t, true)+"/followup", map[string]string{"due": "2026-01-01"})
		}, [5]int{ok, ok, deny, deny, no}},
		{"POST", "/api/v1/records/:id/followup/notes", "normal", func(t *testing.T, _, _ string) req {
			return jsonReq("/api/v1/records/"+f.decision(t, false)+"/followup/notes", map[string]string{"text": "تم التواصل"})
		}, [5]int{made, made, deny, deny, no}},
		{"GET", "/api/v1/records/:id/thread", "normal", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + N + "/thread"}
		}, [5]int{ok, ok, ok, ok, no}},
		{"GET", "/api/v1/records/:id/thread", "confidential", func(*testing.T, string, string) req {
			return req{path: "/api/v1/records/" + C + "/thread"}
		}, [5]int{ok, ok, nf, ok, no}},
		// The scan inbox: those who register see it and use it; readers and
		// auditors are refused, whatever the item.
		{"GET", "/api/v1/inbox", "", func(*testing.T, string, string) req { return req{path: "/api/v1/inbox"} }, [5]int{ok, ok, deny, deny, no}},
		{"POST", "/api/v1/inbox", "", func(*testing.T, string, string) req { return uploadReq("/api/v1/inbox") }, [5]int{made, made, deny, deny, no}},
		{"GET", "/api/v1/inbox/:id", "", func(t *testing.T, _, _ string) req {
			return req{path: "/api/v1/inbox/" + f.inboxItem(t, false)}
		}, [5]int{ok, ok, deny, deny, no}},
		{"DELETE", "/api/v1/inbox/:id", "", func(t *testing.T, _, _ string) req {
			return req{path: "/api/v1/inbox/" + f.inboxItem(t, false)}
		}, [5]int{gone, gone, deny, deny, no}},
		{"GET", "/api/v1/inbox/:id/file", "", func(t *testing.T, _, _ string) req {
			return req{path: "/api/v1/inbox/" + f.inboxItem(t, false) + "/file"}
		}, [5]int{ok, ok, deny, deny, no}},
		{"GET", "/api/v1/inbox/:id/thumb.jpg", "", func(t *testing.T, _, _ string) req {
			return req{path: "/api/v1/inbox/" + f.inboxItem(t, false) + "/thumb.jpg"}
		}, [5]int{ok, ok, deny, deny, no}},
		{"POST", "/api/v1/inbox/:id/register", "", func(t *testing.T, _, _ string) req {
			return jsonReq("/api/v1/inbox/"+f.inboxItem(t, false)+"/register", map[string]any{"record": map[string]string{"subject": "رسالة من الوارد الممسوح"}})
		}, [5]int{made, made, deny, deny, no}},
		{"POST", "/api/v1/inbox/:id/attach", "normal", func(t *testing.T, _, _ string) req {
			return jsonReq("/api/v1/inbox/"+f.inboxItem(t, false)+"/attach", map[string]string{"record": N})
		}, [5]int{ok, ok, deny, deny, no}},
		{"POST", "/api/v1/inbox/:id/split", "two-page PDF", func(t *testing.T, _, _ string) req {
			return jsonReq("/api/v1/inbox/"+f.inboxItem(t, true)+"/split", map[string]string{"pages": "1، 2"})
		}, [5]int{made, made, deny, deny, no}},
		{"GET", "", "unknown endpoint", func(*testing.T, string, string) req { return req{path: "/api/v1/nothing"} }, [5]int{nf, nf, nf, nf, no}},
	}

	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.method+" "+tc.route] = true
		for i, role := range matrixRoles {
			name := fmt.Sprintf("%s %s %s as %s", tc.method, tc.route, tc.name, role)
			token := f.token(t, role)
			r := tc.build(t, role, token)
			c := &client{t: t, base: f.m.Server.URL(), token: token}
			resp, data := c.raw(tc.method, r.path, r.body, r.ctype, r.hdr)
			if resp.StatusCode != tc.want[i] {
				t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, data, tc.want[i])
			}
		}
	}
	for _, r := range f.m.Server.Handler().GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "CONNECT" || r.Method == "OPTIONS" || r.Method == "TRACE" {
			continue
		}
		if (strings.HasPrefix(r.Path, "/api/") || r.Path == "/healthz" || r.Path == "/readyz") && !covered[r.Method+" "+r.Path] {
			t.Errorf("%s %s is served but has no row in the access matrix", r.Method, r.Path)
		}
	}
}

// TestConfidentialRecordsDoNotLeak checks, as a reader, every way a
// confidential record could show: search hits, totals and facet counts,
// the register list, and the record's own URLs.
func TestConfidentialRecordsDoNotLeak(t *testing.T) {
	f := newMatrixFixture(t)
	for _, role := range []string{archive.RoleReader, archive.RoleSecretary} {
		c := &client{t: t, base: f.m.Server.URL(), token: f.token(t, role)}
		sees := role != archive.RoleReader
		type result struct {
			Total  int
			Hits   []struct{ ID string }
			Facets map[string]map[string]int
		}
		var res result
		if st := c.call("GET", "/api/v1/search?q="+urlQuery("زعفرانية"), nil, nil, &res); st != 200 {
			t.Fatalf("%s search: %d", role, st)
		}
		if wantTotal := map[bool]int{true: 1, false: 0}[sees]; res.Total != wantTotal || len(res.Hits) != wantTotal {
			t.Errorf("%s searching a word only the confidential record holds: total %d, %d hits; want %d", role, res.Total, len(res.Hits), wantTotal)
		}
		res = result{}
		resp, blob := c.raw("GET", "/api/v1/search", nil, "", nil)
		if err := json.Unmarshal(blob, &res); resp.StatusCode != 200 || err != nil {
			t.Fatalf("%s empty search: %d %s", role, resp.StatusCode, blob)
		}
		for _, leak := range []string{"زعفرانية", "اللجنة السرية", f.secret.ID} {
			if strings.Contains(string(blob), leak) != sees {
				t.Errorf("%s: listing everything shows %q: %v, want %v\n%s", role, leak, !sees, sees, blob)
			}
		}
		want := map[bool]int{true: 2, false: 1}[sees]
		if res.Total != want {
			t.Errorf("%s: listing everything counts %d records, want %d", role, res.Total, want)
		}
		var total int
		for _, n := range res.Facets["register"] {
			total += n
		}
		if _, ok := res.Facets["register"]; ok && total != want {
			t.Errorf("%s: register facet counts %d records, want %d: %v", role, total, want, res.Facets["register"])
		}
		var list struct {
			Total   int
			Records []struct{ ID string }
		}
		c.call("GET", "/api/v1/registers/incoming/records", nil, nil, &list)
		if list.Total != want || len(list.Records) != want {
			t.Errorf("%s: the register lists %d records (total %d), want %d", role, len(list.Records), list.Total, want)
		}
		for _, p := range []string{"", "/history", "/print.pdf", "/stamp.pdf", "/attachments/" + f.secretFile, "/attachments/" + f.secretFile + "?download=1"} {
			resp, data := c.raw("GET", "/api/v1/records/"+f.secret.ID+p, nil, "", nil)
			wantSt := map[bool]int{true: 200, false: 404}[sees]
			if resp.StatusCode != wantSt {
				t.Errorf("%s: GET %s%s: %d, want %d", role, f.secret.ID, p, resp.StatusCode, wantSt)
			}
			if sees && strings.Contains(p, "/attachments/") && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: a confidential file is sent with Cache-Control %q, want no-store", role, resp.Header.Get("Cache-Control"))
			}
			if !sees && (bytes.Contains(data, []byte("زعفرانية")) || bytes.Contains(data, []byte("%PDF"))) {
				t.Errorf("%s: the 404 of %s%s carries the record's content: %s", role, f.secret.ID, p, data)
			}
		}
		if sees {
			var evs struct {
				Events []struct{ Actor, Action, Detail string }
			}
			admin := &client{t: t, base: f.m.Server.URL(), token: f.token(t, archive.RoleAdmin)}
			admin.call("GET", "/api/v1/audit?target="+f.secret.ID+"&actor="+f.users[role], nil, nil, &evs)
			got := map[string]int{}
			for _, e := range evs.Events {
				got[e.Action]++
			}
			if got[archive.ActionExport] != 2 || got[archive.ActionDownload] != 2 {
				t.Errorf("%s printed, stamped and downloaded the confidential record; the audit trail shows %+v", role, evs.Events)
			}
		}
	}
}

// TestSecurityHeaders checks the headers every kind of response carries, and
// that a PDF attachment may still be framed by our own pages.
func TestSecurityHeaders(t *testing.T) {
	f := newMatrixFixture(t)
	c := &client{t: t, base: f.m.Server.URL(), token: f.token(t, archive.RoleAdmin)}
	for _, p := range []string{"/healthz", "/api/v1/records/" + f.normal.ID, "/api/v1/nothing", "/api/v1/records/" + f.normal.ID + "/attachments/" + f.normalFile} {
		resp, _ := c.raw("GET", p, nil, "", nil)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'self'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline code: %q", p, csp)
		}
		framed := strings.Contains(p, "/attachments/")
		if wantFA := map[bool]string{true: "frame-ancestors 'self'", false: "frame-ancestors 'none'"}[framed]; !strings.Contains(csp, wantFA) {
			t.Errorf("%s: CSP %q, want %s", p, csp, wantFA)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" ||
			h.Get("X-Powered-By") != "" || h.Get("Server") != "" || h.Get("Cache-Control") == "" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
}

// TestLoginThrottle guesses one user's password until the server makes the
// guesser wait, and checks that the user, typing the right password at that
// moment, also waits (the throttle is on the account) but not forever.
func TestLoginThrottle(t *testing.T) {
	m := startMain(t, nil)
	anon := &client{t: t, base: m.Server.URL()}
	var resp *http.Response
	for i := 0; i < 10; i++ {
		var data []byte
		b, _ := json.Marshal(map[string]string{"username": "admin", "password": fmt.Sprintf("guess %d", i)})
		resp, data = anon.raw("POST", "/api/v1/auth/login", bytes.NewReader(b), "application/json", nil)
		if resp.StatusCode == 429 {
			break
		}
		if resp.StatusCode != 401 {
			t.Fatalf("guess %d: %d %s", i, resp.StatusCode, data)
		}
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 10 wrong passwords: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	b, _ := json.Marshal(map[string]string{"username": "admin", "password": adminPassword})
	if resp, _ := anon.raw("POST", "/api/v1/auth/login", bytes.NewReader(b), "application/json", nil); resp.StatusCode != 429 {
		t.Errorf("the right password while throttled: %d, want 429 (the password is not even checked)", resp.StatusCode)
	}
	var wait int
	fmt.Sscan(resp.Header.Get("Retry-After"), &wait)
	if wait < 1 || wait > 900 {
		t.Errorf("Retry-After %d s, want between 1 s and 15 min", wait)
	}
	time.Sleep(time.Duration(wait)*time.Second + 100*time.Millisecond)
	if resp, data := anon.raw("POST", "/api/v1/auth/login", bytes.NewReader(b), "application/json", nil); resp.StatusCode != 200 {
		t.Errorf("the right password after Retry-After: %d %s", resp.StatusCode, data)
	}
	var evs struct{ Events []struct{ Action string } }
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	admin.call("GET", "/api/v1/audit?action=auth.login_failed", nil, nil, &evs)
	if len(evs.Events) < 5 {
		t.Errorf("%d failed logins in the audit trail, want every one", len(evs.Events))
	}
}

// TestProxyAddress checks which address a failed login is throttled by and
// audited with: the one a trusted reverse proxy names in X-Real-IP, and the
// connection's own when the sender is not a proxy named in
// SIJILL_TRUSTED_PROXIES, since anyone can send the header.
func TestProxyAddress(t *testing.T) {
	for _, tc := range []struct {
		name, proxies, want string
	}{
		{"no proxy configured", "", "127.0.0.1"},
		{"trusted proxy", "127.0.0.1, ::1", "203.0.113.7"},
		{"trusted range", "127.0.0.0/8", "203.0.113.7"},
		{"sender is not the proxy", "10.0.0.0/8", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startMain(t, map[string]string{"SIJILL_TRUSTED_PROXIES": tc.proxies})
			anon := &client{t: t, base: m.Server.URL()}
			b, _ := json.Marshal(map[string]string{"username": "admin", "password": "a wrong guess"})
			if resp, _ := anon.raw("POST", "/api/v1/auth/login", bytes.NewReader(b), "application/json",
				map[string]string{"X-Real-IP": "203.0.113.7"}); resp.StatusCode != 401 {
				t.Fatalf("wrong password: %d", resp.StatusCode)
			}
			var evs struct{ Events []struct{ Remote string } }
			login(t, m.Server.URL(), "admin", adminPassword).call("GET", "/api/v1/audit?action=auth.login_failed", nil, nil, &evs)
			if len(evs.Events) != 1 || evs.Events[0].Remote != tc.want {
				t.Errorf("failed logins in the audit trail: %+v, want one from %s", evs.Events, tc.want)
			}
		})
	}
}

// TestAccountSessions changes a password, lists and revokes sessions, and
// disables a user: every ended session is refused at once.
func TestAccountSessions(t *testing.T) {
	m := startMain(t, nil)
	base := m.Server.URL()
	admin := login(t, base, "admin", adminPassword)
	if st := admin.call("POST", "/api/v1/users", map[string]string{"username": "amina", "password": rolePassword, "role": "secretary"}, nil, nil); st != 201 {
		t.Fatalf("create: %d", st)
	}
	office := login(t, base, "amina", rolePassword)
	home := login(t, base, "amina", rolePassword)
	var toks struct {
		Tokens []struct {
			ID      string
			Current bool
		}
	}
	if st := office.call("GET", "/api/v1/auth/tokens", nil, nil, &toks); st != 200 || len(toks.Tokens) != 2 {
		t.Fatalf("tokens: %d %+v", st, toks)
	}
	var homeID string
	for _, tk := range toks.Tokens {
		if !tk.Current {
			homeID = tk.ID
		}
	}
	if st := office.call("DELETE", "/api/v1/auth/tokens/"+homeID, nil, nil, nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if st := home.call("GET", "/api/v1/auth/me", nil, nil, nil); st != 401 {
		t.Errorf("revoked session: %d, want 401", st)
	}
	var adminToks struct{ Tokens []struct{ ID string } }
	admin.call("GET", "/api/v1/auth/tokens", nil, nil, &adminToks)
	if st := office.call("DELETE", "/api/v1/auth/tokens/"+adminToks.Tokens[0].ID, nil, nil, nil); st != 404 {
		t.Errorf("revoking another user's token: %d, want 404", st)
	}
	if st := admin.call("GET", "/api/v1/auth/me", nil, nil, nil); st != 200 {
		t.Errorf("admin's session after amina tried to end it: %d", st)
	}

	home = login(t, base, "amina", rolePassword)
	if st := office.call("POST", "/api/v1/auth/password", map[string]string{"old": rolePassword, "new": "a brand new password"}, nil, nil); st != 200 {
		t.Fatalf("password change: %d", st)
	}
	if st := office.call("GET", "/api/v1/auth/me", nil, nil, nil); st != 200 {
		t.Errorf("the session that changed the password: %d, want 200", st)
	}
	if st := home.call("GET", "/api/v1/auth/me", nil, nil, nil); st != 401 {
		t.Errorf("another session after the password change: %d, want 401", st)
	}
	login(t, base, "amina", "a brand new password")

	if st := admin.call("PATCH", "/api/v1/users/amina", map[string]any{"disabled": true}, nil, nil); st != 200 {
		t.Fatalf("disable: %d", st)
	}
	if st := office.call("GET", "/api/v1/auth/me", nil, nil, nil); st != 401 {
		t.Errorf("a disabled user's session: %d, want 401", st)
	}
	if toks, err := m.Store.UserTokens(context.Background(), "amina"); err != nil || len(toks) != 0 {
		t.Errorf("a disabled user keeps %d tokens (%v)", len(toks), err)
	}

	if st := admin.call("DELETE", "/api/v1/auth/tokens", nil, nil, nil); st != 200 {
		t.Fatalf("log out everywhere: %d", st)
	}
	if st := admin.call("GET", "/api/v1/auth/me", nil, nil, nil); st != 401 {
		t.Errorf("after logging out everywhere: %d, want 401", st)
	}
}

// inboxItem files a new scan in the inbox (a two-page PDF or a PNG) and
// returns its ID.
func (f *matrixFixture) inboxItem(t *testing.T, twoPages bool) string {
	t.Helper()
	f.n++
	page := image.NewGray(image.Rect(0, 0, 200, 280))
	for i := range page.Pix {
		page.Pix[i] = byte(0xf0 - f.n%16)
	}
	file, name := scantest.EncodePNG(page), "مسح.png"
	if twoPages {
		var err error
		if file, err = scantest.ImagePDFPages(file, scantest.EncodePNG(page)); err != nil {
			t.Fatal(err)
		}
		name = "مسح.pdf"
	}
	ctx := context.Background()
	a, err := f.m.Store.PutBlob(ctx, bytes.NewReader(file), name, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	item, _, err := f.m.Store.AddToInbox(ctx, "admin", "", "", archive.InboxUpload, "", a)
	if err != nil {
		t.Fatal(err)
	}
	return item.ID
}
