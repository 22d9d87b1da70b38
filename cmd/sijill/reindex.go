package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/index"
)

// runReindex rebuilds the search index from storage, reusing the text already
// extracted from attachments; with --ocr it first reads every attachment's
// text again (OCR and PDF text layers), which takes minutes per hundred
// scanned pages. A server running on the same data directory holds the
// index: reindex says so and stops (a running server keeps its index in step
// with the bucket by itself).
func runReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ocr := fs.Bool("ocr", false, "read the text of every attachment again (OCR, PDF text layers) before indexing")
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return exitCode(2)
	}
	logger := newLogger(stderr, cfg.LogLevel)
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if *ocr {
		if err := reextract(ctx, store, cfg, logger, stdout); err != nil {
			return err
		}
	}
	ix, err := index.Open(filepath.Join(cfg.Data, "index"), index.Options{Logger: logger, MinFree: cfg.IndexMinFree})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer ix.Close()
	bar := newProgressBar(ctx, stderr, "indexing", "records")
	err = ix.Rebuild(ctx, store, bar.set)
	bar.finish(err == nil)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	n, _ := ix.Count()
	fmt.Fprintf(stdout, "indexed %d records\n", n)
	return nil
}

// reextract reads the text of every attachment of every record again, with
// the pool's workers, and waits until all are read.
func reextract(ctx context.Context, store *archive.Store, cfg *Config, logger *slog.Logger, stdout io.Writer) error {
	words, err := index.NewWords()
	if err != nil {
		return err
	}
	pool := extract.New(ctx, store, extract.Options{Workers: cfg.OCRWorkers, Logger: logger, Tessdata: cfg.Tessdata, Lexicon: words})
	if t := pool.Tools(); !t.OCR() || !t.Pdftotext || !t.Pdftoppm {
		logger.Warn("some text extraction tools are missing; files needing them are marked unavailable",
			"tesseract", t.Tesseract, "arabic", t.Arabic, "pdftotext", t.Pdftotext, "pdftoppm", t.Pdftoppm)
	}
	if err := pool.Start(ctx); err != nil {
		return err
	}
	defer pool.Close()
	seen := map[string]bool{}
	for rec, err := range store.AllRecords(ctx) {
		if err != nil {
			return fmt.Errorf("reindex --ocr: %w", err)
		}
		// A file carried by several records is read once: again for its
		// first record, and only noted for the others.
		var again, noted []archive.Attachment
		for _, a := range rec.Attachments {
			if seen[a.SHA256] {
				noted = append(noted, a)
			} else {
				seen[a.SHA256] = true
				again = append(again, a)
			}
		}
		err := pool.Reextract(ctx, rec.ID, again)
		if err == nil {
			err = pool.Enqueue(ctx, rec.ID, noted)
		}
		if err != nil {
			return fmt.Errorf("reindex --ocr: %w", err)
		}
	}
	fmt.Fprintf(stdout, "reading the text of %d files with %d workers\n", len(seen), pool.Workers())
	if err := pool.Wait(ctx); err != nil {
		return err
	}
	count := map[string]int{}
	for sum := range seen {
		st, _, err := pool.Status(ctx, sum)
		if err != nil {
			return err
		}
		count[st.Status]++
	}
	fmt.Fprintf(stdout, "text read: %d done, %d failed, %d unavailable (tools missing)\n",
		count[extract.StatusDone], count[extract.StatusFailed], count[extract.StatusUnavailable])
	return nil
}
