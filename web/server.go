// Package web serves Sijill over HTTP: the JSON API under /api/v1 and the Arabic,
// right-to-left web application, both through Fiber. It hides Fiber from cmd/.
package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render"
)

// Config holds what an operator sets.
type Config struct {
	// Addr is the listening address, host:port; port 0 picks a free one.
	Addr string
	// MaxUploadBytes bounds one upload request.
	MaxUploadBytes int64
	// TokenTTL is how long a login lasts.
	TokenTTL time.Duration
	// SecureCookies marks the session cookie Secure (behind TLS).
	SecureCookies bool
	// Organisation is printed on register books and shown on pages.
	Organisation string
	// TrustedProxies are the reverse proxies (IP addresses or CIDR ranges)
	// allowed to name the client in ProxyHeader: the address that failed
	// logins are throttled by and the audit trail records. Empty: the
	// connection's address, whatever the headers say.
	TrustedProxies []string
	// ProxyHeader holds the client's address as the proxy saw it; it should
	// be one the proxy sets rather than appends to (nginx:
	// proxy_set_header X-Real-IP $remote_addr).
	ProxyHeader string
	// HeaderTimeout bounds the time a client has to send a request's
	// headers (and a body of a few KB); 0: 15 s.
	HeaderTimeout time.Duration
	// BodyIdle is how long a request body may go without bringing another
	// 64 KB (progressStep); 0: a minute. A slow upload of a large scan
	// passes; a trickle meant to hold the connection does not.
	BodyIdle time.Duration
	// IdleTimeout closes a kept-alive connection that sends no request;
	// 0: 30 s.
	IdleTimeout time.Duration
	// MaxConnsPerIP bounds the connections open from one address at once
	// (the trusted proxies excepted); 0: 64.
	MaxConnsPerIP int
	// Signer, if set, signs register books, record prints and the
	// follow-up report with the organisation's key.
	Signer *render.Signer
	// PublicURL is the address members reach the server at
	// (https://sijill.example.org), written into the QR codes of
	// registration stamps; empty: the address each request came to.
	PublicURL string
}

func proxyHeader(cfg Config) string {
	if len(cfg.TrustedProxies) == 0 {
		return ""
	}
	return cmp.Or(cfg.ProxyHeader, "X-Real-IP")
}

// Server is Sijill's HTTP server.
type Server struct {
	cfg   Config
	store *archive.Store
	log   *slog.Logger
	app   *fiber.App
	ln    net.Listener
	index Index
	// extractor reads the text of attachments in the background (nil: none).
	extractor TextExtractor

	throttle *loginThrottle // failed logins per username and address
	imports  *importJobs    // imports started from the admin page
	// pageSlots bounds the scans' first pages drawn at once for a stamped
	// copy: one decoded A4 scan can take a few hundred MB.
	pageSlots chan struct{}
}

// SetIndex attaches the search index. Records are put in it by the Store's
// hook before a write call returns (see archive.Store.OnRecordWritten), so
// they are searchable at once.
func (s *Server) SetIndex(ix Index) { s.index = ix }

// SetExtractor attaches the background text extraction: stored files are
// queued for it and the API shows each attachment's text state.
func (s *Server) SetExtractor(x TextExtractor) { s.extractor = x }

// NewServer wires the routes. Call Open to start serving.
func NewServer(cfg Config, store *archive.Store, logger *slog.Logger) *Server {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 100 << 20
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	cfg.HeaderTimeout = cmp.Or(cfg.HeaderTimeout, 15*time.Second)
	cfg.BodyIdle = cmp.Or(cfg.BodyIdle, time.Minute)
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, 30*time.Second)
	cfg.MaxConnsPerIP = cmp.Or(cfg.MaxConnsPerIP, 64)
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, store: store, log: logger, throttle: newLoginThrottle(nil), imports: newImportJobs(),
		pageSlots: make(chan struct{}, 2)}
	s.app = fiber.New(fiber.Config{
		AppName:               "sijill",
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		// Uploads are streamed: a body above BodyLimit is not held in memory
		// but handed to the handler as a stream, and multipart forms are not
		// pre-parsed into temporary files by fasthttp.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    jsonLimit,
		// Headers must come within HeaderTimeout; a body then moves its
		// own deadline as it comes (see bodyStream). Answers may take long:
		// a register book to a slow line.
		ReadTimeout:  cfg.HeaderTimeout,
		WriteTimeout: 30 * time.Minute,
		IdleTimeout:  cfg.IdleTimeout,
		// The proxy's word is taken only from the proxies named; a header
		// holding no valid address falls back to the connection's.
		EnableTrustedProxyCheck: len(cfg.TrustedProxies) > 0,
		TrustedProxies:          cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(cfg),
		EnableIPValidation:      true,
	})
	// Once the headers are in, a request with a body gets BodyIdle for its
	// first bytes instead of what is left of HeaderTimeout. One announcing
	// more than any request may carry is not read at all: fasthttp reads a
	// body's first 8 KB before the handler runs, which would keep a client
	// that announces 5 GB and sends nothing waiting. Its length is set to
	// nothing and the request marked, and refuseTooLarge answers 413 at once
	// and closes the connection.
	s.app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		h.Del(tooLargeHeader) // only the server sets it
		switch n := h.ContentLength(); {
		case int64(n) > s.maxBody():
			h.Set(tooLargeHeader, strconv.Itoa(n))
			h.SetContentLength(0)
		case n != 0 && !h.IsGet() && !h.IsHead():
			return fasthttp.RequestConfig{ReadTimeout: cfg.BodyIdle}
		}
		return fasthttp.RequestConfig{}
	}
	s.routes()
	return s
}

// jsonLimit bounds JSON request bodies; a record with a long body fits easily.
const jsonLimit = 4 << 20

// tooLargeHeader marks a request whose announced body was too large to
// read (see NewServer).
const tooLargeHeader = "X-Sijill-Body-Refused"

// refuseTooLarge answers 413 to a request marked by tooLargeHeader, and
// closes its connection: the body it announced follows on it, unread.
func (s *Server) refuseTooLarge(c *fiber.Ctx) error {
	if c.Get(tooLargeHeader) == "" {
		return c.Next()
	}
	c.Context().SetConnectionClose()
	return archive.Errorf(archive.ETOOLARGE, "the request is larger than %d MB", s.maxBody()>>20)
}

// maxBody is the most any request may carry: an upload at its limit with
// its form fields.
func (s *Server) maxBody() int64 { return s.cfg.MaxUploadBytes + 1<<20 }

// Open starts listening and serving in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", s.cfg.Addr, err)
	}
	tl := newTrackingListener(ln, s.cfg.MaxConnsPerIP, s.cfg.TrustedProxies)
	s.ln = tl
	go func() {
		if err := s.app.Listener(tl); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the base URL of the server.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Shutdown stops accepting connections and waits for requests in flight to
// finish, until ctx is done; imports running in the background are
// interrupted (sending the same import again finishes them).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.shutdownHTTP(ctx)
	return errors.Join(err, s.imports.stop(ctx))
}

func (s *Server) shutdownHTTP(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	if tl, ok := s.ln.(*trackingListener); ok {
		// Connections on which no request ever came would hold the drain
		// until ctx ends; close them, as net/http does (see trackingListener).
		go func() {
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					tl.closeUnused(time.Second)
				}
			}
		}()
	}
	return s.app.ShutdownWithContext(ctx)
}

// Handler exposes the Fiber app for in-process tests (app.Test).
func (s *Server) Handler() *fiber.App { return s.app }

func (s *Server) routes() {
	s.middleware()
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)

	api := s.app.Group("/api/v1", s.apiCSRF)
	api.Post("/auth/login", s.loginLimiter(), s.login)
	api.Use(s.authenticate)
	api.Post("/auth/logout", s.logout)
	api.Get("/auth/me", s.me)
	api.Put("/auth/prefs", s.setPrefs)
	api.Post("/auth/password", s.changePassword)
	api.Get("/auth/tokens", s.listTokens)
	api.Delete("/auth/tokens", s.revokeAllTokens)
	api.Delete("/auth/tokens/:id", s.revokeToken)

	api.Get("/registers", s.require(archive.PermRead), s.listRegisters)
	api.Get("/registers/:register/records", s.require(archive.PermRead), s.listRecords)
	api.Post("/registers/:register/records", s.require(archive.PermWrite), s.createRecord)

	api.Get("/records/:id", s.require(archive.PermRead), s.getRecord)
	api.Patch("/records/:id", s.require(archive.PermWrite), s.updateRecord)
	api.Post("/records/:id/annul", s.require(archive.PermWrite), s.annulRecord)
	api.Get("/records/:id/history", s.require(archive.PermRead), s.recordHistory)
	api.Post("/records/:id/attachments", s.require(archive.PermWrite), s.uploadAttachments)
	api.Get("/records/:id/attachments/:sha256", s.require(archive.PermRead), s.downloadAttachment)

	api.Get("/registers/:register/:year/book.pdf", s.require(archive.PermPrint), s.book)
	api.Get("/registers/:register/:year/bag.zip", s.require(archive.PermAudit), s.exportBag)
	api.Get("/records/:id/print.pdf", s.require(archive.PermRead), s.printRecord)
	api.Get("/records/:id/stamp.pdf", s.require(archive.PermRead), s.stampLabel)
	api.Get("/records/:id/attachments/:sha256/stamped.pdf", s.require(archive.PermRead), s.stampedPage)
	api.Get("/records/:id/attachments/:sha256/text", s.require(archive.PermRead), s.getText)
	api.Put("/records/:id/attachments/:sha256/text", s.require(archive.PermWrite), s.correctText)
	api.Get("/search", s.require(archive.PermRead), s.search)
	api.Get("/followup", s.require(archive.PermRead), s.listFollowUps)
	api.Get("/followup/report.pdf", s.require(archive.PermRead), s.followupReport)
	api.Get("/records/:id/followup", s.require(archive.PermRead), s.getFollowUp)
	api.Put("/records/:id/followup", s.require(archive.PermWrite), s.putFollowUp)
	api.Post("/records/:id/followup/notes", s.require(archive.PermWrite), s.addFollowNote)
	api.Get("/records/:id/thread", s.require(archive.PermRead), s.recordThread)

	// The scan inbox: those who register see it, readers never.
	api.Get("/inbox", s.require(archive.PermWrite), s.listInbox)
	api.Post("/inbox", s.require(archive.PermWrite), s.uploadInbox)
	api.Get("/inbox/:id", s.require(archive.PermWrite), s.getInboxItem)
	api.Delete("/inbox/:id", s.require(archive.PermWrite), s.discardInbox)
	api.Get("/inbox/:id/file", s.require(archive.PermWrite), s.inboxFile)
	api.Get("/inbox/:id/thumb.jpg", s.require(archive.PermWrite), s.inboxThumb)
	api.Post("/inbox/:id/register", s.require(archive.PermWrite), s.registerFromInbox)
	api.Post("/inbox/:id/attach", s.require(archive.PermWrite), s.attachFromInbox)
	api.Post("/inbox/:id/split", s.require(archive.PermWrite), s.splitInbox)

	api.Get("/users", s.require(archive.PermUsers), s.listUsers)
	api.Post("/users", s.require(archive.PermUsers), s.createUser)
	api.Patch("/users/:username", s.require(archive.PermUsers), s.updateUser)
	api.Get("/audit", s.require(archive.PermAudit), s.listAudit)
	api.Get("/verify", s.require(archive.PermAudit), s.lastVerify)
	api.Post("/verify", s.require(archive.PermAudit), s.runVerify)

	api.Use(func(c *fiber.Ctx) error {
		return archive.Errorf(archive.ENOTFOUND, "no such endpoint: %s %s", c.Method(), c.Path())
	})

	s.pageRoutes()
}
