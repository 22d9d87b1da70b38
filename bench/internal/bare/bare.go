// Package bare reads a bucket with nothing but minio-go: the floor that the
// benchmarks of whole-bucket work (an index rebuild, a fixity check) are
// measured against in the same run.
package bare

import (
	"context"
	"crypto/sha256"
	"io"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sijill/sijill/archive/s3"
)

// Read lists the objects under prefixes and reads and hashes every one,
// sixteen at once. It returns the time taken, the objects and their bytes.
func Read(ctx context.Context, cfg s3.Config, prefixes ...string) (time.Duration, int, int64, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		return 0, 0, 0, err
	}
	began := time.Now()
	var keys []string
	for _, prefix := range prefixes {
		for oi := range client.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if oi.Err != nil {
				return 0, 0, 0, oi.Err
			}
			keys = append(keys, oi.Key)
		}
	}
	work := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	var total int64
	for range 16 {
		wg.Go(func() {
			for k := range work {
				obj, err := client.GetObject(ctx, cfg.Bucket, k, minio.GetObjectOptions{})
				var n int64
				if err == nil {
					h := sha256.New()
					n, err = io.Copy(h, obj)
					obj.Close()
					h.Sum(nil)
				}
				mu.Lock()
				total += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	return time.Since(began), len(keys), total, firstErr
}
