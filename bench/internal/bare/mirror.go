package bare

import (
	"context"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sijill/sijill/archive/s3"
)

// Mirror copies every object of src's bucket that keep accepts to dst's (which
// must exist), sixteen at once, streaming each through the client as `mc mirror` does
// between two services: list, get, put, nothing read back. It returns the
// time taken, the objects and their bytes.
func Mirror(ctx context.Context, src, dst s3.Config, keep func(key string) bool) (time.Duration, int, int64, error) {
	from, err := minio.New(src.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(src.AccessKey, src.SecretKey, "")})
	if err != nil {
		return 0, 0, 0, err
	}
	to, err := minio.New(dst.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(dst.AccessKey, dst.SecretKey, "")})
	if err != nil {
		return 0, 0, 0, err
	}
	began := time.Now()
	work := make(chan minio.ObjectInfo)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	var total int64
	objects := 0
	for range 16 {
		wg.Go(func() {
			for oi := range work {
				obj, err := from.GetObject(ctx, src.Bucket, oi.Key, minio.GetObjectOptions{})
				if err == nil {
					_, err = to.PutObject(ctx, dst.Bucket, oi.Key, obj, oi.Size, minio.PutObjectOptions{})
					obj.Close()
				}
				mu.Lock()
				total += oi.Size
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for oi := range from.ListObjects(ctx, src.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if oi.Err != nil {
			close(work)
			wg.Wait()
			return 0, 0, 0, oi.Err
		}
		if !keep(oi.Key) {
			continue
		}
		objects++
		work <- oi
	}
	close(work)
	wg.Wait()
	return time.Since(began), objects, total, firstErr
}
