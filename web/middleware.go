package web

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/sijill/sijill/archive"
)

// middleware installs what every request passes through.
func (s *Server) middleware() {
	s.app.Use(s.securityHeaders)
	s.app.Use(recover.New())
	s.app.Use(s.refuseTooLarge)
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere: a
// stored record with HTML or script in it can never run in a reader's browser.
// Attachments (PDF, images) are shown in frames of our own pages, hence
// frame-src and object-src 'self'; data: and blob: images are the thumbnails
// and previews made in the browser.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; object-src 'self'; frame-src 'self'; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'self'"

// framedPolicy is the policy of an attachment: our own pages may frame it (the
// inline PDF viewer), no other site may.
var framedPolicy = strings.Replace(contentSecurityPolicy, "frame-ancestors 'none'", "frame-ancestors 'self'", 1)

// securityHeaders sets the headers a careful browser needs on every response,
// errors and 404s included. They are set before the handler runs, so a panic
// or an error page carries them too, and adjusted after it for attachments.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderReferrerPolicy, "same-origin")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	if s.cfg.SecureCookies {
		// Behind TLS: browsers must never come back over plain HTTP.
		h.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
	h.Del(fiber.HeaderXPoweredBy)
	err := c.Next()
	// A handler that answered without reading the whole body (a refusal
	// that needed no more) leaves the rest on the connection, where it
	// would be read as the next request: read it away, or close.
	drain(c)
	if framable(string(h.ContentType())) {
		h.Set(fiber.HeaderContentSecurityPolicy, framedPolicy)
		h.Set(fiber.HeaderXFrameOptions, "SAMEORIGIN")
	}
	if len(h.Peek(fiber.HeaderCacheControl)) == 0 {
		// Records are confidential more often than not: nothing is kept in
		// shared caches or the browser's unless the handler says so (the
		// checksummed static files and the immutable attachments do).
		h.Set(fiber.HeaderCacheControl, "no-store")
	}
	return err
}

// framable reports whether a response of content type ct is a file our pages
// show in a frame: the stored attachments (PDF and images). HTML and JSON never are.
func framable(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "application/pdf") ||
		(strings.HasPrefix(ct, "image/") && !strings.HasPrefix(ct, "image/svg"))
}

// loginThrottle counts failed logins and makes each failure beyond a few
// wait twice as long as the one before, up to a cap, so that guessing
// passwords is hopeless while a user who mistypes a few times is not locked
// out. Failures count against the address they come from, and against the
// account from that address: a stranger's failures slow the stranger, never
// the owner at another address (locking anyone out by failing on purpose
// does not work). Failures against an account from everywhere count too,
// but only slow every attempt on it a little (a botnet trying one account
// from many addresses), never refuse a right password. It lives in memory,
// per process, on the Server.
type loginThrottle struct {
	now func() time.Time

	mu    sync.Mutex
	fails map[string]*failures
}

type failures struct {
	n     int       // consecutive failures
	until time.Time // no attempt is checked before this
	last  time.Time
}

// Throttle policy. An account at one address gets 5 free failures, an
// address (which may be an office behind one NAT) 20; then the wait doubles
// from one second to at most fifteen minutes. An account failed at from
// everywhere more than 50 times has every attempt slowed by slowDown.
// Entries idle for an hour are forgotten.
const (
	freeUserFailures   = 5
	freeAddrFailures   = 20
	freeGlobalFailures = 50
	slowDown           = time.Second
	maxBackoff         = 15 * time.Minute
	forgetAfter        = time.Hour
	maxThrottled       = 100_000 // entries kept before idle ones are swept
)

func newLoginThrottle(now func() time.Time) *loginThrottle {
	if now == nil {
		now = time.Now
	}
	return &loginThrottle{now: now, fails: map[string]*failures{}}
}

// throttleKeys are the counters of an attempt: the account at the address,
// the address, and the account from everywhere.
func throttleKeys(username, addr string) (userAddr, address, global string) {
	u := strings.ToLower(strings.TrimSpace(username))
	return "ua\x00" + u + "\x00" + addr, "a\x00" + addr, "u\x00" + u
}

// wait returns how long the caller must wait before this username may be
// tried from this address again (0: go ahead), and how long to delay the
// attempt that may go ahead.
func (t *loginThrottle) wait(username, addr string) (wait, slow time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	userAddr, address, global := throttleKeys(username, addr)
	for _, k := range []string{userAddr, address} {
		if f := t.fails[k]; f != nil && f.until.After(now) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	if f := t.fails[global]; f != nil && f.n > freeGlobalFailures && now.Sub(f.last) < forgetAfter {
		slow = slowDown
	}
	return wait, slow
}

// failed records a failed attempt.
func (t *loginThrottle) failed(username, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.fails) >= maxThrottled {
		for k, f := range t.fails {
			if now.Sub(f.last) > forgetAfter {
				delete(t.fails, k)
			}
		}
	}
	userAddr, address, global := throttleKeys(username, addr)
	for k, free := range map[string]int{userAddr: freeUserFailures, address: freeAddrFailures, global: -1} {
		f := t.fails[k]
		if f == nil || now.Sub(f.last) > forgetAfter {
			f = &failures{}
			t.fails[k] = f
		}
		f.n++
		f.last = now
		if over := f.n - free; free >= 0 && over > 0 {
			f.until = now.Add(backoff(over))
		}
	}
}

// backoff is the wait after the nth failure beyond the free ones.
func backoff(n int) time.Duration {
	if n > 20 {
		return maxBackoff
	}
	return min(time.Duration(1<<(n-1))*time.Second, maxBackoff)
}

// succeeded forgets the failures of the account at this address; the
// address's own stay, so that one valid account does not reset the count of
// guesses made at others, and so do the account's from everywhere.
func (t *loginThrottle) succeeded(username, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	userAddr, _, _ := throttleKeys(username, addr)
	delete(t.fails, userAddr)
}

// checkLogin is the one way a password is checked at login, for the API and
// the login page alike: a throttled username or address is answered 429 with
// Retry-After before the password is even looked at; a failure is counted and
// audited. Its errors are EUNAUTHORIZED, ETOOMANY or a storage failure.
func (s *Server) checkLogin(c *fiber.Ctx, username, password string) (*archive.User, error) {
	addr := c.IP()
	d, slow := s.throttle.wait(username, addr)
	if d > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(d.Seconds()))))
		return nil, archive.Errorf(archive.ETOOMANY, "too many failed logins; try again in %d seconds", int(math.Ceil(d.Seconds())))
	}
	ctx := c.UserContext()
	if slow > 0 {
		select { // an account under attack from many addresses: slower, never shut
		case <-time.After(slow):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	u, err := s.store.Authenticate(ctx, username, password)
	if err != nil {
		if archive.ErrorCode(err) == archive.EUNAUTHORIZED {
			s.throttle.failed(username, addr)
			name := strings.ToLower(strings.TrimSpace(username))
			if len(name) > 64 {
				name = strings.ToValidUTF8(name[:64], "")
			}
			_ = s.store.Audit(ctx, archive.Event{Actor: name, Action: archive.ActionLoginFailed, Remote: addr})
		}
		return nil, err
	}
	s.throttle.succeeded(username, addr)
	return u, nil
}
