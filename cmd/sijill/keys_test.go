package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignedPrintsFromKeysInit: `sijill keys init` makes a key a secretary
// can start with, refuses to replace it, and a server given it signs the
// register book, a record print and the follow-up report, which poppler's
// pdfsig verifies as made by the organisation's certificate. A key that
// cannot be read stops the start instead of letting prints go out unsigned.
func TestSignedPrintsFromKeysInit(t *testing.T) {
	if _, err := exec.LookPath("pdfsig"); err != nil {
		t.Fatal("pdfsig not found: run `make test` (it installs poppler-utils)")
	}
	ctx := context.Background()
	data := t.TempDir()
	const org = "حزب الاستقلال — الأمانة العامة"
	getenv := func(k string) string {
		if k == "SIJILL_ORG" {
			return org
		}
		return ""
	}
	var out, errOut bytes.Buffer
	if err := Run(ctx, []string{"keys", "init", "--data", data}, getenv, &out, &errOut); err != nil {
		t.Fatalf("keys init: %v\n%s", err, errOut.String())
	}
	keyFile, certFile := filepath.Join(data, "keys", "sign-key.pem"), filepath.Join(data, "keys", "sign-cert.pem")
	for _, want := range []string{"SIJILL_SIGN_KEY=" + keyFile, "SIJILL_SIGN_CERT=" + certFile, "sign-request.csr", "SIJILL_SIGN_P12"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("keys init does not say %q:\n%s", want, out.String())
		}
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("the key is readable by others: %v", fi.Mode())
	}
	if err := Run(ctx, []string{"keys", "init", "--data", data}, getenv, &out, &errOut); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second keys init: %v", err)
	}
	if again, _ := os.ReadFile(keyFile); !bytes.Equal(again, key) {
		t.Error("a second keys init replaced the key")
	}

	// A server with the key signs what it prints.
	m := openMainAt(t, data, map[string]string{"SIJILL_ORG": org, "SIJILL_SIGN_KEY": keyFile, "SIJILL_SIGN_CERT": certFile})
	t.Cleanup(func() { m.Close() })
	admin := login(t, m.Server.URL(), "admin", adminPassword)
	var rec record
	if st := admin.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": "قرار بتعيين أمين المال"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}
	for _, p := range []string{
		fmt.Sprintf("/api/v1/registers/decisions/%d/book.pdf", rec.Year),
		"/api/v1/records/" + rec.ID + "/print.pdf",
		"/api/v1/followup/report.pdf",
	} {
		resp, body := admin.raw("GET", p, nil, "", nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
			continue
		}
		f := filepath.Join(t.TempDir(), "p.pdf")
		if err := os.WriteFile(f, body, 0o644); err != nil {
			t.Fatal(err)
		}
		sig, _ := exec.Command("pdfsig", f).CombinedOutput()
		if !strings.Contains(string(sig), "Signature is Valid") || !strings.Contains(string(sig), "Common Name: "+org) {
			t.Errorf("%s is not signed by %q:\n%s", p, org, sig)
		}
	}

	// A key that is not there stops the start.
	cfg, err := parseConfig(newFlagSet(), []string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, func(k string) string {
		return map[string]string{"SIJILL_SIGN_KEY": keyFile + ".missing", "SIJILL_SIGN_CERT": certFile}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.AdminPassword = adminPassword
	bad := &Main{Config: cfg, Logger: m.Logger}
	if err := bad.Open(ctx); err == nil {
		bad.Close()
		t.Error("a server started with a signing key it cannot read")
	}
	if _, err := parseConfig(newFlagSet(), nil, func(k string) string {
		return map[string]string{"SIJILL_SIGN_KEY": keyFile}[k]
	}); err == nil {
		t.Error("a key without its certificate was taken")
	}
}
