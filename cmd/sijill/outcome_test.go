package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sijill/sijill/archive/s3/s3test"
)

// lateProxy stands between Sijill and MinIO. It passes every request on at
// once, but holds MinIO's answers to record writes (and, when blind is set,
// to reads of records too) for hold before giving them back: the storage
// has done the write, the client has stopped waiting. This is what a paused
// or congested storage does to a conditional PUT.
type lateProxy struct {
	base  string
	hold  time.Duration
	late  atomic.Bool // hold the answers to record writes
	blind atomic.Bool // hold the answers to record reads too
	mu    sync.Mutex
	held  int
}

var recordPath = regexp.MustCompile(`/records/[a-z]+/\d+/\d+\.json$`)

func startLateProxy(t *testing.T, target string, hold time.Duration) *lateProxy {
	t.Helper()
	p := &lateProxy{hold: hold}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		isRecord := recordPath.MatchString(r.URL.Path)
		if isRecord && ((r.Method == http.MethodPut && p.late.Load()) || (r.Method != http.MethodPut && p.blind.Load())) {
			p.mu.Lock()
			p.held++
			p.mu.Unlock()
			time.Sleep(p.hold)
		}
		return resp, err
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	p.base = l.Addr().String()
	return p
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestLostAnswerIsNotCalledNothingWritten: the storage takes a registration
// and its answer is lost. Sijill must not say "nothing was written": it
// reads the record back and answers 201 when it finds it; when it cannot
// tell, it answers 504 outcome_unknown, and a retry with the same
// Idempotency-Key returns the record the first attempt made — one entry,
// never two.
func TestLostAnswerIsNotCalledNothingWritten(t *testing.T) {
	cfg := minio.Config(s3test.BucketName())
	proxy := startLateProxy(t, cfg.Endpoint, 3*time.Second)
	cfg.Endpoint = proxy.base
	env := s3Env(cfg)
	env["SIJILL_S3_TIMEOUT"] = "1s" // the answer is lost after a second; the write is done
	m := startMain(t, env)
	c := login(t, m.Server.URL(), "admin", adminPassword)

	// The answer is lost, the record can be read back: the truth is 201.
	proxy.late.Store(true)
	var first record
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة ضاع جواب حفظها"},
		map[string]string{"Idempotency-Key": "lost-1"}, &first); st != 201 || first.Number != 1 {
		t.Fatalf("create whose answer was lost but which was written: %d %+v, want 201 with number 1", st, first)
	}
	proxy.mu.Lock()
	held := proxy.held
	proxy.mu.Unlock()
	if held == 0 {
		t.Fatal("the proxy held no answer: the test proves nothing")
	}

	// The answer is lost and the record cannot be read back either: the
	// outcome is unknown, and said to be.
	proxy.blind.Store(true)
	var e apiError
	st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة لا يُعرف مصيرها"},
		map[string]string{"Idempotency-Key": "lost-2"}, &e)
	if st != 504 || e.Code != "outcome_unknown" || !strings.Contains(e.Error, "Idempotency-Key") {
		t.Fatalf("create with the answer lost and the record unreadable: %d %+v, want 504 outcome_unknown telling to retry with the key", st, e)
	}
	// The storage answers again. The retry with the key returns the entry
	// the first attempt made; nothing is registered twice.
	proxy.late.Store(false)
	proxy.blind.Store(false)
	time.Sleep(proxy.hold) // the held answers drain
	var again record
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة لا يُعرف مصيرها"},
		map[string]string{"Idempotency-Key": "lost-2"}, &again); st != 200 && st != 201 {
		t.Fatalf("retry with the same key: %d", st)
	}
	var list struct {
		Total   int
		Records []record
	}
	c.call("GET", "/api/v1/registers/incoming/records?order=asc", nil, nil, &list)
	if list.Total != 2 || again.Number != 2 {
		t.Fatalf("after the retry the register holds %d entries (the retry got number %d), want 2: %+v", list.Total, again.Number, list.Records)
	}
}
