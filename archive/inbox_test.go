package archive_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sijill/sijill/archive"
)

// pngScan is a tiny valid PNG: what a scanner leaves, as far as the inbox
// cares (its type is judged by its bytes).
var pngScan = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc\xf8\x0f\x00\x01\x01\x01\x00\x18\xdd\x8d\xb4\x00\x00\x00\x00IEND\xaeB`\x82")

// TestInboxWatcher: a file in the watched folder is filed once it stopped
// growing, and removed; a file Sijill refuses is moved aside; an object
// under the drop prefix is filed and removed; two watchers of one folder
// make one item of one file; every filing is audited.
func TestInboxWatcher(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, t.TempDir(), archive.Options{})
	dir := t.TempDir()
	var added []archive.Attachment
	w := &archive.InboxWatcher{Store: s, Dir: dir, MaxSize: 1 << 20,
		Added: func(_ context.Context, files []archive.Attachment) { added = append(added, files...) }}
	other := &archive.InboxWatcher{Store: s, Dir: dir, MaxSize: 1 << 20}

	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("مسح 001.png", pngScan)
	write("notes.txt", []byte("not a scan"))
	write("half.png.part", pngScan)
	w.Look(ctx)
	other.Look(ctx)
	if items, _ := s.InboxItems(ctx); len(items) != 0 {
		t.Fatalf("a file seen once was filed (it may still be growing): %d items", len(items))
	}
	w.Look(ctx)
	other.Look(ctx)
	items, err := s.InboxItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].File.Name != "مسح 001.png" || items[0].Source != archive.InboxFolder || items[0].File.ContentType != "image/png" {
		t.Fatalf("after two looks by two watchers: %+v, want the one scan once", items)
	}
	if len(added) != 1 || added[0].SHA256 != items[0].File.SHA256 {
		t.Errorf("the text of the filed scan was not queued: %+v", added)
	}
	if _, err := os.Stat(filepath.Join(dir, "مسح 001.png")); !os.IsNotExist(err) {
		t.Errorf("the filed scan is still in the folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "refused", "notes.txt")); err != nil {
		t.Errorf("the refused file was not moved to refused/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "half.png.part")); err != nil {
		t.Errorf("a file still being written (.part) was touched: %v", err)
	}

	// A scanner that speaks S3 leaves its file under the drop prefix.
	if _, err := s.Bucket().Put(ctx, archive.InboxDropPrefix+"scan-0002.png", bytes.NewReader(append(pngScan, 0)), int64(len(pngScan)+1)); err != nil {
		t.Fatal(err)
	}
	w.Look(ctx)
	items, _ = s.InboxItems(ctx)
	if len(items) != 2 || items[1].Source != archive.InboxBucket || items[1].File.Name != "scan-0002.png" {
		t.Fatalf("after a drop: %+v", items)
	}
	if _, err := s.Bucket().Stat(ctx, archive.InboxDropPrefix+"scan-0002.png"); err == nil {
		t.Error("the dropped object is still under the drop prefix")
	}
	evs, err := s.AuditEvents(ctx, archive.AuditFilter{Action: archive.ActionInboxAdd})
	if err != nil || len(evs) != 2 || evs[0].Actor != "scanner" {
		t.Errorf("audit of the filings: %+v %v, want two by the scanner", evs, err)
	}

	// Taking an item out leaves its file stored and says so in the trail.
	if err := s.TakeFromInbox(ctx, "sec", "", archive.ActionInboxDiscard, items[0], "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InboxItem(ctx, items[0].ID); archive.ErrorCode(err) != archive.ENOTFOUND {
		t.Errorf("a discarded item is still there: %v", err)
	}
	if rc, _, err := s.OpenBlob(ctx, items[0].File.SHA256); err != nil {
		t.Errorf("a discarded item's file is gone: %v", err)
	} else {
		rc.Close()
	}
	if evs, _ := s.AuditEvents(ctx, archive.AuditFilter{Action: archive.ActionInboxDiscard}); len(evs) != 1 || evs[0].Actor != "sec" {
		t.Errorf("the discard is not audited: %+v", evs)
	}

	// A restored backup (which never deletes) brings the item's object
	// back: it stays out of the inbox.
	if _, err := s.Bucket().Put(ctx, "inbox/items/"+items[0].ID+".json", bytes.NewReader([]byte(`{"id":"`+items[0].ID+`","file":{"sha256":"`+items[0].File.SHA256+`"}}`)), -1); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.InboxItems(ctx); len(left) != 1 || left[0].ID != items[1].ID {
		t.Errorf("after the discarded item's object came back: %+v, want only the other item", left)
	}
	if n, _ := s.InboxCount(ctx); n != 1 {
		t.Errorf("InboxCount %d after the stale item was seen, want 1", n)
	}
}
