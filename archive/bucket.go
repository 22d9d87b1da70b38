package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"
)

// Errors a Bucket reports. Missing objects are reported with fs.ErrNotExist and an
// existing key refused by Create with fs.ErrExist, so callers test with errors.Is.
var (
	// ErrPrecondition is returned by Replace when the object's ETag is no longer
	// the one the caller read: someone else wrote it first.
	ErrPrecondition = errors.New("archive: precondition failed")
	// ErrUnavailable wraps every failure to reach the storage service (network,
	// service down, timeouts). The caller may retry. Nothing was written, except
	// when the answer to a write was lost after the service stored it: a retried
	// create then meets its own object, which is why clients send an
	// Idempotency-Key.
	ErrUnavailable = errors.New("archive: storage unavailable")
	// ErrOutcomeUnknown wraps a write that was sent but never answered (a
	// timeout awaiting the answer, a connection dropped after the request):
	// the storage may have done it or not, and may still do it. It is also
	// an ErrUnavailable. A Bucket reports it only when the request may have
	// reached the service; a refused connection is plain ErrUnavailable.
	ErrOutcomeUnknown = fmt.Errorf("%w: the write was sent but not answered; it may or may not have been done", ErrUnavailable)
	// ErrNoSpace is returned when the storage has no room left. Nothing was written.
	ErrNoSpace = errors.New("archive: no space left in storage")
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // opaque; changes whenever the content changes
	LastModified time.Time
}

// Bucket is the small storage interface Sijill's truth lives in: a flat key space
// of immutable-or-CAS objects. Two implementations exist (a local folder and S3);
// both pass archive/buckettest.
//
// Keys are slash-separated, without a leading slash or empty segments, of the
// characters [A-Za-z0-9/._-], and no segment starts with a dot. A key is never
// also the "directory" of another key (no "a" beside "a/b"): Sijill's layout
// never needs it and a folder cannot hold it.
// Every write is all or nothing: a reader never sees a partly written object,
// also after a crash of the writer.
type Bucket interface {
	// Get opens the object for reading. A missing key is fs.ErrNotExist.
	// The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)

	// Stat describes the object without reading it. A missing key is fs.ErrNotExist.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// Create writes the object only if key does not exist yet, atomically with
	// respect to every other writer of the bucket (other processes included).
	// An existing key is fs.ErrExist and leaves the stored object untouched.
	// size is the exact length of r, or -1 when unknown.
	Create(ctx context.Context, key string, r io.Reader, size int64) (ObjectInfo, error)

	// Put writes the object whether or not it exists (last writer wins).
	// size is the exact length of r, or -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64) (ObjectInfo, error)

	// Replace overwrites the object only if its current ETag is etag
	// (compare-and-swap). A changed object is ErrPrecondition; a missing one
	// fs.ErrNotExist.
	Replace(ctx context.Context, key, etag string, r io.Reader, size int64) (ObjectInfo, error)

	// List calls fn for every object whose key starts with prefix, in ascending
	// key order, stopping at the first error fn returns (which List returns).
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error

	// ListFrom is List restricted to the keys that sort after after (all of
	// them when after is ""). Its cost follows what it returns, not what it
	// skips: the change feed is read with it a few times a second.
	ListFrom(ctx context.Context, prefix, after string, fn func(ObjectInfo) error) error

	// Delete removes the object; a missing key is not an error. Sijill never
	// deletes records or blobs; this exists for temporary objects and tests.
	Delete(ctx context.Context, key string) error
}

// ValidKey reports whether key is allowed in a Bucket (see Bucket).
func ValidKey(key string) bool {
	if key == "" || len(key) > 512 {
		return false
	}
	segStart := true
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '/':
			if segStart {
				return false
			}
			segStart = true
			continue
		case c == '.':
			if segStart {
				return false
			}
		case c == '_' || c == '-', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			return false
		}
		segStart = false
	}
	return !segStart
}

// NoSpace marks a local file system's full disk or exhausted quota (ENOSPC,
// EDQUOT) as ErrNoSpace, so that whatever spools, stores or renders through a
// file answers 507 storage_full rather than an internal error.
func NoSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}
