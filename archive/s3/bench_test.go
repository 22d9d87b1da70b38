package s3_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
)

// benchSize is the attachment size of the upload benchmarks.
const benchSize = 64 << 20

// BenchmarkPut compares Bucket.Put of 64 MB with a bare minio-go PutObject of
// the same bytes to the same server: the cost of the Bucket layer for
// attachments. "stream" puts a stream of unknown length (minio-go gets the bytes
// in memory with their size, its fastest case); "file" puts a file of known
// size through both. It reports both in MB/s and their ratio (the issue aims at
// >= 0.8).
//
//	go test -bench . -run '^$' ./archive/s3/
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	data := make([]byte, benchSize)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	cfg := shared.Config(s3test.BucketName())
	bucket, err := s3.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region})
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "attachment")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		b.Fatal(err)
	}
	openFile := func() *os.File {
		f, err := os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	cases := []struct {
		name       string
		viaBucket  func() error
		viaMinioGo func() error
	}{
		{
			// An upload as the web layer receives it: a stream of unknown length.
			"stream",
			func() error {
				_, err := bucket.Put(ctx, "blobs/bench-bucket", onlyReader{bytes.NewReader(data)}, -1)
				return err
			},
			func() error {
				_, err := client.PutObject(ctx, cfg.Bucket, "blobs/bench-minio", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
				return err
			},
		},
		{
			// An upload as the Store sends it: a spooled file of known size.
			"file",
			func() error {
				f := openFile()
				defer f.Close()
				_, err := bucket.Put(ctx, "blobs/bench-bucket", f, int64(len(data)))
				return err
			},
			func() error {
				f := openFile()
				defer f.Close()
				_, err := client.PutObject(ctx, cfg.Bucket, "blobs/bench-minio", f, int64(len(data)), minio.PutObjectOptions{})
				return err
			},
		},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			// Each iteration uploads through both, alternately, so that a
			// machine busy with other work slows both alike and the ratio
			// stays meaningful.
			var viaBucket, viaMinio time.Duration
			for b.Loop() {
				start := time.Now()
				if err := c.viaBucket(); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if err := c.viaMinioGo(); err != nil {
					b.Fatal(err)
				}
				viaBucket += mid.Sub(start)
				viaMinio += time.Since(mid)
			}
			mb := float64(b.N) * float64(len(data)) / 1e6
			b.ReportMetric(mb/viaBucket.Seconds(), "bucket-MB/s")
			b.ReportMetric(mb/viaMinio.Seconds(), "minio-go-MB/s")
			b.ReportMetric(viaMinio.Seconds()/viaBucket.Seconds(), "ratio")
		})
	}
}

// onlyReader hides Seek and ReadAt, as a request body does.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
