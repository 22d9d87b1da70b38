// Package workload drives a running Sijill server over its HTTP API the way a
// busy secretariat does — many clerks registering letters, attaching scans,
// searching and printing at once — and then checks the archive for what a records
// office cannot tolerate: an acknowledged entry lost or registered twice, a gap in
// a register's numbers, a file that does not read back with its hash, or a search
// index that counts differently from storage.
//
// It is shared by the load harness (cmd/sijill-load) and the fault tests of
// cmd/sijill, so both prove the same properties.
package workload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Op names one kind of operation of the mix.
type Op string

// The operations of the mix, in report order.
const (
	OpCreate Op = "create" // POST a JSON record with an Idempotency-Key
	OpUpload Op = "upload" // POST a scanned PNG or PDF to a record this client created
	OpSearch Op = "search" // GET /api/v1/search with an Arabic word
	OpPrint  Op = "print"  // GET a record's print.pdf, now and then a register book
)

// requestTimeout bounds one request, so a hung server cannot hang a client.
const requestTimeout = 2 * time.Minute

// ops lists the operations in report order.
var ops = []Op{OpCreate, OpUpload, OpSearch, OpPrint}

// Options configures a Workload.
type Options struct {
	Base  string // the server, http://host:port
	Token string // an admin's bearer token
	// More are further servers on the same bucket: client i works through
	// server i mod (1+len(More)), the first being Base.
	More    []Server
	Clients int // clients working at once; 20 when zero
	// RetryFor is how long one operation keeps retrying a 503, a 409 "still in
	// progress" or a failed connection, resending the same Idempotency-Key, as a
	// careful client does. Zero: no retries; the first failure is final.
	RetryFor time.Duration
	// Registers are the registers written to; all four when empty.
	Registers []string
	// BookEvery makes one print in BookEvery a whole register book rather than
	// a single record (books grow with the register); 20 when zero.
	BookEvery int
	// IndexSettle is how long Check waits for the index to count what
	// storage holds: a write a killed server sent may land after the
	// restarted one listed the bucket, and its reconciler finds it within a
	// settle period (20 s). 90 s when zero.
	IndexSettle time.Duration
	HTTP        *http.Client // http.DefaultClient when nil
}

// Server is one process serving the archive, with an admin's token there.
type Server struct {
	Base  string
	Token string
}

// Create is an acknowledged create: the server answered 200 or 201 with this record.
type Create struct {
	ID       string `json:"id"`
	Register string `json:"register"`
	Year     int    `json:"year"`
	Number   int    `json:"number"`
	Subject  string `json:"subject"`
}

// Upload is an acknowledged upload: the server answered 201 for this file.
type Upload struct {
	RecordID string
	SHA256   string
	Size     int
}

// Workload runs the clients and remembers what the server acknowledged.
// Its methods are safe for concurrent use.
type Workload struct {
	opt  Options
	http *http.Client

	mu       sync.Mutex
	creates  map[string]Create // by record id
	subjects map[string]string // subject -> record id, of acknowledged creates
	uploads  []Upload
	stats    map[Op]*opStats
	elapsed  time.Duration
	pages    [][]byte // generated page scans, made unique per upload
}

type opStats struct {
	ok      int
	retries int
	errors  map[string]int // final failure -> count ("503", "conn", ...)
	lat     []time.Duration
}

// New returns a Workload with the given options.
func New(opt Options) *Workload {
	if opt.Clients <= 0 {
		opt.Clients = 20
	}
	if len(opt.Registers) == 0 {
		opt.Registers = []string{"incoming", "outgoing", "decisions", "minutes"}
	}
	if opt.BookEvery <= 0 {
		opt.BookEvery = 20
	}
	w := &Workload{opt: opt, http: opt.HTTP, creates: map[string]Create{}, subjects: map[string]string{}, stats: map[Op]*opStats{}}
	if w.http == nil {
		w.http = http.DefaultClient
	}
	for _, op := range ops {
		w.stats[op] = &opStats{errors: map[string]int{}}
	}
	w.pages = Pages(2, 1)
	return w
}

// Run runs the clients until ctx is done and returns when every client has
// stopped. ctx ends the starting of operations, not the operations under way:
// their requests and retries (within RetryFor) go on to a final answer, so
// when Run returns the server has answered everything it was sent and the
// archive is quiet.
func (w *Workload) Run(ctx context.Context) {
	start := time.Now()
	var wg sync.WaitGroup
	for i := range w.opt.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.client(ctx, i)
		}()
	}
	wg.Wait()
	w.mu.Lock()
	w.elapsed += time.Since(start)
	w.mu.Unlock()
}

// words are searched for; they are in the subjects the clients write.
var words = []string{"اجتماع", "المجلس", "دعوة", "قرار", "الميزانية", "اللجنة", "مراسلة", "محضر"}

var subjects = []string{
	"دعوة لحضور اجتماع المجلس الوطني",
	"قرار بشأن الميزانية السنوية",
	"محضر اجتماع اللجنة التنفيذية",
	"مراسلة من الكتابة الجهوية",
	"طلب انخراط في الجمعية",
	"قرار تعيين أمين المال",
}

// client is one clerk: mostly registering and attaching, sometimes searching
// and printing.
func (w *Workload) client(ctx context.Context, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
	var mine []Create
	for n := 0; ctx.Err() == nil; n++ {
		switch r := rng.IntN(100); {
		case r < 40 || len(mine) == 0:
			reg := w.opt.Registers[rng.IntN(len(w.opt.Registers))]
			subj := fmt.Sprintf("%s — عميل %d رقم %d %s", subjects[rng.IntN(len(subjects))], id, n, randomTag(rng))
			if c, ok := w.create(ctx, w.via(id), reg, subj, fmt.Sprintf("load-%d-%d-%s", id, n, randomTag(rng))); ok {
				mine = append(mine, c)
			}
		case r < 65:
			rec := mine[rng.IntN(len(mine))]
			w.upload(ctx, w.via(id), rec.ID, w.scan(rng, id, n))
		case r < 92:
			w.search(ctx, w.via(id), words[rng.IntN(len(words))])
		default:
			rec := mine[rng.IntN(len(mine))]
			path := "/api/v1/records/" + rec.ID + "/print.pdf"
			if rng.IntN(w.opt.BookEvery) == 0 {
				path = fmt.Sprintf("/api/v1/registers/%s/%d/book.pdf", rec.Register, rec.Year)
			}
			w.print(ctx, w.via(id), path)
		}
	}
}

// scan returns a unique scanned page: a PNG two times in three, else a PDF.
func (w *Workload) scan(rng *rand.Rand, client, n int) scanFile {
	tag := fmt.Sprintf("client %d upload %d %s", client, n, randomTag(rng))
	if rng.IntN(3) > 0 {
		return scanFile{name: fmt.Sprintf("صفحة-%d-%d.png", client, n), ctype: "image/png",
			data: uniquePNG(w.pages[rng.IntN(len(w.pages))], tag)}
	}
	return scanFile{name: fmt.Sprintf("رسالة-%d-%d.pdf", client, n), ctype: "application/pdf",
		data: uniquePDF(tag, 20<<10+rng.IntN(60<<10), rng)}
}

func randomTag(rng *rand.Rand) string { return fmt.Sprintf("%08x", rng.Uint32()) }

// attempt is one HTTP exchange's outcome.
type attempt struct {
	status int
	body   []byte
	err    error
}

// retryable says whether a careful client would send the same request again.
func (a attempt) retryable() bool {
	return a.err != nil || a.status == http.StatusServiceUnavailable || a.status == http.StatusConflict ||
		a.status == http.StatusTooManyRequests || a.status == http.StatusBadGateway || a.status == http.StatusGatewayTimeout
}

func (a attempt) failure() string {
	if a.err != nil {
		return "connection"
	}
	return fmt.Sprint(a.status)
}

// do runs one operation, retrying as Options.RetryFor allows, and records
// its latency (first try to final answer) or its failure.
func (w *Workload) do(ctx context.Context, op Op, ok func(int) bool, send func() attempt) (attempt, bool) {
	start := time.Now()
	retries := 0
	var a attempt
	for {
		a = send()
		if a.err == nil && ok(a.status) {
			break
		}
		if !a.retryable() || time.Since(start) >= w.opt.RetryFor {
			w.mu.Lock()
			st := w.stats[op]
			st.errors[a.failure()]++
			st.retries += retries
			w.mu.Unlock()
			return a, false
		}
		retries++
		time.Sleep(time.Duration(min(retries, 10)) * 100 * time.Millisecond)
	}
	w.mu.Lock()
	st := w.stats[op]
	st.ok++
	st.retries += retries
	st.lat = append(st.lat, time.Since(start))
	w.mu.Unlock()
	return a, true
}

// servers returns every server, the first being Base.
func (w *Workload) servers() []Server {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Server{{w.opt.Base, w.opt.Token}}, w.opt.More...)
}

// via is the server client c works through.
func (w *Workload) via(c int) Server {
	all := w.servers()
	return all[c%len(all)]
}

func (w *Workload) send(ctx context.Context, s Server, method, path string, body []byte, ctype string, hdr map[string]string) attempt {
	base, token := s.Base, s.Token
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return attempt{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		return attempt{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return attempt{err: err}
	}
	return attempt{status: resp.StatusCode, body: data}
}

func (w *Workload) create(ctx context.Context, s Server, reg, subject, key string) (Create, bool) {
	body, _ := json.Marshal(map[string]string{"subject": subject, "from": "الكتابة الجهوية", "body": "نص الرسالة: " + subject})
	a, ok := w.do(ctx, OpCreate, func(st int) bool { return st == 201 || st == 200 }, func() attempt {
		return w.send(ctx, s, "POST", "/api/v1/registers/"+reg+"/records", body, "application/json", map[string]string{"Idempotency-Key": key})
	})
	if !ok {
		return Create{}, false
	}
	var c Create
	if err := json.Unmarshal(a.body, &c); err != nil || c.ID == "" {
		w.fail(OpCreate, "bad answer")
		return Create{}, false
	}
	w.mu.Lock()
	w.creates[c.ID] = c
	w.subjects[c.Subject] = c.ID
	w.mu.Unlock()
	return c, true
}

func (w *Workload) fail(op Op, why string) {
	w.mu.Lock()
	w.stats[op].errors[why]++
	w.stats[op].ok--
	w.mu.Unlock()
}

func (w *Workload) upload(ctx context.Context, s Server, recordID string, f scanFile) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, f.name))
	h.Set("Content-Type", f.ctype)
	p, _ := mw.CreatePart(h)
	p.Write(f.data)
	mw.Close()
	body := buf.Bytes()
	sum := sha256.Sum256(f.data)
	want := hex.EncodeToString(sum[:])
	a, ok := w.do(ctx, OpUpload, func(st int) bool { return st == 201 }, func() attempt {
		return w.send(ctx, s, "POST", "/api/v1/records/"+recordID+"/attachments", body, mw.FormDataContentType(), nil)
	})
	if !ok {
		return
	}
	var out struct {
		Attachments []struct {
			SHA256 string `json:"sha256"`
		} `json:"attachments"`
	}
	if json.Unmarshal(a.body, &out) != nil || len(out.Attachments) != 1 || out.Attachments[0].SHA256 != want {
		w.fail(OpUpload, "wrong hash in answer")
		return
	}
	w.mu.Lock()
	w.uploads = append(w.uploads, Upload{RecordID: recordID, SHA256: want, Size: len(f.data)})
	w.mu.Unlock()
}

func (w *Workload) search(ctx context.Context, s Server, word string) {
	w.do(ctx, OpSearch, func(st int) bool { return st == 200 }, func() attempt {
		return w.send(ctx, s, "GET", "/api/v1/search?q="+urlEscape(word), nil, "", nil)
	})
}

func (w *Workload) print(ctx context.Context, s Server, path string) {
	a, ok := w.do(ctx, OpPrint, func(st int) bool { return st == 200 }, func() attempt {
		return w.send(ctx, s, "GET", path, nil, "", nil)
	})
	if ok && !bytes.HasPrefix(a.body, []byte("%PDF-")) {
		w.fail(OpPrint, "not a PDF")
	}
}

// Acknowledged returns the creates and uploads the server acknowledged so far.
func (w *Workload) Acknowledged() ([]Create, []Upload) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cs := make([]Create, 0, len(w.creates))
	for _, c := range w.creates {
		cs = append(cs, c)
	}
	return cs, slices.Clone(w.uploads)
}

// OpReport is the figures of one operation.
type OpReport struct {
	Op       Op
	OK       int
	Retries  int
	Errors   map[string]int
	PerSec   float64
	P50, P99 time.Duration
}

// ErrorCount is the number of operations that failed for good.
func (r OpReport) ErrorCount() int {
	n := 0
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Report returns the figures of every operation over the time Run ran.
func (w *Workload) Report() []OpReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []OpReport
	for _, op := range ops {
		st := w.stats[op]
		r := OpReport{Op: op, OK: st.ok, Retries: st.retries, Errors: map[string]int{}}
		for k, v := range st.errors {
			r.Errors[k] = v
		}
		if w.elapsed > 0 {
			r.PerSec = float64(st.ok) / w.elapsed.Seconds()
		}
		lat := slices.Clone(st.lat)
		slices.Sort(lat)
		r.P50, r.P99 = quantile(lat, 0.50), quantile(lat, 0.99)
		out = append(out, r)
	}
	return out
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// FormatReport renders the figures as a table.
func FormatReport(rs []OpReport, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %8s %8s %10s %10s %8s  %s\n", "op", "ok", "ops/s", "p50", "p99", "retries", "errors")
	total := 0
	for _, r := range rs {
		errs := "0"
		if len(r.Errors) > 0 {
			keys := make([]string, 0, len(r.Errors))
			for k := range r.Errors {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s×%d", k, r.Errors[k]))
			}
			errs = strings.Join(parts, " ")
		}
		total += r.OK
		fmt.Fprintf(&b, "%-8s %8d %8.1f %10s %10s %8d  %s\n", r.Op, r.OK, r.PerSec,
			r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond), r.Retries, errs)
	}
	if elapsed > 0 {
		fmt.Fprintf(&b, "%-8s %8d %8.1f   over %s\n", "all", total, float64(total)/elapsed.Seconds(), elapsed.Round(time.Millisecond))
	}
	return b.String()
}

// Elapsed is how long Run ran, summed over calls.
func (w *Workload) Elapsed() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.elapsed
}

// errBadAnswer marks an answer the check could not read.
var errBadAnswer = errors.New("workload: unexpected answer")

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Login signs in over the API and returns the bearer token.
func Login(ctx context.Context, base, username, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("workload: login: %w", err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
		return "", fmt.Errorf("workload: login as %s: status %d: %w", username, resp.StatusCode, errBadAnswer)
	}
	return out.Token, nil
}
