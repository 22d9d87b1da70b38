// Package server starts a real sijill server for the benchmarks that
// measure it from outside, as its users would.
package server

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// Start runs bin (a built cmd/sijill) as a server on a free local port with
// data as its --data, args as more flags and env added to this process's
// environment, and waits until it is ready. kill stops it.
func Start(bin, data string, args, env []string) (base string, kill func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--data", data, "--addr", addr, "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	kill = func() { cmd.Process.Kill(); cmd.Wait() }
	base = "http://" + addr
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, kill, nil
			}
		}
	}
	kill()
	return "", nil, fmt.Errorf("sijill not ready in a minute")
}
