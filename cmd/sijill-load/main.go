// Command sijill-load is the load harness: it starts a real MinIO and a real
// sijill server on loopback, lets twenty clients register letters, attach
// scanned pages, search and print at once for a bounded time, prints throughput
// and p50/p99 latency per operation, and then checks the archive: every
// acknowledged create stored exactly once, numbers gapless per register and
// year, every acknowledged upload reading back with its SHA-256, and the search
// index counting as many records as the bucket.
//
//	go run ./cmd/sijill-load [-duration 60s] [-clients 20]
//
// `make load` runs it. It needs the MinIO server binary ($SIJILL_MINIO_BIN or
// bin/minio, which `make deps` builds) and the go tool to build sijill.
// With -storage versitygw it runs on the Versity S3 Gateway ($SIJILL_VERSITYGW_BIN
// or bin/versitygw) instead. It exits 1 if the check finds a problem or any
// operation failed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
	"github.com/sijill/sijill/cmd/sijill-load/workload"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sijill-load:", err)
		os.Exit(1)
	}
}

// errFailed is a run that worked but found problems; they are already printed.
var errFailed = errors.New("the archive check or the load failed")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sijill-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 60*time.Second, "how long the clients work")
	clients := fs.Int("clients", 20, "clients working at once")
	bin := fs.String("sijill", "", "sijill binary to run (default: go build ./cmd/sijill)")
	storage := fs.String("storage", "minio", "the S3 service under the server: minio or versitygw (POSIX back end)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "sijill-load-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if *bin == "" {
		*bin = filepath.Join(tmp, "sijill")
		fmt.Fprintln(stdout, "building sijill …")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", *bin, "github.com/sijill/sijill/cmd/sijill").CombinedOutput(); err != nil {
			return fmt.Errorf("building sijill: %w\n%s", err, out)
		}
	}
	var (
		cfg      s3.Config
		stopS3   func()
		endpoint string
	)
	switch *storage {
	case "minio":
		srv, stop, err := s3test.StartMain()
		if err != nil {
			return err
		}
		cfg, stopS3, endpoint = srv.Config(s3test.BucketName()), stop, "MinIO "+srv.Endpoint()
	case "versitygw":
		gw, stop, err := s3test.StartVersityGWMain()
		if err != nil {
			return err
		}
		cfg, stopS3, endpoint = gw.Config(s3test.BucketName()), stop, "versitygw "+gw.Endpoint()
	default:
		return fmt.Errorf("-storage %q: want minio or versitygw", *storage)
	}
	defer stopS3()

	password := randomHex(12)
	srv, err := startServer(ctx, *bin, filepath.Join(tmp, "data"), cfg, password, stderr)
	if err != nil {
		return err
	}
	defer srv.stop()
	token, err := workload.Login(ctx, srv.base, "admin", password)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "sijill %s on %s: %d clients for %s (creates, scan uploads, searches, prints)\n",
		srv.base, endpoint, *clients, *duration)
	w := workload.New(workload.Options{Base: srv.base, Token: token, Clients: *clients})
	runCtx, cancel := context.WithTimeout(ctx, *duration)
	w.Run(runCtx)
	cancel()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	reports := w.Report()
	fmt.Fprint(stdout, workload.FormatReport(reports, w.Elapsed()))

	bucket, err := s3.Open(ctx, cfg)
	if err != nil {
		return err
	}
	store := archive.NewStore(bucket, archive.Options{TempDir: tmp, Logger: slog.New(slog.DiscardHandler)})
	started := time.Now()
	res, err := w.Check(ctx, store)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s)\n", res, time.Since(started).Round(time.Millisecond))

	if err := srv.stop(); err != nil {
		fmt.Fprintf(stdout, "the server did not stop cleanly: %v\n", err)
		return errFailed
	}
	failed := !res.OK()
	for _, r := range reports {
		if r.ErrorCount() > 0 {
			fmt.Fprintf(stdout, "%d %s operations failed\n", r.ErrorCount(), r.Op)
			failed = true
		}
	}
	if failed {
		return errFailed
	}
	return nil
}

// server is a sijill serve process.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

func startServer(ctx context.Context, bin, data string, cfg s3.Config, password string, stderr io.Writer) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(),
		"SIJILL_ADMIN_PASSWORD="+password,
		"SIJILL_S3_ENDPOINT="+cfg.Endpoint, "SIJILL_S3_BUCKET="+cfg.Bucket,
		"SIJILL_S3_ACCESS_KEY="+cfg.AccessKey, "SIJILL_S3_SECRET_KEY="+cfg.SecretKey,
	)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting sijill: %w", err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("sijill exited during start: %v", err)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("sijill did not become ready in 30 s")
		}
	}
}

// stop sends SIGTERM and waits for the graceful shutdown; it reports a
// non-zero exit. Stopping twice is harmless.
func (s *server) stop() error {
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-s.done:
	case <-time.After(40 * time.Second):
		s.cmd.Process.Kill()
		err = fmt.Errorf("still running 40 s after SIGTERM: %v", <-s.done)
	}
	s.cmd = nil
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
