package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sijill/sijill/render"
)

// runKeys makes the organisation's signing key: keys init writes a key, a
// self-signed certificate and a request for a real one, and says how to use
// them.
func runKeys(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const help = `usage:
  sijill keys init [--dir DIR] [--years N]   a signing key and a self-signed certificate (default DIR: <data>/keys)`
	if len(args) == 0 || args[0] != "init" {
		fmt.Fprintln(stderr, help)
		return exitCode(2)
	}
	fset := flag.NewFlagSet("keys init", flag.ContinueOnError)
	fset.SetOutput(stderr)
	dir := fset.String("dir", "", "where to write the key and the certificate (default: <data>/keys)")
	years := fset.Int("years", 10, "how many years the self-signed certificate is valid")
	cfg, err := parseConfig(fset, args[1:], getenv)
	if err != nil {
		return exitCode(2)
	}
	if *years < 1 || *years > 50 {
		return fmt.Errorf("--years %d: want 1 to 50", *years)
	}
	if *dir == "" {
		*dir = filepath.Join(cfg.Data, "keys")
	}
	keyFile := filepath.Join(*dir, "sign-key.pem")
	certFile := filepath.Join(*dir, "sign-cert.pem")
	reqFile := filepath.Join(*dir, "sign-request.csr")
	for _, f := range []string{keyFile, certFile} {
		if _, err := os.Stat(f); err == nil {
			return fmt.Errorf("%s exists: a signing key is not replaced (move it away first; prints already signed stay valid with the old certificate)", f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	now := time.Now()
	keyPEM, certPEM, err := render.NewSigningPair(cfg.Organisation, now, *years)
	if err != nil {
		return err
	}
	req, err := render.SigningRequest(keyPEM, cfg.Organisation)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	// The key is written first and only if it does not exist yet (O_EXCL):
	// two runs at once cannot leave a certificate of another key.
	if err := writeNew(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(certFile, certPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(reqFile, req, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `A signing key and a self-signed certificate for %q are in %s:
  sign-key.pem      the private key: keep it secret, and back it up apart from the archive
  sign-cert.pem     the certificate, valid until %s
  sign-request.csr  a request for a certificate of this key from a certificate authority

To sign every register book, record print, follow-up report and exported book, start Sijill with
  SIJILL_SIGN_KEY=%s SIJILL_SIGN_CERT=%s
PDF readers will show the signature as valid but made by a certificate they do not know.

For a certificate they trust, send sign-request.csr to a certificate authority (a document-signing
certificate) and point SIJILL_SIGN_CERT at the PEM file it returns, the chain after the certificate;
or, if it delivers a PKCS #12 file (.p12, .pfx) with its own key, set SIJILL_SIGN_P12 and
SIJILL_SIGN_P12_PASSWORD instead of the two above.
`, cfg.Organisation, *dir, now.AddDate(*years, 0, 0).Format(time.DateOnly), keyFile, certFile)
	return nil
}

// writeNew writes b to a file that must not exist yet.
func writeNew(name string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	return f.Close()
}
