package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/buckettest"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
)

// shared is the MinIO server of the tests that do not stop it.
var shared *s3test.Server

func TestMain(m *testing.M) {
	srv, stop, err := s3test.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = srv
	code := m.Run()
	stop()
	os.Exit(code)
}

func open(t testing.TB, srv *s3test.Server) *s3.Bucket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := s3.Open(ctx, srv.Config(s3test.BucketName()))
	if err != nil {
		t.Fatalf("s3.Open: %v", err)
	}
	return b
}

func TestBucket(t *testing.T) {
	buckettest.Test(t, func(t *testing.T) archive.Bucket { return open(t, shared) })
}

// TestOpenCreatesBucket checks that Open creates a missing bucket, that a second
// Open (another process sharing it) finds it, and that both see the same objects.
func TestOpenCreatesBucket(t *testing.T) {
	ctx := context.Background()
	cfg := shared.Config(s3test.BucketName())
	opened := make(chan error, 4)
	buckets := make([]*s3.Bucket, 4)
	for i := range buckets {
		go func() {
			var err error
			buckets[i], err = s3.Open(ctx, cfg)
			opened <- err
		}()
	}
	for range buckets {
		if err := <-opened; err != nil {
			t.Fatalf("concurrent Open of a new bucket: %v", err)
		}
	}
	if _, err := buckets[0].Create(ctx, "k", strings.NewReader("v"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := buckets[3].Create(ctx, "k", strings.NewReader("w"), 1); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create through a second Bucket value: err = %v, want fs.ErrExist", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	good := shared.Config(s3test.BucketName())

	wrongSecret := good
	wrongSecret.SecretKey = "not-the-secret"
	_, err := s3.Open(ctx, wrongSecret)
	if err == nil || errors.Is(err, archive.ErrUnavailable) {
		t.Errorf("Open with a wrong secret: err = %v, want a non-retryable error", err)
	}

	nobody := good
	nobody.Endpoint = closedPort(t)
	start := time.Now()
	_, err = s3.Open(ctx, nobody)
	if !errors.Is(err, archive.ErrUnavailable) {
		t.Errorf("Open of a closed port: err = %v, want ErrUnavailable", err)
	}
	t.Logf("Open of a closed port failed after %v: %v", time.Since(start), err)

	withScheme := good
	withScheme.Endpoint = "http://" + good.Endpoint
	if _, err := s3.Open(ctx, withScheme); err == nil {
		t.Error("Open of an endpoint with a scheme succeeded")
	}
}

// closedPort returns a loopback address nobody listens on: a stopped server's.
func closedPort(t *testing.T) string {
	srv := s3test.Start(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	return srv.Endpoint()
}

// TestUnavailable stops MinIO under an open Bucket: every call fails quickly with
// ErrUnavailable, nothing is written, and once MinIO is back the same Bucket
// works again without being reopened.
func TestUnavailable(t *testing.T) {
	srv := s3test.Start(t)
	b := open(t, srv)
	ctx := context.Background()
	before, err := b.Create(ctx, "records/incoming/2026/000001.json", strings.NewReader("one"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error {
			rc, _, err := b.Get(ctx, "records/incoming/2026/000001.json")
			if err == nil {
				rc.Close()
			}
			return err
		}},
		{"Stat", func(ctx context.Context) error {
			_, err := b.Stat(ctx, "records/incoming/2026/000001.json")
			return err
		}},
		{"Create", func(ctx context.Context) error {
			_, err := b.Create(ctx, "records/incoming/2026/000002.json", strings.NewReader("two"), 3)
			return err
		}},
		{"CreateStream", func(ctx context.Context) error {
			_, err := b.Create(ctx, "records/incoming/2026/000002.json", io.MultiReader(strings.NewReader("two")), -1)
			return err
		}},
		{"Replace", func(ctx context.Context) error {
			_, err := b.Replace(ctx, "records/incoming/2026/000001.json", before.ETag, strings.NewReader("uno"), 3)
			return err
		}},
		{"Put", func(ctx context.Context) error {
			_, err := b.Put(ctx, "hints/incoming", bytes.NewReader([]byte("2")), 1)
			return err
		}},
		{"PutStream", func(ctx context.Context) error {
			_, err := b.Put(ctx, "blobs/x", io.MultiReader(bytes.NewReader(make([]byte, 1<<20))), -1)
			return err
		}},
		{"List", func(ctx context.Context) error {
			return b.List(ctx, "records/", func(archive.ObjectInfo) error { return nil })
		}},
		{"Delete", func(ctx context.Context) error {
			return b.Delete(ctx, "tmp/x")
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			// The deadline only keeps a broken implementation from hanging the
			// run; the assertion is about the error, reported with its delay.
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			start := time.Now()
			err := c.call(ctx)
			if !errors.Is(err, archive.ErrUnavailable) {
				t.Errorf("with MinIO stopped: err = %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("with MinIO stopped, the error took %v; a user waits for it", d)
			}
			if archive.ErrorCode(err) != archive.EUNAVAILABLE {
				t.Errorf("ErrorCode = %q, want %q", archive.ErrorCode(err), archive.EUNAVAILABLE)
			}
		})
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	// Nothing the failed calls tried was written.
	got := readAll(t, b, "records/incoming/2026/000001.json")
	if got != "one" {
		t.Errorf("after the outage the record holds %q, want %q", got, "one")
	}
	if _, err := b.Stat(ctx, "records/incoming/2026/000002.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a Create during the outage left an object: Stat err = %v", err)
	}
	// The same Bucket value works again.
	if _, err := b.Create(ctx, "records/incoming/2026/000002.json", strings.NewReader("two"), 3); err != nil {
		t.Errorf("Create after MinIO is back: %v", err)
	}
	if _, err := b.Replace(ctx, "records/incoming/2026/000001.json", before.ETag, strings.NewReader("uno"), 3); err != nil {
		t.Errorf("Replace after MinIO is back: %v", err)
	}
}

func readAll(t *testing.T, b archive.Bucket, key string) string {
	t.Helper()
	rc, _, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(data)
}

// TestServerAnswers pins down what MinIO really answers to the conditional
// writes, as seen through bare minio-go: the mapping in s3.go relies on it.
func TestServerAnswers(t *testing.T) {
	ctx := context.Background()
	cfg := shared.Config(s3test.BucketName())
	// Open creates the bucket; the requests below use a bare client of their own.
	if _, err := s3.Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	putIf := func(key string, set func(*minio.PutObjectOptions)) minio.ErrorResponse {
		opts := minio.PutObjectOptions{DisableMultipart: true}
		set(&opts)
		_, err := c.PutObject(ctx, cfg.Bucket, key, strings.NewReader("x"), 1, opts)
		return minio.ToErrorResponse(err)
	}
	if _, err := c.PutObject(ctx, cfg.Bucket, "exists", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		key        string
		set        func(*minio.PutObjectOptions)
		wantStatus int
		wantCode   string
	}{
		{"IfNoneMatchOnExisting", "exists", func(o *minio.PutObjectOptions) { o.SetMatchETagExcept("*") }, 412, "PreconditionFailed"},
		{"IfMatchStale", "exists", func(o *minio.PutObjectOptions) { o.SetMatchETag("0123456789abcdef0123456789abcdef") }, 412, "PreconditionFailed"},
		{"IfMatchMissing", "missing", func(o *minio.PutObjectOptions) { o.SetMatchETag("0123456789abcdef0123456789abcdef") }, 404, "NoSuchKey"},
	}
	for _, tc := range cases {
		resp := putIf(tc.key, tc.set)
		if resp.StatusCode != tc.wantStatus || resp.Code != tc.wantCode {
			t.Errorf("%s: MinIO answered %d %q, want %d %q", tc.name, resp.StatusCode, resp.Code, tc.wantStatus, tc.wantCode)
		}
	}
}

// TestSourceErrors checks that an upload whose source fails or ends early is
// reported as such, not as a storage outage the caller would retry.
func TestSourceErrors(t *testing.T) {
	ctx := context.Background()
	b := open(t, shared)
	errClient := errors.New("the client hung up")
	tests := []struct {
		name string
		src  func() io.Reader
		size int64
		want error
	}{
		{"failing-stream", func() io.Reader { return io.MultiReader(strings.NewReader("abc"), errReader{errClient}) }, -1, errClient},
		{"failing-sized", func() io.Reader { return io.MultiReader(strings.NewReader("abc"), errReader{errClient}) }, 10, errClient},
		{"short", func() io.Reader { return io.MultiReader(strings.NewReader("abc")) }, 10, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			writes := map[string]func() error{
				"Put": func() error { _, err := b.Put(ctx, "src/"+tc.name, tc.src(), tc.size); return err },
				"Create": func() error {
					_, err := b.Create(ctx, "src/"+tc.name, tc.src(), tc.size)
					return err
				},
			}
			for name, write := range writes {
				err := write()
				if !errors.Is(err, tc.want) || errors.Is(err, archive.ErrUnavailable) {
					t.Errorf("%s: err = %v, want %v and not ErrUnavailable", name, err, tc.want)
				}
			}
		})
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestShared races two independently opened Buckets (two connection pools, as
// two processes) on one MinIO bucket.
func TestShared(t *testing.T) {
	buckettest.TestShared(t, func(t *testing.T) (archive.Bucket, archive.Bucket) {
		cfg := shared.Config(s3test.BucketName())
		a, err := s3.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s3.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}
