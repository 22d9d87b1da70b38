package extract

import "syscall"

// limitSelf puts the child's limits on this process; the tools it starts
// inherit them.
func limitSelf() {
	for _, l := range []struct {
		res int
		max uint64
	}{
		{syscall.RLIMIT_AS, childAddressSpace},
		{syscall.RLIMIT_CPU, childCPU},
		{syscall.RLIMIT_FSIZE, childFileSize},
	} {
		_ = syscall.Setrlimit(l.res, &syscall.Rlimit{Cur: l.max, Max: l.max})
	}
}
