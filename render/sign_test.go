package render

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// testSigner makes a signing pair for org with NewSigningPair, writes it as
// PEM files and loads it back.
func testSigner(t *testing.T, org string) *Signer {
	t.Helper()
	keyPEM, certPEM, err := NewSigningPair(org, printedAt, 10)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kf, cf := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(kf, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cf, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSignerPEM(kf, cf)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pdfsig runs poppler's pdfsig on path and returns what it says, with
// the exit status an error would have.
func pdfsig(t *testing.T, path string) string {
	t.Helper()
	needTool(t, "pdfsig", "poppler-utils")
	out, _ := exec.Command("pdfsig", path).CombinedOutput()
	return string(out)
}

// TestSignedBook: a register book signed with the organisation's key is
// verified by poppler's pdfsig — valid, by the configured certificate, over
// the whole file — and shown as altered once one byte of it changes. The
// signed book is still the book: its pages, its text and its closing
// certificate. Without a key nothing is signed.
func TestSignedBook(t *testing.T) {
	const org = "حزب التقدم والاشتراكية"
	opt := bookOptions()
	opt.Signer = testSigner(t, org)
	path := writeBook(t, opt, sampleRecords(30))
	out := pdfsig(t, path)
	for _, want := range []string{
		"Signature is Valid",
		"Signer Certificate Common Name: " + org,
		"Total document signed",
		"Signature Type: adbe.pkcs7.detached",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig does not say %q:\n%s", want, out)
		}
	}
	pages := pageTexts(t, path)
	if last := pages[len(pages)-1]; !strings.Contains(last, logical("محضر اختتام السجل")) {
		t.Errorf("the signed book lost its closing certificate:\n%s", last)
	}

	// One byte of the signed range changed: the signature no longer holds.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("/Producer"))
	if i < 0 {
		t.Fatal("no /Producer in the book")
	}
	b[i+2] ^= 0x20 // /PrOducer
	altered := filepath.Join(t.TempDir(), "altered.pdf")
	if err := os.WriteFile(altered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := pdfsig(t, altered); strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Digest Mismatch") {
		t.Errorf("pdfsig does not see the changed byte:\n%s", out)
	}

	// No key: no signature.
	if out := pdfsig(t, writeBook(t, bookOptions(), sampleRecords(3))); !strings.Contains(out, "does not contain any signatures") {
		t.Errorf("an unsigned book holds a signature:\n%s", out)
	}
}

// TestSignedPrints: a record print and the follow-up report are signed
// alike, here with a key and chain from a PKCS #12 file as a certificate
// authority delivers them; a key that is not the certificate's is refused.
func TestSignedPrints(t *testing.T) {
	keyPEM, certPEM, err := NewSigningPair("Sijill CA test", printedAt, 1)
	if err != nil {
		t.Fatal(err)
	}
	key, err := parsePEMKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cf, certPEM, 0o644)
	other, _, _ := NewSigningPair("other", printedAt, 1)
	os.WriteFile(kf, other, 0o600)
	if _, err := LoadSignerPEM(kf, cf); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("a key of another certificate was taken: %v", err)
	}
	s0, err := LoadSignerPEM(filepath.Join(dir, "missing.pem"), cf)
	if err == nil {
		t.Errorf("a missing key file was taken: %v", s0)
	}

	signer := testSigner(t, "x") // for the certificate
	p12, err := pkcs12.Modern.Encode(key, mustCert(t, certPEM), nil, "secret")
	if err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(dir, "org.p12")
	os.WriteFile(pf, p12, 0o600)
	if _, err := LoadSignerPKCS12(pf, "wrong"); err == nil {
		t.Error("a PKCS #12 file opened with the wrong password")
	}
	signer, err = LoadSignerPKCS12(pf, "secret")
	if err != nil {
		t.Fatal(err)
	}
	rec := testRecord(7, "قرار بتعيين أمين المال", "")
	var buf bytes.Buffer
	if err := RecordPrint(context.Background(), &buf, PrintOptions{Organisation: "حزب", Now: printedAt, Signer: signer}, rec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "print.pdf")
	os.WriteFile(path, buf.Bytes(), 0o644)
	if out := pdfsig(t, path); !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Common Name: Sijill CA test") {
		t.Errorf("the signed record print does not verify:\n%s", out)
	}
	buf.Reset()
	if err := FollowUpReport(context.Background(), &buf, ReportOptions{Organisation: "حزب", Now: printedAt.Add(time.Hour), Signer: signer}, nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, buf.Bytes(), 0o644)
	if out := pdfsig(t, path); !strings.Contains(out, "Signature is Valid") {
		t.Errorf("the signed follow-up report does not verify:\n%s", out)
	}
}

func mustCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
