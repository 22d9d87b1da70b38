package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/web"
)

const usage = `usage: sijill <command> [flags]

commands:
  serve     serve the API and the web pages
  user      add|passwd|disable|list accounts
  reindex   rebuild the search index from storage
  verify    check every record, hash chain and file
  print     print a register book: print book --register R --year Y -o FILE
  import    import an existing archive: import --csv FILE --files DIR [--map header=field,...]
  export    a register year as a BagIt bag: export --register R --year Y -o DIR|FILE.zip; export --check BAG
  backup    copy the archive to a folder or another bucket: backup --to DIR|s3://BUCKET
  restore   bring the archive back from a backup into empty storage: restore --from DIR|s3://BUCKET
  keys      keys init: a key and a self-signed certificate to sign the prints with

Run "sijill <command> -h" for the flags of a command.`

// Run runs one subcommand. getenv, stdout and stderr are parameters so tests
// run the real program in-process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitCode(2)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		return runUser(ctx, args[1:], getenv, stdout, stderr)
	case "print":
		return runPrint(ctx, args[1:], getenv, stdout, stderr)
	case "reindex":
		return runReindex(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr)
	case "export":
		return runExport(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "sijill: unknown command %q\n\n%s\n", args[0], usage)
	return exitCode(2)
}

// Main is a running Sijill: its storage, store and server. Tests start one on
// port 0 in a temporary directory.
type Main struct {
	Config *Config
	Logger *slog.Logger
	Store  *archive.Store
	Index  *index.Index
	Server *web.Server
	// Extract reads the text of attachments in the background.
	Extract *extract.Pool

	stopInstance func()             // ends this process's heartbeat
	cancel       context.CancelFunc // stops following the bucket and the scheduled verification
	followed     chan struct{}      // closed when following has stopped
	watched      chan struct{}      // closed when the scan inbox's watcher has stopped
	// verifyDone is closed when the scheduled verification has stopped.
	verifyDone chan struct{}
}

// openStore opens the bucket the configuration names and the Store over it.
func openStore(ctx context.Context, cfg *Config, logger *slog.Logger) (*archive.Store, error) {
	bucket, tmp, err := openBucket(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	opt := archive.Options{Location: cfg.Location, Logger: logger, TempDir: tmp}
	if cfg.S3 != nil && cfg.S3.Timeout > 0 {
		// A write unanswered within the timeout is read back for as long
		// again and half: by then a storage that took it has done it.
		opt.ResolveWait = cfg.S3.Timeout * 3 / 2
	}
	return archive.NewStore(bucket, opt), nil
}

// openBucket opens the archive's bucket (S3 when configured, else the
// local folder under --data) and returns it with the directory for its
// temporary files.
func openBucket(ctx context.Context, cfg *Config, logger *slog.Logger) (archive.Bucket, string, error) {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, "", fmt.Errorf("data directory: %w", err)
	}
	var bucket archive.Bucket
	tmp := filepath.Join(cfg.Data, "tmp")
	if cfg.S3 != nil {
		b, err := openS3(ctx, *cfg.S3, logger)
		if err != nil {
			return nil, "", fmt.Errorf("S3 storage at %s: %w", cfg.S3.Endpoint, err)
		}
		bucket = b
		logger.Info("storage: S3", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket)
	} else {
		dir := filepath.Join(cfg.Data, "bucket")
		b, err := folder.Open(dir)
		if err != nil {
			return nil, "", err
		}
		bucket = b
		tmp = filepath.Join(dir, ".tmp") // same file system: blobs are moved, not copied
		logger.Info("storage: local folder", "dir", dir)
	}
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, "", fmt.Errorf("temporary directory: %w", err)
	}
	return bucket, tmp, nil
}

// openS3 opens the S3 bucket, waiting up to a minute for a storage service
// that is still starting (as when Sijill and MinIO start together).
func openS3(ctx context.Context, cfg s3.Config, logger *slog.Logger) (*s3.Bucket, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := s3.Open(ctx, cfg)
		if err == nil || !errors.Is(err, archive.ErrUnavailable) || time.Now().After(deadline) {
			return b, err
		}
		logger.Warn("S3 storage not reachable yet; retrying", "endpoint", cfg.Endpoint, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Open opens storage, makes sure an admin exists and starts the server.
func (m *Main) Open(ctx context.Context) error {
	// A signing key that cannot be read stops the start: prints would
	// otherwise go out unsigned without anyone noticing.
	signer, err := m.Config.signer()
	if err != nil {
		return err
	}
	// The lexicon that corrects the words OCR doubted (embedded: a failure
	// here is a broken build).
	words, err := index.NewWords()
	if err != nil {
		return err
	}
	store, err := openStore(ctx, m.Config, m.Logger)
	if err != nil {
		return err
	}
	m.Store = store
	created, err := store.EnsureAdmin(ctx, m.Config.AdminPassword)
	if err != nil {
		return err
	}
	if created {
		m.Logger.Info("created the admin account from SIJILL_ADMIN_PASSWORD")
	}
	// The index first: its lock says whether another process already uses
	// this data directory, before anything of this one is announced.
	ix, err := index.Open(filepath.Join(m.Config.Data, "index"), index.Options{Logger: m.Logger, MinFree: m.Config.IndexMinFree})
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	m.Index = ix
	if m.stopInstance, err = startInstance(ctx, store, m.Config.Data, "serve", m.Logger); err != nil {
		ix.Close()
		return err
	}
	removeLeftovers(store.TempDir(), m.Logger)
	store.OnRecordWritten(ix.Hook(store))
	if signer != nil {
		m.Logger.Info("prints are signed", "certificate", signer.Certificate().Subject.String(),
			"expires", signer.Certificate().NotAfter.Format(time.DateOnly))
	}
	m.Server = web.NewServer(web.Config{
		Addr: m.Config.Addr, MaxUploadBytes: int64(m.Config.MaxUploadMB) << 20,
		SecureCookies: m.Config.SecureCookies, Organisation: m.Config.Organisation,
		TrustedProxies: m.Config.TrustedProxies, ProxyHeader: m.Config.ProxyHeader,
		HeaderTimeout: m.Config.HeaderTimeout, BodyIdle: m.Config.BodyIdle, MaxConnsPerIP: m.Config.MaxConnsPerIP,
		Signer: signer, PublicURL: m.Config.PublicURL,
	}, store, m.Logger)
	m.Server.SetIndex(ix)
	m.Extract = extract.New(ctx, store, extract.Options{Workers: m.Config.OCRWorkers, Logger: m.Logger, Tessdata: m.Config.Tessdata,
		Lexicon: words, Reindex: func(ctx context.Context, ids []string) error { return ix.RefreshAll(ctx, store, ids) }})
	m.Server.SetExtractor(m.Extract)
	if t := m.Extract.Tools(); !t.OCR() || !t.Pdftotext || !t.Pdftoppm {
		m.Logger.Warn("text extraction: some tools are missing; files needing them are marked unavailable",
			"tesseract", t.Tesseract, "arabic", t.Arabic, "pdftotext", t.Pdftotext, "pdftoppm", t.Pdftoppm)
	} else if t.ModelNote != "" {
		m.Logger.Warn("text extraction: reading scans with the less accurate Arabic model", "why", t.ModelNote)
	}
	if err := m.Server.Open(); err != nil {
		m.stopInstance()
		ix.Close()
		return err
	}
	if err := m.Extract.Start(ctx); err != nil {
		m.Logger.Error("text extraction: queued files not resumed; restart or run sijill reindex --ocr", "err", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	m.cancel, m.followed = cancel, make(chan struct{})
	go func() {
		defer close(m.followed)
		// A new or outdated index is rebuilt from the bucket while the
		// server answers (/readyz says 503 meanwhile); an existing one is
		// reconciled with it, then kept in step with what every process
		// writes.
		ix.Follow(bg, store, index.FollowOptions{
			Poll: m.Config.FeedPoll, ReconcileEvery: m.Config.ReconcileEvery,
			Expire: func(ctx context.Context) {
				if _, err := store.ExpireChanges(ctx, time.Now().Add(-archive.ChangeRetention)); err != nil {
					m.Logger.Warn("old change feed entries not expired", "err", err)
				}
			},
		})
	}()
	m.verifyDone = make(chan struct{})
	go m.scheduleVerify(bg)
	watcher := &archive.InboxWatcher{Store: store, Dir: m.Config.ScanDir, Every: m.Config.ScanPoll,
		MaxSize: int64(m.Config.MaxUploadMB) << 20, Log: m.Logger,
		Added: func(ctx context.Context, files []archive.Attachment) {
			if err := m.Extract.Enqueue(ctx, "", files); err != nil {
				m.Logger.Error("scan inbox: files filed but their text not queued; run sijill reindex --ocr", "err", err)
			}
		}}
	m.watched = make(chan struct{})
	go func() {
		defer close(m.watched)
		watcher.Run(bg)
	}()
	return nil
}

// startInstance announces this process in the bucket and remembers its name
// in the data directory: a process found there at start is the previous run,
// which ended without saying so (a crash), and is declared gone, so that the
// other processes take its claims over at once.
func startInstance(ctx context.Context, store *archive.Store, data, kind string, logger *slog.Logger) (func(), error) {
	path := filepath.Join(data, "instance")
	if prev, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(prev)); id != "" && id != store.Instance() {
			if err := store.EndInstance(ctx, id); err != nil {
				logger.Warn("the previous run of this data directory is not marked ended; its claims expire instead", "err", err)
			}
		}
	}
	stop, err := store.StartInstance(ctx, kind)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(store.Instance()+"\n"), 0o640); err != nil {
		stop()
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return stop, nil
}

// removeLeftovers removes what a crash left in the temporary folder: uploads
// being received, books being printed. A file still written to (by a
// sijill import beside the server, say) has been touched in the last
// minutes and stays.
func removeLeftovers(dir string, logger *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < 2*time.Minute {
			continue
		}
		if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	if n > 0 {
		logger.Info("removed temporary files an earlier run left behind", "dir", dir, "files", n)
	}
}

// WaitIndexed waits until the index has first caught up with the bucket
// (rebuilt or reconciled).
func (m *Main) WaitIndexed() { <-m.Index.CaughtUp() }

// Close drains requests in flight for up to 30 seconds, then stops.
func (m *Main) Close() error {
	if m.Server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := m.Server.Shutdown(ctx)
	m.Extract.Close() // files being read stay queued for the next start
	m.cancel()
	<-m.followed
	if m.watched != nil {
		<-m.watched
	}
	if m.verifyDone != nil {
		<-m.verifyDone
	}
	m.stopInstance()
	os.Remove(filepath.Join(m.Config.Data, "instance")) // a clean stop: nothing to declare ended next time
	return errors.Join(err, m.Index.Close())
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return exitCode(2)
	}
	logger := newLogger(stderr, cfg.LogLevel)
	m := &Main{Config: cfg, Logger: logger}
	if err := m.Open(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Sijill is serving at %s\nLog in as admin with the password in SIJILL_ADMIN_PASSWORD.\n", m.Server.URL())
	<-ctx.Done()
	logger.Info("shutting down: finishing requests in flight")
	return m.Close()
}
