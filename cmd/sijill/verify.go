package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sijill/sijill/archive"
)

// runVerify checks the fixity of the whole archive (archive.Store.Verify):
// every file re-hashed, every entry and hash chain followed, every earlier
// version compared, every version matched against the audit trail. It prints
// the report, with each register's book digest to compare with the printed
// closing certificate, and exits 1 on any problem. It may run while a server
// is serving the same storage.
func runVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress bar")
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return exitCode(2)
	}
	store, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	var progress archive.VerifyProgress
	var bar *progressBar
	if !*quiet {
		bar = newProgressBar(ctx, stderr, "verifying", "objects")
		progress = bar.set
	}
	rep, err := store.Verify(ctx, "cli", progress)
	if bar != nil {
		bar.finish(err == nil)
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := printReport(stdout, rep); err != nil {
		return err
	}
	if !rep.OK() {
		return exitCode(1)
	}
	return nil
}

// printReport writes the report for a person: what was checked, the digest of
// every register's year, and every problem on its own line.
func printReport(w io.Writer, rep *archive.VerifyReport) error {
	fmt.Fprintf(w, "checked %d records, %d earlier versions and %d files (%.1f MB) in %s\n",
		rep.Records, rep.Versions, rep.Blobs, float64(rep.Bytes)/(1<<20), rep.Finished.Sub(rep.Started).Round(time.Millisecond))
	if rep.Unreferenced > 0 {
		fmt.Fprintf(w, "%d stored files are named by no record (uploads whose record was not created)\n", rep.Unreferenced)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(rep.Books) > 0 {
		fmt.Fprintln(tw, "\nREGISTER\tYEAR\tENTRIES\tCHAIN HEAD\tBOOK DIGEST")
		for _, b := range rep.Books {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", b.Register, b.Year, b.Entries, b.Head, b.Digest)
		}
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(tw, "\nPROBLEM\tRECORD\tOBJECT\tDETAIL")
		for _, p := range rep.Problems {
			rec := p.Record
			if rec == "" {
				rec = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Kind, rec, p.Key, p.Detail)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.OK() {
		_, err := fmt.Fprintln(w, "\nOK: every file, entry, chain and version is intact")
		return err
	}
	_, err := fmt.Fprintf(w, "\nFAILED: %d problems\n", len(rep.Problems))
	return err
}

// scheduleVerify runs the fixity check inside the server, once every
// VerifyEvery across all the processes sharing the bucket (the last run is
// kept in the bucket; a lease keeps two from running at once), looking first
// VerifyFirst after start, until ctx ends. The result shows on /healthz;
// each run is in the audit trail.
func (m *Main) scheduleVerify(ctx context.Context) {
	defer close(m.verifyDone)
	if m.Config.VerifyEvery <= 0 {
		return
	}
	t := time.NewTimer(m.Config.VerifyFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := m.Server.VerifyIfDue(ctx, m.Config.VerifyEvery) // logs its own result and failures
		t.Reset(max(time.Until(next), time.Second))
	}
}
