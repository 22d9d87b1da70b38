package s3test

import "syscall"

// sysProcAttr has the kernel kill MinIO if the test binary dies without
// cleaning up (a panic, a timeout, go test's SIGKILL), so no server outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
