package archive_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/archivetest"
	"github.com/sijill/sijill/archive/folder"
)

func openFolder(t *testing.T, dir string) archive.Bucket {
	t.Helper()
	b, err := folder.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBackupIsIncrementalAndRestoresTheSameArchive: a full backup is the
// archive object by object; a second backup copies only what changed since;
// a restore into empty storage gives back the same archive, which verifies
// with the same chain heads; a restore over another archive is refused
// without writing anything.
func TestBackupIsIncrementalAndRestoresTheSameArchive(t *testing.T) {
	ctx := context.Background()
	srcDir := t.TempDir()
	s := newStore(t, srcDir, archive.Options{})
	recs := archivetest.Busy(t, s, 0)
	src := s.Bucket()
	backup := openFolder(t, t.TempDir())

	rep, err := archive.Backup(ctx, src, backup, archive.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := archivetest.Contents(t, src)
	if d := archivetest.Differing(before, archivetest.Contents(t, backup)); len(d) > 0 {
		t.Fatalf("the backup differs from the archive in %d objects: %v", len(d), d)
	}
	if rep.Copied != len(before) || rep.Unchanged != 0 {
		t.Errorf("first backup: %+v, want all %d objects copied", rep, len(before))
	}
	backup.List(ctx, "tokens/", func(o archive.ObjectInfo) error {
		t.Errorf("a session was backed up: %s", o.Key)
		return nil
	})

	rep, err = archive.Backup(ctx, src, backup, archive.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 0 || rep.Unchanged != len(before) {
		t.Errorf("a second backup with nothing new copied %d objects (%+v)", rep.Copied, rep)
	}

	// More work: a new entry with a scan, an edit, a note on a follow-up.
	create(t, s, archive.Outgoing, "رسالة بعد النسخة الأولى")
	_, etag, _ := s.Get(ctx, recs[2].ID)
	if _, _, err := s.Update(ctx, "clerk", recs[2].ID, etag, archive.Fields{Body: str("نص أضيف بعد النسخة")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddFollowNote(ctx, "clerk", recs[6].ID, "بدأ التنفيذ"); err != nil {
		t.Fatal(err)
	}
	after := archivetest.Contents(t, src)
	changed := archivetest.Differing(before, after)
	rep, err = archive.Backup(ctx, src, backup, archive.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != len(changed) {
		t.Errorf("the incremental backup copied %d objects, want the %d new or changed ones: %v", rep.Copied, len(changed), changed)
	}
	if d := archivetest.Differing(after, archivetest.Contents(t, backup)); len(d) > 0 {
		t.Fatalf("after the incremental backup it differs from the archive in %v", d)
	}

	// A restore over another archive writes nothing.
	other := newStore(t, t.TempDir(), archive.Options{})
	create(t, other, archive.Incoming, "أرشيف آخر")
	otherBefore := archivetest.Contents(t, other.Bucket())
	_, err = archive.Restore(ctx, backup, other.Bucket(), archive.CopyOptions{})
	var conflict *archive.ErrRestoreConflict
	if !errors.As(err, &conflict) || len(conflict.Differ) == 0 {
		t.Fatalf("restore over another archive: %v, want a conflict naming what would be overwritten", err)
	}
	if d := archivetest.Differing(otherBefore, archivetest.Contents(t, other.Bucket())); len(d) > 0 {
		t.Errorf("a refused restore changed %v", d)
	}

	// Into empty storage: the same archive.
	restoredDir := t.TempDir()
	restored := newStore(t, restoredDir, archive.Options{})
	if _, err := archive.Restore(ctx, backup, restored.Bucket(), archive.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if d := archivetest.Differing(after, archivetest.Contents(t, restored.Bucket())); len(d) > 0 {
		t.Fatalf("the restored archive differs in %v", d)
	}
	want, err := s.Verify(ctx, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := restored.Verify(ctx, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.OK() || got.Incomplete != 0 {
		t.Errorf("the restored archive does not verify: %+v", got.Problems)
	}
	if !slices.Equal(got.Books, want.Books) {
		t.Errorf("chain heads after restore:\n%v\nwant\n%v", got.Books, want.Books)
	}
	// The numbering goes on where it was.
	next := create(t, restored, archive.Outgoing, "أول رسالة بعد الاسترجاع")
	if next.Number != 5 {
		t.Errorf("the first entry after the restore got number %d, want 5", next.Number)
	}
	if _, _, err := restored.LookupToken(ctx, "anything"); err == nil {
		t.Error("a token works on the restored archive")
	}
}

// TestInterruptedBackupAndRestoreGoOn: a backup and a restore stopped half
// way (the process killed: here its context) leave whole objects only, and
// run again they end with the same archive.
func TestInterruptedBackupAndRestoreGoOn(t *testing.T) {
	s := newStore(t, t.TempDir(), archive.Options{})
	archivetest.Busy(t, s, 0)
	want := archivetest.Contents(t, s.Bucket())
	backup := openFolder(t, t.TempDir())
	restored := openFolder(t, t.TempDir())
	for _, step := range []struct {
		name string
		run  func(context.Context, archive.CopyOptions) (*archive.CopyReport, error)
		dst  archive.Bucket
	}{
		{"backup", func(ctx context.Context, o archive.CopyOptions) (*archive.CopyReport, error) {
			return archive.Backup(ctx, s.Bucket(), backup, o)
		}, backup},
		{"restore", func(ctx context.Context, o archive.CopyOptions) (*archive.CopyReport, error) {
			return archive.Restore(ctx, backup, restored, o)
		}, restored},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		half := len(want) / 2
		_, err := step.run(ctx, archive.CopyOptions{Workers: 2, Progress: func(done, total int) {
			if done >= half {
				cancel()
			}
		}})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s stopped half way: %v, want it cancelled", step.name, err)
		}
		partial := archivetest.Contents(t, step.dst)
		if len(partial) == 0 || len(partial) >= len(want) {
			t.Fatalf("%s stopped with %d of %d objects: not half way", step.name, len(partial), len(want))
		}
		for k, sum := range partial {
			if want[k] != sum {
				t.Errorf("%s left %s other than the archive's", step.name, k)
			}
		}
		rep, err := step.run(context.Background(), archive.CopyOptions{})
		if err != nil {
			t.Fatalf("%s run again: %v", step.name, err)
		}
		if rep.Unchanged < len(partial)-1 {
			t.Errorf("%s run again copied %d objects again of the %d already there", step.name, len(partial)-rep.Unchanged, len(partial))
		}
		if d := archivetest.Differing(want, archivetest.Contents(t, step.dst)); len(d) > 0 {
			t.Errorf("%s run again differs from the archive in %v", step.name, d)
		}
	}
	if !maps.Equal(archivetest.Contents(t, restored), want) {
		t.Error("the restored archive is not the archive")
	}
}
