package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
)

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// failureLog is a logger for an in-process server whose warnings and errors
// are printed only when the test fails: a 500 in a loaded CI run then says
// what went wrong instead of leaving a guess. It is printed after the server
// has been closed (cleanups run last-registered first), so nothing logs into a
// finished test.
func failureLog(t *testing.T) *slog.Logger {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if (t.Failed() || os.Getenv("SIJILL_TEST_SERVER_LOG") != "") && buf.Len() > 0 {
			b := buf.Bytes()
			if len(b) > 64<<10 && os.Getenv("SIJILL_TEST_SERVER_LOG") == "" {
				b = b[len(b)-64<<10:]
			}
			t.Logf("the server's warnings and errors (the last 64 KiB):\n%s", b)
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
