// Command backup measures `sijill backup` and `sijill restore` (make
// bench-backup): objects and MB per second for an archive of 10,000 records
// with scans on MinIO, copied to a second bucket and to a folder, an
// incremental run with nothing new, and a restore into an empty bucket —
// against a plain mirror of the same bucket by minio-go (list, get, put, what
// `mc mirror` does) in the same run.
//
//	go run ./bench/backup [-rows 10000] [-scans 1000]
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/importer"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
	"github.com/sijill/sijill/bench/internal/bare"
)

func main() {
	rows := flag.Int("rows", 10000, "records of the archive")
	scans := flag.Int("scans", 1000, "distinct scans (one record in three has one; about 200 KB each)")
	flag.Parse()
	if err := run(*rows, *scans); err != nil {
		fmt.Fprintln(os.Stderr, "bench-backup:", err)
		os.Exit(1)
	}
}

// scan is a grey page of noise: it compresses as badly as a real scan, so the
// bytes moved are a real archive's.
func scan(seed int) []byte {
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	img := image.NewGray(image.Rect(0, 0, 420, 560))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	img.Set(0, 0, color.Gray{Y: uint8(seed)})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func run(n, scans int) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "sijill-bench-backup-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files := filepath.Join(tmp, "scans")
	os.MkdirAll(files, 0o755)
	for i := range scans {
		if err := os.WriteFile(filepath.Join(files, fmt.Sprintf("scan-%04d.png", i)), scan(i), 0o644); err != nil {
			return err
		}
	}
	var sheet strings.Builder
	w := csv.NewWriter(&sheet)
	w.Write([]string{"register", "year", "number", "subject", "from", "files"})
	regs := []string{"incoming", "outgoing", "decisions", "minutes"}
	for i := range n {
		file := ""
		if i%3 == 0 {
			file = fmt.Sprintf("scan-%04d.png", (i/3)%scans)
		}
		w.Write([]string{regs[i%4], "2025", strconv.Itoa(i/4 + 1), fmt.Sprintf("خطاب رقم %d بشأن اجتماع اللجنة", i), "الأمانة العامة", file})
	}
	w.Flush()

	mio, stop, err := s3test.StartMain()
	if err != nil {
		return err
	}
	defer stop()
	quiet := slog.New(slog.DiscardHandler)
	open := func(cfg s3.Config) (archive.Bucket, error) { return s3.Open(ctx, cfg) }

	srcCfg := mio.Config(s3test.BucketName())
	src, err := open(srcCfg)
	if err != nil {
		return err
	}
	store := archive.NewStore(src, archive.Options{TempDir: tmp, Logger: quiet})
	rep, err := importer.Run(ctx, importer.Options{Store: store, Actor: "bench", FilesDir: files}, strings.NewReader(sheet.String()))
	if err != nil {
		return err
	}
	if rep.Imported != n {
		return fmt.Errorf("imported %d of %d rows", rep.Imported, n)
	}

	// The floor: a plain mirror by minio-go of the objects a backup copies
	// (not the change feed, sessions and leases).
	mirrorCfg := mio.Config(s3test.BucketName())
	if _, err := open(mirrorCfg); err != nil { // makes the bucket
		return err
	}
	md, objects, nbytes, err := bare.Mirror(ctx, srcCfg, mirrorCfg, archive.BackedUp)
	if err != nil {
		return err
	}
	mb := float64(nbytes) / 1e6
	fmt.Printf("archive: %d records, %d objects to back up, %.0f MB\n", n, objects, mb)
	fmt.Printf("bare minio-go mirror to a second bucket (16 at once, nothing read back): %v: %.0f objects/s, %.0f MB/s\n",
		md.Round(time.Millisecond), float64(objects)/md.Seconds(), mb/md.Seconds())

	report := func(what string, r *archive.CopyReport) time.Duration {
		d := r.Finished.Sub(r.Started)
		fmt.Printf("%s: %d objects looked at, %d copied (%.0f MB), %d unchanged in %v: %.0f objects/s, %.0f MB/s — %.2f× the mirror's time\n",
			what, r.Objects, r.Copied, float64(r.Bytes)/1e6, r.Unchanged, d.Round(time.Millisecond),
			float64(r.Objects)/d.Seconds(), float64(r.Bytes)/1e6/d.Seconds(), d.Seconds()/md.Seconds())
		return d
	}
	backupCfg := mio.Config(s3test.BucketName())
	backup, err := open(backupCfg)
	if err != nil {
		return err
	}
	r, err := archive.Backup(ctx, src, backup, archive.CopyOptions{})
	if err != nil {
		return err
	}
	report("sijill backup to a second bucket (every copy read back and hashed)", r)
	if r, err = archive.Backup(ctx, src, backup, archive.CopyOptions{}); err != nil {
		return err
	}
	report("sijill backup again, nothing new", r)
	dir, err := folder.Open(filepath.Join(tmp, "backup"))
	if err != nil {
		return err
	}
	if r, err = archive.Backup(ctx, src, dir, archive.CopyOptions{}); err != nil {
		return err
	}
	report("sijill backup to a local folder", r)

	target, err := open(mio.Config(s3test.BucketName()))
	if err != nil {
		return err
	}
	if r, err = archive.Restore(ctx, backup, target, archive.CopyOptions{}); err != nil {
		return err
	}
	report("sijill restore from the bucket into an empty bucket", r)
	restored := archive.NewStore(target, archive.Options{TempDir: tmp, Logger: quiet})
	began := time.Now()
	vr, err := restored.Verify(ctx, "bench", nil)
	if err != nil {
		return err
	}
	if len(vr.Problems) > 0 {
		return fmt.Errorf("the restored archive does not verify: %v", vr.Problems[0])
	}
	fmt.Printf("sijill verify of the restored archive: %d records, %d files, clean, in %v\n", vr.Records, vr.Blobs, time.Since(began).Round(time.Millisecond))
	return nil
}
