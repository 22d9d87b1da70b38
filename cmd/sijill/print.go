package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render"
)

// runPrint writes a register book (or one record) to a PDF file.
func runPrint(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const help = `usage:
  sijill print book --register R --year Y -o FILE [--eastern] [--hijri]
  sijill print record ID -o FILE [--eastern] [--hijri]`
	if len(args) == 0 || (args[0] != "book" && args[0] != "record") {
		fmt.Fprintln(stderr, help)
		return exitCode(2)
	}
	what, rest := args[0], args[1:]
	var id string
	if what == "record" {
		if len(rest) == 0 {
			fmt.Fprintln(stderr, help)
			return exitCode(2)
		}
		id, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("print", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reg := fs.String("register", "", "incoming, outgoing, decisions or minutes")
	year := fs.Int("year", 0, "the register's year")
	out := fs.String("o", "", "the PDF file to write")
	eastern := fs.Bool("eastern", false, "Eastern Arabic digits")
	hijri := fs.Bool("hijri", false, "Hijri dates beside Gregorian")
	cfg, err := parseConfig(fs, rest, getenv)
	if err != nil {
		return exitCode(2)
	}
	if *out == "" || (what == "book" && (*reg == "" || *year == 0)) {
		fmt.Fprintln(stderr, help)
		return exitCode(2)
	}
	signer, err := cfg.signer()
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	switch what {
	case "book":
		r := archive.Register(*reg)
		if !r.Valid() {
			f.Close()
			os.Remove(*out)
			return fmt.Errorf("no register %q: use incoming, outgoing, decisions or minutes", *reg)
		}
		err = render.Book(ctx, w, render.BookOptions{Organisation: cfg.Organisation, Register: r, Year: *year,
			EasternDigits: *eastern, Hijri: *hijri, Now: store.Now(), Location: store.Location(),
			TempDir: store.TempDir(), Signer: signer}, store.Records(ctx, r, *year))
	case "record":
		var rec *archive.Record
		if rec, _, err = store.Get(ctx, id); err == nil {
			err = render.RecordPrint(ctx, w, render.PrintOptions{Organisation: cfg.Organisation,
				EasternDigits: *eastern, Hijri: *hijri, Now: store.Now(), Location: store.Location(), Signer: signer}, rec)
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	if err == nil {
		_ = store.Audit(ctx, archive.Event{Actor: "cli", Action: archive.ActionExport, Target: *out})
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}
