package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
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

// TestSSES3 runs the Bucket conformance suite with SSE-S3 against a MinIO that
// has a KMS, and checks with a plain client that what Sijill wrote is stored
// encrypted.
func TestSSES3(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	// s3test passes its environment on to MinIO: this gives it a KMS.
	t.Setenv("MINIO_KMS_SECRET_KEY", "sijill-test-key:"+base64.StdEncoding.EncodeToString(key))
	srv := s3test.Start(t)
	open := func(t *testing.T, name string) *s3.Bucket {
		cfg := srv.Config(name)
		cfg.SSE = "s3"
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := s3.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("s3.Open with SSE-S3: %v\n%s", err, srv.Log())
		}
		return b
	}
	buckettest.Test(t, func(t *testing.T) archive.Bucket { return open(t, s3test.BucketName()) })

	ctx := context.Background()
	name := s3test.BucketName()
	b := open(t, name)
	body := []byte("%PDF-1.4 سري للغاية")
	for _, write := range []func() error{
		func() error {
			_, err := b.Put(ctx, "blobs/sse/put", bytes.NewReader(body), int64(len(body)))
			return err
		},
		func() error {
			_, err := b.Create(ctx, "records/sse/create.json", bytes.NewReader(body), int64(len(body)))
			return err
		},
	} {
		if err := write(); err != nil {
			t.Fatal(err)
		}
	}
	cfg := srv.Config(name)
	raw, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"blobs/sse/put", "records/sse/create.json"} {
		oi, err := raw.StatObject(ctx, name, k, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := oi.Metadata.Get("X-Amz-Server-Side-Encryption"); got != "AES256" {
			t.Errorf("%s: stored with server-side encryption %q, want AES256", k, got)
		}
		rc, _, err := b.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, body) {
			t.Errorf("%s reads back as %q", k, got)
		}
	}
}

// TestSSEConfigRefused checks the configurations that must not start: an
// unknown mode, SSE-C over plain HTTP (its key would travel in clear), a key
// of the wrong size, and SSE-S3 on a service without a KMS (refused at Open,
// not at the first registration).
func TestSSEConfigRefused(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name, sse, key string
		tls            bool
		want           string
	}{
		{"unknown mode", "aes", "", false, "want s3, c"},
		{"SSE-C without TLS", "c", good, false, "needs TLS"},
		{"SSE-C key too short", "c", base64.StdEncoding.EncodeToString(make([]byte, 16)), true, "32 bytes"},
		{"SSE-C key not base64", "c", "not base64!", true, "32 bytes"},
		{"key without SSE-C", "", good, false, "SSE is not"},
		{"SSE-S3 without a KMS", "s3", "", false, "refuses server-side encryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := shared.Config(s3test.BucketName())
			cfg.SSE, cfg.SSEKey = tt.sse, tt.key
			if tt.tls {
				cfg.TLS = true
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := s3.Open(ctx, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
