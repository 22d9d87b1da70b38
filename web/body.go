package web

import (
	"bytes"
	"io"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/archive"
)

// Every request body is read through this file: bounded while it is read,
// whatever the client announces (a chunked body has no Content-Length), and
// with a deadline that moves only as fast as the body comes, so a slow
// upload of a large scan goes through while a trickle does not hold a
// connection for ever.

// bodyStream is the request's body as a stream that keeps the connection's
// read deadline moving while the body comes at a useful rate (see
// progressReader).
func (s *Server) bodyStream(c *fiber.Ctx) io.Reader {
	var body io.Reader = c.Context().RequestBodyStream()
	if body == nil {
		return bytes.NewReader(c.Body())
	}
	if conn := c.Context().Conn(); conn != nil {
		pr := &progressReader{r: body, conn: conn, idle: s.cfg.BodyIdle}
		c.Locals(bodyReaderKey{}, pr)
		return pr
	}
	return body
}

// bodyReaderKey keeps the request's progressReader among its Locals, so that
// drain reads the rest of the body through it and knows when it is all read.
type bodyReaderKey struct{}

// readBody reads the whole body of a request, at most limit bytes: a body
// that announces more is refused at once (and not read), one that turns out
// longer is refused as soon as it passes the limit. Nothing beyond limit is
// ever held in memory.
func (s *Server) readBody(c *fiber.Ctx, limit int64) ([]byte, error) {
	if n := c.Request().Header.ContentLength(); n > 0 && int64(n) > limit {
		drain(c)
		return nil, archive.Errorf(archive.ETOOLARGE, "the request body is larger than %d KB", limit>>10)
	}
	b, err := io.ReadAll(io.LimitReader(s.bodyStream(c), limit+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return nil, archive.Errorf(archive.EINVALID, "the request body could not be read: %v", err)
	}
	if int64(len(b)) > limit {
		drain(c)
		return nil, archive.Errorf(archive.ETOOLARGE, "the request body is larger than %d KB", limit>>10)
	}
	return b, nil
}

// progressReader extends the connection's read deadline by idle each time
// another progressStep bytes of the body have come: a body must keep coming
// at progressStep per idle at least. The header deadline (Config.
// HeaderTimeout) covers the start.
type progressReader struct {
	r     io.Reader
	conn  net.Conn
	idle  time.Duration
	since int64 // bytes since the deadline last moved
	moved bool
	// eof: the body has ended. fasthttp's chunked body stream, read again
	// after its end, waits for another chunk that never comes (the client
	// is waiting for the answer): a drain after a handler that read the
	// body to its end hung until the read deadline, and a graceful
	// shutdown with it (TestGracefulShutdownDrainsUpload).
	eof bool
}

// progressStep is the least a body must bring per Config.BodyIdle (64 KB a
// minute by default: a telephone line's modem did better).
const progressStep = 64 << 10

func (p *progressReader) Read(b []byte) (int, error) {
	if !p.moved {
		// The first read of the body: it has Config.BodyIdle to bring the
		// first progressStep.
		p.moved = true
		_ = p.conn.SetReadDeadline(time.Now().Add(p.idle))
	}
	if p.eof {
		return 0, io.EOF
	}
	n, err := p.r.Read(b)
	if err == io.EOF {
		p.eof = true
	}
	p.since += int64(n)
	if p.since >= progressStep {
		p.since = 0
		_ = p.conn.SetReadDeadline(time.Now().Add(p.idle))
	}
	return n, err
}

// drainLimit is how much of a refused body is read and thrown away so that the
// client, still sending, can read the error instead of a reset connection.
// A body announced or found larger is not read: the connection is closed
// after the answer, which costs less than reading it.
const drainLimit = 4 << 20

// drain discards what is left of a refused request's body, or marks the
// connection to be closed when that would mean reading too much.
func drain(c *fiber.Ctx) {
	var body io.Reader = c.Context().RequestBodyStream()
	if body == nil {
		return
	}
	if pr, ok := c.Locals(bodyReaderKey{}).(*progressReader); ok {
		if pr.eof {
			return
		}
		body = pr
	}
	if n := c.Request().Header.ContentLength(); n > drainLimit {
		c.Context().SetConnectionClose()
		return
	}
	n, err := io.Copy(io.Discard, io.LimitReader(body, drainLimit+1))
	if n > drainLimit || err != nil {
		// Unread bytes would be parsed as the next request on this
		// connection (TestMinIOOutageDuringLoad saw 400 and 431 answers to
		// scan bytes): close it after the answer.
		c.Context().SetConnectionClose()
	}
}
