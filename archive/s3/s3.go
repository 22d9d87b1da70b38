// Package s3 is the archive.Bucket kept in an S3 bucket (MinIO, Ceph, AWS) through
// github.com/minio/minio-go/v7. It is selected when SIJILL_S3_ENDPOINT is set and
// lets several Sijill processes share one bucket: Create is a single conditional PUT
// (If-None-Match: *) and Replace one with If-Match, so the storage service, not the
// process, decides who wins.
package s3

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/sijill/sijill/archive"
)

// Config says where the bucket lives and how to sign in. The fields mirror the
// SIJILL_S3_* environment variables.
type Config struct {
	Endpoint  string // host:port, without a scheme
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string // empty: asked from the service (MinIO answers us-east-1)
	TLS       bool
	// SSE is server-side encryption at rest: "" (none, or the bucket's own
	// default), "s3" (SSE-S3: the service encrypts with keys it manages; MinIO
	// needs a KMS for it) or "c" (SSE-C: the service encrypts with SSEKey,
	// which it never stores, so a copy of its disks or of its KMS is useless
	// without Sijill's configuration; TLS is required, as the key travels with
	// every request).
	SSE string
	// SSEKey is the SSE-C key: 32 bytes, base64 encoded. Losing it loses
	// every object written with it.
	SSEKey string
	// Timeout bounds the wait for the service's answer once a request is
	// sent (0: 10 s). A write not answered in time has an unknown outcome.
	Timeout time.Duration
}

// serverSide returns the encryption of writes and the headers reads need
// (only SSE-C objects need their key to be read) for cfg.
func serverSide(cfg Config) (write, read encrypt.ServerSide, err error) {
	switch strings.ToLower(strings.TrimSpace(cfg.SSE)) {
	case "", "none":
		if cfg.SSEKey != "" {
			return nil, nil, fmt.Errorf("s3: an SSE-C key is set but SSE is not \"c\"")
		}
		return nil, nil, nil
	case "s3":
		return encrypt.NewSSE(), nil, nil
	case "c":
		if !cfg.TLS {
			return nil, nil, fmt.Errorf("s3: SSE-C sends its key with every request: it needs TLS")
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cfg.SSEKey))
		if err != nil || len(key) != 32 {
			return nil, nil, fmt.Errorf("s3: the SSE-C key must be 32 bytes, base64 encoded (openssl rand -base64 32)")
		}
		sse, err := encrypt.NewSSEC(key)
		if err != nil {
			return nil, nil, fmt.Errorf("s3: SSE-C key: %w", err)
		}
		return sse, sse, nil
	}
	return nil, nil, fmt.Errorf("s3: SSE %q: want s3, c or nothing", cfg.SSE)
}

const (
	// partSize is the part size of multipart uploads. minio-go sizes parts for a
	// 5 TiB object when the length is unknown (over 500 MB of buffer per upload);
	// a fixed 16 MiB keeps memory flat while allowing objects up to 160 GB.
	partSize = 16 << 20

	// putThreads is how many parts of one upload are in flight at once.
	putThreads = 2

	// memLimit is how much of a conditional write of unknown length is held in
	// memory before it spills to a temporary file. Records are a few KB.
	memLimit = 1 << 20

	// maxSinglePut is the largest object one PUT may carry on S3. Conditional
	// writes must be a single PUT (minio-go drops If-None-Match/If-Match on
	// multipart uploads), so this is their size limit.
	maxSinglePut = 5 << 30

	// maxRetries is how many attempts minio-go makes (it defaults to ten, with
	// back-off). Two keep a dropped keep-alive connection harmless while a
	// stopped service is reported within a second and a hung one (accepting
	// connections, never answering) within 2*headerTimeout.
	maxRetries = 2

	dialTimeout = 5 * time.Second
	// headerTimeout bounds the wait for a response once a request (body
	// included) is sent, so a hung service is reported instead of hanging a
	// request. S3 and MinIO answer a slow CompleteMultipartUpload at once and
	// keep the connection alive with whitespace, so this does not limit sizes.
	headerTimeout = 10 * time.Second
)

// Bucket is an archive.Bucket over one S3 bucket. It is safe for concurrent use.
type Bucket struct {
	client *minio.Client
	core   minio.Core
	bucket string
	// sse encrypts every write; readSSE is sent with reads (SSE-C only).
	sse, readSSE encrypt.ServerSide
}

var _ archive.Bucket = (*Bucket)(nil)

// Open connects to the service and creates the bucket if it does not exist yet,
// tolerating another process creating it at the same moment. A service that
// cannot be reached is an error wrapping archive.ErrUnavailable, so a server
// started before its storage can say so clearly.
func Open(ctx context.Context, cfg Config) (*Bucket, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, fmt.Errorf("s3: endpoint and bucket are required")
	}
	if strings.Contains(cfg.Endpoint, "://") {
		return nil, fmt.Errorf("s3: endpoint %q: give host:port without a scheme (set TLS for https)", cfg.Endpoint)
	}
	sse, readSSE, err := serverSide(cfg)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.TLS,
		Region:     cfg.Region,
		Transport:  newTransport(cfg.TLS, cmp.Or(cfg.Timeout, headerTimeout)),
		MaxRetries: maxRetries,
		// Uploads carry a CRC32C trailer that the server verifies.
		TrailingHeaders: true,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", cfg.Endpoint, err)
	}
	b := &Bucket{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, sse: sse, readSSE: readSSE}
	if err := b.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	if sse != nil {
		// Find out now, not at the first registration, if the service
		// cannot encrypt (MinIO without a KMS refuses SSE-S3).
		probe := []byte("sijill: server-side encryption probe\n")
		if _, err := b.Put(ctx, "health/sse-probe", bytes.NewReader(probe), int64(len(probe))); err != nil {
			return nil, fmt.Errorf("s3: the storage refuses server-side encryption %q (MinIO needs a KMS for SSE-S3): %w", cfg.SSE, err)
		}
		if err := b.Delete(ctx, "health/sse-probe"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// newTransport is minio-go's default transport with short dial and header
// timeouts, so an unreachable service fails fast rather than hanging a request.
func newTransport(secure bool, answerTimeout time.Duration) http.RoundTripper {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		// DefaultTransport only fails building TLS settings; fall back to
		// the plain default so Open still reports a useful error later.
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = answerTimeout
	return tr
}

func (b *Bucket) ensureBucket(ctx context.Context, region string) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err != nil {
		return b.mapErr(ctx, "open bucket", "", err)
	}
	if ok {
		return nil
	}
	err = b.client.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
			// Another process created it between our check and our create.
			return nil
		}
		return b.mapErr(ctx, "create bucket", "", err)
	}
	return nil
}

// Get opens the object for reading with one request.
func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, archive.ObjectInfo, error) {
	if err := checkKey("get", key); err != nil {
		return nil, archive.ObjectInfo{}, err
	}
	rc, oi, _, err := b.core.GetObject(ctx, b.bucket, key, minio.GetObjectOptions{ServerSideEncryption: b.readSSE})
	if err != nil {
		return nil, archive.ObjectInfo{}, b.mapErr(ctx, "get", key, err)
	}
	return &objectReader{rc: rc, ctx: ctx, b: b, key: key}, toInfo(oi), nil
}

// objectReader reports a connection lost while reading as archive.ErrUnavailable.
type objectReader struct {
	rc  io.ReadCloser
	ctx context.Context
	b   *Bucket
	key string
}

func (r *objectReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF {
		err = r.b.mapErr(r.ctx, "read", r.key, err)
	}
	return n, err
}

func (r *objectReader) Close() error { return r.rc.Close() }

// Stat describes the object with a HEAD request.
func (b *Bucket) Stat(ctx context.Context, key string) (archive.ObjectInfo, error) {
	if err := checkKey("stat", key); err != nil {
		return archive.ObjectInfo{}, err
	}
	oi, err := b.client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{ServerSideEncryption: b.readSSE})
	if err != nil {
		return archive.ObjectInfo{}, b.mapErr(ctx, "stat", key, err)
	}
	return toInfo(oi), nil
}

// Create writes key only if it does not exist, as one PUT with If-None-Match: *.
func (b *Bucket) Create(ctx context.Context, key string, r io.Reader, size int64) (archive.ObjectInfo, error) {
	opts := minio.PutObjectOptions{}
	opts.SetMatchETagExcept("*")
	return b.putConditional(ctx, "create", key, r, size, opts)
}

// Replace overwrites key only if its ETag is still etag, as one PUT with If-Match.
func (b *Bucket) Replace(ctx context.Context, key, etag string, r io.Reader, size int64) (archive.ObjectInfo, error) {
	if etag == "" {
		return archive.ObjectInfo{}, fmt.Errorf("s3: replace %s: empty etag", key)
	}
	opts := minio.PutObjectOptions{}
	opts.SetMatchETag(strings.Trim(etag, `"`))
	return b.putConditional(ctx, "replace", key, r, size, opts)
}

// putConditional sends a conditional write as exactly one PUT. It is never
// retried by minio-go: a retry after a lost response would meet its own write
// and turn a success into fs.ErrExist or ErrPrecondition.
func (b *Bucket) putConditional(ctx context.Context, op, key string, r io.Reader, size int64, opts minio.PutObjectOptions) (archive.ObjectInfo, error) {
	if err := checkKey(op, key); err != nil {
		return archive.ObjectInfo{}, err
	}
	if size < 0 {
		body, n, cleanup, err := spool(r)
		if err != nil {
			return archive.ObjectInfo{}, fmt.Errorf("s3: %s %s: reading the content: %w", op, key, err)
		}
		defer cleanup()
		r, size = body, n
	}
	if size > maxSinglePut {
		return archive.ObjectInfo{}, &archive.Error{Code: archive.ETOOLARGE,
			Message: fmt.Sprintf("an object written atomically may not exceed %d bytes", int64(maxSinglePut))}
	}
	opts.DisableMultipart = true
	opts.DisableContentSha256 = true // CRC32C trailer instead, as in Put
	opts.ServerSideEncryption = b.sse
	src := &sourceReader{r: r}
	ui, err := b.client.PutObject(ctx, b.bucket, key, readOnly{src}, size, opts)
	src.close()
	if err != nil {
		if serr := src.failed(size); serr != nil {
			return archive.ObjectInfo{}, fmt.Errorf("s3: %s %s: reading the content: %w", op, key, serr)
		}
		return archive.ObjectInfo{}, b.mapErr(ctx, op, key, err)
	}
	return uploadInfo(key, size, ui), nil
}

// Put writes key unconditionally. Large or unknown-length content goes up as a
// multipart upload of fixed 16 MiB parts, which S3 makes visible all at once on
// completion, so readers never see a partial object.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64) (archive.ObjectInfo, error) {
	if err := checkKey("put", key); err != nil {
		return archive.ObjectInfo{}, err
	}
	src := &sourceReader{r: r}
	var body io.Reader = src
	if _, ok := r.(io.Seeker); ok {
		// Let minio-go rewind and retry a seekable body; a last-writer-wins
		// write is safe to repeat.
		body = r
	}
	opts := minio.PutObjectOptions{
		PartSize: partSize,
		// Content above one part is read into putThreads part buffers and
		// uploaded in parallel: memory is putThreads*partSize (32 MiB)
		// whatever the size, and the network is not idle while the next
		// part is read.
		ConcurrentStreamParts: true,
		NumThreads:            putThreads,
		// The payload is protected by a CRC32C trailer (TrailingHeaders)
		// instead of a SHA-256 per chunk, which cost a third of the
		// throughput on plain HTTP (see BenchmarkPut).
		DisableContentSha256: true,
		ServerSideEncryption: b.sse,
	}
	ui, err := b.client.PutObject(ctx, b.bucket, key, body, size, opts)
	src.close()
	if err != nil {
		if serr := src.failed(size); body == src && serr != nil {
			return archive.ObjectInfo{}, fmt.Errorf("s3: put %s: reading the content: %w", key, serr)
		}
		return archive.ObjectInfo{}, b.mapErr(ctx, "put", key, err)
	}
	if size < 0 {
		size = src.n
		if body == r {
			size = ui.Size
		}
	}
	return uploadInfo(key, size, ui), nil
}

// List walks the keys under prefix in ascending order (S3 lists in UTF-8 byte
// order, which for the key alphabet [a-z0-9/._-] is plain byte order).
func (b *Bucket) List(ctx context.Context, prefix string, fn func(archive.ObjectInfo) error) error {
	return b.ListFrom(ctx, prefix, "", fn)
}

// ListFrom is List from the first key after after (ListObjectsV2's StartAfter).
func (b *Bucket) ListFrom(ctx context.Context, prefix, after string, fn func(archive.ObjectInfo) error) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := b.client.ListObjects(lctx, b.bucket, minio.ListObjectsOptions{Prefix: prefix, StartAfter: after, Recursive: true})
	defer func() {
		// Let minio-go's lister goroutine finish after an early return.
		cancel()
		for range ch {
		}
	}()
	for oi := range ch {
		if oi.Err != nil {
			return b.mapErr(ctx, "list", prefix, oi.Err)
		}
		if err := fn(toInfo(oi)); err != nil {
			return err
		}
	}
	// A cancelled caller closes the channel without an error item.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: list %s: %w", prefix, err)
	}
	return nil
}

// Delete removes key; S3 already treats a missing key as success.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := checkKey("delete", key); err != nil {
		return err
	}
	if err := b.client.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return b.mapErr(ctx, "delete", key, err)
	}
	return nil
}

// checkKey refuses keys outside the Bucket contract, which S3 would accept
// but the local folder could not store: both Buckets hold the same key space.
func checkKey(op, key string) error {
	if !archive.ValidKey(key) {
		return &archive.Error{Code: archive.EINVALID, Message: fmt.Sprintf("invalid storage key %q", key),
			Err: fmt.Errorf("s3: %s", op)}
	}
	return nil
}

// mapErr turns a minio-go error into the archive.Bucket contract: missing objects
// are fs.ErrNotExist, a failed If-None-Match fs.ErrExist, a failed If-Match
// archive.ErrPrecondition, a full disk archive.ErrNoSpace, and every failure to
// talk to the service archive.ErrUnavailable. The caller's own cancellation is
// passed through as such.
func (b *Bucket) mapErr(ctx context.Context, op, key string, err error) error {
	where := fmt.Sprintf("s3: %s %s/%s", op, b.bucket, key)
	// A write that may have reached the service and got no answer may have
	// been done, or may still be: a refused connection or an unknown host
	// is the only failure without an answer that proves it was not.
	lost := archive.ErrUnavailable
	if (op == "create" || op == "replace" || op == "put") && !neverSent(err) {
		lost = archive.ErrOutcomeUnknown
	}
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		// The caller's deadline is its timeout on the service.
		return fmt.Errorf("%s: %w: %w", where, lost, ctxErr)
	case ctxErr != nil:
		return fmt.Errorf("%s: %w", where, ctxErr)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey":
		return fmt.Errorf("%s: %w", where, fs.ErrNotExist)
	case "PreconditionFailed":
		if op == "create" {
			return fmt.Errorf("%s: %w", where, fs.ErrExist)
		}
		return fmt.Errorf("%s: %w", where, archive.ErrPrecondition)
	case "XMinioStorageFull", "XMinioDiskFull", "StorageFull":
		return fmt.Errorf("%s: %s: %w", where, resp.Message, archive.ErrNoSpace)
	}
	switch {
	case resp.StatusCode == http.StatusInsufficientStorage:
		return fmt.Errorf("%s: %s: %w", where, resp.Message, archive.ErrNoSpace)
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%s: %w: %s (%d %s)", where, archive.ErrUnavailable, resp.Message, resp.StatusCode, resp.Code)
	case resp.StatusCode != 0:
		// An answer from the service that the contract has no name for
		// (access denied, no such bucket): a configuration problem, not an
		// outage, so it is not retryable.
		return fmt.Errorf("%s: %s (%d %s)", where, resp.Message, resp.StatusCode, resp.Code)
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%s: %w: %v", where, archive.ErrNoSpace, err)
	}
	// No HTTP answer: the network, a refused connection, a timeout or a
	// connection dropped mid-body.
	return fmt.Errorf("%s: %w: %w", where, lost, err)
}

// neverSent reports whether err proves the request never reached the
// service: the connection could not be made.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func toInfo(oi minio.ObjectInfo) archive.ObjectInfo {
	return archive.ObjectInfo{
		Key:          oi.Key,
		Size:         oi.Size,
		ETag:         strings.Trim(oi.ETag, `"`),
		LastModified: oi.LastModified,
	}
}

// uploadInfo describes a finished write. S3 does not return the modification
// time of a PUT, so the local clock stands in for it.
func uploadInfo(key string, size int64, ui minio.UploadInfo) archive.ObjectInfo {
	lm := ui.LastModified
	if lm.IsZero() {
		lm = time.Now().UTC()
	}
	return archive.ObjectInfo{Key: key, Size: size, ETag: strings.Trim(ui.ETag, `"`), LastModified: lm}
}

// sourceReader remembers the caller's read error, so a failing upload source is
// reported as such and not mistaken for an unreachable service, and counts bytes.
//
// net/http may go on reading a request body after the response has come: a
// server that refuses a conditional PUT before reading the body (versitygw does)
// leaves the transport's writer still sending it. close ends that, so the
// caller's reader is never read once Create or Put has returned.
type sourceReader struct {
	mu     sync.Mutex
	r      io.Reader
	n      int64
	eof    bool
	err    error
	closed bool
}

// errSourceClosed ends a body read after its write has returned.
var errSourceClosed = errors.New("s3: the write has returned; its source is no longer read")

func (s *sourceReader) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

func (s *sourceReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errSourceClosed
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	switch {
	case err == io.EOF:
		s.eof = true
	case err != nil:
		s.err = err
	}
	return n, err
}

// failed reports whether the upload failed because of its source: a read error,
// or fewer bytes than the announced size.
func (s *sourceReader) failed(size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.eof && size >= 0 && s.n < size {
		return fmt.Errorf("%w: %d of %d bytes", io.ErrUnexpectedEOF, s.n, size)
	}
	return nil
}

// readOnly hides Seek and ReadAt from minio-go so it sends the body once.
type readOnly struct{ r io.Reader }

func (r readOnly) Read(p []byte) (int, error) { return r.r.Read(p) }

// spool reads r to the end, in memory up to memLimit (1 MiB) and in a temporary
// file beyond, so a conditional write of unknown length learns its length (one PUT
// needs it) without holding a large stream in memory.
func spool(r io.Reader) (io.Reader, int64, func(), error) {
	buf := make([]byte, 0, 8<<10)
	for len(buf) < memLimit {
		if len(buf) == cap(buf) {
			// Double explicitly: append grows large slices by only 1.25x,
			// which would copy a 1 MiB stream many times over.
			buf = append(make([]byte, 0, min(2*cap(buf), memLimit)), buf...)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return bytes.NewReader(buf), int64(len(buf)), func() {}, nil
		}
		if err != nil {
			return nil, 0, nil, err
		}
	}
	f, err := os.CreateTemp("", "sijill-s3-spool-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("spool file: %w", err)
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	n1, err := f.Write(buf)
	if err != nil {
		cleanup()
		return nil, 0, nil, fmt.Errorf("spool file: %w", err)
	}
	n2, err := io.Copy(f, r)
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, 0, nil, fmt.Errorf("spool file: %w", err)
	}
	return f, int64(n1) + n2, cleanup, nil
}
