// Command importer measures a bulk import (make bench-import): rows per
// second of `sijill import` of a CSV register with scans, on MinIO and on
// the local folder, beside the same rows registered through the API by eight
// concurrent clients of a real server on MinIO, in the same run.
//
//	go run ./bench/importer [-rows 10000] [-scans 300]
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/importer"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
	"github.com/sijill/sijill/bench/internal/bare"
	"github.com/sijill/sijill/bench/internal/server"
	"github.com/sijill/sijill/cmd/sijill-load/workload"
)

func main() {
	rows := flag.Int("rows", 10000, "rows of the register")
	scans := flag.Int("scans", 300, "distinct scans the rows name (one row in three has one)")
	flag.Parse()
	if err := run(*rows, *scans); err != nil {
		fmt.Fprintln(os.Stderr, "bench-import:", err)
		os.Exit(1)
	}
}

type row struct {
	reg, year, number, date, subject, from, file string
}

func makeRows(n, scans int) []row {
	regs := []string{"incoming", "outgoing", "decisions", "minutes"}
	var out []row
	per := map[string]int{}
	for i := range n {
		reg, year := regs[i%4], strconv.Itoa(2010+(i/4)%10)
		per[reg+year]++
		r := row{reg: reg, year: year, number: strconv.Itoa(per[reg+year]), date: fmt.Sprintf("%s-%02d-%02d", year, 1+i%12, 1+i%28),
			subject: fmt.Sprintf("خطاب رقم %d بشأن اجتماع اللجنة الجهوية", i), from: "الأمانة العامة"}
		if i%3 == 0 {
			r.file = fmt.Sprintf("scan-%04d.png", i%scans)
		}
		out = append(out, r)
	}
	return out
}

func run(n, scans int) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "sijill-bench-import-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files := filepath.Join(tmp, "scans")
	os.MkdirAll(files, 0o755)
	for i := range scans {
		img := image.NewGray(image.Rect(0, 0, 600, 800))
		for y := range 800 {
			img.Set(i%600, y, color.Gray{Y: uint8(i)})
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		if err := os.WriteFile(filepath.Join(files, fmt.Sprintf("scan-%04d.png", i)), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	rows := makeRows(n, scans)
	var sheet strings.Builder
	w := csv.NewWriter(&sheet)
	w.Write([]string{"register", "year", "number", "date", "subject", "from", "files"})
	for _, r := range rows {
		w.Write([]string{r.reg, r.year, r.number, r.date, r.subject, r.from, r.file})
	}
	w.Flush()

	mio, stop, err := s3test.StartMain()
	if err != nil {
		return err
	}
	defer stop()
	quiet := slog.New(slog.DiscardHandler)

	// The import, on MinIO and on the local folder.
	importCfg := mio.Config(s3test.BucketName())
	for _, where := range []string{"MinIO", "local folder"} {
		var b archive.Bucket
		if where == "MinIO" {
			sb, err := s3.Open(ctx, importCfg)
			if err != nil {
				return err
			}
			b = sb
		} else {
			fb, err := folder.Open(filepath.Join(tmp, "bucket"))
			if err != nil {
				return err
			}
			b = fb
		}
		store := archive.NewStore(b, archive.Options{TempDir: tmp, Logger: quiet})
		began := time.Now()
		rep, err := importer.Run(ctx, importer.Options{Store: store, Actor: "bench", FilesDir: files}, strings.NewReader(sheet.String()))
		if err != nil {
			return err
		}
		d := time.Since(began)
		fmt.Printf("sijill import on %s: %d rows (%d imported, %d refused) in %v: %.0f rows/s\n",
			where, rep.Rows, rep.Imported, len(rep.Refused), d.Round(time.Millisecond), float64(rep.Rows)/d.Seconds())
		if where != "MinIO" {
			continue
		}
		// sijill verify of what was imported, against the floor of reading
		// the same objects with bare minio-go.
		began = time.Now()
		vr, err := store.Verify(ctx, "bench", nil)
		if err != nil {
			return err
		}
		vd := time.Since(began)
		if len(vr.Problems) > 0 {
			return fmt.Errorf("verify found %d problems after the import: %v", len(vr.Problems), vr.Problems[0])
		}
		bd, objects, nbytes, err := bare.Read(ctx, importCfg, "records/", "history/", "blobs/", "audit/", "counters/")
		if err != nil {
			return err
		}
		fmt.Printf("sijill verify on MinIO: %d records, %d files (%.0f MB) in %v: %.0f records/s\n",
			vr.Records, vr.Blobs, float64(vr.Bytes)/1e6, vd.Round(time.Millisecond), float64(vr.Records)/vd.Seconds())
		fmt.Printf("bare minio-go reading and hashing the same %d objects (%.0f MB, 16 at once): %v — verify takes %.2f× that\n",
			objects, float64(nbytes)/1e6, bd.Round(time.Millisecond), vd.Seconds()/bd.Seconds())
	}

	// The same rows through the API of a real server on MinIO, by eight
	// clients at once, each row with its scan in one request.
	bin := filepath.Join(tmp, "sijill")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sijill/sijill/cmd/sijill").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	base, kill, err := serve(bin, filepath.Join(tmp, "data"), mio.Config(s3test.BucketName()))
	if err != nil {
		return err
	}
	defer kill()
	token, err := workload.Login(ctx, base, "admin", "bench import password")
	if err != nil {
		return err
	}
	began := time.Now()
	work := make(chan row)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 8 {
		wg.Go(func() {
			for r := range work {
				if err := post(base, token, files, r); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	for _, r := range rows {
		work <- r
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	d := time.Since(began)
	fmt.Printf("the same rows through the API, 8 clients: %v: %.0f rows/s\n", d.Round(time.Millisecond), float64(n)/d.Seconds())
	return nil
}

// post registers one row through the API (numbers are the server's), with
// its scan in the same request.
func post(base, token, files string, r row) error {
	fields, _ := json.Marshal(map[string]string{"subject": r.subject, "from": r.from, "date": r.date})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("record", string(fields))
	if r.file != "" {
		b, err := os.ReadFile(filepath.Join(files, r.file))
		if err != nil {
			return err
		}
		p, _ := mw.CreateFormFile("file", r.file)
		p.Write(b)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/registers/"+r.reg+"/records", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", "bench-"+r.reg+"-"+r.year+"-"+r.number)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST: %d %s", resp.StatusCode, b)
	}
	return nil
}

func serve(bin, data string, cfg s3.Config) (string, func(), error) {
	return server.Start(bin, data, nil, []string{"SIJILL_ADMIN_PASSWORD=bench import password", "SIJILL_OCR_WORKERS=1",
		"SIJILL_S3_ENDPOINT=" + cfg.Endpoint, "SIJILL_S3_BUCKET=" + cfg.Bucket,
		"SIJILL_S3_ACCESS_KEY=" + cfg.AccessKey, "SIJILL_S3_SECRET_KEY=" + cfg.SecretKey})
}
