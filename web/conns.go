package web

import (
	"io"
	"net"
	"net/netip"
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
//
// It also bounds the connections open at once from one address (perIP), so
// that one client cannot take every connection the server can hold; the
// trusted reverse proxies, through which every client comes, are exempt.
type trackingListener struct {
	net.Listener
	perIP   int
	exempt  []netip.Prefix
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
	byIP    map[netip.Addr]int
	refused int
}

func newTrackingListener(ln net.Listener, perIP int, trusted []string) *trackingListener {
	l := &trackingListener{Listener: ln, perIP: perIP, conns: map[*trackedConn]struct{}{}, byIP: map[netip.Addr]int{}}
	for _, p := range trusted {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			l.exempt = append(l.exempt, pfx)
		} else if a, err := netip.ParseAddr(p); err == nil {
			l.exempt = append(l.exempt, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return l
}

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		l.mu.Lock()
		if l.perIP > 0 && ip.IsValid() && !l.isExempt(ip) && l.byIP[ip] >= l.perIP {
			l.refused++
			l.mu.Unlock()
			c.Close() // too many from one address: not served
			continue
		}
		tc := &trackedConn{Conn: c, l: l, opened: time.Now(), ip: ip}
		l.conns[tc] = struct{}{}
		l.byIP[ip]++
		l.mu.Unlock()
		return tc, nil
	}
}

func (l *trackingListener) isExempt(ip netip.Addr) bool {
	for _, p := range l.exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func remoteIP(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// open returns how many connections are open now, and how many were
// refused for coming from an address that had too many.
func (l *trackingListener) open() (open, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns), l.refused
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
	ip     netip.Addr
	used   atomic.Bool
	closed atomic.Bool
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.used.Store(true)
	}
	return n, err
}

// Lingering close: when the server closes a connection whose client may
// still be sending (a refused upload, a body too large), closing at once
// makes the kernel reset the connection, and the client loses the answer
// it was about to read. Like net/http, the server first says it is done
// writing, then reads and throws away what still comes, for a moment.
const (
	lingerTime = time.Second
	lingerMax  = 4 << 20
)

func (c *trackedConn) Close() error {
	if c.closed.Load() {
		return c.Conn.Close()
	}
	if tcp, ok := c.Conn.(*net.TCPConn); ok && c.used.Load() {
		if tcp.CloseWrite() == nil {
			_ = tcp.SetReadDeadline(time.Now().Add(lingerTime))
			_, _ = io.CopyN(io.Discard, tcp, lingerMax)
		}
	}
	if !c.closed.Swap(true) {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		if c.l.byIP[c.ip]--; c.l.byIP[c.ip] <= 0 {
			delete(c.l.byIP, c.ip)
		}
		c.l.mu.Unlock()
	}
	return c.Conn.Close()
}
