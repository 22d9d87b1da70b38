package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
)

func str(s string) *string { return &s }

func newStore(t *testing.T, dir string, opt archive.Options) *archive.Store {
	t.Helper()
	b, err := folder.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if opt.TempDir == "" {
		opt.TempDir = t.TempDir()
	}
	return archive.NewStore(b, opt)
}

func create(t *testing.T, s *archive.Store, reg archive.Register, subject string) *archive.Record {
	t.Helper()
	rec, _, err := s.Create(context.Background(), "tester", reg, archive.Fields{Subject: str(subject)}, nil, "")
	if err != nil {
		t.Fatalf("create %q: %v", subject, err)
	}
	return rec
}

// numbers returns the sorted numbers of reg's records in year.
func numbers(t *testing.T, s *archive.Store, reg archive.Register, year int) []int {
	t.Helper()
	var ns []int
	for rec, err := range s.Records(context.Background(), reg, year) {
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, rec.Number)
	}
	return ns
}

func wantGapless(t *testing.T, got []int, n int) {
	t.Helper()
	sort.Ints(got)
	if len(got) != n {
		t.Fatalf("got %d numbers, want %d: %v", len(got), n, got)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("numbers not 1..%d: %v", n, got)
		}
	}
}

func TestConcurrentCreatesAreGapless(t *testing.T) {
	dir := t.TempDir()
	// Two Stores on one folder behave like two processes: they share nothing
	// but the bucket.
	stores := []*archive.Store{newStore(t, dir, archive.Options{}), newStore(t, dir, archive.Options{})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := []int{}
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, _, err := stores[i%2].Create(context.Background(), "tester", archive.Outgoing,
				archive.Fields{Subject: str(fmt.Sprintf("رسالة %d", i))}, nil, "")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, rec.Number)
			mu.Unlock()
		}()
	}
	wg.Wait()
	wantGapless(t, got, 50)
	wantGapless(t, numbers(t, stores[0], archive.Outgoing, time.Now().UTC().Year()), 50)
}

func TestNumberingPerRegisterAndYear(t *testing.T) {
	now := time.Date(2025, 12, 31, 22, 30, 0, 0, time.UTC)
	riyadh := time.FixedZone("AST", 3*3600) // UTC+3: already 2026 there
	s := newStore(t, t.TempDir(), archive.Options{Now: func() time.Time { return now }, Location: riyadh})
	a := create(t, s, archive.Incoming, "أ")
	b := create(t, s, archive.Incoming, "ب")
	c := create(t, s, archive.Outgoing, "ج")
	if a.ID != "incoming-2026-1" || b.ID != "incoming-2026-2" || c.ID != "outgoing-2026-1" {
		t.Fatalf("ids %s %s %s, want incoming-2026-1, incoming-2026-2, outgoing-2026-1", a.ID, b.ID, c.ID)
	}
	now = now.Add(24 * time.Hour * 365)
	d := create(t, s, archive.Incoming, "د")
	if d.ID != "incoming-2027-1" {
		t.Fatalf("a new year starts at 1, got %s", d.ID)
	}
}

func TestLostHintDoesNotReuseNumbers(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, archive.Options{})
	for i := range 3 {
		create(t, s, archive.Decisions, fmt.Sprint("قرار ", i))
	}
	year := time.Now().UTC().Year()
	if err := os.RemoveAll(filepath.Join(dir, "counters")); err != nil {
		t.Fatal(err)
	}
	s2 := newStore(t, dir, archive.Options{}) // a restart, with the hint gone
	if rec := create(t, s2, archive.Decisions, "قرار بعد إعادة التشغيل"); rec.Number != 4 {
		t.Fatalf("after a lost hint got number %d, want 4", rec.Number)
	}
	wantGapless(t, numbers(t, s2, archive.Decisions, year), 4)
}

func TestIdempotencyKey(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	ctx := context.Background()
	f := archive.Fields{Subject: str("طلب موعد")}
	first, created, err := s.Create(ctx, "u", archive.Incoming, f, nil, "key-1")
	if err != nil || !created {
		t.Fatal(err, created)
	}
	create(t, s, archive.Incoming, "رسالة أخرى")
	again, created, err := s.Create(ctx, "u", archive.Incoming, f, nil, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != first.ID {
		t.Fatalf("retry made %s (created=%v), want the first record %s", again.ID, created, first.ID)
	}
	other, _, err := s.Create(ctx, "u", archive.Incoming, f, nil, "key-2")
	if err != nil || other.Number != 3 {
		t.Fatalf("a new key should take number 3, got %+v %v", other, err)
	}
}

func TestUpdateIsCompareAndSwap(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	ctx := context.Background()
	rec := create(t, s, archive.Outgoing, "الموضوع الأول")
	_, etag, err := s.Get(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	upd, etag2, err := s.Update(ctx, "u", rec.ID, etag, archive.Fields{Subject: str("الموضوع المصحح")})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Subject != "الموضوع المصحح" || upd.Version != 2 || etag2 == etag {
		t.Fatalf("update: %+v etag %q -> %q", upd, etag, etag2)
	}
	if upd.Chain != rec.Chain || upd.Entry().Hash() != rec.Chain.Hash {
		t.Fatalf("an edit changed the registered entry: %+v vs %+v", upd.Chain, rec.Chain)
	}
	_, _, err = s.Update(ctx, "u", rec.ID, etag, archive.Fields{Subject: str("كتابة متأخرة")})
	if archive.ErrorCode(err) != archive.EPRECONDITION {
		t.Fatalf("stale etag: got %v, want precondition", err)
	}
	hist, err := s.History(ctx, rec.ID)
	if err != nil || len(hist) != 1 || hist[0].Subject != "الموضوع الأول" {
		t.Fatalf("history: %v %+v", err, hist)
	}
}

func TestAnnulKeepsTheRecord(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	ctx := context.Background()
	rec := create(t, s, archive.Decisions, "قرار خاطئ")
	if _, _, err := s.Annul(ctx, "u", rec.ID, "", " "); archive.ErrorCode(err) != archive.EINVALID {
		t.Fatalf("annul without a reason: %v", err)
	}
	got, _, err := s.Annul(ctx, "u", rec.ID, "", "سُجّل مرتين")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != archive.StatusAnnulled || got.AnnulReason != "سُجّل مرتين" {
		t.Fatalf("annulled: %+v", got)
	}
	if _, _, err := s.Update(ctx, "u", rec.ID, "", archive.Fields{Subject: str("x")}); archive.ErrorCode(err) != archive.ECONFLICT {
		t.Fatalf("editing an annulled record: %v", err)
	}
	if next := create(t, s, archive.Decisions, "قرار صحيح"); next.Number != 2 {
		t.Fatalf("an annulled number is not reused: got %d", next.Number)
	}
	evs, err := s.AuditEvents(ctx, archive.AuditFilter{Target: rec.ID})
	if err != nil || len(evs) != 2 || evs[0].Action != archive.ActionAnnul || evs[1].Action != archive.ActionCreate {
		t.Fatalf("audit for %s: %v %+v", rec.ID, err, evs)
	}
}

func TestHashChain(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	var prev string
	for i := range 5 {
		rec := create(t, s, archive.Minutes, fmt.Sprint("محضر ", i))
		if rec.Chain.Prev != prev || rec.Entry().Hash() != rec.Chain.Hash {
			t.Fatalf("entry %d: chain %+v, previous hash %q", rec.Number, rec.Chain, prev)
		}
		prev = rec.Chain.Hash
	}
}

func TestValidation(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	ctx := context.Background()
	_, _, err := s.Create(ctx, "u", archive.Incoming, archive.Fields{Date: str("2026-13-40"), Confidentiality: str("secret")}, nil, "")
	var ve *archive.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a validation error", err)
	}
	fields := map[string]bool{}
	for _, f := range ve.Fields {
		fields[f.Field] = true
	}
	for _, want := range []string{"subject", "date", "confidentiality"} {
		if !fields[want] {
			t.Errorf("no message for %s in %+v", want, ve.Fields)
		}
	}
	if _, _, err := s.Create(ctx, "u", "letters", archive.Fields{Subject: str("x")}, nil, ""); archive.ErrorCode(err) != archive.ENOTFOUND {
		t.Errorf("unknown register: %v", err)
	}
}

func TestBlobs(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, archive.Options{TempDir: filepath.Join(dir, ".tmp")})
	ctx := context.Background()
	pdf := []byte("%PDF-1.4\n% a letter\n")
	tests := []struct {
		name, file string
		data       []byte
		max        int64
		code       string
		ctype      string
		stored     string // the name it is kept under ("": file)
	}{
		{"pdf", "رسالة الوزارة.pdf", pdf, 1 << 20, "", "application/pdf", ""},
		{"png by bytes whatever the name", "scan.pdf", []byte("\x89PNG\r\n\x1a\n0000"), 1 << 20, "", "image/png", "scan.pdf.png"},
		{"jpeg named .jpeg", "photo.JPEG", []byte("\xff\xd8\xff\xe0JFIF"), 1 << 20, "", "image/jpeg", ""},
		{"pdf named hta", "letter.hta", pdf, 1 << 20, "", "application/pdf", "letter.hta.pdf"},
		{"script named pdf", "evil.pdf", []byte("<script>alert(1)</script>"), 1 << 20, archive.EUNSUPPORTED, "", ""},
		{"too large", "big.pdf", append(pdf, make([]byte, 100)...), 50, archive.ETOOLARGE, "", ""},
		{"empty", "empty.pdf", nil, 1 << 20, archive.EINVALID, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.PutBlob(ctx, bytes.NewReader(tt.data), tt.file, tt.max)
			if code := archive.ErrorCode(err); code != tt.code {
				t.Fatalf("code %q (%v), want %q", code, err, tt.code)
			}
			if tt.code != "" {
				return
			}
			if tt.stored == "" {
				tt.stored = tt.file
			}
			if a.ContentType != tt.ctype || a.Size != int64(len(tt.data)) || a.Name != tt.stored {
				t.Fatalf("attachment %+v", a)
			}
			rc, _, err := s.OpenBlob(ctx, a.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, tt.data) {
				t.Fatal("stored bytes differ")
			}
		})
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, ".tmp"))
	if len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
	rec := create(t, s, archive.Incoming, "رسالة مع مرفق")
	a, _ := s.PutBlob(ctx, bytes.NewReader(pdf), "../../etc/رسالة\u202e.pdf", 1<<20)
	got, err := s.Attach(ctx, "u", rec.ID, []archive.Attachment{a})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].Name != "رسالة.pdf" {
		t.Fatalf("attachments %+v", got.Attachments)
	}
}

func TestUsersAndTokens(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	ctx := context.Background()
	if _, err := s.EnsureAdmin(ctx, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "admin", "wrong password"); archive.ErrorCode(err) != archive.EUNAUTHORIZED {
		t.Fatalf("wrong password: %v", err)
	}
	u, err := s.Authenticate(ctx, "Admin ", "correct horse")
	if err != nil || u.Role != archive.RoleAdmin {
		t.Fatalf("login: %v %+v", err, u)
	}
	if strings.Contains(u.PasswordHash, "correct horse") || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("password stored as %q", u.PasswordHash)
	}
	secret, _, err := s.IssueToken(ctx, "admin", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, who, err := s.LookupToken(ctx, secret); err != nil || who.Username != "admin" {
		t.Fatalf("lookup: %v", err)
	}
	if err := s.RevokeToken(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupToken(ctx, secret); archive.ErrorCode(err) != archive.EUNAUTHORIZED {
		t.Fatalf("revoked token still works: %v", err)
	}
}

// failingBucket makes record creates fail as an unreachable storage would,
// while fail is set.
type failingBucket struct {
	archive.Bucket
	fail bool
}

func (b *failingBucket) Create(ctx context.Context, key string, r io.Reader, size int64) (archive.ObjectInfo, error) {
	if b.fail && strings.HasPrefix(key, "records/") {
		return archive.ObjectInfo{}, fmt.Errorf("create %s: %w", key, archive.ErrUnavailable)
	}
	return b.Bucket.Create(ctx, key, r, size)
}

// A create that failed on storage leaves its Idempotency-Key claimed; the
// client's retry must not wait for the claim to time out.
func TestIdempotentRetryAfterStorageFailure(t *testing.T) {
	fb, err := folder.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &failingBucket{Bucket: fb, fail: true}
	s := archive.NewStore(b, archive.Options{TempDir: t.TempDir()})
	ctx := context.Background()
	f := archive.Fields{Subject: str("رسالة أثناء العطل")}
	if _, _, err := s.Create(ctx, "u", archive.Incoming, f, nil, "retry-key"); archive.ErrorCode(err) != archive.EUNAVAILABLE {
		t.Fatalf("create on failing storage: %v, want unavailable", err)
	}
	b.fail = false
	rec, created, err := s.Create(ctx, "u", archive.Incoming, f, nil, "retry-key")
	if err != nil || !created || rec.Number != 1 {
		t.Fatalf("retry: %+v created=%v err=%v, want number 1 created", rec, created, err)
	}
	again, created, err := s.Create(ctx, "u", archive.Incoming, f, nil, "retry-key")
	if err != nil || created || again.ID != rec.ID {
		t.Fatalf("second retry: %+v created=%v err=%v, want the same record", again, created, err)
	}
}

// TestRetryAfterAClaimOfADeadProcess: a process claimed an Idempotency-Key
// and died before registering anything. A retry through another process
// goes on at once (its heartbeat says it died), instead of answering 409
// until a timeout; while the claiming process lives, the retry waits for
// its outcome and gets its record.
func TestRetryAfterAClaimOfADeadProcess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := archive.Fields{Subject: str("رسالة أُعيد إرسالها")}
	claimOf := func(key, owner string) (string, []byte) {
		sum := sha256.Sum256([]byte(key))
		body := fmt.Sprintf(`{"register":"incoming","year":%d,"owner":%q,"after":0,"claimed_at":%q}`,
			time.Now().Year(), owner, time.Now().UTC().Format(time.RFC3339Nano))
		return "idempotency/incoming/" + hex.EncodeToString(sum[:]) + ".json", []byte(body)
	}

	// The dead process: it announced itself, claimed the key, and ended
	// without a word (the next start on its data directory says so).
	dead := newStore(t, dir, archive.Options{})
	stop, err := dead.StartInstance(ctx, "serve")
	if err != nil {
		t.Fatal(err)
	}
	key, body := claimOf("crashed-key", dead.Instance())
	if _, err := dead.Bucket().Create(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	stop() // ended: the previous run of its data directory is declared gone
	other := newStore(t, dir, archive.Options{})
	began := time.Now()
	rec, created, err := other.Create(ctx, "u", archive.Incoming, f, nil, "crashed-key")
	if err != nil || !created || rec.Number != 1 {
		t.Fatalf("retry after the claiming process died: %+v %v %v, want number 1", rec, created, err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("the retry waited %s for a dead process's claim", d)
	}

	// A live process holding the claim: the retry waits for it, and gets
	// the record it makes.
	live := newStore(t, dir, archive.Options{})
	stopLive, err := live.StartInstance(ctx, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer stopLive()
	key, body = claimOf("live-key", live.Instance())
	if _, err := live.Bucket().Create(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	type result struct {
		rec     *archive.Record
		created bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		r, c, err := other.Create(ctx, "u", archive.Incoming, f, nil, "live-key")
		done <- result{r, c, err}
	}()
	// The live process goes on: its own retry of the request takes its claim
	// over (it is its own) and registers.
	mine, _, err := live.Create(ctx, "u", archive.Incoming, f, nil, "live-key")
	if err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.created || r.rec.ID != mine.ID {
		t.Fatalf("the waiting retry: %+v created=%v %v, want %s made by the live process", r.rec, r.created, r.err, mine.ID)
	}
}

// TestPasswordPolicy: short, common, repeated and keyboard-walk passwords
// are refused with the reason; a passphrase of a few words is taken.
func TestPasswordPolicy(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		pw   string
		want string // "" accepted, else the message's start
	}{
		{"password", "كلمة المرور بين"},
		{"12345678", "كلمة المرور بين"},
		{"        ", "كلمة المرور بين"},
		{"aaaaaaaaaa", "كلمة المرور سهلة"},
		{"          ", "كلمة المرور سهلة"},
		{"1234567890", "كلمة المرور سهلة"},
		{"qwertyuiop", "كلمة المرور سهلة"},
		{"Password123", "كلمة المرور سهلة"},
		{"reader2026!", "كلمة المرور سهلة"}, // the user's own name and a year
		{"correct horse battery", ""},
		{"كلمة سر طويلة جدا", ""},
	} {
		_, err := s.CreateUser(ctx, "t", "reader", tc.pw, archive.RoleReader)
		if err == nil {
			s = newStore(t, t.TempDir(), archive.Options{}) // the next case needs the name free
		}
		var ve *archive.ValidationError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.pw, err)
		case tc.want != "" && (!errors.As(err, &ve) || !strings.HasPrefix(ve.Fields[0].Message, tc.want)):
			t.Errorf("%q: %v, want a refusal starting %q", tc.pw, err, tc.want)
		}
	}
}
