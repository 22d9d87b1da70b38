// Package s3test runs a real MinIO server for tests, so the S3 Bucket and everything
// above it are tested against the service they talk to in production, not a mock.
//
// The server binary is $SIJILL_MINIO_BIN, else bin/minio under the module root;
// `make test` builds it there. Each server gets a free loopback port, a fresh data
// directory and random root credentials, and can be stopped and started again on
// the same port and data to test what happens while storage is down.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sijill/sijill/archive/s3"
)

// EnvBinary names the environment variable that points at the MinIO binary.
const EnvBinary = "SIJILL_MINIO_BIN"

// errNoBinary is the message a missing MinIO gives: the fix is always `make test`.
var errNoBinary = errors.New("MinIO server binary not found: run `make test` (it builds bin/minio)")

const (
	readyTimeout = 2 * time.Minute // a loaded two-core machine starts MinIO slowly
	stopTimeout  = 10 * time.Second
)

// Server is one running (or stopped) MinIO process. Its methods are safe for
// concurrent use.
type Server struct {
	bin    string
	dir    string // data directory, kept across Stop and Start
	addr   string // 127.0.0.1:port, kept across Stop and Start
	user   string
	secret string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done <-chan struct{} // closed when cmd has exited
	log  *syncBuffer
}

// Start starts a MinIO server for one test and stops it and removes its data
// when the test ends. A missing binary fails the test, pointing at `make test`.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := startNew(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping MinIO: %v", err)
		}
	})
	return s
}

// StartMain starts a MinIO server to be shared by all tests of a package, from
// TestMain, where no *testing.T exists yet; startup costs a second or two. The
// returned function stops the server and removes its data.
//
//	func TestMain(m *testing.M) {
//		srv, stop, err := s3test.StartMain()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		server = srv
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
func StartMain() (*Server, func(), error) {
	bin, err := Binary()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "sijill-minio-*")
	if err != nil {
		return nil, nil, fmt.Errorf("s3test: data directory: %w", err)
	}
	s, err := startNew(bin, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		s.Stop()
		os.RemoveAll(dir)
	}
	return s, stop, nil
}

// Binary returns the path of the MinIO server binary: $SIJILL_MINIO_BIN, else
// bin/minio under the module root.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w (%s=%s: %v)", errNoBinary, EnvBinary, p, err)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w (%v)", errNoBinary, err)
	}
	p := filepath.Join(root, "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w (looked for %s and $%s)", errNoBinary, p, EnvBinary)
	}
	return p, nil
}

// moduleRoot walks up from the working directory (a test runs in its package's
// directory) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// startNew starts a server on a fresh port, trying another port if the first
// is taken between choosing it and MinIO binding it (tests of several packages
// start servers at the same time).
func startNew(bin, dir string) (*Server, error) {
	var err error
	for i := range 3 {
		var s *Server
		// A fresh data directory each time: a failed attempt may have
		// initialised one with its own credentials.
		if s, err = newServer(bin, filepath.Join(dir, fmt.Sprintf("data%d", i))); err != nil {
			return nil, err
		}
		if err = s.Start(); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func newServer(bin, dir string) (*Server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	return &Server{
		bin:    bin,
		dir:    dir,
		addr:   addr,
		user:   "sijill-" + randomHex(6),
		secret: randomHex(20),
	}, nil
}

// freePort asks the kernel for an unused loopback port.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("s3test: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// BucketName returns a fresh bucket name that is plainly a test bucket.
func BucketName() string { return "sijill-test-" + randomHex(6) }

// Endpoint is the server's host:port.
func (s *Server) Endpoint() string { return s.addr }

// Config is the s3.Config that reaches bucket on this server with its root
// credentials.
func (s *Server) Config(bucket string) s3.Config {
	return s3.Config{
		Endpoint:  s.addr,
		Bucket:    bucket,
		AccessKey: s.user,
		SecretKey: s.secret,
		Region:    "us-east-1",
	}
}

// Start starts the server (again) on its port and data directory and waits
// until it answers its health check. Starting a running server does nothing.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	log := &syncBuffer{}
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.addr, s.dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.user,
		"MINIO_ROOT_PASSWORD="+s.secret,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	cmd.Stdout = log
	cmd.Stderr = log
	done, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("s3test: starting %s: %w", s.bin, err)
	}
	if err := waitReady(s.addr, s.user, s.secret, done); err != nil {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("s3test: MinIO on %s: %w\n%s", s.addr, err, log.String())
	}
	s.cmd, s.done, s.log = cmd, done, log
	return nil
}

// waitReady polls until MinIO serves a signed S3 request, the process
// exits, or readyTimeout passes. Its /minio/health/ready answers 200 a moment
// before the object layer is up (requests then get 503
// XMinioServerNotInitialized, seen on a loaded machine), so readiness is a
// request that needs the object layer: listing the buckets.
func waitReady(addr, user, secret string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	url := "http://" + addr + "/minio/health/ready"
	s3c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(user, secret, "")})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && objectLayerUp(s3c) {
				select {
				case <-exited:
					// Another server answered on the port ours failed to bind.
					return errors.New("the server exited during startup")
				default:
					return nil
				}
			}
		}
		select {
		case <-exited:
			return errors.New("the server exited during startup")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", readyTimeout)
		}
	}
}

func objectLayerUp(c *minio.Client) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.ListBuckets(ctx)
	return err == nil
}

// Stop stops the server (SIGTERM, then SIGKILL after a grace period), keeping its
// data for a later Start. Stopping a stopped server does nothing.
func (s *Server) Stop() error { return s.stop(syscall.SIGTERM) }

// Kill kills the server with SIGKILL, as a crash would, keeping its data for a
// later Start. Killing a stopped server does nothing.
func (s *Server) Kill() error { return s.stop(syscall.SIGKILL) }

// Pause stops the server's process (SIGSTOP) without closing its
// connections: requests sent to it wait unanswered, as on a hung disk or a
// stalled network, until Resume.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT); what it was sent is answered.
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("s3test: the server is not running")
	}
	return s.cmd.Process.Signal(sig)
}

func (s *Server) stop(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		cmd.Process.Kill()
		<-done
	}
	// Wait until the port is free again so an immediate Start can bind it.
	deadline := time.Now().Add(stopTimeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
		if err != nil {
			return nil
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("s3test: %s still accepts connections after stop", s.addr)
}

// Log returns what the server printed since its last Start, for failure messages.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// Ping reports whether the server answers its liveness check now.
func (s *Server) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+"/minio/health/live", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("s3test: health check: %s", resp.Status)
	}
	return nil
}

// syncBuffer collects the server's output from its two pipes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; do not grow without bound
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
