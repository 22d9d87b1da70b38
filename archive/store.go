package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Store keeps registers, records, attachments, users and the audit trail in a
// Bucket. Numbering, hashing and validation live here, once, above every Bucket.
//
// Several Stores (in several processes) may share one Bucket: numbers stay
// gapless and unique because a number exists exactly when its record object does.
type Store struct {
	bucket Bucket
	loc    *time.Location
	now    func() time.Time
	log    *slog.Logger
	tmpDir string
	// resolveWait bounds the reading back of an unanswered write.
	resolveWait time.Duration

	// numbering serialises creates per register and year inside this process;
	// other processes are kept apart by the Bucket's create-only write.
	mu      sync.Mutex
	regLock map[string]*sync.Mutex
	last    map[string]lastEntry // register/year -> last number and hash seen

	ulidMu  sync.Mutex
	entropy *ulid.MonotonicEntropy

	// instance identifies this Store among the processes sharing the bucket.
	instance string
	// hook is told of every record write (see OnRecordWritten).
	hook RecordHook

	// Objects read for lists, by key and ETag (see jsonCache).
	records   jsonCache[Record]
	followUps jsonCache[FollowUp]
}

type lastEntry struct {
	number int
	hash   string
}

// Options configure a Store. Zero values are sensible defaults.
type Options struct {
	// Location is the organisation's time zone; the registration year is taken in it.
	Location *time.Location
	// Now returns the current time; tests set it to cross a year boundary.
	Now func() time.Time
	// Logger receives best-effort failures (a hint that could not be written).
	Logger *slog.Logger
	// TempDir holds uploads while they are hashed and checked; it should be on
	// the same file system as a folder Bucket, so blobs are moved, not copied.
	TempDir string
	// ResolveWait bounds how long a write whose answer was lost is read back
	// before its outcome is called unknown (0: 15 s).
	ResolveWait time.Duration
}

// NewStore returns a Store over bucket.
func NewStore(bucket Bucket, opt Options) *Store {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.TempDir == "" {
		opt.TempDir = os.TempDir()
	}
	if opt.ResolveWait <= 0 {
		opt.ResolveWait = resolveWait
	}
	return &Store{
		bucket: bucket, loc: opt.Location, now: opt.Now, log: opt.Logger, tmpDir: opt.TempDir, resolveWait: opt.ResolveWait,
		regLock: map[string]*sync.Mutex{}, last: map[string]lastEntry{},
		entropy:  ulid.Monotonic(cryptoReader{}, 0),
		instance: ulid.Make().String(),
	}
}

// Bucket returns the bucket the store keeps its truth in.
func (s *Store) Bucket() Bucket { return s.bucket }

// Location is the organisation's time zone.
func (s *Store) Location() *time.Location { return s.loc }

// TempDir is where the store spools uploads; other large temporary files
// of the server (a register book being printed) belong there too.
func (s *Store) TempDir() string { return s.tmpDir }

// Now is the store's clock in the organisation's time zone.
func (s *Store) Now() time.Time { return s.now().In(s.loc) }

// storageErr wraps a Bucket failure with context, keeping ErrUnavailable and
// ErrNoSpace visible to ErrorCode.
func storageErr(op string, err error) error {
	return fmt.Errorf("archive: %s: %w", op, err)
}

// readJSON reads the object at key into v and returns its ETag.
func (s *Store) readJSON(ctx context.Context, key string, v any) (string, error) {
	rc, info, err := s.bucket.Get(ctx, key)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v); err != nil {
		return "", fmt.Errorf("archive: decode %s: %w", key, err)
	}
	return info.ETag, nil
}

func marshal(v any) []byte {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		panic(fmt.Sprintf("archive: marshal: %v", err)) // plain data: cannot fail
	}
	return append(b, '\n')
}

// Get returns the record with id and its ETag.
func (s *Store) Get(ctx context.Context, id string) (*Record, string, error) {
	reg, year, num, err := ParseRecordID(id)
	if err != nil {
		return nil, "", err
	}
	return s.getNumber(ctx, reg, year, num)
}

func (s *Store) getNumber(ctx context.Context, reg Register, year, num int) (*Record, string, error) {
	var rec Record
	etag, err := s.readJSON(ctx, recordKey(reg, year, num), &rec)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", Errorf(ENOTFOUND, "no record %s", RecordID(reg, year, num))
	}
	if err != nil {
		return nil, "", storageErr("get record", err)
	}
	return &rec, etag, nil
}

// Records yields the records of one register and year in ascending number order,
// reading them one at a time so a year of 10,000 entries stays small in memory.
func (s *Store) Records(ctx context.Context, reg Register, year int) iter.Seq2[*Record, error] {
	if !reg.Valid() {
		return func(yield func(*Record, error) bool) { yield(nil, Errorf(ENOTFOUND, "no register %q", reg)) }
	}
	return records(s.recordsUnder(ctx, fmt.Sprintf("records/%s/%d/", reg, year)))
}

// AllRecords yields every record of every register and year, for verifying
// the archive and exporting it.
func (s *Store) AllRecords(ctx context.Context) iter.Seq2[*Record, error] {
	return records(s.recordsUnder(ctx, "records/"))
}

// Stored is a record as read from the bucket, with the version (ETag) it was
// read at.
type Stored struct {
	*Record
	ETag string
}

// ReadAll yields every record with its version, in key order: what the
// search index is rebuilt from.
func (s *Store) ReadAll(ctx context.Context) iter.Seq2[Stored, error] {
	return s.recordsUnder(ctx, "records/")
}

// Versions calls fn with the ID and version (ETag) of every record, from one
// listing: what the search index reconciles itself with.
func (s *Store) Versions(ctx context.Context, fn func(id, etag string) error) error {
	err := s.bucket.List(ctx, "records/", func(o ObjectInfo) error {
		reg, year, n, ok := chainKey(o.Key)
		if !ok {
			return nil
		}
		return fn(RecordID(reg, year, n), o.ETag)
	})
	if err != nil {
		return storageErr("list records", err)
	}
	return nil
}

func records(seq iter.Seq2[Stored, error]) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		for st, err := range seq {
			if !yield(st.Record, err) {
				return
			}
		}
	}
}

// recordsUnder yields the records whose keys start with prefix, in key order.
// A record that cannot be read is yielded as an error and the walk goes on if
// the caller wants it to.
//
// Up to readAhead records are read at once ahead of the caller: one GET at a
// time kept a register book of 2,000 entries on MinIO waiting seconds for
// the network, not the printer. Memory stays bounded by the window.
func (s *Store) recordsUnder(ctx context.Context, prefix string) iter.Seq2[Stored, error] {
	return func(yield func(Stored, error) bool) {
		keys, err := s.recordKeys(ctx, prefix)
		if err != nil {
			yield(Stored{}, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type result struct {
			st  Stored
			err error
		}
		window := make(chan struct{}, readAhead)
		pending := make(chan chan result, readAhead)
		go func() {
			defer close(pending)
			for _, k := range keys {
				if ctx.Err() != nil {
					return // select picks at random when both are ready
				}
				select {
				case window <- struct{}{}:
				case <-ctx.Done():
					return
				}
				ch := make(chan result, 1)
				pending <- ch // never blocks: the window holds at most readAhead
				go func() {
					var rec Record
					etag, err := s.readJSON(ctx, k, &rec)
					if err != nil {
						ch <- result{err: storageErr("read record", err)}
						return
					}
					ch <- result{st: Stored{Record: &rec, ETag: etag}}
				}()
			}
		}()
		for ch := range pending {
			r := <-ch
			<-window
			if !yield(r.st, r.err) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(Stored{}, err) // the caller's context ended before every key was read
		}
	}
}

// readAhead is how many records recordsUnder reads at once.
const readAhead = 16

// recordKeys lists the record objects under prefix (records/...), skipping
// anything that is not a numbered record.
func (s *Store) recordKeys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := s.bucket.List(ctx, prefix, func(o ObjectInfo) error {
		if _, ok := recordNumber(o.Key); ok {
			keys = append(keys, o.Key)
		}
		return nil
	})
	if err != nil {
		return nil, storageErr("list records", err)
	}
	return keys, nil
}

// recordNumber parses the number out of records/{register}/{year}/{n:06d}.json.
func recordNumber(key string) (int, bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] != "records" || !strings.HasSuffix(parts[3], ".json") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(parts[3], ".json"))
	return n, err == nil && n > 0
}

// Years lists the years that have records in reg, most recent first.
func (s *Store) Years(ctx context.Context, reg Register) ([]int, error) {
	seen := map[int]bool{}
	var years []int
	err := s.bucket.List(ctx, fmt.Sprintf("records/%s/", reg), func(o ObjectInfo) error {
		parts := strings.Split(o.Key, "/")
		if len(parts) == 4 {
			if y, err := strconv.Atoi(parts[2]); err == nil && !seen[y] {
				seen[y] = true
				years = append(years, y)
			}
		}
		return nil
	})
	if err != nil {
		return nil, storageErr("list years", err)
	}
	for i, j := 0, len(years)-1; i < j; i, j = i+1, j-1 {
		years[i], years[j] = years[j], years[i]
	}
	return years, nil
}

// putJSON writes v at key unconditionally.
func (s *Store) putJSON(ctx context.Context, key string, v any) (ObjectInfo, error) {
	b := marshal(v)
	return s.bucket.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
}

// createJSON writes v at key only if key does not exist (fs.ErrExist otherwise).
func (s *Store) createJSON(ctx context.Context, key string, v any) (ObjectInfo, error) {
	b := marshal(v)
	return s.bucket.Create(ctx, key, bytes.NewReader(b), int64(len(b)))
}

// SaveReport keeps v as JSON at reports/{name}.json, for every process
// sharing the bucket to show (the progress of an import, say). name is made
// of key characters ([a-z0-9/._-]).
func (s *Store) SaveReport(ctx context.Context, name string, v any) error {
	if _, err := s.putJSON(ctx, "reports/"+name+".json", v); err != nil {
		return storageErr("keep report "+name, err)
	}
	return nil
}

// LoadReport reads the report name into v; ok is false if there is none.
func (s *Store) LoadReport(ctx context.Context, name string, v any) (ok bool, err error) {
	if !ValidKey("reports/" + name + ".json") {
		return false, nil
	}
	if _, err := s.readJSON(ctx, "reports/"+name+".json", v); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, storageErr("read report "+name, err)
	}
	return true, nil
}
