package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/archive/importer"
)

// runImport brings an existing archive in from a CSV register and a folder of
// files: sijill import --csv FILE --files DIR [--map header=field,...]
// [--report FILE] [--actor NAME]. Numbers and years are kept as given; a
// number already taken by other content is refused and reported, never
// overwritten; a run that was interrupted is simply run again. The import
// only writes the bucket: a server running on it indexes every record as it
// comes (it follows the bucket's change feed), and one started later finds
// them when it reconciles its index at start. The text of the imported files
// is read by the servers in the background.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const help = `usage: sijill import --csv FILE --files DIR [--map header=field,...] [--report FILE] [--actor NAME]

fields: ` + "register, year, number, date, subject, from, to, body, committee, tags, files, reference, reference_date, received_date, in_reply_to, refs, meeting, attendees, apologies, agenda, confidentiality" + `
A header named like a field needs no mapping. Lists (tags, files, ...) are separated by ";".`
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	csvPath := fs.String("csv", "", "the CSV register to import (UTF-8, header line first)")
	files := fs.String("files", "", "the folder holding the files the CSV names")
	mapping := fs.String("map", "", "column mapping header=field,header=field")
	reportPath := fs.String("report", "", "write the refused rows here as CSV (default: import-refused.csv beside the CSV when any)")
	actor := fs.String("actor", "import", "the account name the import is recorded under")
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return exitCode(2)
	}
	if *csvPath == "" || *files == "" {
		fmt.Fprintln(stderr, help)
		return exitCode(2)
	}
	m, err := importer.ParseMap(*mapping)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitCode(2)
	}
	if fi, err := os.Stat(*files); err != nil || !fi.IsDir() {
		return fmt.Errorf("import: --files %s is not a folder", *files)
	}
	in, err := os.Open(*csvPath)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer in.Close()
	logger := newLogger(stderr, cfg.LogLevel)
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	bar := newProgressBar(ctx, stderr, "import", "rows")
	opt := importer.Options{Store: store, Actor: *actor, FilesDir: *files, Map: m, OnProgress: bar.set}
	// The imported files are queued for text extraction in the bucket; the
	// next server start reads them in the background.
	queue := extract.New(ctx, store, extract.Options{Logger: logger})
	enqueue := func(ctx context.Context, rec *archive.Record) {
		if err := queue.Enqueue(ctx, rec.ID, rec.Attachments); err != nil {
			logger.Error("files imported but their text extraction not queued; run sijill reindex --ocr", "id", rec.ID, "err", err)
		}
	}
	opt.OnRecord = func(ctx context.Context, rec *archive.Record) error {
		enqueue(ctx, rec)
		return nil
	}
	rep, runErr := importer.Run(ctx, opt, in)
	bar.finish(runErr == nil)
	if rep == nil {
		return runErr
	}
	fmt.Fprintf(stdout, "rows %d: imported %d, already there %d, refused %d\n", rep.Rows, rep.Imported, rep.Skipped, len(rep.Refused))
	if len(rep.Refused) > 0 || *reportPath != "" {
		path := *reportPath
		if path == "" {
			path = filepath.Join(filepath.Dir(*csvPath), "import-refused.csv")
		}
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("import: write the report: %w", err)
		}
		werr := rep.WriteCSV(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
		fmt.Fprintf(stdout, "refused rows and why: %s\n", path)
	}
	if runErr != nil {
		return fmt.Errorf("%w (run the same import again to finish it)", runErr)
	}
	return nil
}
