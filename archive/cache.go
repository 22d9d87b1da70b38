package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
)

// jsonCache keeps decoded objects by key with the ETag they were read at, so
// that a listing, which gives every object's ETag, is enough to know which
// ones must be read again. The follow-up lists (shown on every visit of the
// dashboard) read a follow-up and a decision per entry without it: 1.3 s for
// 1,000 follow-ups on MinIO.
//
// Values are shared between callers, who must not change them.
type jsonCache[T any] struct {
	mu sync.Mutex
	m  map[string]cachedJSON[T]
}

type cachedJSON[T any] struct {
	etag string
	v    *T
}

// jsonCacheMax bounds a cache (decisions are a few KB, at most 1 MB of
// text); past it the cache starts again empty, which costs reads, not
// correctness.
const jsonCacheMax = 20_000

// read returns the object at key as of etag (from a listing): the cached one
// if it was read at that ETag, else read now.
func (c *jsonCache[T]) read(ctx context.Context, s *Store, key, etag string) (*T, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.etag == etag && etag != "" {
		return e.v, nil
	}
	v := new(T)
	got, err := s.readJSON(ctx, key, v)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= jsonCacheMax {
		c.m = map[string]cachedJSON[T]{}
	}
	c.m[key] = cachedJSON[T]{etag: got, v: v}
	c.mu.Unlock()
	return v, nil
}

// listETags lists the objects under prefix with their ETags.
func (s *Store) listETags(ctx context.Context, prefix string) (map[string]string, error) {
	etags := map[string]string{}
	err := s.bucket.List(ctx, prefix, func(o ObjectInfo) error {
		etags[o.Key] = o.ETag
		return nil
	})
	return etags, err
}

// GetMany returns the records named by ids that exist, by ID, for lists
// that show many records at once. It lists each register and year they are
// in (one listing per thousand records) and reads only the records that
// changed since this Store last read them. The records are shared: callers
// must not change them.
func (s *Store) GetMany(ctx context.Context, ids []string) (map[string]*Record, error) {
	type place struct {
		reg  Register
		year int
	}
	byPlace := map[place][]string{}
	for _, id := range ids {
		reg, year, num, err := ParseRecordID(id)
		if err != nil {
			return nil, err
		}
		p := place{reg, year}
		byPlace[p] = append(byPlace[p], recordKey(reg, year, num))
	}
	out := make(map[string]*Record, len(ids))
	for p, keys := range byPlace {
		etags, err := s.listETags(ctx, fmt.Sprintf("records/%s/%d/", p.reg, p.year))
		if err != nil {
			return nil, storageErr("list records", err)
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			etag, ok := etags[k]
			if !ok {
				continue
			}
			rec, err := s.records.read(ctx, s, k, etag)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, storageErr("read record", err)
			}
			out[rec.ID] = rec
		}
	}
	return out, nil
}
