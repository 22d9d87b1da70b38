package workload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sijill/sijill/archive"
)

// CheckResult is what the end check found.
type CheckResult struct {
	Records  int    // records in storage, every register and year
	Indexed  uint64 // documents the search index counts for an admin
	Creates  int    // acknowledged creates checked
	Uploads  int    // acknowledged uploads checked
	Problems []string
}

// OK reports whether the archive passed every check.
func (r *CheckResult) OK() bool { return len(r.Problems) == 0 }

func (r *CheckResult) String() string {
	s := fmt.Sprintf("archive check: %d records in storage, %d in the index; %d acknowledged creates and %d uploads checked",
		r.Records, r.Indexed, r.Creates, r.Uploads)
	if r.OK() {
		return s + ": clean"
	}
	const show = 20
	s += fmt.Sprintf(": %d problems", len(r.Problems))
	for i, p := range r.Problems {
		if i == show {
			s += fmt.Sprintf("\n  … and %d more", len(r.Problems)-show)
			break
		}
		s += "\n  " + p
	}
	return s
}

// subjectMark is in every subject the clients write, so the check can tell
// their records (each subject written once) from others in the bucket.
const subjectMark = " — عميل "

// Check reads the whole archive from store (opened on the server's bucket: the
// truth) and the server's API, and reports every acknowledged create missing or
// changed, any create stored twice, any gap or repeat in the numbers of a register
// and year, any acknowledged upload not listed by its record or not reading back
// with its SHA-256 through the API, and an index count that differs from storage.
// The error is for a check that could not run, not for what it found.
func (w *Workload) Check(ctx context.Context, store *archive.Store) (*CheckResult, error) {
	res := &CheckResult{}
	problem := func(format string, args ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, args...)) }

	byID := map[string]*archive.Record{}
	seen := map[string][]string{} // subject -> ids
	for _, reg := range archive.Registers() {
		years, err := store.Years(ctx, reg)
		if err != nil {
			return nil, fmt.Errorf("workload: years of %s: %w", reg, err)
		}
		for _, year := range years {
			var nums []int
			for rec, err := range store.Records(ctx, reg, year) {
				if err != nil {
					return nil, fmt.Errorf("workload: records of %s %d: %w", reg, year, err)
				}
				nums = append(nums, rec.Number)
				byID[rec.ID] = rec
				if strings.Contains(rec.Subject, subjectMark) {
					seen[rec.Subject] = append(seen[rec.Subject], rec.ID)
				}
			}
			slices.Sort(nums)
			for i, n := range nums {
				if n != i+1 {
					problem("%s %d: numbers are not 1..%d without gaps: at position %d found %d", reg, year, len(nums), i+1, n)
					break
				}
			}
			res.Records += len(nums)
		}
	}
	if n, err := store.CountRecords(ctx); err != nil {
		return nil, fmt.Errorf("workload: count records: %w", err)
	} else if n != res.Records {
		problem("the bucket counts %d record objects but the registers list %d", n, res.Records)
	}
	for subj, ids := range seen {
		if len(ids) > 1 {
			problem("registered %d times: %q as %v", len(ids), subj, ids)
		}
	}

	creates, uploads := w.Acknowledged()
	res.Creates, res.Uploads = len(creates), len(uploads)
	for _, c := range creates {
		rec, ok := byID[c.ID]
		switch {
		case !ok:
			problem("acknowledged create %s (%q) is not in storage", c.ID, c.Subject)
		case string(rec.Register) != c.Register || rec.Year != c.Year || rec.Number != c.Number || rec.Subject != c.Subject:
			problem("acknowledged create %s changed: acknowledged %s %d/%d %q, stored %s %d/%d %q",
				c.ID, c.Register, c.Number, c.Year, c.Subject, rec.Register, rec.Number, rec.Year, rec.Subject)
		}
	}
	var todo []Upload
	for _, u := range uploads {
		rec, ok := byID[u.RecordID]
		if !ok {
			problem("upload %s: its record %s is not in storage", u.SHA256, u.RecordID)
			continue
		}
		if !slices.ContainsFunc(rec.Attachments, func(a archive.Attachment) bool { return a.SHA256 == u.SHA256 }) {
			problem("acknowledged upload %s is not listed by record %s", u.SHA256, u.RecordID)
			continue
		}
		todo = append(todo, u)
	}
	for _, p := range w.readBack(ctx, todo) {
		problem("%s", p)
	}

	// Every server's index counts what storage holds, once it says it is
	// ready. A write a server sent just before it was killed may land
	// after the restarted one listed the bucket; its reconciler finds it
	// within a settle period. Wait for that, with a ceiling.
	settle := w.opt.IndexSettle
	if settle == 0 {
		settle = 90 * time.Second
	}
	for i, s := range w.servers() {
		if err := w.waitIndexed(ctx, s); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(settle)
		for {
			total, err := w.indexTotal(ctx, s)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				res.Indexed = total
			}
			if total == uint64(res.Records) {
				break
			}
			if time.Now().After(deadline) {
				problem("the search index of server %d (%s) counts %d records, storage %d", i+1, s.Base, total, res.Records)
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return res, nil
}

// readBack downloads every upload through the API, eight at a time, and
// returns a problem for each that does not read back with its hash.
func (w *Workload) readBack(ctx context.Context, uploads []Upload) []string {
	var (
		mu       sync.Mutex
		problems []string
		wg       sync.WaitGroup
		next     = make(chan Upload)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range next {
				a := w.send(ctx, w.via(0), "GET", "/api/v1/records/"+u.RecordID+"/attachments/"+u.SHA256, nil, "", nil)
				var p string
				switch sum := sha256.Sum256(a.body); {
				case a.err != nil || a.status != http.StatusOK:
					p = fmt.Sprintf("acknowledged upload %s of %s does not read back: %s", u.SHA256, u.RecordID, a.failure())
				case hex.EncodeToString(sum[:]) != u.SHA256 || len(a.body) != u.Size:
					p = fmt.Sprintf("acknowledged upload %s of %s reads back as %d bytes with another hash", u.SHA256, u.RecordID, len(a.body))
				default:
					continue
				}
				mu.Lock()
				problems = append(problems, p)
				mu.Unlock()
			}
		}()
	}
	for _, u := range uploads {
		next <- u
	}
	close(next)
	wg.Wait()
	return problems
}

// waitIndexed waits (up to two minutes) until the server says it is ready
// (/readyz): its index rebuilt or reconciled with the bucket and following
// it, so the count compares an index in step.
func (w *Workload) waitIndexed(ctx context.Context, s Server) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		a := w.send(ctx, s, "GET", "/readyz", nil, "", nil)
		if a.err == nil && a.status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("workload: the server is still not ready after two minutes (%s %s)", a.failure(), a.body)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// indexTotal asks the search endpoint, with an empty query as an admin, how
// many records the index holds.
func (w *Workload) indexTotal(ctx context.Context, s Server) (uint64, error) {
	a := w.send(ctx, s, "GET", "/api/v1/search?size=1", nil, "", nil)
	if a.err != nil || a.status != http.StatusOK {
		return 0, fmt.Errorf("workload: search for the index count: %s %s: %w", a.failure(), a.body, errBadAnswer)
	}
	var out struct {
		Total uint64 `json:"total"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		return 0, fmt.Errorf("workload: search answer %s: %w", a.body, err)
	}
	return out.Total, nil
}

// SetServer points the workload at a restarted server (new address or token),
// keeping what the old one acknowledged.
func (w *Workload) SetServer(base, token string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.opt.Base, w.opt.Token = base, token
}
