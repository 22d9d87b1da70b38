package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/export"
)

// runExport writes a register year as a BagIt bag, or checks a bag.
func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const help = `usage:
  sijill export --register R --year Y -o DIR|FILE.zip [--public-only] [--actor NAME]
  sijill export --check DIR|FILE.zip`
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reg := fs.String("register", "", "incoming, outgoing, decisions or minutes")
	year := fs.Int("year", 0, "the register's year")
	out := fs.String("o", "", "the bag to write: a new directory, or a file ending in .zip")
	check := fs.String("check", "", "validate the bag in this directory or zip file instead of exporting")
	publicOnly := fs.Bool("public-only", false, "leave confidential entries out (the bag then says it is incomplete)")
	actor := fs.String("actor", "cli", "the name the export is recorded under")
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return exitCode(2)
	}
	if *check != "" {
		return checkBag(*check, stdout)
	}
	r := archive.Register(*reg)
	if *out == "" || !r.Valid() || *year == 0 {
		fmt.Fprintln(stderr, help)
		return exitCode(2)
	}
	signer, err := cfg.signer()
	if err != nil {
		return err
	}
	logger := newLogger(stderr, max(cfg.LogLevel, slog.LevelWarn))
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	sum, err := export.WriteTo(ctx, store, *out, export.Options{Organisation: cfg.Organisation, Register: r,
		Year: *year, Confidential: !*publicOnly, ExportedBy: *actor, Now: store.Now(), Location: store.Location(),
		TempDir: store.TempDir(), Signer: signer})
	if err != nil {
		return err
	}
	complete := "complete"
	if !sum.Complete {
		complete = fmt.Sprintf("NOT complete: %d confidential entries and %d confidential versions left out", sum.Withheld, sum.WithheldVersions)
	}
	fmt.Fprintf(stdout, "%s: %s/%d, %d entries (%d annulled, %d confidential), %d versions, %d files, %d texts (%d not extracted yet), %d audit events, %d bytes; %s\n",
		*out, r, *year, sum.Records, sum.Annulled, sum.Confidential, sum.Versions, sum.Files, sum.Texts,
		sum.TextsPending, sum.Events, sum.PayloadBytes, complete)
	if err := store.Audit(ctx, archive.Event{Actor: *actor, Action: archive.ActionExport,
		Target: fmt.Sprintf("%s/%d", r, *year), Detail: "bag " + complete}); err != nil {
		logger.Error("audit event lost", "action", archive.ActionExport, "err", err)
	}
	return nil
}

// checkBag validates a bag and says what is wrong, naming the files.
func checkBag(name string, stdout io.Writer) error {
	bag, closer, err := export.Open(name)
	if err != nil {
		return err
	}
	defer closer.Close()
	if err := export.Validate(bag); err != nil {
		var inv *export.InvalidError
		if errors.As(err, &inv) {
			fmt.Fprintln(stdout, err)
			return exitCode(1)
		}
		return err
	}
	info, _ := export.Info(bag)
	fmt.Fprintf(stdout, "%s: a valid bag (Payload-Oxum %s, complete: %s)\n", name, info["Payload-Oxum"], info["Sijill-Complete"])
	return nil
}
