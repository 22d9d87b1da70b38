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
	// Owner names the Store that made the claim (its process's heartbeat,
	// see StartInstance), so a retry can tell a claim still being worked on
	// from one whose process died.
	Owner     string    `json:"owner,omitempty"`
	After     int       `json:"after"`
	ClaimedAt time.Time `json:"claimed_at"`
	RecordID  string    `json:"record_id,omitempty"`
	// Abandoned is set by the owner when its create failed for certain
	// (the storage refused it): a retry goes on at once.
	Abandoned bool `json:"abandoned,omitempty"`
}

func claimKey(reg Register, keyHash string) string {
	return fmt.Sprintf("idempotency/%s/%s.json", reg, keyHash)
}

// claimWait bounds how long a retry waits for a claim whose process is alive
// to come to an end (a record, or abandoned); creates take well under a
// second. claimGrace is how long a claim of a process without a heartbeat
// (an older Sijill) is honoured.
const (
	claimWait  = 10 * time.Second
	claimGrace = 30 * time.Second
)

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
//
// A storage that took the record but never answered makes Create fail with
// EUNKNOWN after reading it back in vain for a while: a retry with the same
// idempotencyKey then returns the record if it was made, and makes it if not.
func (s *Store) Create(ctx context.Context, actor string, reg Register, f Fields, files []Attachment, idempotencyKey string) (*Record, bool, error) {
	rec, etag, created, err := s.create(ctx, actor, reg, f, files, idempotencyKey)
	if err != nil {
		return nil, false, err
	}
	s.written(ctx, rec, etag)
	return rec, created, nil
}

// CheckFields says what Create would refuse in f for a new entry of reg,
// without storing anything: a form with files is checked before its files are
// read, so a refused form stores no file and its files wait in the page.
func CheckFields(reg Register, f Fields) error {
	if !reg.Valid() {
		return Errorf(ENOTFOUND, "no register %q", reg)
	}
	r := &Record{Register: reg, Confidentiality: Normal, Status: StatusActive, Version: 1}
	f.apply(r)
	if errs := r.validate(); len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

func (s *Store) create(ctx context.Context, actor string, reg Register, f Fields, files []Attachment, idempotencyKey string) (rec *Record, etag string, created bool, err error) {
	if !reg.Valid() {
		return nil, "", false, Errorf(ENOTFOUND, "no register %q", reg)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	year := now.In(s.loc).Year()
	r := &Record{Register: reg, Year: year, Confidentiality: Normal, Status: StatusActive,
		CreatedAt: now, CreatedBy: actor, Version: 1, Attachments: []Attachment{}}
	f.apply(r)
	if errs := r.validate(); len(errs) > 0 {
		return nil, "", false, &ValidationError{Fields: errs}
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
		return nil, "", false, err
	}
	var ck string
	if idempotencyKey != "" {
		r.IdempotencyKey = sha256Hex([]byte(idempotencyKey))
		ck = claimKey(reg, r.IdempotencyKey)
		prev, prevTag, err := s.claim(ctx, ck, r.IdempotencyKey, claim{Register: reg, Year: year, Owner: s.instance, After: start, ClaimedAt: now})
		if err != nil {
			return nil, "", false, err
		}
		if prev != nil {
			return prev, prevTag, false, nil
		}
	}
	// abandon tells a retry of this key, at once, that this attempt made nothing.
	abandon := func() {
		if ck != "" {
			c := claim{Register: reg, Year: year, Owner: s.instance, After: start, ClaimedAt: now, Abandoned: true}
			if _, err := s.putJSON(context.WithoutCancel(ctx), ck, c); err != nil {
				s.log.Warn("idempotency claim not released; a retry waits for it", "key", ck, "err", err)
			}
		}
	}

	n := start + 1
	for {
		if err := ctx.Err(); err != nil {
			abandon()
			return nil, "", false, err
		}
		prevHash, err := s.hashOf(ctx, reg, year, n-1)
		if err != nil {
			abandon()
			return nil, "", false, err
		}
		r.Number = n
		r.ID = RecordID(reg, year, n)
		r.Chain = newChain(prevHash)
		r.Chain.Hash = r.Entry().Hash()
		b := marshal(r)
		intent, err := s.intend(ctx, Event{Time: now, Actor: actor, Action: ActionCreate, Target: r.ID, After: sha256Hex(b)})
		if err != nil {
			abandon()
			return nil, "", false, err
		}
		info, err := s.createObject(ctx, recordKey(reg, year, n), b)
		if errors.Is(err, fs.ErrExist) {
			// Another process took n: it exists, so n+1 is the next candidate,
			// unless the hint says the register has gone further still. Under
			// an idempotency key, n may be this request's own record, made by
			// an attempt whose answer was lost.
			s.abort(ctx, intent, "the number was taken by another registration")
			if ck != "" {
				if mine, tag, err := s.getNumber(ctx, reg, year, n); err == nil && mine.IdempotencyKey == r.IdempotencyKey {
					s.completeClaim(ctx, ck, claim{Register: reg, Year: year, Owner: s.instance, After: start, ClaimedAt: now, RecordID: mine.ID})
					return mine, tag, false, nil
				}
			}
			n++
			if last, err := s.storedLast(ctx, reg, year); err == nil && last >= n {
				n = last + 1
			}
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrOutcomeUnknown) {
				s.abort(ctx, intent, "the storage refused the record: "+err.Error())
				abandon()
			}
			return nil, "", false, storageErr("create record", err)
		}
		etag = info.ETag
		break
	}
	s.setLast(reg, year, lastEntry{r.Number, r.Chain.Hash})
	if ck != "" {
		s.completeClaim(ctx, ck, claim{Register: reg, Year: year, Owner: s.instance, After: start, ClaimedAt: now, RecordID: r.ID})
	}
	if _, err := s.putJSON(ctx, hintKey(reg, year), hint{Last: r.Number}); err != nil {
		s.log.Warn("numbering hint not written; the next create probes forward", "id", r.ID, "err", err)
	}
	return r, etag, true, nil
}

// completeClaim records the record a claim made.
func (s *Store) completeClaim(ctx context.Context, key string, c claim) {
	if _, err := s.putJSON(ctx, key, c); err != nil {
		s.log.Warn("idempotency claim not completed; a retry will find the record by scanning", "id", c.RecordID, "err", err)
	}
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
// with the same key made (with its ETag), or nil when this request should go
// on and create.
//
// An earlier attempt that has not recorded its result is still running, or
// failed, or died. Its record, if any, has a number above the claim's After
// and is looked for there. If none is found: an attempt that failed for
// certain said so (Abandoned), one of this Store has ended (creates of a
// register run one at a time here), and one whose process is dead (its
// heartbeat stopped) never will make it; the claim is taken over at once in
// all three cases. An attempt of a live process is waited for, up to
// claimWait, and only then is the retry told to come back (ECONFLICT).
func (s *Store) claim(ctx context.Context, key, keyHash string, c claim) (*Record, string, error) {
	_, err := s.createJSON(ctx, key, c)
	if err == nil {
		return nil, "", nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, "", storageErr("claim idempotency key", notWritten(err))
	}
	deadline := time.Now().Add(claimWait)
	for {
		var prev claim
		etag, err := s.readJSON(ctx, key, &prev)
		if err != nil {
			return nil, "", storageErr("read idempotency claim", err)
		}
		if prev.RecordID != "" {
			return s.Get(ctx, prev.RecordID)
		}
		found, tag, err := s.scanForKey(ctx, prev.Register, prev.Year, prev.After, keyHash)
		if err != nil {
			return nil, "", err
		}
		if found != nil {
			prev.RecordID = found.ID
			s.completeClaim(ctx, key, prev)
			return found, tag, nil
		}
		over := prev.Abandoned || prev.Owner == s.instance
		if !over {
			alive, err := s.alive(ctx, prev.Owner, prev.ClaimedAt, claimGrace)
			if err != nil {
				return nil, "", err
			}
			over = !alive
		}
		if over {
			b := marshal(c)
			_, err := s.bucket.Replace(ctx, key, etag, bytes.NewReader(b), int64(len(b)))
			if err == nil {
				return nil, "", nil
			}
			if !errors.Is(err, ErrPrecondition) {
				return nil, "", storageErr("take over idempotency claim", notWritten(err))
			}
			// Another retry took it over first: look again.
		} else if time.Now().After(deadline) {
			return nil, "", Errorf(ECONFLICT, "a request with this Idempotency-Key is still in progress; retry shortly")
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// scanForKey looks for the record carrying keyHash among the numbers above after,
// up to the first number that does not exist.
func (s *Store) scanForKey(ctx context.Context, reg Register, year, after int, keyHash string) (*Record, string, error) {
	for n := after + 1; ; n++ {
		rec, etag, err := s.getNumber(ctx, reg, year, n)
		if ErrorCode(err) == ENOTFOUND {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		if rec.IdempotencyKey == keyHash {
			return rec, etag, nil
		}
	}
}
