package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/archivetest"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
)

// sijillCmd is the real program with env added to the environment.
func sijillCmd(env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(sijillBin, args...)
	cmd.Env = append(os.Environ(), "SIJILL_S3_ENDPOINT=")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// runSijill runs the program to its end and returns its output and status.
func runSijill(t *testing.T, env map[string]string, args ...string) (string, int) {
	t.Helper()
	cmd := sijillCmd(env, args...)
	var out, logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &logs
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		t.Logf("sijill %s exited %d:\n%s%s", args[0], ee.ExitCode(), out.String(), logs.String())
		return out.String() + logs.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("sijill %s: %v", args[0], err)
	}
	return out.String(), 0
}

// killPartWay starts the program and kills it (SIGKILL) once written says
// it has written at least n objects, and fails if it ended before.
func killPartWay(t *testing.T, cmd *exec.Cmd, n int, written func() int) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		select {
		case <-exited:
			t.Fatalf("%s ended before it could be killed part way (%d objects written):\n%s", cmd.Args[1], written(), out.String())
		default:
		}
		if written() >= n {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%s wrote fewer than %d objects in two minutes:\n%s", cmd.Args[1], n, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
}

func count(t *testing.T, b archive.Bucket) int {
	n := 0
	b.List(context.Background(), "", func(archive.ObjectInfo) error { n++; return nil })
	return n
}

var copiedLine = regexp.MustCompile(`(\d+) objects: (\d+) copied .*, (\d+) already there`)

// copied reads what a backup or restore said it did.
func copied(t *testing.T, out string) (objects, copied, unchanged int) {
	t.Helper()
	m := copiedLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in the output:\n%s", out)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	c, _ := strconv.Atoi(m[3])
	return a, b, c
}

// TestBackupAndRestoreOnMinIO: an archive on MinIO with every kind of
// content is backed up to a folder by `sijill backup`, killed part way and
// run again; more work is backed up incrementally; a restore over an archive
// that went on is refused; a restore into an empty bucket, killed part way
// and run again, gives back the same archive object by object, verified; and
// a server on it finds every record and lets its users in.
func TestBackupAndRestoreOnMinIO(t *testing.T) {
	ctx := context.Background()
	cfg := minio.Config(s3test.BucketName())
	store := openS3Store(t, cfg)
	archivetest.Busy(t, store, 300)
	env := s3Env(cfg)
	backupDir := t.TempDir()
	backup, err := folder.Open(backupDir)
	if err != nil {
		t.Fatal(err)
	}

	// A first backup killed part way leaves whole objects only; run again it
	// goes on from there.
	killPartWay(t, sijillCmd(env, "backup", "--to", backupDir, "--quiet", "--workers", "1"), 40, func() int { return count(t, backup) })
	want := archivetest.Contents(t, store.Bucket())
	partial := archivetest.Contents(t, backup)
	for k, sum := range partial {
		if want[k] != sum {
			t.Errorf("the killed backup left %s other than the archive's", k)
		}
	}
	out, code := runSijill(t, env, "backup", "--to", backupDir, "--quiet")
	if code != 0 {
		t.Fatalf("backup run again: exit %d", code)
	}
	if _, _, unchanged := copied(t, out); unchanged < len(partial)-1 {
		t.Errorf("the backup run again copied again what the killed one had copied: %s", out)
	}
	if d := archivetest.Differing(want, archivetest.Contents(t, backup)); len(d) > 0 {
		t.Fatalf("the backup differs from the archive in %d objects: %v", len(d), d)
	}

	// More work, then an incremental backup: only what is new or changed.
	for _, s := range []string{"رسالة بعد النسخة", "رسالة ثانية بعد النسخة"} {
		if _, _, err := store.Create(ctx, "clerk", archive.Outgoing, archive.Fields{Subject: &s}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	rec, etag, err := store.Get(ctx, "incoming-"+strconv.Itoa(time.Now().Year())+"-5")
	if err != nil {
		t.Fatal(err)
	}
	body := "أضيف النص بعد النسخة الأولى"
	if _, _, err := store.Update(ctx, "clerk", rec.ID, etag, archive.Fields{Body: &body}); err != nil {
		t.Fatal(err)
	}
	after := archivetest.Contents(t, store.Bucket())
	changed := archivetest.Differing(want, after)
	out, code = runSijill(t, env, "backup", "--to", backupDir, "--quiet")
	if code != 0 {
		t.Fatalf("incremental backup: exit %d", code)
	}
	if _, n, _ := copied(t, out); n != len(changed) {
		t.Errorf("the incremental backup copied %d objects, want the %d new or changed: %v\n%s", n, len(changed), changed, out)
	}

	// The archive goes on; a restore over it is refused and writes nothing.
	late := "رسالة بعد آخر نسخة"
	if _, _, err := store.Create(ctx, "clerk", archive.Minutes, archive.Fields{Subject: &late}, nil, ""); err != nil {
		t.Fatal(err)
	}
	live := archivetest.Contents(t, store.Bucket())
	out, code = runSijill(t, env, "restore", "--from", backupDir, "--quiet")
	if code != 1 || !strings.Contains(out, "nothing was written") || !strings.Contains(out, "records/minutes/") {
		t.Errorf("restore over a live archive: exit %d, want 1 naming what is not in the backup:\n%s", code, out)
	}
	if d := archivetest.Differing(live, archivetest.Contents(t, store.Bucket())); len(d) > 0 {
		t.Errorf("the refused restore changed %v", d)
	}

	// Into an empty bucket, killed part way, then again.
	target := minio.Config(s3test.BucketName())
	tenv := s3Env(target)
	tb, err := s3.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	killPartWay(t, sijillCmd(tenv, "restore", "--from", backupDir, "--quiet", "--workers", "1"), 40, func() int { return count(t, tb) })
	out, code = runSijill(t, tenv, "restore", "--from", backupDir, "--quiet")
	if code != 0 || !strings.Contains(out, "verifying the restored archive") {
		t.Fatalf("restore run again: exit %d\n%s", code, out)
	}
	restored := archivetest.Contents(t, tb)
	for _, k := range archivetest.Differing(after, restored) {
		// The restore and its verification are in the restored audit trail.
		var ev archive.Event
		if _, inBackup := after[k]; !inBackup && strings.HasPrefix(k, "audit/") {
			rc, _, err := tb.Get(ctx, k)
			if err == nil {
				json.NewDecoder(rc).Decode(&ev)
				rc.Close()
			}
		}
		if ev.Action != actionRestore && ev.Action != archive.ActionVerify {
			t.Errorf("the restored archive differs from the backed-up one in %s", k)
		}
	}

	// A server on the restored archive rebuilds its index and lets its
	// users in.
	p := startProc(t, t.TempDir(), tenv)
	admin := login(t, p.base, "admin", adminPassword)
	for deadline := time.Now().Add(2 * time.Minute); ; {
		resp, _ := admin.raw("GET", "/readyz", nil, "", nil)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server on the restored archive is not ready after two minutes:\n%s", p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var res searchResult
	admin.call("GET", "/api/v1/search?q="+urlQuery("الأرشيف"), nil, nil, &res)
	if res.Total != 300 {
		t.Errorf("a search of the restored archive finds %d of the 300 letters", res.Total)
	}
	login(t, p.base, "amina", "a long enough passphrase 2026")
}
