package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
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

// CreateAt registers a historical entry at the register, year and number it
// already had on paper, with the create-only write: an existing entry is never
// overwritten. If the number is taken by a record carrying the same importKey
// (made by an earlier run of the same import) the result is AlreadyImported;
// taken by anything else it is ECONFLICT.
//
// Chain links: the entry's Prev is the chain hash of number-1 if that entry
// exists when it is imported, else "" (a gap in the historical numbering, or
// an import out of order). Importers therefore bring entries in ascending
// number order, so a complete historical year chains exactly as if it had been
// registered in Sijill; a year with gaps shows them in sijill verify, which is
// the truth about the paper register.
//
// importKey identifies the source row's content (the importer hashes it); it
// is kept in the record's IdempotencyKey so a re-run recognises its own work.
func (s *Store) CreateAt(ctx context.Context, actor string, reg Register, year, number int, f Fields, files []Attachment, importKey string) (*Record, ImportResult, error) {
	if !reg.Valid() {
		return nil, 0, Errorf(EINVALID, "no register %q", reg)
	}
	if year < 1 || year > 9999 || number < 1 || number > 99999999 {
		return nil, 0, Errorf(EINVALID, "year %d or number %d out of range", year, number)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	r := &Record{Register: reg, Year: year, Number: number, ID: RecordID(reg, year, number),
		Confidentiality: Normal, Status: StatusActive, CreatedAt: now, CreatedBy: actor, Version: 1,
		Attachments: []Attachment{}}
	f.apply(r)
	if errs := r.validate(); len(errs) > 0 {
		return nil, 0, &ValidationError{Fields: errs}
	}
	r.Registered = &Registered{Subject: r.Subject, From: r.From, To: r.To}
	for _, a := range files {
		a.AddedAt = now
		a.AddedBy = actor
		r.Attachments = append(r.Attachments, a)
	}
	if importKey != "" {
		r.IdempotencyKey = sha256Hex([]byte("import:" + importKey))
	}

	lock := s.registerLock(reg, year)
	lock.Lock()
	defer lock.Unlock()

	if existing, _, err := s.getNumber(ctx, reg, year, number); err == nil {
		return s.clash(existing, r)
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, 0, err
	}
	prev := ""
	if number > 1 {
		p, _, err := s.getNumber(ctx, reg, year, number-1)
		switch {
		case err == nil:
			prev = p.Chain.Hash
		case ErrorCode(err) != ENOTFOUND:
			return nil, 0, err
		}
	}
	r.Chain = newChain(prev)
	r.Chain.Hash = r.Entry().Hash()
	b := marshal(r)
	intent, err := s.intend(ctx, Event{Time: now, Actor: actor, Action: ActionCreate, Target: r.ID,
		After: sha256Hex(b), Detail: "import"})
	if err != nil {
		return nil, 0, err
	}
	info, err := s.createObject(ctx, recordKey(reg, year, number), b)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			s.abort(ctx, intent, "the number was taken meanwhile")
			existing, _, gerr := s.getNumber(ctx, reg, year, number)
			if gerr != nil {
				return nil, 0, gerr
			}
			return s.clash(existing, r)
		}
		if !errors.Is(err, ErrOutcomeUnknown) {
			s.abort(ctx, intent, "the storage refused the record: "+err.Error())
		}
		return nil, 0, storageErr("import record", err)
	}
	// The hint may move up to a number that exists; it never runs ahead of the truth.
	if last, err := s.storedLast(ctx, reg, year); err == nil && last < number {
		if _, err := s.putJSON(ctx, hintKey(reg, year), hint{Last: number}); err != nil {
			s.log.Warn("numbering hint not written after import", "id", r.ID, "err", err)
		}
	}
	s.written(ctx, r, info.ETag)
	return r, Imported, nil
}

// clash decides between a harmless re-run and a real clash.
func (s *Store) clash(existing, want *Record) (*Record, ImportResult, error) {
	if want.IdempotencyKey != "" && existing.IdempotencyKey == want.IdempotencyKey {
		return existing, AlreadyImported, nil
	}
	return existing, 0, Errorf(ECONFLICT, "%s already exists with other content (%q); it was not overwritten",
		existing.ID, existing.Subject)
}

// ImportOrder sorts keys (register, year, number) ascending, the order in which
// CreateAt links each entry to its predecessor.
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
