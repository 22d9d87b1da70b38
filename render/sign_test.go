package render

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
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

// cmsPrint returns OpenSSL's reading of the CMS signature of the signed PDF
// at path (the last /Contents hex string framed by its /ByteRange).
func cmsPrint(t *testing.T, path string) string {
	t.Helper()
	needTool(t, "openssl", "openssl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	br, err := lastByteRange(b)
	if err != nil {
		t.Fatal(err)
	}
	room, err := hex.DecodeString(string(b[br[1]+1 : br[2]-1]))
	if err != nil {
		t.Fatalf("the signature's /Contents: %v", err)
	}
	var der cryptobyte.String // the CMS, without the zeros padding it
	if in := cryptobyte.String(room); !in.ReadASN1Element(&der, cbasn1.SEQUENCE) {
		t.Fatal("the signature's /Contents holds no DER sequence")
	}
	sig := filepath.Join(t.TempDir(), "sig.der")
	if err := os.WriteFile(sig, der, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms: %v\n%s", err, out)
	}
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
		"Signature Type: ETSI.CAdES.detached",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig does not say %q:\n%s", want, out)
		}
	}
	// PAdES baseline's signed attributes, read by OpenSSL: the content
	// type, the message digest and the signing certificate, and no CMS
	// signing time (the signature dictionary's /M carries it).
	attrs := cmsPrint(t, path)
	for _, want := range []string{"contentType", "messageDigest", "signingCertificateV2"} {
		if !strings.Contains(attrs, want) {
			t.Errorf("the signature's CMS has no %s:\n%s", want, attrs)
		}
	}
	for _, not := range []string{"signingTime", "1.2.840.113583.1.1.8"} {
		if strings.Contains(attrs, not) {
			t.Errorf("the signature's CMS holds %s, which PAdES baseline leaves out:\n%s", not, attrs)
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

// TestSignedWithRSA: a key from a certificate authority is most often RSA;
// a record print signed with one is valid for pdfsig too.
func TestSignedWithRSA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(20261201),
		Subject:      pkix.Name{CommonName: "Secretariat RSA test"},
		NotBefore:    printedAt.Add(-time.Hour),
		NotAfter:     printedAt.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSigner(key, cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := testRecord(7, "طلب موافقة", "")
	path := filepath.Join(t.TempDir(), "rsa.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := RecordPrint(context.Background(), f, PrintOptions{Now: printedAt, Signer: s}, rec); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out := pdfsig(t, path)
	for _, want := range []string{"Signature is Valid", "Common Name: Secretariat RSA test", "Signature Type: ETSI.CAdES.detached", "Signing Hash Algorithm: SHA-256"} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig does not say %q:\n%s", want, out)
		}
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
