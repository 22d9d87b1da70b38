package extract

import (
	"runtime"
	"syscall"
)

// niceness is the priority OCR runs at: low, so that when the API needs the
// processor it gets it, and when it is idle OCR runs at full speed. Not the
// lowest (19): beside other work at normal priority (a second service, a
// build, stress-ng --cpu 2 in the loaded test runs), CFS gives a nice-19
// process 15/1039 of a core, and a page that takes 5 s took minutes; the
// scans of a shared server were never read. At 10 it gets 110/1134, about a
// tenth, and the API still outweighs it nine to one.
const niceness = 10

// niced runs fn on an OS thread of its own at the lowest priority, so the
// image work done in this process (decoding, the median filter) yields to
// the API's requests. The thread is not unlocked, so it ends with fn and its
// priority never passes to other goroutines.
func niced(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), niceness)
		done <- fn()
	}()
	return <-done
}

// nicePID lowers the priority of a tool the pool started.
func nicePID(pid int) { _ = syscall.Setpriority(syscall.PRIO_PROCESS, pid, niceness) }
