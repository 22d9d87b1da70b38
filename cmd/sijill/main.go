// Command sijill runs the Sijill archive server and its admin tasks.
//
//	sijill serve   [--data DIR] [--addr HOST:PORT]   serve the API and web pages
//	sijill user    add|passwd|disable|list ...         manage accounts
//	sijill reindex [--data DIR]                        rebuild the search index
//	sijill verify  [--data DIR]                        check every record, chain and file
//	sijill print   book --register R --year Y -o FILE  print a register book
//	sijill export  --register R --year Y -o FILE.zip   a register year as a BagIt bag
//	sijill backup  --to DIR|s3://BUCKET                copy the whole archive
//	sijill restore --from DIR|s3://BUCKET              bring it back into empty storage
//
// main only handles signals and exit codes; the wiring is in Main, which the
// end-to-end tests reuse.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sijill/sijill/archive/extract"
)

func main() {
	// A child started to read one uploaded file under limits (see
	// extract.RunChildIfAsked) does only that.
	extract.RunChildIfAsked()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	var ec exitCode
	switch {
	case errors.As(err, &ec):
		os.Exit(int(ec))
	case err != nil:
		fmt.Fprintln(os.Stderr, "sijill:", err)
		os.Exit(1)
	}
}

// exitCode ends the program with a status and no further message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
