package s3_test

import (
	"context"
	"errors"
	"io/fs"
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

// The S3 Bucket is tested against a second S3 implementation, versitygw
// (Versity S3 Gateway, POSIX back end: one file per object), so that it is not
// merely "works with MinIO". versitygw v1.8.0 honours If-None-Match: * and
// If-Match on PUT with the same 412 PreconditionFailed and 404 NoSuchKey
// answers as MinIO, which is all Sijill's numbering and updates rely on; the
// differences it does have are pinned in TestVersityGWDifferences.

func openOn(t *testing.T, cfg s3.Config, log func() string) *s3.Bucket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := s3.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("s3.Open on %s: %v\n%s", cfg.Endpoint, err, log())
	}
	return b
}

func TestBucketOnVersityGW(t *testing.T) {
	gw := s3test.StartVersityGW(t)
	buckettest.Test(t, func(t *testing.T) archive.Bucket {
		return openOn(t, gw.Config(s3test.BucketName()), gw.Log)
	})
}

// TestSharedOnVersityGW races two Buckets through two gateway processes over one
// directory, as several gateways on a shared file system are deployed: the
// create-only and compare-and-swap writes must hold across gateways too.
func TestSharedOnVersityGW(t *testing.T) {
	gw := s3test.StartVersityGW(t)
	gw2 := gw.StartAnother(t)
	buckettest.TestShared(t, func(t *testing.T) (archive.Bucket, archive.Bucket) {
		name := s3test.BucketName()
		a := openOn(t, gw.Config(name), gw.Log)
		return a, openOn(t, gw2.Config(name), gw2.Log)
	})
}

// TestVersityGWDifferences pins, side by side, what MinIO and versitygw answer to
// the requests where they differ, and what the Bucket makes of them, so that an
// upgrade of either that changes an answer is noticed here first.
func TestVersityGWDifferences(t *testing.T) {
	gw := s3test.StartVersityGW(t)
	type answer struct {
		status int
		code   string
	}
	servers := []struct {
		name string
		cfg  s3.Config
		log  func() string
		// The raw answers, in the order of the requests below.
		want []answer
	}{
		{"MinIO", shared.Config(s3test.BucketName()), shared.Log, []answer{
			{200, ""},                    // If-Match: * on an existing object overwrites it
			{200, ""},                    // If-None-Match: <etag> with another etag writes
			{200, ""},                    // a/b when a is an object: both exist
			{200, ""},                    // d when d/e exists: both exist
			{412, "PreconditionFailed"},  // If-None-Match: * on an existing object
			{404, "NoSuchKey"},           // If-Match on a missing object
			{412, "PreconditionFailed"}}, // If-Match with another etag
		},
		{"versitygw", gw.Config(s3test.BucketName()), gw.Log, []answer{
			{412, "PreconditionFailed"},        // If-Match: * is refused (Sijill never sends it)
			{501, "NotImplemented"},            // If-None-Match with an etag (Sijill sends only *)
			{409, "ObjectParentIsFile"},        // a file cannot also be a directory
			{409, "ExistingObjectIsDirectory"}, // nor a directory a file
			{412, "PreconditionFailed"},
			{404, "NoSuchKey"},
			{412, "PreconditionFailed"}},
		},
	}
	ctx := context.Background()
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			b := openOn(t, srv.cfg, srv.log)
			c, err := minio.New(srv.cfg.Endpoint, &minio.Options{
				Creds: credentials.NewStaticV4(srv.cfg.AccessKey, srv.cfg.SecretKey, ""), Region: srv.cfg.Region})
			if err != nil {
				t.Fatal(err)
			}
			put := func(key string, opt func(*minio.PutObjectOptions)) answer {
				o := minio.PutObjectOptions{DisableMultipart: true}
				if opt != nil {
					opt(&o)
				}
				_, err := c.PutObject(ctx, srv.cfg.Bucket, key, strings.NewReader("x"), 1, o)
				if err == nil {
					return answer{200, ""}
				}
				r := minio.ToErrorResponse(err)
				return answer{r.StatusCode, r.Code}
			}
			put("a", nil)
			put("d/e", nil)
			got := []answer{
				put("a", func(o *minio.PutObjectOptions) { o.SetMatchETag("*") }),
				put("a", func(o *minio.PutObjectOptions) { o.SetMatchETagExcept("0123456789abcdef0123456789abcdef") }),
				put("a/b", nil),
				put("d", nil),
				put("a", func(o *minio.PutObjectOptions) { o.SetMatchETagExcept("*") }),
				put("missing", func(o *minio.PutObjectOptions) { o.SetMatchETag("0123456789abcdef0123456789abcdef") }),
				put("a", func(o *minio.PutObjectOptions) { o.SetMatchETag("0123456789abcdef0123456789abcdef") }),
			}
			for i := range got {
				if got[i] != srv.want[i] {
					t.Errorf("request %d: %s answered %+v, want %+v", i+1, srv.name, got[i], srv.want[i])
				}
			}

			// Through the Bucket, the answers Sijill relies on are the same on both.
			if _, err := b.Create(ctx, "a", strings.NewReader("y"), 1); !errors.Is(err, fs.ErrExist) {
				t.Errorf("Create of an existing key: %v, want fs.ErrExist", err)
			}
			if _, err := b.Replace(ctx, "missing", "0123456789abcdef0123456789abcdef", strings.NewReader("y"), 1); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Replace of a missing key: %v, want fs.ErrNotExist", err)
			}
			if _, err := b.Replace(ctx, "a", "0123456789abcdef0123456789abcdef", strings.NewReader("y"), 1); !errors.Is(err, archive.ErrPrecondition) {
				t.Errorf("Replace with a stale ETag: %v, want archive.ErrPrecondition", err)
			}
			// A key through an object's name is refused by a file-backed store.
			// Sijill's layout never makes one; should it, the error must not pass
			// for an outage that a client would retry for ever.
			if _, err := b.Put(ctx, "a/c", strings.NewReader("y"), 1); errors.Is(err, archive.ErrUnavailable) {
				t.Errorf("Put through an object's name: %v, must not be ErrUnavailable", err)
			}
		})
	}
}
