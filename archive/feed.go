package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// The change feed.
//
// Every write of a record (a registration, an edit, an annulment, files
// attached, a change of confidentiality) and every arrival of a file's
// extracted text is announced by a small object under changes/, named
//
//	changes/{ulid}.{instance}.{record id}
//
// The ULID sorts by the writer's clock, so listing changes/ from a point in
// time (Bucket.ListFrom) gives what was written since, in order; the name
// alone says which record to look at again and which process wrote it, so a
// follower needs no read per entry. Each process tails the feed and brings
// its own search index up to date (see the index package); a change it wrote
// itself is already in its index.
//
// The feed is derived, not the truth: an entry is written after the write it
// announces (a follower never reads an announced record before it exists),
// a crash in between loses the entry, and entries expire after
// ChangeRetention. Both are safe because every process also reconciles its
// index with the listing of records/ at start and periodically: the feed
// makes other processes see a change within a second, the reconciler makes
// sure nothing is missed for good.

// changePrefix is where the feed lives in the bucket.
const changePrefix = "changes/"

// ChangeRetention is how long feed entries are kept. A process that was away
// longer catches up through its reconciler, which it runs at start anyway.
const ChangeRetention = time.Hour

// Change is one entry of the feed.
type Change struct {
	// Key is the entry's bucket key.
	Key string
	// Time is when the writer announced it, by the writer's clock.
	Time time.Time
	// Instance names the process that wrote it (Store.Instance).
	Instance string
	// RecordID is the record to look at again.
	RecordID string
}

func changeKey(id ulid.ULID, instance, recordID string) string {
	return changePrefix + id.String() + "." + instance + "." + recordID
}

// parseChange reads an entry's key; ok is false for anything else.
func parseChange(key string) (Change, bool) {
	name, ok := strings.CutPrefix(key, changePrefix)
	if !ok {
		return Change{}, false
	}
	parts := strings.SplitN(name, ".", 3)
	if len(parts) != 3 {
		return Change{}, false
	}
	id, err := ulid.ParseStrict(parts[0])
	if err != nil {
		return Change{}, false
	}
	if _, _, _, err := ParseRecordID(parts[2]); err != nil {
		return Change{}, false
	}
	return Change{Key: key, Time: ulid.Time(id.Time()), Instance: parts[1], RecordID: parts[2]}, true
}

// changeFloor is the smallest key of an entry announced at or after t: the
// start key to list the feed from t on.
func changeFloor(t time.Time) string {
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(t)); err != nil {
		return changePrefix // before 1970 or after 10889: from the start
	}
	return changePrefix + id.String()[:10]
}

// Instance names this Store among the processes sharing its bucket. It is new
// at every start.
func (s *Store) Instance() string { return s.instance }

// RecordHook is told of every record write of this Store, with the record as
// written and its new ETag, before the write call returns: the server uses it
// to put the record in its search index, so that what a caller just wrote is
// found by its next search.
type RecordHook func(ctx context.Context, rec *Record, etag string)

// OnRecordWritten sets the hook called after every record write. Set it once,
// before the Store is used.
func (s *Store) OnRecordWritten(fn RecordHook) { s.hook = fn }

// written runs after a record write has succeeded: the hook, then the feed
// entry that tells the other processes. Neither is cancelled with the
// caller: once the record is in the bucket its announcement must follow,
// or a shutdown in the middle of an import leaves a record that the feed
// never names and that the indexes find only at their next reconcile.
func (s *Store) written(ctx context.Context, rec *Record, etag string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), announceTimeout)
	defer cancel()
	if s.hook != nil {
		s.hook(ctx, rec, etag)
	}
	s.Announce(ctx, rec.ID)
}

// announceTimeout bounds the announcement of a write whose caller has gone.
const announceTimeout = 30 * time.Second

// Announce writes a feed entry for each record in ids, so that every process
// looks at them again: after a file's text is stored, for the records that
// carry it. A failure is only logged: the reconcilers catch what the feed
// misses.
func (s *Store) Announce(ctx context.Context, ids ...string) {
	for _, id := range ids {
		key := changeKey(s.ulidAt(s.now()), s.instance, id)
		body, _ := json.Marshal(map[string]string{"record": id})
		if _, err := s.bucket.Put(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
			s.log.Warn("change feed entry not written; other processes see the change at their next reconcile",
				"record", id, "err", err)
		}
	}
}

// Changes calls fn for every feed entry announced at or after since (by its
// writer's clock), in key order, stopping at fn's first error.
func (s *Store) Changes(ctx context.Context, since time.Time, fn func(Change) error) error {
	err := s.bucket.ListFrom(ctx, changePrefix, changeFloor(since), func(o ObjectInfo) error {
		c, ok := parseChange(o.Key)
		if !ok {
			return nil
		}
		return fn(c)
	})
	if err != nil {
		return fmt.Errorf("archive: read the change feed: %w", err)
	}
	return nil
}

// ExpireChanges deletes the feed entries announced before before and returns
// how many it deleted. Any process may run it; deleting twice is harmless.
func (s *Store) ExpireChanges(ctx context.Context, before time.Time) (int, error) {
	stop := changeFloor(before)
	var old []string
	err := s.bucket.List(ctx, changePrefix, func(o ObjectInfo) error {
		if o.Key >= stop {
			return errStopList
		}
		old = append(old, o.Key)
		return nil
	})
	if err != nil && err != errStopList {
		return 0, storageErr("list the change feed", err)
	}
	for i, k := range old {
		if err := s.bucket.Delete(ctx, k); err != nil {
			return i, storageErr("expire the change feed", err)
		}
	}
	return len(old), nil
}

// errStopList ends a listing early.
var errStopList = fmt.Errorf("archive: stop listing")
