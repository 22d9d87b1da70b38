package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/s3"
)

// Audit actions of whole-archive copies.
const (
	actionBackup  = "archive.backup"
	actionRestore = "archive.restore"
)

// runBackup copies the archive to a folder or another S3 bucket
// (archive.Backup): incrementally, resumable, every copy read back. It may
// run beside the servers.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "where the backup goes: a folder, or s3://BUCKET (SIJILL_BACKUP_S3_* say which S3 service; the archive's by default)")
	workers := fs.Int("workers", 16, "objects copied at once")
	quiet := fs.Bool("quiet", false, "no progress bar")
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil || *to == "" || *workers < 1 {
		if err == nil {
			fmt.Fprintln(stderr, "sijill backup: --to FOLDER or --to s3://BUCKET is required")
		}
		return exitCode(2)
	}
	logger := newLogger(stderr, max(cfg.LogLevel, slog.LevelWarn))
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	dst, err := openCopyTarget(ctx, *to, cfg, getenv, logger)
	if err != nil {
		return err
	}
	rep, err := copyWithBar(ctx, stderr, *quiet, "backing up", func(progress func(int, int)) (*archive.CopyReport, error) {
		return archive.Backup(ctx, store.Bucket(), dst, archive.CopyOptions{Workers: *workers, Progress: progress})
	})
	if err != nil {
		return fmt.Errorf("backup: %w (run it again: it goes on where it stopped)", err)
	}
	printCopy(stdout, "backup", rep)
	detail := fmt.Sprintf("to=%s objects=%d copied=%d bytes=%d", *to, rep.Objects, rep.Copied, rep.Bytes)
	if err := store.Audit(ctx, archive.Event{Actor: "cli", Action: actionBackup, Detail: detail}); err != nil {
		logger.Error("audit event lost", "action", actionBackup, "err", err)
	}
	return nil
}

// runRestore brings an archive back from a backup into the configured
// storage, which must be empty (or a restore that was interrupted), then
// verifies it. The servers rebuild their search indexes from it.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup: a folder, or s3://BUCKET (SIJILL_BACKUP_S3_* say which S3 service)")
	force := fs.Bool("force", false, "restore into storage that holds other objects: overwrite what differs")
	workers := fs.Int("workers", 16, "objects copied at once")
	quiet := fs.Bool("quiet", false, "no progress bar")
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil || *from == "" || *workers < 1 {
		if err == nil {
			fmt.Fprintln(stderr, "sijill restore: --from FOLDER or --from s3://BUCKET is required")
		}
		return exitCode(2)
	}
	logger := newLogger(stderr, max(cfg.LogLevel, slog.LevelWarn))
	if !strings.HasPrefix(*from, "s3://") {
		if _, err := os.Stat(*from); err != nil {
			return fmt.Errorf("restore: the backup folder: %w", err)
		}
	}
	src, err := openCopyTarget(ctx, *from, cfg, getenv, logger)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	rep, err := copyWithBar(ctx, stderr, *quiet, "restoring", func(progress func(int, int)) (*archive.CopyReport, error) {
		return archive.Restore(ctx, src, store.Bucket(), archive.CopyOptions{Workers: *workers, Progress: progress, Force: *force})
	})
	var conflict *archive.ErrRestoreConflict
	if errors.As(err, &conflict) {
		fmt.Fprintf(stderr, "sijill restore: nothing was written. %v\n", err)
		return exitCode(1)
	}
	if err != nil {
		return fmt.Errorf("restore: %w (run it again: it goes on where it stopped)", err)
	}
	printCopy(stdout, "restore", rep)
	for _, k := range rep.Overwritten {
		fmt.Fprintf(stdout, "overwritten: %s\n", k)
	}
	if err := store.Audit(ctx, archive.Event{Actor: "cli", Action: actionRestore,
		Detail: fmt.Sprintf("from=%s objects=%d copied=%d", *from, rep.Objects, rep.Copied)}); err != nil {
		logger.Error("audit event lost", "action", actionRestore, "err", err)
	}
	fmt.Fprintln(stdout, "verifying the restored archive …")
	vr, err := store.Verify(ctx, "cli", nil)
	if err != nil {
		return fmt.Errorf("verify after restore: %w", err)
	}
	if err := printReport(stdout, vr); err != nil {
		return err
	}
	if !vr.OK() {
		return exitCode(1)
	}
	return nil
}

// openCopyTarget opens the other side of a backup: a folder, or an S3
// bucket named s3://BUCKET on the service SIJILL_BACKUP_S3_ENDPOINT (with
// SIJILL_BACKUP_S3_ACCESS_KEY, _SECRET_KEY, _TLS, _SSE, _SSE_KEY), which
// defaults to the archive's own service and credentials.
func openCopyTarget(ctx context.Context, where string, cfg *Config, getenv func(string) string, logger *slog.Logger) (archive.Bucket, error) {
	name, isS3 := strings.CutPrefix(where, "s3://")
	if !isS3 {
		return folder.Open(where)
	}
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("%q: want s3://BUCKET", where)
	}
	var own s3.Config
	if cfg.S3 != nil {
		own = *cfg.S3
	}
	c := s3.Config{
		Endpoint:  cmp.Or(getenv("SIJILL_BACKUP_S3_ENDPOINT"), own.Endpoint),
		Bucket:    name,
		AccessKey: cmp.Or(getenv("SIJILL_BACKUP_S3_ACCESS_KEY"), own.AccessKey),
		SecretKey: cmp.Or(getenv("SIJILL_BACKUP_S3_SECRET_KEY"), own.SecretKey),
		Region:    own.Region,
		TLS:       own.TLS,
		SSE:       getenv("SIJILL_BACKUP_S3_SSE"),
		SSEKey:    getenv("SIJILL_BACKUP_S3_SSE_KEY"),
		Timeout:   own.Timeout,
	}
	if v := getenv("SIJILL_BACKUP_S3_TLS"); v != "" {
		c.TLS = isTrue(v)
	}
	if c.Endpoint == "" {
		return nil, fmt.Errorf("%s: set SIJILL_BACKUP_S3_ENDPOINT (and its keys) to say which S3 service holds it", where)
	}
	if c.Bucket == own.Bucket && c.Endpoint == own.Endpoint {
		return nil, fmt.Errorf("%s is the archive's own bucket", where)
	}
	return openS3(ctx, c, logger)
}

func copyWithBar(ctx context.Context, stderr io.Writer, quiet bool, name string, run func(progress func(int, int)) (*archive.CopyReport, error)) (*archive.CopyReport, error) {
	var bar *progressBar
	progress := func(int, int) {}
	if !quiet {
		bar = newProgressBar(ctx, stderr, name, "objects")
		progress = bar.set
	}
	rep, err := run(progress)
	if bar != nil {
		bar.finish(err == nil)
	}
	return rep, err
}

func printCopy(w io.Writer, what string, rep *archive.CopyReport) {
	took := rep.Finished.Sub(rep.Started)
	fmt.Fprintf(w, "%s: %d objects: %d copied (%.1f MB, each read back and its SHA-256 compared), %d already there",
		what, rep.Objects, rep.Copied, float64(rep.Bytes)/(1<<20), rep.Unchanged)
	if rep.Vanished > 0 {
		fmt.Fprintf(w, ", %d temporary objects gone meanwhile", rep.Vanished)
	}
	fmt.Fprintf(w, "; %s", took.Round(time.Millisecond))
	if s := took.Seconds(); s > 0 && rep.Copied > 0 {
		fmt.Fprintf(w, " (%.0f objects/s, %.1f MB/s)", float64(rep.Copied)/s, float64(rep.Bytes)/(1<<20)/s)
	}
	fmt.Fprintln(w)
}
