package main

import (
	"testing"
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
