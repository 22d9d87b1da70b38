package s3test_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sijill/sijill/archive/s3/s3test"
)

// TestServerOutlivesTheThreadThatStartedIt checks that a shared server keeps
// running when the OS thread that asked for it ends, as Go ends a thread
// whose locked goroutine returns (archive/extract does so for every scanned
// page). The kernel's parent-death signal is per thread, and it once killed the
// MinIO of cmd/sijill's tests in the middle of the run.
func TestServerOutlivesTheThreadThatStartedIt(t *testing.T) {
	var (
		srv  *s3test.Server
		stop func()
		err  error
	)
	onEndingThread(func() { srv, stop, err = s3test.StartMain() })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	time.Sleep(500 * time.Millisecond) // the kernel signals as the thread exits
	if err := srv.Ping(t.Context()); err != nil {
		t.Fatalf("MinIO died with the thread that started it: %v\n%s", err, srv.Log())
	}
}

// onEndingThread runs fn on an OS thread that ends when fn returns. The
// process's main thread never ends (Go parks it instead), so a goroutine
// that lands there holds it until fn is done, and another one is tried.
func onEndingThread(fn func()) {
	release := make(chan struct{})
	defer close(release)
	for {
		ran := make(chan bool)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			if syscall.Gettid() == syscall.Getpid() {
				ran <- false
				<-release
				return
			}
			fn()
			ran <- true
		}()
		if <-ran {
			return
		}
	}
}
