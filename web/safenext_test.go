package web

import "testing"

// TestSafeNext: only a plain local path is followed after a login or a
// change of language; whatever a browser could read as another site goes
// home.
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/records/incoming-2026-1":                  "/records/incoming-2026-1",
		"/search?q=%D9%84%D8%AC%D9%86%D8%A9&page=2": "/search?q=%D9%84%D8%AC%D9%86%D8%A9&page=2",
		"":                      "/",
		"//evil.example":        "/",
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"/\r/evil.example":      "/",
		"/\\evil.example":       "/",
		"\\\\evil.example":      "/",
		"/%5C/evil.example":     "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"evil.example":          "/",
		"/ /evil.example":       "/",
		"/\u0085/evil.example":  "/",
		"/%09/evil.example":     "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
