package archive

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ActionVerify is the audit action of a fixity check, so the trail shows that
// (and when, and with what result) the archive was checked.
const ActionVerify = "archive.verify"

// Kinds of problem Verify reports. Each names what an operator has to look at.
const (
	// ProblemBlobMissing: a record names a file whose bytes are not stored.
	ProblemBlobMissing = "blob_missing"
	// ProblemBlobAltered: a stored file's bytes no longer hash to its name.
	ProblemBlobAltered = "blob_altered"
	// ProblemUnreadable: an object cannot be read or decoded.
	ProblemUnreadable = "unreadable"
	// ProblemEntryAltered: a record's registered entry no longer hashes to its
	// chain hash: what was registered has been changed.
	ProblemEntryAltered = "entry_altered"
	// ProblemEntryMissing: a number of a register's year has no record.
	ProblemEntryMissing = "entry_missing"
	// ProblemChainBroken: an entry's prev link is not the hash of the entry
	// before it: entries were re-ordered, replaced or re-hashed.
	ProblemChainBroken = "chain_broken"
	// ProblemMisplaced: a record object holds another entry than its key says
	// (swapped or renumbered records).
	ProblemMisplaced = "entry_misplaced"
	// ProblemHistoryAltered: an earlier version's registered entry differs from
	// the current one's, or a version is missing from the history.
	ProblemHistoryAltered = "history_altered"
	// ProblemUnaudited: a stored record version matches no audit event: it was
	// written behind the server's back (or its audit event was lost in a crash).
	ProblemUnaudited = "version_unaudited"
)

// Problem is one finding of Verify.
type Problem struct {
	Kind string `json:"kind"`
	// Key is the bucket key of the object concerned.
	Key string `json:"key"`
	// Record is the record ID concerned, when there is one.
	Record string `json:"record,omitempty"`
	Detail string `json:"detail"`
}

func (p Problem) String() string {
	who := p.Key
	if p.Record != "" {
		who = p.Record + " (" + p.Key + ")"
	}
	return fmt.Sprintf("%s: %s: %s", p.Kind, who, p.Detail)
}

// BookSummary is what Verify found for one register and year: the digest that
// the printed book's closing certificate carries, and the chain's head.
type BookSummary struct {
	Register Register `json:"register"`
	Year     int      `json:"year"`
	Entries  int      `json:"entries"`
	// Head is the chain hash of the last entry.
	Head string `json:"head"`
	// Digest is the BookDigest over the entries in number order.
	Digest string `json:"digest"`
}

// VerifyReport is the result of a fixity check of the whole archive.
type VerifyReport struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Records  int       `json:"records"`
	Versions int       `json:"versions"` // earlier versions under history/
	Blobs    int       `json:"blobs"`
	Bytes    int64     `json:"bytes"` // blob bytes re-hashed
	// Unreferenced counts stored files no record names (an upload whose
	// record was never created): harmless, reported for the operator.
	Unreferenced int `json:"unreferenced"`
	// Incomplete counts audit events of record writes whose version was
	// never stored and that were not marked aborted: the process died
	// between the event, which is written first, and the write. Harmless: a
	// change that did not happen.
	Incomplete int           `json:"incomplete"`
	Books      []BookSummary `json:"books"`
	Problems   []Problem     `json:"problems"`
}

// OK reports whether the archive passed: no problem at all.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// VerifyProgress is told how many objects have been checked out of how many.
type VerifyProgress func(done, total int)

// verifier holds the state of one Verify run.
type verifier struct {
	s        *Store
	rep      *VerifyReport
	progress VerifyProgress
	done     int
	total    int
	// audited maps a record ID to the SHA-256 of every version of it the audit
	// trail vouches for (Before and After of its events).
	audited map[string]map[string]bool
	// referenced holds every blob named by a record version.
	referenced map[string]string // sha256 -> first record naming it
	// corrected holds every corrected text named by a record version.
	corrected map[string]string // sha256 of the text -> first record naming it
	// auditKeys are the audit events already read; unaudited are the versions
	// no event vouched for when they were read: a server writing while Verify
	// runs writes a version's event just after the version, so they are
	// checked again against the events written since, before being reported.
	auditKeys map[string]bool
	unaudited []unaudited
	// stored holds the SHA-256 of every record version read; intents are
	// the versions the audit trail announced, and aborted those it says
	// were refused (see Incomplete).
	stored  map[string]bool
	intents []string
	aborted map[string]bool
}

type unaudited struct {
	key, id, sum string
	version      int
}

// exists tells whether key is stored now. Verify runs beside a serving server:
// something its listings missed may have been written since, and is reported
// missing only if it is still missing.
func (v *verifier) exists(ctx context.Context, key string) bool {
	_, err := v.s.bucket.Stat(ctx, key)
	return err == nil
}

func (v *verifier) add(kind, key, record, detail string) {
	v.rep.Problems = append(v.rep.Problems, Problem{Kind: kind, Key: key, Record: record, Detail: detail})
}

func (v *verifier) step() {
	v.done++
	if v.progress != nil {
		v.progress(v.done, v.total)
	}
}

// Verify checks the fixity of the whole archive: it re-hashes every stored file
// (its SHA-256 must be its name), every record's registered entry (it must hash
// to the record's chain hash), follows each register and year's chain (numbers
// 1..n without gaps, each prev link the hash of the entry before), compares
// every kept earlier version's registered entry with the current one, and
// checks that every stored record version is vouched for by the audit trail.
// Problems are reported, not returned as errors: the error is only for a
// storage that cannot be read at all (or a cancelled ctx).
//
// Every run is recorded in the audit trail under ActionVerify with actor.
// progress may be nil.
func (s *Store) Verify(ctx context.Context, actor string, progress VerifyProgress) (*VerifyReport, error) {
	v := &verifier{s: s, rep: &VerifyReport{Started: s.now().UTC(), Books: []BookSummary{}, Problems: []Problem{}},
		progress: progress, audited: map[string]map[string]bool{}, referenced: map[string]string{}, corrected: map[string]string{}, auditKeys: map[string]bool{},
		stored: map[string]bool{}, aborted: map[string]bool{}}
	keys := map[string][]ObjectInfo{}
	for _, prefix := range []string{"records/", "history/", "blobs/", "audit/", "counters/"} {
		err := s.bucket.List(ctx, prefix, func(o ObjectInfo) error {
			keys[prefix] = append(keys[prefix], o)
			return nil
		})
		if err != nil {
			return nil, storageErr("verify: list "+prefix, err)
		}
	}
	v.total = len(keys["records/"]) + len(keys["history/"]) + len(keys["blobs/"]) + len(keys["audit/"])

	if err := v.readAudit(ctx, keys["audit/"]); err != nil {
		return nil, err
	}
	history := groupHistory(keys["history/"])
	if err := v.chains(ctx, keys["records/"], history, keys["counters/"]); err != nil {
		return nil, err
	}
	if err := v.blobs(ctx, keys["blobs/"]); err != nil {
		return nil, err
	}
	if err := v.correctedTexts(ctx); err != nil {
		return nil, err
	}
	if err := v.recheckAudited(ctx); err != nil {
		return nil, err
	}
	v.rep.Finished = s.now().UTC()
	sort.SliceStable(v.rep.Problems, func(i, j int) bool { return v.rep.Problems[i].Key < v.rep.Problems[j].Key })

	detail := fmt.Sprintf("ok=%v problems=%d records=%d versions=%d blobs=%d", v.rep.OK(), len(v.rep.Problems),
		v.rep.Records, v.rep.Versions, v.rep.Blobs)
	if err := s.Audit(ctx, Event{Actor: actor, Action: ActionVerify, Detail: detail}); err != nil {
		s.log.Error("audit event lost", "action", ActionVerify, "err", err)
	}
	return v.rep, nil
}

// readRaw returns the bytes of the object at key (at most 16 MiB, as readJSON).
func (s *Store) readRaw(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := s.bucket.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 16<<20))
}

// fatal tells a storage failure that stops the run from a problem with one
// object, which is reported and passed over.
func fatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ErrUnavailable)
}

func (v *verifier) readAudit(ctx context.Context, objs []ObjectInfo) error {
	var keys []string
	for _, o := range objs {
		if !v.auditKeys[o.Key] {
			v.auditKeys[o.Key] = true
			keys = append(keys, o.Key)
		}
	}
	return v.s.readAhead(ctx, keys, func(key string, b []byte, err error) error {
		v.step()
		if err != nil {
			if fatal(ctx, err) {
				return storageErr("verify: read audit", err)
			}
			v.add(ProblemUnreadable, key, "", err.Error())
			return nil
		}
		v.noteEvent(key, b)
		return nil
	})
}

// noteEvent takes in the audit event b stored at key.
func (v *verifier) noteEvent(key string, b []byte) {
	var ev Event
	if err := json.Unmarshal(b, &ev); err != nil {
		v.add(ProblemUnreadable, key, "", "not an audit event: "+err.Error())
		return
	}
	if ev.Target == "" || !strings.HasPrefix(ev.Action, "record.") {
		return
	}
	if ev.Action == ActionAborted {
		v.aborted[ev.Before] = true // the intent's version, never written
		return
	}
	if ev.After != "" {
		v.intents = append(v.intents, ev.After)
	}
	m := v.audited[ev.Target]
	if m == nil {
		m = map[string]bool{}
		v.audited[ev.Target] = m
	}
	for _, h := range []string{ev.Before, ev.After} {
		if h != "" {
			m[h] = true
		}
	}
}

// groupHistory maps "register/year/number" to the keys of its kept versions.
func groupHistory(objs []ObjectInfo) map[string][]string {
	out := map[string][]string{}
	for _, o := range objs {
		parts := strings.Split(o.Key, "/")
		if len(parts) != 5 {
			continue
		}
		k := parts[1] + "/" + parts[2] + "/" + parts[3]
		out[k] = append(out[k], o.Key)
	}
	return out
}

// chainKey is register/year of a record key records/{reg}/{year}/{n}.json.
func chainKey(key string) (Register, int, int, bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] != "records" {
		return "", 0, 0, false
	}
	year, err := strconv.Atoi(parts[2])
	n, ok := recordNumber(key)
	if err != nil || !ok {
		return "", 0, 0, false
	}
	return Register(parts[1]), year, n, true
}

func (v *verifier) chains(ctx context.Context, objs []ObjectInfo, history map[string][]string, counters []ObjectInfo) error {
	// Keys arrive in ascending order, and numbers are zero-padded: each
	// register/year's entries come together, in number order.
	type chainState struct {
		reg    Register
		year   int
		last   int    // last number seen
		head   string // chain hash of the last number seen
		digest *BookDigest
	}
	var cur *chainState
	seen := map[string]bool{} // record IDs present
	finish := func() {
		if cur != nil {
			v.rep.Books = append(v.rep.Books, BookSummary{Register: cur.reg, Year: cur.year, Entries: cur.digest.Count(),
				Head: cur.head, Digest: cur.digest.Sum()})
		}
	}
	var keys []string
	for _, o := range objs {
		if _, _, _, ok := chainKey(o.Key); ok {
			keys = append(keys, o.Key)
		}
	}
	err := v.s.readAhead(ctx, keys, func(key string, b []byte, err error) error {
		reg, year, n, _ := chainKey(key)
		v.step()
		if cur == nil || cur.reg != reg || cur.year != year {
			finish()
			cur = &chainState{reg: reg, year: year, digest: NewBookDigest()}
		}
		id := RecordID(reg, year, n)
		seen[id] = true
		v.rep.Records++
		if n > cur.last+1 {
			v.add(ProblemEntryMissing, recordKey(reg, year, cur.last+1), RecordID(reg, year, cur.last+1),
				fmt.Sprintf("entries %d to %d of %s %d are missing", cur.last+1, n-1, reg, year))
			cur.head = "" // the link across the gap cannot be checked
		}
		if err != nil {
			if fatal(ctx, err) {
				return storageErr("verify: read record", err)
			}
			v.add(ProblemUnreadable, key, id, err.Error())
			cur.last, cur.head = n, ""
			return nil
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			v.add(ProblemUnreadable, key, id, "not a record: "+err.Error())
			cur.last, cur.head = n, ""
			return nil
		}
		if rec.Register != reg || rec.Year != year || rec.Number != n || rec.ID != id {
			v.add(ProblemMisplaced, key, id, fmt.Sprintf("the object holds entry %s (number %d of %s %d)", rec.ID, rec.Number, rec.Register, rec.Year))
		}
		if got := rec.Entry().Hash(); got != rec.Chain.Hash {
			v.add(ProblemEntryAltered, key, id, fmt.Sprintf("the registered entry hashes to %s, its chain says %s", short(got), short(rec.Chain.Hash)))
		}
		switch {
		case n == 1 && rec.Chain.Prev != "":
			v.add(ProblemChainBroken, key, id, "the first entry of the year links to a previous one")
		case n > 1 && cur.last == n-1 && cur.head != "" && rec.Chain.Prev != cur.head:
			v.add(ProblemChainBroken, key, id, fmt.Sprintf("prev is %s but entry %d hashes to %s: entries were re-ordered, replaced or re-hashed",
				short(rec.Chain.Prev), n-1, short(cur.head)))
		}
		v.checkAudited(key, id, b, rec.Version)
		v.noteFiles(&rec)
		hk := fmt.Sprintf("%s/%d/%06d", reg, year, n)
		v.checkHistory(ctx, &rec, history[hk])
		delete(history, hk)
		if err := ctx.Err(); err != nil {
			return err
		}
		cur.digest.Add(&rec)
		cur.last, cur.head = n, rec.Chain.Hash
		return nil
	})
	if err != nil {
		return err
	}
	finish()
	for _, ks := range history {
		for range ks {
			v.step() // versions of a missing record: the missing entry is reported below
		}
	}

	// A removed last entry leaves no gap: the numbering hint and the audit
	// trail's creates still name it.
	for _, o := range counters {
		parts := strings.Split(strings.TrimSuffix(o.Key, ".json"), "/")
		if len(parts) != 3 {
			continue
		}
		reg, year := Register(parts[1]), 0
		year, _ = strconv.Atoi(parts[2])
		var h hint
		if _, err := v.s.readJSON(ctx, o.Key, &h); err != nil {
			continue // a hint is only a hint
		}
		for n := h.Last; n >= 1 && !seen[RecordID(reg, year, n)]; n-- {
			seen[RecordID(reg, year, n)] = true // report once
			if v.exists(ctx, recordKey(reg, year, n)) {
				continue // registered while Verify ran
			}
			v.add(ProblemEntryMissing, recordKey(reg, year, n), RecordID(reg, year, n),
				fmt.Sprintf("the numbering reached %d but entry %d of %s %d is missing", h.Last, n, reg, year))
		}
	}
	// A registration in the audit trail whose record is missing is not a
	// problem by itself: its event is written first, so a crash (or a
	// number another process took) leaves exactly that; it is counted
	// among the incomplete writes. A record removed after it was written
	// shows as a gap, or below the numbering hint, above.
	return nil
}

// checkAudited notes a stored version the audit trail does not vouch for.
func (v *verifier) checkAudited(key, id string, b []byte, version int) {
	sum := sha256Hex(b)
	v.stored[sum] = true
	if !v.audited[id][sum] {
		v.unaudited = append(v.unaudited, unaudited{key: key, id: id, sum: sum, version: version})
	}
}

// recheckAudited reads the audit events written since the trail was first
// read and reports the versions that still match none. A version written in
// the last freshWrite may have its event still on the way: for those the trail is
// read again for up to auditGrace before they are reported.
func (v *verifier) recheckAudited(ctx context.Context) error {
	deadline := time.Now().Add(auditGrace)
	for len(v.unaudited) > 0 {
		if err := v.readNewAudit(ctx); err != nil {
			return err
		}
		var still []unaudited
		fresh := false
		for _, u := range v.unaudited {
			if v.audited[u.id][u.sum] {
				continue
			}
			still = append(still, u)
			if info, err := v.s.bucket.Stat(ctx, u.key); err == nil && v.s.now().Sub(info.LastModified) < freshWrite {
				fresh = true
			}
		}
		v.unaudited = still
		if !fresh || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, u := range v.unaudited {
		v.add(ProblemUnaudited, u.key, u.id, fmt.Sprintf("version %d matches no audit event: it was written behind the server's back", u.version))
	}
	for _, sum := range v.intents {
		if !v.stored[sum] && !v.aborted[sum] {
			v.rep.Incomplete++
		}
	}
	return nil
}

// A version written less than freshWrite ago may have its audit event still
// on the way; Verify waits up to auditGrace for it.
const (
	freshWrite = 30 * time.Second
	auditGrace = 3 * time.Second
)

// readNewAudit reads the audit events not read yet.
func (v *verifier) readNewAudit(ctx context.Context) error {
	var objs []ObjectInfo
	if err := v.s.bucket.List(ctx, "audit/", func(o ObjectInfo) error {
		if !v.auditKeys[o.Key] {
			objs = append(objs, o)
		}
		return nil
	}); err != nil {
		return storageErr("verify: list audit/", err)
	}
	v.total += len(objs)
	return v.readAudit(ctx, objs)
}

func (v *verifier) noteFiles(rec *Record) {
	for _, a := range rec.Attachments {
		if _, ok := v.referenced[a.SHA256]; !ok {
			v.referenced[a.SHA256] = rec.ID
		}
		if c := a.Corrected; c != nil {
			if _, ok := v.corrected[c.SHA256]; !ok {
				v.corrected[c.SHA256] = rec.ID
			}
		}
	}
}

// correctedTexts checks every corrected text a record version names: kept,
// and its bytes still hashing to its name (CorrectText stores it by hash).
func (v *verifier) correctedTexts(ctx context.Context) error {
	for _, tsum := range slices.Sorted(maps.Keys(v.corrected)) {
		key := correctedKey(tsum)
		got, _, err := v.hashBlob(ctx, key)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.add(ProblemBlobMissing, key, v.corrected[tsum], "a record names this corrected text but it is not stored")
		case err != nil && fatal(ctx, err):
			return storageErr("verify: read corrected text", err)
		case err != nil:
			v.add(ProblemUnreadable, key, v.corrected[tsum], err.Error())
		case got != tsum:
			v.add(ProblemBlobAltered, key, v.corrected[tsum], fmt.Sprintf("the corrected text hashes to %s, not its name", short(got)))
		}
	}
	return nil
}

// checkHistory compares the kept earlier versions of rec with it: the same
// registered entry and chain, versions 1..Version-1 all present.
func (v *verifier) checkHistory(ctx context.Context, rec *Record, keys []string) {
	have := map[int]bool{}
	for _, k := range keys {
		v.step()
		v.rep.Versions++
		b, err := v.s.readRaw(ctx, k)
		if err != nil {
			v.add(ProblemUnreadable, k, rec.ID, err.Error())
			continue
		}
		var old Record
		if err := json.Unmarshal(b, &old); err != nil {
			v.add(ProblemUnreadable, k, rec.ID, "not a record version: "+err.Error())
			continue
		}
		have[old.Version] = true
		if want := historyKey(rec.Register, rec.Year, rec.Number, old.Version); want != k || old.ID != rec.ID {
			v.add(ProblemHistoryAltered, k, rec.ID, fmt.Sprintf("the object holds version %d of %s", old.Version, old.ID))
		}
		if old.Chain != rec.Chain || old.Entry().Hash() != rec.Chain.Hash {
			v.add(ProblemHistoryAltered, k, rec.ID, fmt.Sprintf("version %d's registered entry differs from the current one", old.Version))
		}
		v.checkAudited(k, rec.ID, b, old.Version)
		v.noteFiles(&old)
	}
	for ver := 1; ver < rec.Version; ver++ {
		if k := historyKey(rec.Register, rec.Year, rec.Number, ver); !have[ver] && !v.exists(ctx, k) {
			v.add(ProblemHistoryAltered, k, rec.ID, fmt.Sprintf("version %d is missing from the history", ver))
		}
	}
}

func (v *verifier) blobs(ctx context.Context, objs []ObjectInfo) error {
	stored := map[string]bool{}
	var sums []string
	for _, o := range objs {
		sum := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
		if !ValidSHA256(sum) || o.Key != blobKey(sum) {
			v.step()
			continue // not a blob (a stray object); nothing names it
		}
		stored[sum] = true
		sums = append(sums, sum)
	}
	// Files are hashed readAheadWidth at once: each is independent of the
	// others, and one at a time a pass waits a round trip per file.
	var mu sync.Mutex
	var failed error
	work := make(chan string)
	var wg sync.WaitGroup
	for range readAheadWidth {
		wg.Go(func() {
			for sum := range work {
				got, n, err := v.hashBlob(ctx, blobKey(sum))
				mu.Lock()
				v.step()
				v.rep.Blobs++
				switch {
				case err != nil && fatal(ctx, err):
					failed = cmp.Or(failed, storageErr("verify: read blob", err))
				case err != nil:
					v.add(ProblemUnreadable, blobKey(sum), v.referenced[sum], err.Error())
				case got != sum:
					v.add(ProblemBlobAltered, blobKey(sum), v.referenced[sum], fmt.Sprintf("the file's bytes hash to %s, not its name", short(got)))
				}
				if err == nil {
					v.rep.Bytes += n
					if _, ok := v.referenced[sum]; !ok {
						v.rep.Unreferenced++
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, sum := range sums {
		mu.Lock()
		stop := failed != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- sum
	}
	close(work)
	wg.Wait()
	if failed != nil {
		return failed
	}
	var missing []string
	for sum := range v.referenced {
		if !stored[sum] {
			missing = append(missing, sum)
		}
	}
	sort.Strings(missing)
	for _, sum := range missing {
		if v.exists(ctx, blobKey(sum)) {
			continue // stored while Verify ran
		}
		v.add(ProblemBlobMissing, blobKey(sum), v.referenced[sum], "a record names this file but its bytes are not stored")
	}
	return nil
}

func (v *verifier) hashBlob(ctx context.Context, key string) (string, int64, error) {
	return hashObject(ctx, v.s.bucket, key)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}

// VerifyRun is the outcome of the last verification, kept in the bucket
// (reports/verify/last.json) so that every process serving the archive shows
// the same one, whichever ran it.
type VerifyRun struct {
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"`
	// Error is why the run could not finish (storage unreachable); Report
	// is then the last complete one, if any.
	Error  string        `json:"error,omitempty"`
	Report *VerifyReport `json:"report,omitempty"`
}

const verifyRunName = "verify/last"

// VerifyLease is the lease a verification holds while it runs, so that the
// processes sharing the bucket run one at a time.
const VerifyLease = "verify"

// SaveVerifyRun keeps run as the last verification.
func (s *Store) SaveVerifyRun(ctx context.Context, run VerifyRun) error {
	if run.Error != "" && run.Report == nil {
		if last, err := s.LastVerifyRun(ctx); err == nil && last != nil {
			run.Report = last.Report // keep the last complete report beside the failure
		}
	}
	return s.SaveReport(ctx, verifyRunName, run)
}

// LastVerifyRun returns the last verification kept, or nil if none ran.
func (s *Store) LastVerifyRun(ctx context.Context) (*VerifyRun, error) {
	var run VerifyRun
	if ok, err := s.LoadReport(ctx, verifyRunName, &run); !ok || err != nil {
		return nil, err
	}
	return &run, nil
}
