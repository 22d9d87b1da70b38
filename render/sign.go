package render

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"software.sslmate.com/src/go-pkcs12"
)

// Signer signs the PDFs Sijill prints with the organisation's key, so that
// anyone holding a register book or a record print can check, in any PDF
// reader, that it is the file the secretariat issued and that not a byte has
// changed since — the closing certificate with the hash chain's head
// included. The signature is a PAdES baseline one (ETSI.CAdES.detached, see
// cades.go) in an incremental update laid out by
// github.com/digitorus/pdfsign, which PDF/A-2 allows. A nil *Signer signs
// nothing.
type Signer struct {
	key   crypto.Signer
	cert  *x509.Certificate
	chain []*x509.Certificate // issuers, nearest first
}

// LoadSignerPEM reads a private key (PKCS #8, PKCS #1 or SEC 1) and a
// certificate chain, the signer's first, from PEM files.
func LoadSignerPEM(keyFile, certFile string) (*Signer, error) {
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("render: signing key: %w", err)
	}
	key, err := parsePEMKey(kb)
	if err != nil {
		return nil, fmt.Errorf("render: signing key %s: %w", keyFile, err)
	}
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("render: signing certificate: %w", err)
	}
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, cb = pem.Decode(cb)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("render: signing certificate %s: %w", certFile, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("render: signing certificate %s: no PEM certificate in it", certFile)
	}
	return newSigner(key, certs[0], certs[1:])
}

// LoadSignerPKCS12 reads a key, its certificate and their chain from a
// PKCS #12 file (.p12, .pfx), as certificate authorities deliver them.
func LoadSignerPKCS12(file, password string) (*Signer, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("render: signing key: %w", err)
	}
	k, cert, chain, err := pkcs12.DecodeChain(b, password)
	if err != nil {
		return nil, fmt.Errorf("render: signing key %s: %w", file, err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("render: signing key %s: a %T cannot sign", file, k)
	}
	return newSigner(key, cert, chain)
}

func parsePEMKey(b []byte) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no PEM private key in it")
		}
		var k any
		var err error
		switch blk.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("a %T cannot sign", k)
		}
		return s, nil
	}
}

// newSigner checks that key belongs to cert.
func newSigner(key crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate) (*Signer, error) {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("render: the signing key does not belong to the certificate")
	}
	return &Signer{key: key, cert: cert, chain: chain}, nil
}

// Certificate returns the signer's certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// sign writes the PDF src (size bytes) to dst with the signature appended,
// dated at. reason says what the file is ("register book outgoing 2026").
// It and the signer's name are written only in ASCII: pdfsign writes other
// text as UTF-16 without escaping, and Arabic letters hold the bytes of
// "(" and ")" (ب is 06 28), which would break the signature dictionary.
// The certificate, which a reader shows, keeps the organisation's name.
func (s *Signer) sign(dst io.Writer, src io.ReadSeeker, size int64, reason string, at time.Time) error {
	rdr, err := pdf.NewReader(readerAt{src}, size)
	if err != nil {
		return fmt.Errorf("render: sign: read the PDF: %w", err)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("render: sign: %w", err)
	}
	chain := append([]*x509.Certificate{s.cert}, s.chain...)
	var out bytes.Buffer // pdfsign holds the whole file in memory too
	err = sign.Sign(src, &out, rdr, size, sign.SignData{
		Signature: sign.SignDataSignature{
			Info: sign.SignDataSignatureInfo{
				Name:   asciiOnly(s.cert.Subject.CommonName),
				Reason: asciiOnly(reason),
				Date:   at,
			},
			CertType:   sign.CertificationSignature,
			DocMDPPerm: sign.DoNotAllowAnyChangesPerms,
		},
		Signer:            s.key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       s.cert,
		CertificateChains: [][]*x509.Certificate{chain},
	})
	if err != nil {
		return fmt.Errorf("render: sign: %w", err)
	}
	if err := toPAdES(out.Bytes(), s.key, s.cert, s.chain); err != nil {
		return err
	}
	if _, err := dst.Write(out.Bytes()); err != nil {
		return fmt.Errorf("render: sign: %w", err)
	}
	return nil
}

// signed runs write, which prints a PDF, into an unlinked temporary file
// in dir (os.TempDir() if empty) and writes it signed to w; nothing reaches
// w if printing or signing fails. at zero means now.
func (s *Signer) signed(w io.Writer, dir, reason string, at time.Time, write func(io.Writer) error) error {
	if at.IsZero() {
		at = time.Now()
	}
	f, err := os.CreateTemp(dir, "sijill-unsigned-*.pdf")
	if err != nil {
		return fmt.Errorf("render: sign: %w", err)
	}
	defer f.Close()
	os.Remove(f.Name())
	if err := write(f); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("render: sign: %w", err)
	}
	return s.sign(w, f, size, reason, at)
}

// readerAt reads an io.ReadSeeker at offsets, for the PDF parser.
type readerAt struct{ r io.ReadSeeker }

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := r.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(r.r, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// asciiOnly returns s if it is ASCII, "" otherwise (see sign).
func asciiOnly(s string) string {
	for _, r := range s {
		if r > 0x7E || r < 0x20 {
			return ""
		}
	}
	return s
}

// NewSigningPair makes a private key (ECDSA P-256) and a self-signed
// certificate for org, valid for years from now, as PEM. It is a start:
// a reader shows its signatures as made by a certificate it does not trust
// until the organisation's own certificate, from a certificate authority,
// replaces it. The subject carries the organisation's name as given.
func NewSigningPair(org string, now time.Time, years int) (keyPEM, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("render: signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("render: signing key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: org, Organization: []string{org}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(years, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("render: signing certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("render: signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// SigningRequest returns a PEM certificate signing request (PKCS #10) for
// the key keyPEM in the name of org, to send to a certificate authority for
// a document-signing certificate of the same key.
func SigningRequest(keyPEM []byte, org string) ([]byte, error) {
	key, err := parsePEMKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("render: signing key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: org, Organization: []string{org}},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("render: signing request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}
