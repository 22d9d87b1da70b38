package s3test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sijill/sijill/archive/s3"
)

// EnvVersityGW names the environment variable that points at the versitygw
// binary, the second S3 implementation the Bucket conformance suite runs against.
const EnvVersityGW = "SIJILL_VERSITYGW_BIN"

var errNoVersityGW = errors.New("versitygw binary not found: run `make test` (it installs bin/versitygw)")

// Gateway is one running versitygw (Versity S3 Gateway) with its POSIX back
// end: S3 objects are plain files under a temporary directory.
type Gateway struct {
	addr   string
	user   string
	secret string
	dir    string
	cmd    *exec.Cmd
	done   <-chan struct{}
	log    *syncBuffer
}

// VersityGWBinary returns the path of the versitygw binary: $SIJILL_VERSITYGW_BIN,
// else bin/versitygw under the module root.
func VersityGWBinary() (string, error) {
	if p := os.Getenv(EnvVersityGW); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w (%s=%s: %v)", errNoVersityGW, EnvVersityGW, p, err)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w (%v)", errNoVersityGW, err)
	}
	p := filepath.Join(root, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w (looked for %s and $%s)", errNoVersityGW, p, EnvVersityGW)
	}
	return p, nil
}

// StartVersityGW starts versitygw on a free loopback port over a fresh
// directory for one test and stops it when the test ends. A missing binary
// fails the test, pointing at `make test`.
func StartVersityGW(t testing.TB) *Gateway {
	t.Helper()
	g, err := startGateway(t.TempDir(), "sijill-"+randomHex(6), randomHex(20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.stop)
	return g
}

// StartAnother starts a second gateway process over the same directory and
// credentials, as a deployment with several gateways on one shared file system
// has; it stops when the test ends.
func (g *Gateway) StartAnother(t testing.TB) *Gateway {
	t.Helper()
	g2, err := startGateway(g.dir, g.user, g.secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g2.stop)
	return g2
}

// StartVersityGWMain starts a gateway outside a test (a program such as the
// load harness, or TestMain). The returned function stops it and removes its data.
func StartVersityGWMain() (*Gateway, func(), error) {
	dir, err := os.MkdirTemp("", "sijill-versitygw-*")
	if err != nil {
		return nil, nil, fmt.Errorf("s3test: data directory: %w", err)
	}
	g, err := startGateway(dir, "sijill-"+randomHex(6), randomHex(20))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return g, func() {
		g.stop()
		os.RemoveAll(dir)
	}, nil
}

func startGateway(dir, user, secret string) (*Gateway, error) {
	bin, err := VersityGWBinary()
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	g := &Gateway{addr: addr, user: user, secret: secret, dir: dir, log: &syncBuffer{}}
	g.cmd = exec.Command(bin,
		"--port", addr, "--access", user, "--secret", secret,
		"--region", "us-east-1", "--health", "/health", "--quiet",
		"posix", dir)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if g.done, err = startProcess(g.cmd); err != nil {
		return nil, fmt.Errorf("s3test: starting %s: %w", bin, err)
	}
	if err := g.waitReady(); err != nil {
		g.stop()
		return nil, fmt.Errorf("s3test: versitygw on %s: %w\n%s", addr, err, g.log.String())
	}
	return g, nil
}

func (g *Gateway) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := client.Get("http://" + g.addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-g.done:
			return errors.New("the gateway exited during startup")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", readyTimeout)
		}
	}
}

func (g *Gateway) stop() {
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(stopTimeout):
		g.cmd.Process.Kill()
		<-g.done
	}
}

// Endpoint is the gateway's host:port.
func (g *Gateway) Endpoint() string { return g.addr }

// Dir is the directory the POSIX back end keeps buckets in (one directory per
// bucket, one file per object).
func (g *Gateway) Dir() string { return g.dir }

// Log returns what the gateway printed, for failure messages.
func (g *Gateway) Log() string { return g.log.String() }

// Config is the s3.Config that reaches bucket on this gateway with its root
// credentials.
func (g *Gateway) Config(bucket string) s3.Config {
	return s3.Config{Endpoint: g.addr, Bucket: bucket, AccessKey: g.user, SecretKey: g.secret, Region: "us-east-1"}
}
