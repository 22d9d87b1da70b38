package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/index"
)

// TestKnownMessages: every Arabic message the pages may show has an English
// catalogue entry, and the Arabic catalogue's entry, given the parts that
// vary, says exactly what the archive says (so a reworded message in archive
// or index shows up here, not as Arabic on an English page).
func TestKnownMessages(t *testing.T) {
	cats, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	verb := regexp.MustCompile(`%[dq]`)
	seen := map[string]bool{}
	for _, m := range knownMessages {
		if seen[m.key] {
			t.Errorf("%s is listed twice", m.key)
		}
		seen[m.key] = true
		args := []any{}
		sample := verb.ReplaceAllStringFunc(m.format, func(v string) string {
			if v == "%d" {
				args = append(args, "300")
				return "300"
			}
			args = append(args, `"in-2026-x"`)
			return `"in-2026-x"`
		})
		if got := translateMessage(cats["ar"], sample); got != sample {
			t.Errorf("Arabic page: %q became %q", sample, got)
		}
		if got := cats["ar"].text(m.key, args...); got != sample {
			t.Errorf("%s: the Arabic catalogue says %q, the source %q", m.key, got, sample)
		}
		en := translateMessage(cats["en"], sample)
		if en == sample || strings.ContainsAny(en, "ابتثجحخدذرزسشصضطظعغفقكلمنهوي") && !strings.Contains(m.key, "query") {
			t.Errorf("%s: English page shows %q", m.key, en)
		}
		for _, a := range args {
			if !strings.Contains(en, a.(string)) {
				t.Errorf("%s: English %q lost %v", m.key, en, a)
			}
		}
	}
	for _, msg := range []string{"", "a message nobody listed", "رسالة لا يعرفها أحد"} {
		if got := translateMessage(cats["en"], msg); got != msg {
			t.Errorf("unknown message %q became %q", msg, got)
		}
	}
}

// TestRealMessagesTranslate: the messages archive and index really produce
// come out in English, not Arabic.
func TestRealMessagesTranslate(t *testing.T) {
	cats, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := folder.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	store := archive.NewStore(b, archive.Options{TempDir: filepath.Join(dir, "bucket", ".tmp")})
	ctx := context.Background()
	long := strings.Repeat("ن", 600)
	bad := "2026/13/45"
	ref := "not-an-id"
	conf := "secret"
	var msgs []string
	collect := func(err error) {
		var ve *archive.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("want a ValidationError, got %v", err)
		}
		for _, f := range ve.Fields {
			msgs = append(msgs, f.Message)
		}
	}
	_, _, err = store.Create(ctx, "t", archive.Outgoing, archive.Fields{Subject: new(string), To: &long, Date: &bad, InReplyTo: &ref, Confidentiality: &conf}, nil, "")
	collect(err)
	_, err = store.CreateUser(ctx, "t", "A", "short", "reader")
	collect(err)
	_, err = store.CreateUser(ctx, "t", "ab", "short", "king")
	collect(err)
	_, err = store.CreateUser(ctx, "t", "ab", "short", "reader")
	collect(err)
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, q := range []string{`"غير مغلق`, "(لجنة", "لجنة)", "()", "OR لجنة", "-لجنة", strings.Repeat("ب", 501)} {
		_, err := ix.Search(ctx, index.Query{Text: q})
		if archive.ErrorCode(err) != archive.EINVALID {
			t.Fatalf("query %q: %v, want EINVALID", q, err)
		}
		msgs = append(msgs, archive.ErrorMessage(err))
	}
	if len(msgs) < 12 {
		t.Fatalf("only %d messages: %q", len(msgs), msgs)
	}
	for _, m := range msgs {
		en := translateMessage(cats["en"], m)
		if en == m {
			t.Errorf("no English for %q", m)
		}
	}
}

// TestVerifyPageConflict: a run asked for while one is going is a 409 page
// and starts nothing; otherwise the run's result is on the page.
func TestVerifyPageConflict(t *testing.T) {
	dir := t.TempDir()
	b, err := folder.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	store := archive.NewStore(b, archive.Options{TempDir: filepath.Join(dir, "bucket", ".tmp")})
	ctx := context.Background()
	if _, err := store.CreateUser(ctx, "t", "aud", "a long enough password", archive.RoleAuditor); err != nil {
		t.Fatal(err)
	}
	sub := "رسالة"
	rec, _, err := store.Create(ctx, "t", archive.Incoming, archive.Fields{Subject: &sub}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := store.IssueToken(ctx, "aud", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{}, store, slog.New(slog.DiscardHandler))
	do := func(method, target string) (int, string) {
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader(url.Values{"csrf": {sessionCSRF(tok)}}.Encode())
		}
		req := httptest.NewRequest(method, "http://sijill.test"+target, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
		resp, err := srv.Handler().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	// Another process sharing the bucket is verifying: it holds the lease.
	other := archive.NewStore(srv.store.Bucket(), archive.Options{})
	stopOther, err := other.StartInstance(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer stopOther()
	lease, err := other.AcquireLease(context.Background(), archive.VerifyLease, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if st, body := do("POST", "/verify"); st != 409 || !strings.Contains(body, "error-page") {
		t.Errorf("a run while one is going: %d, want the 409 page", st)
	}
	if st, body := do("GET", "/verify"); st != 200 || !strings.Contains(body, "يجري تحقق الآن") || !strings.Contains(body, "disabled") {
		t.Errorf("the page during a run: %d, does not say so or offers the button", st)
	}
	lease.Release(context.Background())
	if st, _ := do("POST", "/verify"); st != 303 {
		t.Fatalf("run: %d", st)
	}
	st, body := do("GET", "/verify?ran=1")
	if st != 200 || !strings.Contains(body, "سليم") {
		t.Errorf("after the run: %d, not ok", st)
	}
	if !regexp.MustCompile(`<code class="hash" dir="ltr">[0-9a-f]{64}</code>`).MatchString(body) {
		t.Errorf("no book digest on the page")
	}
	evs, _ := store.AuditEvents(ctx, archive.AuditFilter{Action: archive.ActionVerify})
	if len(evs) != 1 || evs[0].Actor != "aud" {
		t.Errorf("the run is not in the audit trail as the auditor's: %+v", evs)
	}

	// An entry altered behind the archive's back is a problem on the page,
	// named in the page's language, with the record it concerns.
	key := filepath.Join(dir, "bucket", "records", "incoming", strconv.Itoa(rec.Year), "000001.json")
	raw, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, bytes.Replace(raw, []byte("رسالة"), []byte("رسالة مزورة"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := do("POST", "/verify"); st != 303 {
		t.Fatalf("second run: %d", st)
	}
	st, body = do("GET", "/verify")
	if st != 200 || !strings.Contains(body, "وُجدت مشكلات") || !strings.Contains(body, "نسخة بلا حدث تدقيق") || !strings.Contains(body, `href="/records/`+rec.ID+`"`) {
		t.Errorf("after tampering: %d, the page does not show the altered entry", st)
	}
}

// TestAdminLabels: every audit action the filter offers, every kind of
// verification problem and every verification state has its label in every
// language (the templates build these keys, so TestCatalogues cannot see them).
func TestAdminLabels(t *testing.T) {
	cats, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range auditActions {
		keys = append(keys, "audit.action."+a)
	}
	for _, k := range []string{archive.ProblemBlobMissing, archive.ProblemBlobAltered, archive.ProblemUnreadable,
		archive.ProblemEntryAltered, archive.ProblemEntryMissing, archive.ProblemChainBroken, archive.ProblemMisplaced,
		archive.ProblemHistoryAltered, archive.ProblemUnaudited} {
		keys = append(keys, "verify.kind."+k)
	}
	for _, s := range []string{"ok", "problems", "failed", "not run yet"} {
		keys = append(keys, verifyData{State: s}.StateKey())
	}
	for _, r := range roles {
		keys = append(keys, "role."+r)
	}
	for _, d := range []string{"role", "password", "disabled", "enabled"} {
		keys = append(keys, "users.done."+d)
	}
	for _, lang := range languages {
		for _, k := range keys {
			if _, ok := cats[lang].msgs[k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}
