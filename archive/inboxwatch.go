package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// InboxWatcher brings into the scan inbox what a network scanner leaves: the
// files in a folder (an SMB or FTP share the scanner writes to, under
// --data by default) and the objects under InboxDropPrefix of the bucket
// (a scanner or a script that speaks S3). Each file is stored and filed as
// an item before its original is removed, so a crash in between leaves the
// original to be taken again, and the item, named by where it came from,
// is not made twice. Several processes may watch the same folder or bucket.
type InboxWatcher struct {
	Store *Store
	// Dir is the watched folder ("" for none). A file is taken once its
	// size and time have not changed between two looks, so one the scanner
	// is still writing is left alone; names starting with a dot or ending
	// in .part, .tmp or ~ are never taken. A file Sijill refuses (its type,
	// its size) is moved to Dir/refused.
	Dir string
	// Every is the time between two looks (default 5 s).
	Every time.Duration
	// MaxSize is the largest file taken, as for an upload.
	MaxSize int64
	// Added is called with the files filed, to queue their text.
	Added func(ctx context.Context, files []Attachment)
	Log   *slog.Logger

	seen    map[string]fileState // the folder at the last look
	refused map[string]bool      // drop objects that could not be taken, said once
}

type fileState struct {
	size int64
	mod  time.Time
}

// inboxActor is the audit trail's name for the scanner.
const inboxActor = "scanner"

// Run looks at the folder and the drop prefix until ctx ends.
func (w *InboxWatcher) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Dir != "" {
		if err := os.MkdirAll(w.Dir, 0o770); err != nil {
			w.Log.Error("scan inbox: the watched folder cannot be made", "dir", w.Dir, "err", err)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		w.Look(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Look takes what is ready in the folder and the drop prefix, once.
func (w *InboxWatcher) Look(ctx context.Context) {
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Dir != "" {
		w.lookFolder(ctx)
	}
	w.lookDrop(ctx)
}

func skipName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp") ||
		strings.HasSuffix(name, "~")
}

func (w *InboxWatcher) lookFolder(ctx context.Context) {
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.Log.Warn("scan inbox: the watched folder cannot be read", "dir", w.Dir, "err", err)
		}
		return
	}
	now := map[string]fileState{}
	for _, e := range entries {
		if !e.Type().IsRegular() || skipName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		st := fileState{info.Size(), info.ModTime()}
		now[e.Name()] = st
		if prev, ok := w.seen[e.Name()]; !ok || prev != st || st.size == 0 {
			continue // new or still growing: look again next time
		}
		if ctx.Err() != nil {
			return
		}
		w.takeFile(ctx, e.Name())
		delete(now, e.Name())
	}
	w.seen = now
}

func (w *InboxWatcher) takeFile(ctx context.Context, name string) {
	p := filepath.Join(w.Dir, name)
	f, err := os.Open(p)
	if err != nil {
		return // taken by another watcher meanwhile
	}
	a, err := w.Store.PutBlob(ctx, f, name, w.MaxSize)
	f.Close()
	if err == nil {
		_, _, err = w.Store.AddToInbox(ctx, inboxActor, "", InboxIDFor("folder:"+name+":"+a.SHA256), InboxFolder, name, a)
	}
	switch code := ErrorCode(err); {
	case err == nil:
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.Log.Error("scan inbox: a file filed cannot be removed from the watched folder; it would be filed again", "file", p, "err", err)
			return
		}
		w.Log.Info("scan inbox: a file came from the watched folder", "file", name, "sha256", a.SHA256)
		if w.Added != nil {
			w.Added(ctx, []Attachment{a})
		}
	case code == EUNSUPPORTED || code == ETOOLARGE || code == EINVALID:
		dir := filepath.Join(w.Dir, "refused")
		_ = os.MkdirAll(dir, 0o770)
		if err2 := os.Rename(p, filepath.Join(dir, name)); err2 != nil {
			w.Log.Error("scan inbox: a refused file cannot be moved aside", "file", p, "err", err2)
		}
		w.Log.Warn("scan inbox: a file in the watched folder was refused and moved to refused/", "file", name, "err", err)
	default:
		w.Log.Error("scan inbox: a file in the watched folder could not be stored; it is tried again", "file", name, "err", err)
	}
}

func (w *InboxWatcher) lookDrop(ctx context.Context) {
	var keys []ObjectInfo
	err := w.Store.bucket.List(ctx, InboxDropPrefix, func(o ObjectInfo) error {
		keys = append(keys, o)
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			w.Log.Warn("scan inbox: the drop prefix cannot be listed", "prefix", InboxDropPrefix, "err", err)
		}
		return
	}
	for _, o := range keys {
		if ctx.Err() != nil {
			return
		}
		if err := w.takeObject(ctx, o); err != nil {
			if w.refused == nil {
				w.refused = map[string]bool{}
			}
			if !w.refused[o.Key] {
				w.refused[o.Key] = true
				w.Log.Error("scan inbox: a file under the drop prefix could not be filed", "key", o.Key, "err", err)
			}
		}
	}
}

func (w *InboxWatcher) takeObject(ctx context.Context, o ObjectInfo) error {
	name := path.Base(o.Key)
	rc, _, err := w.Store.bucket.Get(ctx, o.Key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // taken by another process
	}
	if err != nil {
		return err
	}
	a, err := w.Store.PutBlob(ctx, rc, name, w.MaxSize)
	rc.Close()
	if err == nil {
		_, _, err = w.Store.AddToInbox(ctx, inboxActor, "", InboxIDFor("bucket:"+o.Key+":"+o.ETag), InboxBucket, o.Key, a)
	}
	switch code := ErrorCode(err); {
	case err == nil:
		if err := w.Store.bucket.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("filed, but not removed from the drop prefix: %w", err)
		}
		w.Log.Info("scan inbox: a file came from the drop prefix", "key", o.Key, "sha256", a.SHA256)
		if w.Added != nil {
			w.Added(ctx, []Attachment{a})
		}
		return nil
	case code == EUNSUPPORTED || code == ETOOLARGE || code == EINVALID:
		return fmt.Errorf("refused, left where it is: %w", err)
	}
	return err
}
