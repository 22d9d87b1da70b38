package archive

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"
)

// A backup is a copy of the archive's bucket in another bucket (a folder or
// another S3 bucket), object by object under the same keys, so that a restore
// is the same copy the other way and gives back the same archive: the same
// numbers, record versions, chain heads and audit trail, byte for byte.
//
// What is not copied is what only a running process needs: the change feed,
// heartbeats, leases and sessions (a restored archive does not revive
// anyone's login), nor the inbox's thumbnails, drawn again when asked for.
var ephemeralPrefixes = []string{"changes/", "instances/", "leases/", "tokens/", "thumbs/"}

// backupStateKey holds, in the backup, the version (source ETag) of every
// mutable object it copied, so that the next run copies only what changed.
const backupStateKey = "sijill-backup/state.json"

// immutablePrefixes hold objects that are never rewritten once stored: a
// backup that has one with the same size has it.
var immutablePrefixes = []string{"blobs/", "text/", "history/", "audit/"}

// BackedUp reports whether a backup copies the object at key.
func BackedUp(key string) bool { return !isEphemeral(key) }

func isEphemeral(key string) bool {
	return key == backupStateKey || strings.HasPrefix(key, "sijill-backup/") ||
		slices.ContainsFunc(ephemeralPrefixes, func(p string) bool { return strings.HasPrefix(key, p) })
}

func isImmutable(key string) bool {
	return slices.ContainsFunc(immutablePrefixes, func(p string) bool { return strings.HasPrefix(key, p) })
}

// copyPhase orders a copy so that what a record refers to is in the copy
// before the record: files, texts and kept versions, then the audit trail,
// then everything else, records last.
func copyPhase(key string) int {
	switch {
	case strings.HasPrefix(key, "blobs/"), strings.HasPrefix(key, "text/"):
		return 0
	case strings.HasPrefix(key, "history/"):
		return 1
	case strings.HasPrefix(key, "audit/"):
		return 2
	case strings.HasPrefix(key, "records/"):
		return 4
	}
	return 3
}

// CopyOptions tune Backup and Restore.
type CopyOptions struct {
	// Workers is how many objects are copied at once (default 16).
	Workers int
	// Progress, if set, is told how many objects of how many are done.
	Progress func(done, total int)
	// Force lets Restore write into an archive that holds objects the
	// backup does not have, or has otherwise (see ErrRestoreConflict).
	Force bool
}

// CopyReport says what a Backup or Restore did.
type CopyReport struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Objects is how many objects of the source were looked at.
	Objects int `json:"objects"`
	// Copied objects were written to the destination, Bytes their size;
	// each was read back and its SHA-256 compared with the source's.
	Copied int   `json:"copied"`
	Bytes  int64 `json:"bytes"`
	// Unchanged objects were in the destination already.
	Unchanged int `json:"unchanged"`
	// Vanished objects were listed but gone when read (a temporary object).
	Vanished int `json:"vanished"`
	// Overwritten lists the destination's objects a forced restore
	// replaced.
	Overwritten []string `json:"overwritten,omitempty"`
}

// ErrRestoreConflict is returned by Restore, before anything is written,
// when the target archive holds objects the backup would overwrite or does
// not have: it is another archive, or one that went on after the backup.
type ErrRestoreConflict struct {
	// Differ are objects the backup has otherwise; Extra objects it lacks.
	Differ, Extra []string
}

func (e *ErrRestoreConflict) Error() string {
	return fmt.Sprintf("archive: the target is not empty: %d objects would be overwritten (%s), %d are not in the backup (%s); restore into an empty bucket, or force it",
		len(e.Differ), sample(e.Differ), len(e.Extra), sample(e.Extra))
}

func sample(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	if len(keys) > 5 {
		return strings.Join(keys[:5], ", ") + ", …"
	}
	return strings.Join(keys, ", ")
}

// Backup copies the archive in src into dst, incrementally: an immutable
// object dst already holds is not copied again, nor a mutable one (a
// record, a user, a follow-up) whose version has not changed since the last
// backup. Nothing is ever deleted from dst: what src loses, the backup
// keeps. A Backup killed half way leaves every object it wrote whole, and
// the next run goes on from there. It may run while servers write to src:
// what is registered meanwhile is in the next backup.
func Backup(ctx context.Context, src, dst Bucket, opt CopyOptions) (*CopyReport, error) {
	c := newCopier(src, dst, opt)
	state := map[string]string{}
	if err := readJSONFrom(ctx, dst, backupStateKey, &state); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("archive: backup state: %w", err)
	}
	objs, err := listCopyable(ctx, src, "source")
	if err != nil {
		return nil, err
	}
	have, err := listSizes(ctx, dst)
	if err != nil {
		return nil, err
	}
	var todo []ObjectInfo
	for _, o := range objs {
		size, ok := have[o.Key]
		switch {
		case ok && size == o.Size && isImmutable(o.Key):
		case ok && size == o.Size && state[o.Key] == o.ETag:
		default:
			todo = append(todo, o)
			continue
		}
		c.rep.Unchanged++
	}
	c.rep.Objects = len(objs)
	c.total = len(objs)
	c.done = c.rep.Unchanged
	var stateMu sync.Mutex
	copied := 0
	saveState := func() error {
		stateMu.Lock()
		b, _ := json.Marshal(state)
		stateMu.Unlock()
		if _, err := dst.Put(ctx, backupStateKey, bytes.NewReader(b), int64(len(b))); err != nil {
			return fmt.Errorf("archive: backup state: %w", err)
		}
		return nil
	}
	onCopied := func(o ObjectInfo) error {
		if isImmutable(o.Key) {
			return nil
		}
		stateMu.Lock()
		state[o.Key] = o.ETag
		copied++
		save := copied%2000 == 0
		stateMu.Unlock()
		if save {
			return saveState() // a killed run need not copy these again
		}
		return nil
	}
	if err := c.copyAll(ctx, todo, onCopied); err != nil {
		return c.rep, err
	}
	// What was stored while the copy ran and that the copied records or
	// their audit trail need: files, texts, kept versions, events.
	for _, p := range immutablePrefixes {
		var late []ObjectInfo
		err := src.List(ctx, p, func(o ObjectInfo) error {
			if _, ok := have[o.Key]; !ok && !c.wrote(o.Key) {
				late = append(late, o)
			}
			return nil
		})
		if err != nil {
			return c.rep, storageErr("backup: list "+p, err)
		}
		c.total += len(late)
		c.rep.Objects += len(late)
		if err := c.copyAll(ctx, late, onCopied); err != nil {
			return c.rep, err
		}
	}
	if err := saveState(); err != nil {
		return c.rep, err
	}
	c.rep.Finished = time.Now().UTC()
	return c.rep, nil
}

// Restore copies a backup made by Backup into dst, the bucket of an archive
// to bring back. dst must be empty, or hold only what the backup holds (a
// restore killed half way: it goes on); else nothing is written and the
// error is an *ErrRestoreConflict, unless opt.Force, which overwrites what
// differs (and keeps what the backup lacks). The restored archive should be
// checked with Verify, and its search index is rebuilt by the servers.
func Restore(ctx context.Context, backup, dst Bucket, opt CopyOptions) (*CopyReport, error) {
	c := newCopier(backup, dst, opt)
	objs, err := listCopyable(ctx, backup, "backup")
	if err != nil {
		return nil, err
	}
	inBackup := make(map[string]ObjectInfo, len(objs))
	for _, o := range objs {
		inBackup[o.Key] = o
	}
	there, err := listCopyable(ctx, dst, "target")
	if err != nil {
		return nil, err
	}
	conflict := &ErrRestoreConflict{}
	present := map[string]bool{}
	for _, o := range there {
		b, ok := inBackup[o.Key]
		switch {
		case !ok:
			conflict.Extra = append(conflict.Extra, o.Key)
			continue
		case b.Size != o.Size:
		default:
			same, err := sameContent(ctx, backup, dst, o.Key)
			if err != nil {
				return nil, err
			}
			if same {
				present[o.Key] = true
				continue
			}
		}
		conflict.Differ = append(conflict.Differ, o.Key)
	}
	if (len(conflict.Differ) > 0 || len(conflict.Extra) > 0) && !opt.Force {
		return nil, conflict
	}
	c.rep.Overwritten = conflict.Differ
	var todo []ObjectInfo
	for _, o := range objs {
		if present[o.Key] {
			c.rep.Unchanged++
			continue
		}
		todo = append(todo, o)
	}
	c.rep.Objects = len(objs)
	c.total = len(objs)
	c.done = c.rep.Unchanged
	if err := c.copyAll(ctx, todo, nil); err != nil {
		return c.rep, err
	}
	c.rep.Finished = time.Now().UTC()
	return c.rep, nil
}

// copier copies objects between two buckets, several at once, each read
// back from the destination and compared by its SHA-256.
type copier struct {
	src, dst Bucket
	opt      CopyOptions
	mu       sync.Mutex
	rep      *CopyReport
	done     int
	total    int
	written  map[string]bool
}

func newCopier(src, dst Bucket, opt CopyOptions) *copier {
	opt.Workers = cmp.Or(opt.Workers, 16)
	return &copier{src: src, dst: dst, opt: opt, rep: &CopyReport{Started: time.Now().UTC()}, written: map[string]bool{}}
}

func (c *copier) wrote(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written[key]
}

// copyAll copies objs phase by phase (see copyPhase), calling then after
// each object copied; it stops at the first failure.
func (c *copier) copyAll(ctx context.Context, objs []ObjectInfo, then func(ObjectInfo) error) error {
	slices.SortStableFunc(objs, func(a, b ObjectInfo) int {
		return cmp.Or(cmp.Compare(copyPhase(a.Key), copyPhase(b.Key)), strings.Compare(a.Key, b.Key))
	})
	for start := 0; start < len(objs); {
		end := start
		for end < len(objs) && copyPhase(objs[end].Key) == copyPhase(objs[start].Key) {
			end++
		}
		if err := c.copyPhase(ctx, objs[start:end], then); err != nil {
			return err
		}
		start = end
	}
	c.progress()
	return nil
}

func (c *copier) copyPhase(ctx context.Context, objs []ObjectInfo, then func(ObjectInfo) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan ObjectInfo)
	var wg sync.WaitGroup
	for range c.opt.Workers {
		wg.Go(func() {
			for o := range work {
				n, err := c.copyOne(ctx, o)
				if errors.Is(err, fs.ErrNotExist) {
					c.mu.Lock()
					c.rep.Vanished++
					c.done++
					c.mu.Unlock()
					continue
				}
				if err == nil && then != nil {
					err = then(o)
				}
				if err != nil {
					cancel(err)
					continue
				}
				c.mu.Lock()
				c.rep.Copied++
				c.rep.Bytes += n
				c.written[o.Key] = true
				c.done++
				c.mu.Unlock()
				c.progress()
			}
		})
	}
	for _, o := range objs {
		select {
		case work <- o:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

func (c *copier) progress() {
	if c.opt.Progress == nil {
		return
	}
	c.mu.Lock()
	done, total := c.done, c.total
	c.mu.Unlock()
	c.opt.Progress(done, total)
}

// copyOne copies the object o, hashing it on the way, then reads the copy
// back and compares. It returns the bytes copied.
func (c *copier) copyOne(ctx context.Context, o ObjectInfo) (int64, error) {
	rc, info, err := c.src.Get(ctx, o.Key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		return 0, storageErr("copy: read "+o.Key, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := c.dst.Put(ctx, o.Key, io.TeeReader(rc, h), info.Size); err != nil {
		return 0, storageErr("copy: write "+o.Key, err)
	}
	want := hex.EncodeToString(h.Sum(nil))
	got, n, err := hashObject(ctx, c.dst, o.Key)
	if err != nil {
		return 0, storageErr("copy: read back "+o.Key, err)
	}
	if got != want {
		return 0, fmt.Errorf("archive: copy of %s reads back with SHA-256 %s, not %s: the destination altered it", o.Key, got, want)
	}
	return n, nil
}

func hashObject(ctx context.Context, b Bucket, key string) (string, int64, error) {
	rc, _, err := b.Get(ctx, key)
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func sameContent(ctx context.Context, a, b Bucket, key string) (bool, error) {
	ha, _, err := hashObject(ctx, a, key)
	if err != nil {
		return false, storageErr("restore: read "+key, err)
	}
	hb, _, err := hashObject(ctx, b, key)
	if err != nil {
		return false, storageErr("restore: read "+key, err)
	}
	return ha == hb, nil
}

// listCopyable lists every object of b a backup holds.
func listCopyable(ctx context.Context, b Bucket, what string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := b.List(ctx, "", func(o ObjectInfo) error {
		if !isEphemeral(o.Key) {
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, storageErr("list the "+what, err)
	}
	return out, nil
}

func listSizes(ctx context.Context, b Bucket) (map[string]int64, error) {
	objs, err := listCopyable(ctx, b, "backup")
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(objs))
	for _, o := range objs {
		out[o.Key] = o.Size
	}
	return out, nil
}

func readJSONFrom(ctx context.Context, b Bucket, key string, v any) error {
	rc, _, err := b.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(io.LimitReader(rc, 256<<20)).Decode(v)
}
