//go:build !linux

package s3test

import "os/exec"

// startProcess starts cmd and returns a channel closed when it has exited.
func startProcess(cmd *exec.Cmd) (<-chan struct{}, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	return done, nil
}
