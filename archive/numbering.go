package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"
)

// hint is the last number known to exist in a register and year. It is written
// only after a successful create, so it may lag behind the truth but never run
// ahead of it: starting from hint+1 can never skip a number.
type hint struct {
	Last int `json:"last"`
}

func hintKey(reg Register, year int) string { return fmt.Sprintf("counters/%s/%d.json", reg, year) }

// claim reserves an Idempotency-Key before a create. After is the last number
// known when the claim was made: a record made for this key has a higher number.
type claim struct {
	Register Register `json:"register"`
	Year     int      `json:"year"`
	// Owner names the Store that made the claim, so it can tell its own
	// abandoned claim (its create failed) from one still in progress elsewhere.
	Owner     string    `json:"owner,omitempty"`
	After     int       `json:"after"`
	ClaimedAt time.Time `json:"claimed_at"`
	RecordID  string    `json:"record_id,omitempty"`
}

func claimKey(reg Register, keyHash string) string {
	return fmt.Sprintf("idempotency/%s/%s.json", reg, keyHash)
}

// claimTimeout is how long a claim whose create did not finish is honoured
// before a retry takes it over (the first attempt crashed).
const claimTimeout = 30 * time.Second

func (s *Store) registerLock(reg Register, year int) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fmt.Sprintf("%s/%d", reg, year)
	m, ok := s.regLock[k]
	if !ok {
		m = &sync.Mutex{}
		s.regLock[k] = m
	}
	return m
}

// Upload is a file to register with a record, already stored with PutBlob.
type Upload = Attachment

// Create registers a new record in reg with the next official number of the
// current year, and returns it. With a non-empty idempotencyKey, a retry of the
// same request returns the record made the first time (and created=false)
// instead of taking a second number. files are attachments already stored with
// PutBlob; they become part of the entry's immutable, hash-chained content.
func (s *Store) Create(ctx context.Context, actor string, reg Register, f Fields, files []Attachment, idempotencyKey string) (rec *Record, created bool, err error) {
	if !reg.Valid() {
		return nil, false, Errorf(ENOTFOUND, "no register %q", reg)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	year := now.In(s.loc).Year()
	r := &Record{Register: reg, Year: year, Confidentiality: Normal, Status: StatusActive,
		CreatedAt: now, CreatedBy: actor, Version: 1, Attachments: []Attachment{}}
	f.apply(r)
	if errs := r.validate(); len(errs) > 0 {
		return nil, false, &ValidationError{Fields: errs}
	}
	r.Registered = &Registered{Subject: r.Subject, From: r.From, To: r.To}
	for _, a := range files {
		a.AddedAt = now
		a.AddedBy = actor
		r.Attachments = append(r.Attachments, a)
	}

	lock := s.registerLock(reg, year)
	lock.Lock()
	defer lock.Unlock()

	start, err := s.lastNumber(ctx, reg, year)
	if err != nil {
		return nil, false, err
	}
	var ck string
	if idempotencyKey != "" {
		r.IdempotencyKey = sha256Hex([]byte(idempotencyKey))
		ck = claimKey(reg, r.IdempotencyKey)
		prev, err := s.claim(ctx, ck, r.IdempotencyKey, claim{Register: reg, Year: year, Owner: s.instance, After: start, ClaimedAt: now})
		if err != nil {
			return nil, false, err
		}
		if prev != nil {
			return prev, false, nil
		}
	}

	n := start + 1
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		prevHash, err := s.hashOf(ctx, reg, year, n-1)
		if err != nil {
			return nil, false, err
		}
		r.Number = n
		r.ID = RecordID(reg, year, n)
		r.Chain = Chain{Prev: prevHash}
		r.Chain.Hash = r.Entry().Hash()
		_, err = s.createJSON(ctx, recordKey(reg, year, n), r)
		if errors.Is(err, fs.ErrExist) {
			// Another process took n: it exists, so n+1 is the next candidate,
			// unless the hint says the register has gone further still.
			n++
			if last, err := s.storedLast(ctx, reg, year); err == nil && last >= n {
				n = last + 1
			}
			continue
		}
		if err != nil {
			return nil, false, storageErr("create record", err)
		}
		break
	}
	s.setLast(reg, year, lastEntry{r.Number, r.Chain.Hash})
	if ck != "" {
		if _, err := s.putJSON(ctx, ck, claim{Register: reg, Year: year, Owner: s.instance, After: start, ClaimedAt: now, RecordID: r.ID}); err != nil {
			s.log.Warn("idempotency claim not completed; a retry will find the record by scanning", "id", r.ID, "err", err)
		}
	}
	if _, err := s.putJSON(ctx, hintKey(reg, year), hint{Last: r.Number}); err != nil {
		s.log.Warn("numbering hint not written; the next create probes forward", "id", r.ID, "err", err)
	}
	s.auditBestEffort(ctx, Event{Time: now, Actor: actor, Action: ActionCreate, Target: r.ID, After: sha256Hex(marshal(r))})
	return r, true, nil
}

func (s *Store) setLast(reg Register, year int, e lastEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[fmt.Sprintf("%s/%d", reg, year)] = e
}

// lastNumber returns a number known to exist (or 0) at or below the highest
// number of reg and year: this process's last create, the hint, or a listing.
func (s *Store) lastNumber(ctx context.Context, reg Register, year int) (int, error) {
	s.mu.Lock()
	mine := s.last[fmt.Sprintf("%s/%d", reg, year)].number
	s.mu.Unlock()
	if mine > 0 {
		// This process created mine, so it exists; if another process has
		// gone further, the create of mine+1 is refused and Create jumps ahead.
		return mine, nil
	}
	return s.storedLast(ctx, reg, year)
}

// storedLast is the last number the bucket knows of: the hint, or a listing
// when there is no hint.
func (s *Store) storedLast(ctx context.Context, reg Register, year int) (int, error) {
	mine := 0
	var h hint
	_, err := s.readJSON(ctx, hintKey(reg, year), &h)
	switch {
	case err == nil:
		return max(mine, h.Last), nil
	case errors.Is(err, fs.ErrNotExist):
		// No hint: a fresh year, or the hint was lost. Listing finds the end
		// without probing one number at a time.
		keys, err := s.recordKeys(ctx, fmt.Sprintf("records/%s/%d/", reg, year))
		if err != nil {
			return 0, err
		}
		last := mine
		for _, k := range keys {
			if n, _ := recordNumber(k); n > last {
				last = n
			}
		}
		return last, nil
	default:
		return 0, storageErr("read numbering hint", err)
	}
}

// hashOf returns the chain hash of entry n ("" for n == 0), which must exist.
func (s *Store) hashOf(ctx context.Context, reg Register, year, n int) (string, error) {
	if n == 0 {
		return "", nil
	}
	s.mu.Lock()
	e := s.last[fmt.Sprintf("%s/%d", reg, year)]
	s.mu.Unlock()
	if e.number == n {
		return e.hash, nil
	}
	rec, _, err := s.getNumber(ctx, reg, year, n)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return "", Errorf(EINTERNAL, "numbering: entry %d of %s %d is missing", n, reg, year)
		}
		return "", err
	}
	return rec.Chain.Hash, nil
}

// claim reserves an Idempotency-Key. It returns the record an earlier request
// with the same key made, or nil when this request should go on and create.
func (s *Store) claim(ctx context.Context, key, keyHash string, c claim) (*Record, error) {
	_, err := s.createJSON(ctx, key, c)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, storageErr("claim idempotency key", err)
	}
	var prev claim
	etag, err := s.readJSON(ctx, key, &prev)
	if err != nil {
		return nil, storageErr("read idempotency claim", err)
	}
	if prev.RecordID != "" {
		rec, _, err := s.Get(ctx, prev.RecordID)
		return rec, err
	}
	// The first attempt made its claim but did not record its result: it is still
	// running, or it crashed before or after creating the record. Its record, if
	// any, has a number above prev.After.
	found, err := s.scanForKey(ctx, prev.Register, prev.Year, prev.After, keyHash)
	if err != nil {
		return nil, err
	}
	if found != nil {
		prev.RecordID = found.ID
		if _, err := s.putJSON(ctx, key, prev); err != nil {
			s.log.Warn("idempotency claim not completed", "id", found.ID, "err", err)
		}
		return found, nil
	}
	// A claim of this Store is abandoned: creates of a register run one at a
	// time here (the caller holds the register's lock), so its first attempt
	// has ended without a record, as when storage failed. Otherwise wait for
	// the claim to time out: another process may still be creating.
	mine := prev.Owner == s.instance
	if !mine && c.ClaimedAt.Sub(prev.ClaimedAt) < claimTimeout {
		return nil, Errorf(ECONFLICT, "a request with this Idempotency-Key is still in progress; retry shortly")
	}
	// The first attempt died before creating anything: take the claim over.
	b := marshal(c)
	if _, err := s.bucket.Replace(ctx, key, etag, bytes.NewReader(b), int64(len(b))); err != nil {
		if errors.Is(err, ErrPrecondition) {
			return nil, Errorf(ECONFLICT, "a request with this Idempotency-Key is still in progress; retry shortly")
		}
		return nil, storageErr("take over idempotency claim", err)
	}
	return nil, nil
}

// scanForKey looks for the record carrying keyHash among the numbers above after,
// up to the first number that does not exist.
func (s *Store) scanForKey(ctx context.Context, reg Register, year, after int, keyHash string) (*Record, error) {
	for n := after + 1; ; n++ {
		rec, _, err := s.getNumber(ctx, reg, year, n)
		if ErrorCode(err) == ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if rec.IdempotencyKey == keyHash {
			return rec, nil
		}
	}
}
