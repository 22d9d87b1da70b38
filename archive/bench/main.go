// Command bench measures the archive: records registered per second and
// attachment throughput, on MinIO and on the local folder, side by side with a
// bare minio-go PutObject of the same bytes to the same server in the same run.
//
//	go run ./archive/bench            (make bench)
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
)

func main() {
	records := flag.Int("records", 2000, "records to register per run")
	mb := flag.Int("mb", 256, "attachment size in MB")
	rounds := flag.Int("rounds", 3, "uploads per measurement (the best is kept)")
	flag.Parse()
	if err := run(*records, *mb, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// onlyReader hides every method but Read, as an HTTP request body does.
type onlyReader struct{ io.Reader }

func run(nrec, mb, rounds int) error {
	ctx := context.Background()
	srv, stop, err := s3test.StartMain()
	if err != nil {
		return err
	}
	defer stop()
	tmp, err := os.MkdirTemp("", "sijill-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	cfg := srv.Config(s3test.BucketName())
	sb, err := s3.Open(ctx, cfg)
	if err != nil {
		return err
	}
	fb, err := folder.Open(filepath.Join(tmp, "bucket"))
	if err != nil {
		return err
	}
	data := make([]byte, mb<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>13)
	}

	fmt.Printf("Sijill archive benchmark: %d records, %d MB attachment, best of %d\n\n", nrec, mb, rounds)
	fmt.Printf("%-14s %16s %16s %16s\n", "storage", "records/s (1)", "records/s (8)", "attachment MB/s")
	var minioBlob float64
	for _, b := range []struct {
		name   string
		bucket archive.Bucket
		tmp    string
	}{{"MinIO", sb, filepath.Join(tmp, "spool")}, {"local folder", fb, filepath.Join(tmp, "bucket", ".tmp")}} {
		os.MkdirAll(b.tmp, 0o750)
		store := archive.NewStore(b.bucket, archive.Options{TempDir: b.tmp})
		seq, err := createRate(ctx, store, archive.Outgoing, nrec/4, 1)
		if err != nil {
			return err
		}
		par, err := createRate(ctx, store, archive.Incoming, nrec, 8)
		if err != nil {
			return err
		}
		blob, err := best(rounds, func(i int) error {
			d := append([]byte(fmt.Sprintf("%%PDF-1.7 %d\n", i)), data...) // new bytes: no dedup
			_, err := store.PutBlob(ctx, onlyReader{bytes.NewReader(d)}, "scan.pdf", int64(len(d)))
			return err
		}, len(data))
		if err != nil {
			return err
		}
		if b.name == "MinIO" {
			minioBlob = blob
		}
		fmt.Printf("%-14s %16.0f %16.0f %16.1f\n", b.name, seq, par, blob)
	}

	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		return err
	}
	bare, err := best(rounds, func(i int) error {
		_, err := client.PutObject(ctx, cfg.Bucket, fmt.Sprintf("bare/%d", i), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		return err
	}, len(data))
	if err != nil {
		return err
	}
	fmt.Printf("%-14s %16s %16s %16.1f\n", "bare minio-go", "", "", bare)
	fmt.Printf("\nattachment upload through the Store / bare PutObject on the same MinIO: %.2f (aim >= 0.8)\n", minioBlob/bare)
	return nil
}

// createRate registers n records with workers concurrent clients and returns records/s.
func createRate(ctx context.Context, store *archive.Store, reg archive.Register, n, workers int) (float64, error) {
	subject := "دعوة لحضور اجتماع المكتب السياسي للحزب"
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if _, _, err := store.Create(ctx, "bench", reg, archive.Fields{Subject: &subject}, nil, ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// best runs f rounds times and returns the best throughput in MB/s.
func best(rounds int, f func(i int) error, size int) (float64, error) {
	var top float64
	for i := range rounds {
		start := time.Now()
		if err := f(i); err != nil {
			return 0, err
		}
		if r := float64(size) / (1 << 20) / time.Since(start).Seconds(); r > top {
			top = r
		}
	}
	return top, nil
}
