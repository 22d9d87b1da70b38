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
	processes := fs.Int("processes", 1, "sijill servers sharing the bucket, each with its own index; clients are spread over them")
	outage := fs.String("outage", "", "storage trouble a third of the way in: pause (MinIO stopped for 10 s, requests left unanswered) or kill (MinIO killed, restarted 5 s later); clients then retry as the errors tell them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *processes < 1 {
		return fmt.Errorf("-processes %d: want at least 1", *processes)
	}
	if *outage != "" && *outage != "pause" && *outage != "kill" {
		return fmt.Errorf("-outage %q: want pause or kill", *outage)
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
		mio      *s3test.Server
	)
	switch *storage {
	case "minio":
		srv, stop, err := s3test.StartMain()
		if err != nil {
			return err
		}
		cfg, stopS3, endpoint, mio = srv.Config(s3test.BucketName()), stop, "MinIO "+srv.Endpoint(), srv

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
	if *outage != "" && mio == nil {
		return fmt.Errorf("-outage needs -storage minio")
	}

	password := randomHex(12)
	var servers []*server
	var targets []workload.Server
	for i := range *processes {
		srv, err := startServer(ctx, *bin, filepath.Join(tmp, fmt.Sprintf("data-%d", i+1)), cfg, password, stderr)
		if err != nil {
			return err
		}
		defer srv.stop()
		token, err := workload.Login(ctx, srv.base, "admin", password)
		if err != nil {
			return err
		}
		servers = append(servers, srv)
		targets = append(targets, workload.Server{Base: srv.base, Token: token})
	}

	fmt.Fprintf(stdout, "%d sijill server(s) on %s: %d clients for %s (creates, scan uploads, searches, prints)\n",
		len(servers), endpoint, *clients, *duration)
	opt := workload.Options{Base: targets[0].Base, Token: targets[0].Token, More: targets[1:], Clients: *clients}
	if *outage != "" {
		// Clients retry a 503, a 504 and a 409 "in progress" with the same
		// Idempotency-Key for up to a minute, as the answers tell them to.
		opt.RetryFor = time.Minute
	}
	w := workload.New(opt)
	runCtx, cancel := context.WithTimeout(ctx, *duration)
	troubled := make(chan error, 1)
	go func() { troubled <- storageTrouble(runCtx, mio, *outage, *duration/3, stdout) }()
	w.Run(runCtx)
	cancel()
	if err := <-troubled; err != nil {
		return err
	}
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

	for _, srv := range servers {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(stdout, "the server did not stop cleanly: %v\n", err)
			return errFailed
		}
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

// storageTrouble pauses or kills MinIO after, for a while, unless ctx ends
// first; what does not start is not an error. The storage is always back
// when it returns.
func storageTrouble(ctx context.Context, mio *s3test.Server, kind string, after time.Duration, out io.Writer) error {
	if kind == "" {
		return nil
	}
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(after):
	}
	switch kind {
	case "pause":
		fmt.Fprintln(out, "MinIO paused for 10 s …")
		if err := mio.Pause(); err != nil {
			return err
		}
		time.Sleep(10 * time.Second)
		fmt.Fprintln(out, "MinIO resumed")
		return mio.Resume()
	default:
		fmt.Fprintln(out, "MinIO killed …")
		if err := mio.Kill(); err != nil {
			return err
		}
		time.Sleep(5 * time.Second)
		fmt.Fprintln(out, "MinIO restarted")
		return mio.Start()
	}
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
