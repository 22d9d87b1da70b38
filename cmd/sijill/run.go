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

	openMarker string             // data/index.open while the index is open
	cancel     context.CancelFunc // stops a background index rebuild
	rebuilt    chan struct{}      // closed when the background rebuild has ended
	// verifyDone is closed when the scheduled verification has stopped.
	verifyDone chan struct{}
}

// openStore opens the bucket the configuration names and the Store over it.
func openStore(ctx context.Context, cfg *Config, logger *slog.Logger) (*archive.Store, error) {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	var bucket archive.Bucket
	tmp := filepath.Join(cfg.Data, "tmp")
	if cfg.S3 != nil {
		b, err := openS3(ctx, *cfg.S3, logger)
		if err != nil {
			return nil, fmt.Errorf("S3 storage at %s: %w", cfg.S3.Endpoint, err)
		}
		bucket = b
		logger.Info("storage: S3", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket)
	} else {
		dir := filepath.Join(cfg.Data, "bucket")
		b, err := folder.Open(dir)
		if err != nil {
			return nil, err
		}
		bucket = b
		tmp = filepath.Join(dir, ".tmp") // same file system: blobs are moved, not copied
		logger.Info("storage: local folder", "dir", dir)
	}
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	return archive.NewStore(bucket, archive.Options{Location: cfg.Location, Logger: logger, TempDir: tmp}), nil
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
	ix, err := index.Open(filepath.Join(m.Config.Data, "index"), m.Logger)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	m.Index = ix
	// index.open exists while a server has the index open. Found at start, it
	// says the last run ended without closing (a crash, SIGKILL, power loss):
	// writes stored just before may have missed the index, so rebuild it.
	m.openMarker = filepath.Join(m.Config.Data, "index.open")
	_, statErr := os.Stat(m.openMarker)
	crashed := statErr == nil
	if err := os.WriteFile(m.openMarker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o640); err != nil {
		ix.Close()
		return fmt.Errorf("search index marker: %w", err)
	}
	m.Server = web.NewServer(web.Config{
		Addr: m.Config.Addr, MaxUploadBytes: int64(m.Config.MaxUploadMB) << 20,
		SecureCookies: m.Config.SecureCookies, Organisation: m.Config.Organisation,
		TrustedProxies: m.Config.TrustedProxies, ProxyHeader: m.Config.ProxyHeader,
	}, store, m.Logger)
	m.Server.SetIndex(ix)
	m.Extract = extract.New(ctx, store, extract.Options{Workers: m.Config.OCRWorkers, Reindex: m.Server.ReindexRecords, Logger: m.Logger})
	m.Server.SetExtractor(m.Extract)
	if t := m.Extract.Tools(); !t.OCR() || !t.Pdftotext || !t.Pdftoppm {
		m.Logger.Warn("text extraction: some tools are missing; files needing them are marked unavailable",
			"tesseract", t.Tesseract, "arabic", t.Arabic, "pdftotext", t.Pdftotext, "pdftoppm", t.Pdftoppm)
	}
	if err := m.Server.Open(); err != nil {
		ix.Close()
		return err
	}
	if err := m.Extract.Start(ctx); err != nil {
		m.Logger.Error("text extraction: queued files not resumed; restart or run sijill reindex --ocr", "err", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	m.cancel, m.rebuilt = cancel, make(chan struct{})
	go func() {
		defer close(m.rebuilt)
		if crashed {
			m.Logger.Warn("the last run did not shut down cleanly: rebuilding the search index so no write is missing from it")
		} else if !ix.NeedsRebuild() && m.indexInStep(bg, ix) {
			return
		}
		// A new, outdated or incomplete index: rebuild from storage while serving.
		m.Logger.Info("the search index is missing, outdated or incomplete: rebuilding it from storage")
		if err := m.Server.RebuildIndex(bg); err != nil && bg.Err() == nil {
			m.Logger.Error("rebuilding the search index failed; run sijill reindex", "err", err)
		}
	}()
	m.verifyDone = make(chan struct{})
	go m.scheduleVerify(bg)
	return nil
}

// indexInStep reports whether the index counts as many records as storage. A
// crash between a record's write and its indexing (TestKillDuringLoadOnMinIO),
// or another process writing to a shared bucket, leaves records the index
// lacks. A count that cannot be read proves nothing and is taken as in step.
func (m *Main) indexInStep(ctx context.Context, ix *index.Index) bool {
	n, err := ix.Count()
	if err != nil {
		return true
	}
	c, err := m.Store.CountRecords(ctx)
	if err != nil {
		m.Logger.Warn("cannot count the records in storage to check the search index", "err", err)
		return true
	}
	if uint64(c) == n {
		return true
	}
	m.Logger.Warn("the search index and storage count different numbers of records", "index", n, "storage", c)
	return false
}

// WaitIndexed waits until a rebuild started by Open has ended.
func (m *Main) WaitIndexed() { <-m.rebuilt }

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
	<-m.rebuilt
	if m.verifyDone != nil {
		<-m.verifyDone
	}
	cerr := m.Index.Close()
	if cerr == nil {
		os.Remove(m.openMarker) // a clean close: the index holds every write
	}
	if err == nil {
		err = cerr
	}
	return err
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
