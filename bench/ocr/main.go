// Command bench measures text extraction: pages per minute at 1 and 2
// workers, and the search API's p99 latency while OCR runs, as a ratio to
// idle. With -measure it compares OCR resolutions and page segmentation
// modes on a printed page.
//
//	go run ./bench/ocr [-pages 4] [-searches 300]
//	go run ./bench/ocr -measure
//	go run ./bench/ocr -letters [-tessdata bin/tessdata] [-dump dir]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/internal/scantest"
	"github.com/sijill/sijill/internal/scantest/printed"
	"github.com/sijill/sijill/web"
)

func main() {
	extract.RunChildIfAsked()
	measureOnly := flag.Bool("measure", false, "compare OCR resolutions and page segmentation modes")
	lettersOnly := flag.Bool("letters", false, "read the OCR set of scanned letters (internal/ocrset) with Sijill and with plain Tesseract")
	tessdata := flag.String("tessdata", os.Getenv("SIJILL_TESSDATA"), "Tesseract's model folder for -letters (SIJILL_TESSDATA)")
	dump := flag.String("dump", "", "with -letters, keep the scans and the readings in this folder")
	scansOnly := flag.Bool("scans-only", false, "with -letters -dump, only write the scans")
	pages := flag.Int("pages", 4, "scanned pages read per run")
	dpis := flag.String("dpi", "150,200,300,400", "resolutions compared by -measure")
	threshold := flag.String("threshold", "", "Tesseract's thresholding_method for -measure (0 Otsu, 1 LeptonicaOtsu, 2 Sauvola; empty: its default)")
	searches := flag.Int("searches", 200, "searches per latency sample")
	flag.Parse()
	ctx := context.Background()
	var err error
	if *lettersOnly {
		err = letters(ctx, os.Stdout, *tessdata, *dump, *scansOnly && *dump != "")
	} else if *measureOnly {
		var ds []int
		for _, d := range strings.Split(*dpis, ",") {
			n, _ := strconv.Atoi(d)
			ds = append(ds, n)
		}
		err = measure(ctx, os.Stdout, ds, *threshold)
	} else {
		err = bench(ctx, *pages, *searches)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, pages, searches int) error {
	dir, err := os.MkdirTemp("", "extract-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := folder.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "bucket", ".tmp")
	os.MkdirAll(tmp, 0o750)
	store := archive.NewStore(b, archive.Options{TempDir: tmp})
	if _, err := store.EnsureAdmin(ctx, "bench password"); err != nil {
		return err
	}
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer ix.Close()
	store.OnRecordWritten(ix.Hook(store))
	srv := web.NewServer(web.Config{Addr: "127.0.0.1:0"}, store, nil)
	srv.SetIndex(ix)
	if err := srv.Open(); err != nil {
		return err
	}
	defer srv.Shutdown(ctx)
	token, _, err := store.IssueToken(ctx, "admin", time.Hour)
	if err != nil {
		return err
	}

	// An archive to search: a few hundred records of corpus sentences.
	sentences := strings.FieldsFunc(corpusText(40000), func(r rune) bool { return r == '\n' || r == '.' || r == '،' })
	for i := range 300 {
		s := strings.TrimSpace(sentences[i%len(sentences)])
		body := strings.TrimSpace(sentences[(i*7+3)%len(sentences)])
		if _, _, err := store.Create(ctx, "admin", archive.Incoming, archive.Fields{Subject: &s, Body: &body}, nil, ""); err != nil {
			return err
		}
	}
	queries := []string{"المجلس الوطني", "الحزب", "التنظيمية", "الانتخابات", "المناضلين والمناضلات", "تكوين", "الجهوية"}
	// Searches are paced at 20 a second, a busy office's rate, so the
	// benchmark measures OCR's effect on them, not theirs on each other.
	latencies := func(n int) ([]time.Duration, error) {
		var out []time.Duration
		for i := range n {
			time.Sleep(50 * time.Millisecond)
			req, _ := http.NewRequest("GET", srv.URL()+"/api/v1/search?q="+url.QueryEscape(queries[i%len(queries)]), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return nil, fmt.Errorf("search: status %d", resp.StatusCode)
			}
			out = append(out, time.Since(start))
		}
		return out, nil
	}

	// Scanned pages, each distinct so that each is read.
	fmt.Printf("making %d scanned pages per run...\n", pages)
	var files [2][]archive.Attachment
	for run := range 2 {
		for i := range pages {
			// A whole A4 page at 300 dpi, spoiled like a scan.
			pdf, err := printed.PDF(ctx, "دعوة إلى اجتماع المكتب السياسي", corpusText(1400))
			if err != nil {
				return err
			}
			page, err := scantest.Page(ctx, pdf, 300)
			if err != nil {
				return err
			}
			png := scantest.EncodePNG(scantest.Spoil(page, 1.5, 40, 0.003, uint64(run*1000+i+1)))
			a, err := store.PutBlob(ctx, strings.NewReader(string(png)), "scan.png", 100<<20)
			if err != nil {
				return err
			}
			files[run] = append(files[run], a)
		}
	}

	if _, err := latencies(20); err != nil { // warm up
		return err
	}
	idle, err := latencies(searches)
	if err != nil {
		return err
	}
	p99idle := p99(idle)
	fmt.Printf("search idle: p99 %v, p90 %v, median %v (%d searches)\n", p99idle, pct(idle, 90), median(idle), len(idle))

	for run, workers := range []int{1, 2} {
		pool := extract.New(ctx, store, extract.Options{Workers: workers,
			Reindex: func(ctx context.Context, ids []string) error { return ix.RefreshAll(ctx, store, ids) }})
		srv.SetExtractor(pool)
		if err := pool.Start(ctx); err != nil {
			return err
		}
		start := time.Now()
		for i, a := range files[run] {
			if err := pool.Enqueue(ctx, fmt.Sprintf("incoming-%d-%d", time.Now().Year(), i+1), []archive.Attachment{a}); err != nil {
				return err
			}
		}
		var busy []time.Duration
		for pool.Queued() > 0 {
			l, err := latencies(20)
			if err != nil {
				return err
			}
			busy = append(busy, l...)
		}
		if err := pool.Wait(ctx); err != nil {
			return err
		}
		took := time.Since(start)
		pool.Close()
		for _, a := range files[run] {
			if st, _, _ := pool.Status(ctx, a.SHA256); st.Status != extract.StatusDone {
				return fmt.Errorf("page not read: %+v", st)
			}
		}
		fmt.Printf("%d worker(s): %d pages in %v = %.1f pages/min; search while OCR runs: p99 %v (ratio to idle %.2f), p90 %v (%.2f), median %v (%.2f), %d searches\n",
			workers, pages, took.Round(time.Millisecond), float64(pages)/took.Minutes(),
			p99(busy), float64(p99(busy))/float64(p99idle), pct(busy, 90), float64(pct(busy, 90))/float64(pct(idle, 90)),
			median(busy), float64(median(busy))/float64(median(idle)), len(busy))
	}
	// Idle again: on a shared machine the first sample may have been unlucky.
	idle2, err := latencies(searches)
	if err != nil {
		return err
	}
	fmt.Printf("search idle after: p99 %v, p90 %v, median %v\n", p99(idle2), pct(idle2, 90), median(idle2))
	return nil
}

func p99(d []time.Duration) time.Duration { return pct(d, 99) }

// pct is the p-th percentile of d.
func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
