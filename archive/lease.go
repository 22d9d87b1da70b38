package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Several Sijill processes share one bucket. Work that must happen once (the
// scheduled fixity check, the text of each file) is claimed through the
// bucket, which decides between processes with its create-only and
// compare-and-swap writes; each process says it is alive with a heartbeat
// object, so a claim of a process that died is taken over at once instead
// of after a long timeout.

// InstanceInfo is the heartbeat of one process, kept at instances/{id}.json.
type InstanceInfo struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // serve, import, reindex, ...
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Renewed time.Time `json:"renewed"`
	// Ended is set by a clean stop, and by the next start on the same data
	// directory after a crash: the process is certainly gone.
	Ended bool `json:"ended,omitempty"`
}

func instanceKey(id string) string { return "instances/" + id + ".json" }

// Heartbeat timing: a process renews its heartbeat every instanceRenew and is
// taken for dead when it has not for instanceTTL (by the reader's clock, so
// the TTL leaves room for clocks that differ by a few seconds).
const (
	instanceRenew = 5 * time.Second
	instanceTTL   = 30 * time.Second
)

// StartInstance announces this Store's process in the bucket and keeps its
// heartbeat until stop is called (which marks it ended) or ctx ends.
func (s *Store) StartInstance(ctx context.Context, kind string) (stop func(), err error) {
	host, _ := os.Hostname()
	now := s.now().UTC()
	info := InstanceInfo{ID: s.instance, Kind: kind, Host: host, PID: os.Getpid(), Started: now, Renewed: now}
	if _, err := s.putJSON(ctx, instanceKey(s.instance), info); err != nil {
		return nil, storageErr("announce this process", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(instanceRenew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				info.Renewed = s.now().UTC()
				if _, err := s.putJSON(ctx, instanceKey(s.instance), info); err != nil && ctx.Err() == nil {
					s.log.Warn("heartbeat not written", "err", err)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			info.Ended, info.Renewed = true, s.now().UTC()
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			if _, err := s.putJSON(sctx, instanceKey(s.instance), info); err != nil {
				s.log.Warn("the end of this process not recorded; its claims expire instead", "err", err)
			}
		})
	}, nil
}

// EndInstance records that the process id is gone: the previous run on the
// same data directory, found at start after a crash.
func (s *Store) EndInstance(ctx context.Context, id string) error {
	var info InstanceInfo
	if _, err := s.readJSON(ctx, instanceKey(id), &info); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return storageErr("read a heartbeat", err)
	}
	if info.Ended {
		return nil
	}
	info.Ended = true
	if _, err := s.putJSON(ctx, instanceKey(id), info); err != nil {
		return storageErr("end a heartbeat", err)
	}
	return nil
}

// Alive reports whether the process id may still be working: its heartbeat
// is fresh and not ended; without a heartbeat, until grace after since.
func (s *Store) Alive(ctx context.Context, id string, since time.Time, grace time.Duration) (bool, error) {
	return s.alive(ctx, id, since, grace)
}

// alive reports whether the process id may still be working: its heartbeat
// is fresh and not ended. This Store is always alive; a process with no
// heartbeat (an older Sijill, a command that keeps none) is taken for alive
// until grace has passed since since.
func (s *Store) alive(ctx context.Context, id string, since time.Time, grace time.Duration) (bool, error) {
	if id == s.instance {
		return true, nil
	}
	var info InstanceInfo
	if _, err := s.readJSON(ctx, instanceKey(id), &info); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return s.now().Sub(since) < grace, nil
		}
		return false, storageErr("read a heartbeat", err)
	}
	return !info.Ended && s.now().Sub(info.Renewed) < instanceTTL, nil
}

// Instances lists the processes that announced themselves, the live ones
// first; heartbeats ended or silent for a day are removed on the way.
func (s *Store) Instances(ctx context.Context) ([]InstanceInfo, error) {
	var out []InstanceInfo
	var stale []string
	err := s.bucket.List(ctx, "instances/", func(o ObjectInfo) error {
		var info InstanceInfo
		if _, err := s.readJSON(ctx, o.Key, &info); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if s.now().Sub(info.Renewed) > 24*time.Hour {
			stale = append(stale, o.Key)
			return nil
		}
		out = append(out, info)
		return nil
	})
	if err != nil {
		return nil, storageErr("list processes", err)
	}
	for _, k := range stale {
		_ = s.bucket.Delete(ctx, k)
	}
	return out, nil
}

// Lease is a claim on work that one process at a time may do, kept at
// leases/{name}.json. It lasts until it expires unless renewed; a lease whose
// holder has died is taken over at once.
type Lease struct {
	s    *Store
	name string
	ttl  time.Duration

	mu   sync.Mutex
	etag string
}

type leaseObject struct {
	Owner    string    `json:"owner"`
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
}

func leaseKey(name string) string { return "leases/" + name + ".json" }

// ErrLeaseHeld is returned by AcquireLease when another live process holds
// the lease; ErrLeaseLost by Renew when the lease was taken over meanwhile.
var (
	ErrLeaseHeld = errors.New("archive: the lease is held by another process")
	ErrLeaseLost = errors.New("archive: the lease was lost")
)

// AcquireLease claims the lease name for ttl.
func (s *Store) AcquireLease(ctx context.Context, name string, ttl time.Duration) (*Lease, error) {
	key := leaseKey(name)
	now := s.now().UTC()
	obj := leaseObject{Owner: s.instance, Acquired: now, Expires: now.Add(ttl)}
	b := marshal(obj)
	info, err := s.bucket.Create(ctx, key, bytes.NewReader(b), int64(len(b)))
	if err == nil {
		return &Lease{s: s, name: name, ttl: ttl, etag: info.ETag}, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, storageErr("claim "+name, err)
	}
	var cur leaseObject
	etag, err := s.readJSON(ctx, key, &cur)
	if err != nil {
		return nil, storageErr("read lease "+name, err)
	}
	if cur.Owner != s.instance && now.Before(cur.Expires) {
		alive, err := s.alive(ctx, cur.Owner, cur.Acquired, ttl)
		if err != nil {
			return nil, err
		}
		if alive {
			return nil, ErrLeaseHeld
		}
	}
	info, err = s.bucket.Replace(ctx, key, etag, bytes.NewReader(b), int64(len(b)))
	if errors.Is(err, ErrPrecondition) {
		return nil, ErrLeaseHeld // another process took it over first
	}
	if err != nil {
		return nil, storageErr("take over lease "+name, err)
	}
	return &Lease{s: s, name: name, ttl: ttl, etag: info.ETag}, nil
}

// Renew extends the lease by its ttl from now.
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.s.now().UTC()
	b := marshal(leaseObject{Owner: l.s.instance, Acquired: now, Expires: now.Add(l.ttl)})
	info, err := l.s.bucket.Replace(ctx, leaseKey(l.name), l.etag, bytes.NewReader(b), int64(len(b)))
	if errors.Is(err, ErrPrecondition) || errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrLeaseLost, l.name)
	}
	if err != nil {
		return storageErr("renew lease "+l.name, err)
	}
	l.etag = info.ETag
	return nil
}

// Release gives the lease up, if it is still held, so another process may
// take it at once.
func (l *Lease) Release(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := marshal(leaseObject{Owner: l.s.instance})
	if _, err := l.s.bucket.Replace(ctx, leaseKey(l.name), l.etag, bytes.NewReader(b), int64(len(b))); err != nil &&
		!errors.Is(err, ErrPrecondition) && !errors.Is(err, fs.ErrNotExist) {
		l.s.log.Warn("lease not released; it expires instead", "lease", l.name, "err", err)
	}
}

// LeaseHeld reports whether a live process holds the lease name now.
func (s *Store) LeaseHeld(ctx context.Context, name string) (bool, error) {
	var cur leaseObject
	if _, err := s.readJSON(ctx, leaseKey(name), &cur); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, storageErr("read lease "+name, err)
	}
	if cur.Owner == "" || !s.now().Before(cur.Expires) {
		return false, nil
	}
	return s.alive(ctx, cur.Owner, cur.Acquired, time.Until(cur.Expires))
}
