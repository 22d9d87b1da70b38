package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// The scan inbox holds the files that came in (a morning's scanned letters,
// dropped on the inbox page or left by a network scanner) and are not yet
// registered. Each file is stored as a blob at once, like an attachment, and
// named by an item at inbox/items/{id}.json: nothing that came in is lost if
// the browser or the server stops before the secretary gets to it. An item
// leaves the inbox when its file is registered as a new entry, attached to an
// entry, split into new items or discarded; its blob stays (content-addressed
// and, once registered, named by the entry), and the audit trail keeps every
// step.

// InboxItem is one file waiting in the inbox.
type InboxItem struct {
	ID   string     `json:"id"`
	File Attachment `json:"file"`
	// Source says how the file came: "upload" (the inbox page or API),
	// "folder" (the watched folder), "bucket" (the bucket's drop prefix) or
	// "split" (a part of another item's scan).
	Source string `json:"source"`
	// Origin is where it came from: the file's path in the watched folder,
	// its key under the drop prefix, or the item it was split from, with
	// its pages.
	Origin string `json:"origin,omitempty"`
}

// Inbox sources.
const (
	InboxUpload = "upload"
	InboxFolder = "folder"
	InboxBucket = "bucket"
	InboxSplit  = "split"
)

// Inbox audit actions: the file came in, and how it left.
const (
	ActionInboxAdd      = "inbox.add"
	ActionInboxRegister = "inbox.register"
	ActionInboxAttach   = "inbox.attach"
	ActionInboxSplit    = "inbox.split"
	ActionInboxDiscard  = "inbox.discard"
)

const inboxPrefix = "inbox/items/"

// InboxDropPrefix is where a network scanner that speaks S3 leaves its
// files; the inbox watcher moves each into the inbox.
const InboxDropPrefix = "inbox/drop/"

func inboxKey(id string) string { return inboxPrefix + id + ".json" }

// inboxDoneKey records how item id left the inbox (InboxDone).
func inboxDoneKey(id string) string { return "inbox/done/" + id + ".json" }

// InboxDone is the record of an item's way out of the inbox, kept for good
// beside the audit trail: a backup copies it, so a restored archive does not
// bring back into the inbox the files registered since the backup before.
type InboxDone struct {
	Item   InboxItem `json:"item"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// validInboxID accepts the IDs this package makes: a ULID or 32 hex digits.
func validInboxID(id string) bool {
	if len(id) != 26 && len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// InboxIDFor derives an item's ID from where its file came from, so that two
// processes watching the same folder or prefix make one item of one file,
// not two (the second Create finds it there).
func InboxIDFor(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:16])
}

// AddToInbox files the stored blob a (as PutBlob returned it) as a new inbox item, with a fresh ID
// when id is "". An item of the same ID already there is returned as it is
// (a second watcher of the same folder, a retried request): existed says so,
// and nothing is written or audited again.
func (s *Store) AddToInbox(ctx context.Context, actor, remote, id, source, origin string, a Attachment) (item *InboxItem, existed bool, err error) {
	now := s.now().UTC()
	if id == "" {
		id = s.newULID(now)
	}
	if !validInboxID(id) {
		return nil, false, Errorf(EINVALID, "invalid inbox item ID %q", id)
	}
	a.AddedAt, a.AddedBy = now, actor
	item = &InboxItem{ID: id, File: a, Source: source, Origin: origin}
	if _, err := s.createJSON(ctx, inboxKey(id), item); err != nil {
		if errors.Is(err, fs.ErrExist) {
			cur, err := s.InboxItem(ctx, id)
			return cur, true, err
		}
		return nil, false, storageErr("file into the inbox", err)
	}
	s.auditBestEffort(ctx, Event{Actor: actor, Action: ActionInboxAdd, Target: "inbox/" + id,
		After: a.SHA256, Detail: strings.TrimSpace(source + " " + a.Name), Remote: remote})
	return item, false, nil
}

// InboxItem returns the item with id; ENOTFOUND if it is not (or no longer)
// in the inbox.
func (s *Store) InboxItem(ctx context.Context, id string) (*InboxItem, error) {
	gone := Errorf(ENOTFOUND, "no inbox item %s: it was registered, attached, split or discarded", id)
	if !validInboxID(id) {
		return nil, gone
	}
	var item InboxItem
	if _, err := s.readJSON(ctx, inboxKey(id), &item); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, gone
		}
		return nil, storageErr("read inbox item", err)
	}
	// An item whose way out is recorded left the inbox: it is back only
	// because a backup (which never deletes) was restored, or because its
	// removal failed after the record of it was written. It goes now.
	if _, err := s.bucket.Stat(ctx, inboxDoneKey(id)); err == nil {
		if err := s.bucket.Delete(ctx, inboxKey(id)); err != nil {
			s.log.Warn("an inbox item taken out earlier could not be removed", "id", id, "err", err)
		}
		return nil, gone
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, storageErr("read inbox item", err)
	}
	return &item, nil
}

// inboxIDs lists the IDs of the items in the inbox, by key.
func (s *Store) inboxIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.bucket.List(ctx, inboxPrefix, func(o ObjectInfo) error {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, inboxPrefix), ".json"); ok && validInboxID(id) {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, storageErr("list the inbox", err)
	}
	return ids, nil
}

// InboxCount is how many files wait in the inbox, without reading them.
func (s *Store) InboxCount(ctx context.Context) (int, error) {
	ids, err := s.inboxIDs(ctx)
	return len(ids), err
}

// InboxItems lists the inbox, oldest first (the order the pile came in).
func (s *Store) InboxItems(ctx context.Context) ([]*InboxItem, error) {
	ids, err := s.inboxIDs(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]*InboxItem, 0, len(ids))
	for _, id := range ids {
		item, err := s.InboxItem(ctx, id)
		if ErrorCode(err) == ENOTFOUND {
			continue // taken out meanwhile
		}
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	slices.SortStableFunc(items, func(a, b *InboxItem) int {
		if c := a.File.AddedAt.Compare(b.File.AddedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return items, nil
}

// TakeFromInbox removes the item id once its file went where action says
// (ActionInboxRegister, ActionInboxAttach with the entry as target; split or
// discard), and audits it. The caller did that first: a crash in between
// leaves the item in the inbox, where it is seen and taken out again (a
// registration from an item is idempotent), never a file that is nowhere.
func (s *Store) TakeFromInbox(ctx context.Context, actor, remote, action string, item *InboxItem, target, detail string) error {
	done := InboxDone{Item: *item, Action: action, Target: target, By: actor, At: s.now().UTC()}
	// A record there already (the item taken out at the same moment by
	// someone else) stands; the item goes all the same.
	if _, err := s.createJSON(ctx, inboxDoneKey(item.ID), done); err != nil && !errors.Is(err, fs.ErrExist) {
		return storageErr("take out of the inbox", err)
	}
	if err := s.bucket.Delete(ctx, inboxKey(item.ID)); err != nil {
		return storageErr("take out of the inbox", err)
	}
	if target == "" {
		target = "inbox/" + item.ID
	}
	s.auditBestEffort(ctx, Event{Actor: actor, Action: action, Target: target, Before: item.File.SHA256,
		Detail: strings.TrimSpace("inbox/" + item.ID + " " + detail), Remote: remote})
	return nil
}

// InboxRegisterKey is the idempotency key of the entry registered from an
// inbox item: two secretaries registering the same item at once, or one
// pressing twice, make one entry.
func InboxRegisterKey(id string) string { return "inbox:" + id }
