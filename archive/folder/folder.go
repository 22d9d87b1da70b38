// Package folder keeps Sijill's bucket in a local directory: the embedded default,
// so that a secretariat can run Sijill on one machine with nothing else installed.
//
// Every write goes to a temporary file that is synced before it is linked or
// renamed into place, so a crash never leaves a half-written object. Create uses
// link(2), which fails when the name exists, for create-only semantics across
// processes; Replace holds an flock(2) on the key while it compares and renames.
package folder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sijill/sijill/archive"
)

// Bucket is an archive.Bucket in a directory.
type Bucket struct {
	root string
}

var _ archive.Bucket = (*Bucket)(nil)

// Open returns the Bucket in dir, creating the directory when missing.
func Open(dir string) (*Bucket, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	for _, d := range []string{abs, filepath.Join(abs, ".tmp"), filepath.Join(abs, ".locks")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("folder: open %s: %w", dir, mapErr(err))
		}
	}
	return &Bucket{root: abs}, nil
}

// Root is the directory the bucket lives in.
func (b *Bucket) Root() string { return b.root }

func (b *Bucket) path(key string) (string, error) {
	if !archive.ValidKey(key) {
		return "", fmt.Errorf("folder: invalid key %q", key)
	}
	return filepath.Join(b.root, filepath.FromSlash(key)), nil
}

// etag identifies one written version of a file: every write makes a new inode
// (temp file then link or rename), so inode, size and modification time change.
func etag(fi fs.FileInfo) string {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("%x-%x-%x", ino, fi.Size(), fi.ModTime().UnixNano())
}

func (b *Bucket) info(key string, fi fs.FileInfo) archive.ObjectInfo {
	return archive.ObjectInfo{Key: key, Size: fi.Size(), ETag: etag(fi), LastModified: fi.ModTime()}
}

// mapErr turns a full disk into archive.ErrNoSpace so callers can answer 507.
func mapErr(err error) error { return archive.NoSpace(err) }

// notExist reports a path through a file ("a/b" is a file, "a/b/c" asked) as
// missing, as S3 does, rather than as ENOTDIR.
func notExist(err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

// Get implements archive.Bucket.
func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, archive.ObjectInfo, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, archive.ObjectInfo{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, archive.ObjectInfo{}, fmt.Errorf("folder: get %s: %w", key, notExist(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, archive.ObjectInfo{}, fmt.Errorf("folder: get %s: %w", key, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, archive.ObjectInfo{}, fmt.Errorf("folder: get %s: %w", key, fs.ErrNotExist)
	}
	return f, b.info(key, fi), nil
}

// Stat implements archive.Bucket.
func (b *Bucket) Stat(ctx context.Context, key string) (archive.ObjectInfo, error) {
	p, err := b.path(key)
	if err != nil {
		return archive.ObjectInfo{}, err
	}
	fi, err := os.Stat(p)
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: stat %s: %w", key, notExist(err))
	}
	return b.info(key, fi), nil
}

// writeTemp copies r into a synced temporary file and returns its path.
func (b *Bucket) writeTemp(ctx context.Context, r io.Reader, size int64) (string, error) {
	f, err := os.CreateTemp(filepath.Join(b.root, ".tmp"), "w-*")
	if err != nil {
		return "", mapErr(err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", mapErr(err)
	}
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return fail(err)
	}
	if size >= 0 && n != size {
		return fail(fmt.Errorf("short write: %d of %d bytes", n, size))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", mapErr(err)
	}
	// The ETag is inode-size-mtime. Inodes are reused and file systems keep
	// mtime at a coarse tick, so two same-size writes in one tick could get
	// the same ETag and let a stale Replace win. Setting the nanoseconds
	// ourselves makes every write's ETag unique.
	now := time.Now()
	mtime := time.Unix(now.Unix(), mrand.Int64N(1e9))
	if err := os.Chtimes(name, now, mtime); err != nil {
		os.Remove(name)
		return "", mapErr(err)
	}
	return name, nil
}

// ctxReader stops a long copy when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// place moves the synced temp file to key's path with link (create-only) or rename.
func (b *Bucket) place(key, tmp string, createOnly bool) (archive.ObjectInfo, error) {
	defer os.Remove(tmp)
	p, err := b.path(key)
	if err != nil {
		return archive.ObjectInfo{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: %s: %w", key, mapErr(err))
	}
	if createOnly {
		err = os.Link(tmp, p)
	} else {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return archive.ObjectInfo{}, fmt.Errorf("folder: create %s: %w", key, fs.ErrExist)
		}
		return archive.ObjectInfo{}, fmt.Errorf("folder: write %s: %w", key, mapErr(err))
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: sync %s: %w", key, mapErr(err))
	}
	fi, err := os.Stat(p)
	if err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: write %s: %w", key, err)
	}
	return b.info(key, fi), nil
}

// Create implements archive.Bucket with link(2), which refuses an existing name.
func (b *Bucket) Create(ctx context.Context, key string, r io.Reader, size int64) (archive.ObjectInfo, error) {
	p, err := b.path(key)
	if err != nil {
		return archive.ObjectInfo{}, err
	}
	if _, err := os.Lstat(p); err == nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: create %s: %w", key, fs.ErrExist)
	}
	tmp, err := b.writeTemp(ctx, r, size)
	if err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: create %s: %w", key, err)
	}
	return b.place(key, tmp, true)
}

// Put implements archive.Bucket.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64) (archive.ObjectInfo, error) {
	if _, err := b.path(key); err != nil {
		return archive.ObjectInfo{}, err
	}
	tmp, err := b.writeTemp(ctx, r, size)
	if err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: put %s: %w", key, err)
	}
	return b.place(key, tmp, false)
}

// PutFile moves an already written and synced file into place as key, without
// copying it; Store uses it for attachments spooled on the same file system.
// The file is consumed. It reports whether it could move the file; when it could
// not (another file system), the caller falls back to Put.
func (b *Bucket) PutFile(ctx context.Context, key, path string) (archive.ObjectInfo, bool, error) {
	if _, err := b.path(key); err != nil {
		return archive.ObjectInfo{}, false, err
	}
	tmp := filepath.Join(b.root, ".tmp", "m-"+hashKey(key)+"-"+filepath.Base(path))
	if err := os.Rename(path, tmp); err != nil {
		return archive.ObjectInfo{}, false, nil
	}
	info, err := b.place(key, tmp, false)
	return info, true, err
}

// Replace implements archive.Bucket: compare and rename under an exclusive flock
// on the key, so two processes cannot both win. (Put does not take the lock:
// the Store never mixes Put and Replace on one key.)
func (b *Bucket) Replace(ctx context.Context, key, etagWant string, r io.Reader, size int64) (archive.ObjectInfo, error) {
	p, err := b.path(key)
	if err != nil {
		return archive.ObjectInfo{}, err
	}
	tmp, err := b.writeTemp(ctx, r, size)
	if err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("folder: replace %s: %w", key, err)
	}
	unlock, err := b.lock(key)
	if err != nil {
		os.Remove(tmp)
		return archive.ObjectInfo{}, fmt.Errorf("folder: replace %s: %w", key, mapErr(err))
	}
	defer unlock()
	fi, err := os.Stat(p)
	if err != nil {
		os.Remove(tmp)
		return archive.ObjectInfo{}, fmt.Errorf("folder: replace %s: %w", key, err)
	}
	if etag(fi) != etagWant {
		os.Remove(tmp)
		return archive.ObjectInfo{}, fmt.Errorf("folder: replace %s: %w", key, archive.ErrPrecondition)
	}
	return b.place(key, tmp, false)
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

func (b *Bucket) lock(key string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(b.root, ".locks", hashKey(key)), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// List implements archive.Bucket.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(archive.ObjectInfo) error) error {
	return b.ListFrom(ctx, prefix, "", fn)
}

// ListFrom implements archive.Bucket. Keys are gathered and sorted, since the
// order of a directory walk is not the byte order of keys ("a.b" sorts before
// "a/b"); folders whose every key sorts at or before after are not entered.
func (b *Bucket) ListFrom(ctx context.Context, prefix, after string, fn func(archive.ObjectInfo) error) error {
	dir := b.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = filepath.Join(b.root, filepath.FromSlash(prefix[:i]))
	}
	type item struct {
		key string
		fi  fs.FileInfo
	}
	var items []item
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(b.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Every key under key/ sorts before after when after is past
			// key/ without starting with it.
			if sub := key + "/"; p != dir && after > sub && !strings.HasPrefix(after, sub) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, prefix) || key <= after {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		items = append(items, item{key, fi})
		return nil
	})
	if err != nil {
		return fmt.Errorf("folder: list %s: %w", prefix, err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	for _, it := range items {
		if err := fn(b.info(it.key, it.fi)); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements archive.Bucket.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("folder: delete %s: %w", key, err)
	}
	return nil
}
