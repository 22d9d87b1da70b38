package archive

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"time"
)

// ActionImport is the audit action of one import run (each imported record is
// audited as a create besides).
const ActionImport = "import.run"

// ImportResult says what CreateAt did with one historical entry.
type ImportResult int

// Outcomes of CreateAt.
const (
	// Imported: the entry did not exist and was created.
	Imported ImportResult = iota
	// AlreadyImported: the same entry with the same content exists (an earlier,
	// interrupted run made it); nothing was written.
	AlreadyImported
)

// ImportRow is one historical entry: the register, year and number it had on
// paper, its fields and files (already stored with PutBlob), and Key, which
// identifies the source row's content (the importer hashes it), kept in the
// record so a re-run recognises its own work.
type ImportRow struct {
	Register Register
	Year     int
	Number   int
	Fields   Fields
	Files    []Attachment
	Key      string
}

// ImportOutcome is what became of one row: its record (the one stored, when
// the number was taken) and result, or why it was refused (Err: ECONFLICT for
// a number taken by other content, a ValidationError for a wrong field, or a
// storage failure).
type ImportOutcome struct {
	Record *Record
	Result ImportResult
	Err    error
}

// CreateAt registers a historical entry at the register, year and number it
// already had on paper (see ImportRows).
func (s *Store) CreateAt(ctx context.Context, actor string, reg Register, year, number int, f Fields, files []Attachment, importKey string) (*Record, ImportResult, error) {
	var out ImportOutcome
	err := s.ImportRows(ctx, actor, []ImportRow{{reg, year, number, f, files, importKey}}, 1,
		func(_ int, o ImportOutcome) { out = o })
	if err != nil {
		return nil, 0, err
	}
	return out.Record, out.Result, out.Err
}

// ImportRows registers historical entries at the numbers they had on paper,
// workers at a time, and calls done once for each row (from any goroutine,
// one at a time) with what became of it. An existing entry is never
// overwritten: a number taken by a record of the same Key is AlreadyImported,
// by anything else ECONFLICT. The error is for a failure that stops the
// whole import (storage unreachable, ctx ended); rows not reported then were
// not written.
//
// Chain links: an entry's Prev is the chain hash of number-1 if that entry
// exists or is imported with it, else "" (a gap in the historical numbering).
// A complete historical year chains exactly as if it had been registered in
// Sijill; a year with gaps shows them in sijill verify, which is the truth
// about the paper register.
//
// The entries of a register's year are planned in number order, each with
// its predecessor's hash, and then written all at once: an import of
// thousands of rows waits for the storage's round trips side by side, not one
// after the other. An import killed half way leaves some entries written and
// others not, and the next run writes the missing ones exactly as planned
// before: what the chain covers of an imported entry (registration time,
// salt) derives from its row (its date; a keyed hash of its Key), so the
// entries written first link to the ones written by the rerun.
func (s *Store) ImportRows(ctx context.Context, actor string, rows []ImportRow, workers int, done func(i int, o ImportOutcome)) error {
	var mu sync.Mutex
	report := func(i int, o ImportOutcome) {
		mu.Lock()
		defer mu.Unlock()
		done(i, o)
	}
	type group struct {
		reg  Register
		year int
	}
	groups := map[group][]int{}
	for i, r := range rows {
		if !r.Register.Valid() {
			report(i, ImportOutcome{Err: Errorf(EINVALID, "no register %q", r.Register)})
			continue
		}
		if r.Year < 1 || r.Year > 9999 || r.Number < 1 || r.Number > 99999999 {
			report(i, ImportOutcome{Err: Errorf(EINVALID, "year %d or number %d out of range", r.Year, r.Number)})
			continue
		}
		g := group{r.Register, r.Year}
		groups[g] = append(groups[g], i)
	}
	secret, err := s.chainSecret(ctx)
	if err != nil {
		return err
	}
	type write struct {
		i   int
		rec *Record
	}
	var writes []write
	for g, idx := range groups {
		sort.SliceStable(idx, func(a, b int) bool { return rows[idx[a]].Number < rows[idx[b]].Number })
		existing, err := s.existingFor(ctx, g.reg, g.year, rows, idx)
		if err != nil {
			return err
		}
		// Plan in number order: each entry links to its predecessor, stored
		// or planned.
		planned := map[int]string{} // number -> chain hash
		for _, i := range idx {
			r := rows[i]
			if old, ok := existing[r.Number]; ok {
				report(i, s.clash(old, importKeyHash(r.Key)))
				planned[r.Number] = old.Chain.Hash
				continue
			}
			if _, dup := planned[r.Number]; dup {
				report(i, ImportOutcome{Err: Errorf(ECONFLICT, "%s appears twice in the import", RecordID(r.Register, r.Year, r.Number))})
				continue
			}
			prev := planned[r.Number-1]
			if p, ok := existing[r.Number-1]; ok && prev == "" {
				prev = p.Chain.Hash
			}
			rec, err := s.planImport(actor, r, prev, secret)
			if err != nil {
				report(i, ImportOutcome{Err: err})
				continue
			}
			planned[r.Number] = rec.Chain.Hash
			writes = append(writes, write{i, rec})
		}
	}

	// Write, workers at a time.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan write)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for w := range work {
				o, err := s.writeImported(ctx, actor, w.rec)
				if err != nil {
					cancel(err)
					continue
				}
				report(w.i, o)
			}
		})
	}
	for _, w := range writes {
		select {
		case work <- w:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	s.raiseHints(ctx, rows)
	return nil
}

// existingFor reads the stored records of reg and year that the rows idx
// land on or follow.
func (s *Store) existingFor(ctx context.Context, reg Register, year int, rows []ImportRow, idx []int) (map[int]*Record, error) {
	keys, err := s.recordKeys(ctx, fmt.Sprintf("records/%s/%d/", reg, year))
	if err != nil {
		return nil, err
	}
	stored := map[int]bool{}
	for _, k := range keys {
		if n, ok := recordNumber(k); ok {
			stored[n] = true
		}
	}
	var want []int
	for _, i := range idx {
		for _, n := range []int{rows[i].Number, rows[i].Number - 1} {
			if stored[n] {
				want = append(want, n)
			}
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	out := make(map[int]*Record, len(want))
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, n := range want {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rec, _, err := s.getNumber(ctx, reg, year, n)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			out[n] = rec
		})
	}
	wg.Wait()
	return out, firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// planImport makes the record of row r with prev as its chain link. What
// the chain covers comes from the row alone (see ImportRows): the
// registration time is the row's date at midnight in the organisation's
// time zone (its received date, else its date, else the first of the year),
// and the salt a keyed hash of its Key (random when there is no Key).
func (s *Store) planImport(actor string, row ImportRow, prev string, secret []byte) (*Record, error) {
	r := &Record{Register: row.Register, Year: row.Year, Number: row.Number, ID: RecordID(row.Register, row.Year, row.Number),
		Confidentiality: Normal, Status: StatusActive, CreatedBy: actor, Version: 1, Attachments: []Attachment{}}
	row.Fields.apply(r)
	if errs := r.validate(); len(errs) > 0 {
		return nil, &ValidationError{Fields: errs}
	}
	r.CreatedAt = historicalTime(r, s.loc)
	r.Registered = &Registered{Subject: r.Subject, From: r.From, To: r.To}
	for _, a := range row.Files {
		a.AddedAt, a.AddedBy = r.CreatedAt, actor
		r.Attachments = append(r.Attachments, a)
	}
	r.Chain = newChain(prev)
	if row.Key != "" {
		r.IdempotencyKey = importKeyHash(row.Key)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("import salt\x00" + row.Key))
		r.Chain.Salt = hex.EncodeToString(m.Sum(nil)[:16])
	}
	r.Chain.Hash = r.Entry().Hash()
	return r, nil
}

// historicalTime is the registration time of an imported entry.
func historicalTime(r *Record, loc *time.Location) time.Time {
	for _, d := range []string{r.ReceivedDate, r.Date} {
		if t, err := time.ParseInLocation(time.DateOnly, d, loc); err == nil && t.Year() == r.Year {
			return t.UTC()
		}
	}
	return time.Date(r.Year, time.January, 1, 0, 0, 0, 0, loc).UTC()
}

func importKeyHash(key string) string {
	if key == "" {
		return ""
	}
	return sha256Hex([]byte("import:" + key))
}

// writeImported writes a planned record (see write.go): its audit event,
// then the record with the create-only write. A number taken meanwhile is
// judged as in planning; the error is only for what stops the import.
func (s *Store) writeImported(ctx context.Context, actor string, r *Record) (ImportOutcome, error) {
	b := marshal(r)
	intent, err := s.intend(ctx, Event{Time: s.now(), Actor: actor, Action: ActionCreate, Target: r.ID,
		After: sha256Hex(b), Detail: "import"})
	if err != nil {
		return ImportOutcome{}, err
	}
	info, err := s.createObject(ctx, recordKey(r.Register, r.Year, r.Number), b)
	switch {
	case errors.Is(err, fs.ErrExist):
		s.abort(ctx, intent, "the number was taken meanwhile")
		existing, _, gerr := s.getNumber(ctx, r.Register, r.Year, r.Number)
		if gerr != nil {
			return ImportOutcome{}, gerr
		}
		return s.clash(existing, r.IdempotencyKey), nil
	case err != nil:
		if !errors.Is(err, ErrOutcomeUnknown) {
			s.abort(ctx, intent, "the storage refused the record: "+err.Error())
		}
		return ImportOutcome{}, storageErr("import record", err)
	}
	s.written(ctx, r, info.ETag)
	return ImportOutcome{Record: r, Result: Imported}, nil
}

// raiseHints moves the numbering hint of each register and year the rows
// touched up to the highest number stored there, never above it.
func (s *Store) raiseHints(ctx context.Context, rows []ImportRow) {
	type group struct {
		reg  Register
		year int
	}
	top := map[group]int{}
	for _, r := range rows {
		g := group{r.Register, r.Year}
		top[g] = max(top[g], r.Number)
	}
	for g, n := range top {
		if last, err := s.storedLast(ctx, g.reg, g.year); err != nil || last >= n {
			continue
		}
		if _, err := s.bucket.Stat(ctx, recordKey(g.reg, g.year, n)); err != nil {
			continue // the highest row was not written: the hint waits for a listing
		}
		if _, err := s.putJSON(ctx, hintKey(g.reg, g.year), hint{Last: n}); err != nil {
			s.log.Warn("numbering hint not written after import", "register", g.reg, "year", g.year, "err", err)
		}
	}
}

// clash decides between a harmless re-run and a real clash.
func (s *Store) clash(existing *Record, keyHash string) ImportOutcome {
	if keyHash != "" && existing.IdempotencyKey == keyHash {
		return ImportOutcome{Record: existing, Result: AlreadyImported}
	}
	return ImportOutcome{Record: existing, Err: Errorf(ECONFLICT, "%s already exists with other content (%q); it was not overwritten",
		existing.ID, existing.Subject)}
}

// chainSecret is the archive's secret for the salts of imported entries
// (secrets/chain.json), made the first time it is needed. Only the servers
// read it: whoever can read the bucket can read the entries themselves.
func (s *Store) chainSecret(ctx context.Context) ([]byte, error) {
	const key = "secrets/chain.json"
	var sec struct {
		Key string `json:"key"`
	}
	if _, err := s.readJSON(ctx, key, &sec); err == nil {
		return hex.DecodeString(sec.Key)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, storageErr("read the chain secret", err)
	}
	b := make([]byte, 32)
	_, _ = cryptoReader{}.Read(b)
	sec.Key = hex.EncodeToString(b)
	data := marshal(sec)
	if _, err := s.bucket.Create(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return s.chainSecret(ctx) // another process made it first
		}
		return nil, storageErr("make the chain secret", notWritten(err))
	}
	return b, nil
}

// ImportOrder sorts keys (register, year, number) ascending.
func ImportOrder[T any](rows []T, key func(T) (Register, int, int)) {
	sort.SliceStable(rows, func(i, j int) bool {
		ri, yi, ni := key(rows[i])
		rj, yj, nj := key(rows[j])
		if ri != rj {
			return ri < rj
		}
		if yi != yj {
			return yi < yj
		}
		return ni < nj
	})
}

// String names the result for reports.
func (r ImportResult) String() string {
	switch r {
	case Imported:
		return "imported"
	case AlreadyImported:
		return "already imported"
	}
	return fmt.Sprintf("ImportResult(%d)", int(r))
}
