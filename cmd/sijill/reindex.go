package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/schollz/progressbar/v3"

	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/web"
)

// runReindex rebuilds the search index from storage, reusing the text already
// extracted from attachments. The server must be stopped: the index is locked
// while it is open.
func runReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return exitCode(2)
	}
	logger := newLogger(stderr, cfg.LogLevel)
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	ix, err := index.Open(filepath.Join(cfg.Data, "index"), logger)
	if err != nil {
		return fmt.Errorf("open the search index (is a server running on %s?): %w", cfg.Data, err)
	}
	defer ix.Close()
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("indexing"),
		progressbar.OptionShowCount(), progressbar.OptionSetItsString("records"), progressbar.OptionShowIts())
	err = ix.Rebuild(ctx, web.Source{Store: store}, func(done, total int) {
		if bar.GetMax() != total {
			bar.ChangeMax(total)
		}
		bar.Set(done)
	})
	bar.Finish()
	fmt.Fprintln(stderr)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	n, _ := ix.Count()
	fmt.Fprintf(stdout, "indexed %d records\n", n)
	return nil
}
