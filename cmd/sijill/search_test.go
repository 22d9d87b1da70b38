package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

type searchResult struct {
	Total uint64 `json:"total"`
	Hits  []struct {
		ID         string              `json:"id"`
		Subject    string              `json:"subject"`
		Highlights map[string][]string `json:"highlights"`
	} `json:"hits"`
	Facets map[string]map[string]int `json:"facets"`
}

// TestSearchAPI: a record is searchable as soon as its create call returns,
// found by words typed the way people type them, and confidential records are
// neither found nor counted for a reader.
func TestSearchAPI(t *testing.T) {
	m := startMain(t, nil)
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{
		"subject": "قرار بتشكيل لجنة المسؤولية المالية", "body": "صادق أعضاء المجلس الوطني سنة ٢٠١٧ على القرار"}, nil, nil)
	admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{
		"subject": "قرار سري بشأن الانتخابات", "confidentiality": "confidential"}, nil, nil)
	admin.call("POST", "/api/v1/users", map[string]string{"username": "member", "password": "member password", "role": "reader"}, nil, nil)
	reader := login(t, m.Server.URL(), "member", "member password")

	for _, tc := range []struct {
		who   *client
		q     string
		total uint64
	}{
		{admin, "المسئولية", 1},        // another hamza seat
		{admin, "اعضاء", 1},            // without hamza
		{admin, "2017", 1},             // Western digits for Eastern
		{admin, "الانتخابات", 1},       // admin sees the confidential decision
		{reader, "الانتخابات", 0},      // a reader does not
		{reader, "قرار", 1},            // nor counts it
		{admin, "قرار -سري", 1},        // negation
		{admin, `"لجنة المسؤولية"`, 1}, // phrase
	} {
		var res searchResult
		if st := tc.who.call("GET", "/api/v1/search?q="+urlQuery(tc.q), nil, nil, &res); st != 200 {
			t.Fatalf("search %q: status %d", tc.q, st)
		}
		if res.Total != tc.total {
			t.Errorf("search %q as %s: total %d, want %d", tc.q, tc.who.token[:4], res.Total, tc.total)
		}
		if tc.who == reader && res.Facets["register"]["decisions"] > 1 {
			t.Errorf("reader's facets count the confidential record: %v", res.Facets)
		}
	}
	var e apiError
	if st := admin.call("GET", "/api/v1/search?q="+urlQuery(`"unclosed`), nil, nil, &e); st != 400 || e.Code != "invalid" {
		t.Errorf("malformed query: %d %+v, want 400 invalid", st, e)
	}
}

// TestPrintAPI: the register book and a record print come back as PDFs whose
// text layer holds the entries.
func TestPrintAPI(t *testing.T) {
	m := startMain(t, nil)
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	var rec record
	admin.call("POST", "/api/v1/registers/outgoing/records", map[string]any{"subject": "رسالة إلى وزارة الداخلية", "to": "وزارة الداخلية"}, nil, &rec)
	admin.call("POST", "/api/v1/registers/outgoing/records", map[string]any{"subject": "رسالة ثانية"}, nil, nil)
	admin.call("POST", "/api/v1/records/"+rec.ID+"/annul", map[string]string{"reason": "أرسلت خطأ"}, nil, nil)
	for _, p := range []string{
		fmt.Sprintf("/api/v1/registers/outgoing/%d/book.pdf", rec.Year),
		"/api/v1/records/" + rec.ID + "/print.pdf",
	} {
		resp, body := admin.raw("GET", p, nil, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
			t.Fatalf("GET %s: %d %s %q", p, resp.StatusCode, resp.Header.Get("Content-Type"), body[:min(len(body), 100)])
		}
		text := pdfText(t, body)
		if !strings.Contains(text, "وزارة الداخلية") {
			t.Errorf("%s: the text layer lacks the entry: %q", p, text[:min(len(text), 300)])
		}
	}
	resp, _ := admin.raw("GET", "/api/v1/registers/outgoing/abc/book.pdf", nil, "", nil)
	if resp.StatusCode != 404 {
		t.Errorf("book of year abc: %d, want 404", resp.StatusCode)
	}
}

// pdfText extracts a PDF's text with poppler's pdftotext, NFKC-normalised
// (text layers of Arabic PDFs hold presentation forms).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: run `make test` (it installs poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return norm.NFKC.String(string(out))
}
