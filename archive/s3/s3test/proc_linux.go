package s3test

import (
	"os/exec"
	"runtime"
	"syscall"
)

// startProcess starts cmd so the kernel kills it if the test binary dies
// without cleaning up (a panic, a timeout, go test's SIGKILL), and returns a
// channel closed when it has exited.
//
// Pdeathsig fires when the thread that forked the child ends, not the
// process: Go ends a thread whenever a goroutine locked to it returns without
// unlocking (archive/extract does this to run image work at low priority),
// and any thread may have forked the server before. So the child is started
// and waited for on a thread locked for exactly its lifetime.
func startProcess(cmd *exec.Cmd) (<-chan struct{}, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}
