package web

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// trackingListener remembers the open connections and whether a client has
// sent anything on each. fasthttp marks a new connection active before its
// first byte arrives, so a graceful shutdown would wait, up to its deadline,
// for connections on which no request will ever come: a browser's preconnect, a
// client's abandoned dial. net/http closes those; closeUnused lets Shutdown do
// the same (TestGracefulShutdownDrainsUpload).
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func newTrackingListener(ln net.Listener) *trackingListener {
	return &trackingListener{Listener: ln, conns: map[*trackedConn]struct{}{}}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l, opened: time.Now()}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// closeUnused closes the connections older than grace on which nothing has
// been received: no request is in flight on them.
func (l *trackingListener) closeUnused(grace time.Duration) {
	l.mu.Lock()
	var unused []*trackedConn
	for c := range l.conns {
		if !c.used.Load() && time.Since(c.opened) >= grace {
			unused = append(unused, c)
		}
	}
	l.mu.Unlock()
	for _, c := range unused {
		c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l      *trackingListener
	opened time.Time
	used   atomic.Bool
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.used.Store(true)
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
