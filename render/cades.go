package render

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PAdES baseline (ETSI EN 319 142-1, B-B level) asks of a PDF signature what
// github.com/digitorus/pdfsign does not write: the SubFilter
// ETSI.CAdES.detached, and a CMS whose signed attributes are the content
// type, the message digest and the signing certificate (ESS
// signing-certificate-v2) — without the CMS signing-time, since the
// signature dictionary's /M carries the time, and without Adobe's
// revocation archive. pdfsign's CMS comes from github.com/digitorus/pkcs7,
// which always adds the signing time. No library served here writes that
// CMS, so Sijill lets pdfsign lay out the incremental update (signature
// dictionary, DocMDP, byte range, a /Contents placeholder) and then puts its
// own SubFilter and CMS in place: the SubFilter names have the same length,
// so the byte range does not move.

var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSASHA256            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSASHA256          = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

var (
	subFilterWritten = []byte("/SubFilter /adbe.pkcs7.detached")
	subFilterPAdES   = []byte("/SubFilter /ETSI.CAdES.detached")
)

// toPAdES turns the signature pdfsign appended to pdf (its last signature
// dictionary) into a PAdES baseline one, in place, signed with key.
func toPAdES(pdf []byte, key crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate) error {
	br, err := lastByteRange(pdf)
	if err != nil {
		return err
	}
	// The signature dictionary ends where the /Contents hex string begins.
	dict := pdf[:br[1]]
	at := bytes.LastIndex(dict, subFilterWritten)
	if at < 0 || bytes.LastIndex(dict, []byte("/Type /Sig")) > at+len(subFilterWritten) {
		return errors.New("render: sign: no adbe.pkcs7.detached SubFilter in the signature dictionary")
	}
	copy(pdf[at:], subFilterPAdES)
	h := sha256.New()
	h.Write(pdf[br[0] : br[0]+br[1]])
	h.Write(pdf[br[2] : br[2]+br[3]])
	cms, err := cadesDetached(h.Sum(nil), key, cert, chain)
	if err != nil {
		return err
	}
	// /Contents<...>: the hex string lies between the two ranges.
	room := pdf[br[0]+br[1]+1 : br[2]-1]
	if 2*len(cms) > len(room) {
		return fmt.Errorf("render: sign: a %d-byte signature does not fit in %d hex digits", len(cms), len(room))
	}
	hex.Encode(room, cms)
	for i := 2 * len(cms); i < len(room); i++ {
		room[i] = '0'
	}
	return nil
}

// lastByteRange reads the last /ByteRange [a b c d] of pdf, and checks it
// describes a signature: two ranges around a <hex> string, to the file's end.
func lastByteRange(pdf []byte) ([4]int, error) {
	var br [4]int
	at := bytes.LastIndex(pdf, []byte("/ByteRange"))
	if at < 0 {
		return br, errors.New("render: sign: no /ByteRange in the signed file")
	}
	rest := pdf[at+len("/ByteRange"):]
	open, end := bytes.IndexByte(rest, '['), bytes.IndexByte(rest, ']')
	if open < 0 || end < open {
		return br, errors.New("render: sign: an unreadable /ByteRange")
	}
	f := bytes.Fields(rest[open+1 : end])
	if len(f) != 4 {
		return br, errors.New("render: sign: a /ByteRange without four numbers")
	}
	for i := range f {
		n, err := strconv.Atoi(string(f[i]))
		if err != nil {
			return br, fmt.Errorf("render: sign: /ByteRange: %w", err)
		}
		br[i] = n
	}
	if br[0] != 0 || br[1] < 1 || br[2] <= br[1]+1 || br[2]+br[3] != len(pdf) ||
		pdf[br[1]] != '<' || pdf[br[2]-1] != '>' {
		return br, fmt.Errorf("render: sign: /ByteRange %v does not frame a signature", br)
	}
	return br, nil
}

// cadesDetached returns a CMS SignedData (RFC 5652) over the digest of
// detached content, with PAdES baseline's signed attributes.
func cadesDetached(digest []byte, key crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate) ([]byte, error) {
	certHash := sha256.Sum256(cert.Raw)
	attr := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
	}
	// The attributes, each DER-encoded, in DER SET order (sorted by their
	// encodings), so that the signed [0] IMPLICIT form and the SET the
	// signature covers hold the same bytes.
	var encoded [][]byte
	for _, a := range []func(*cryptobyte.Builder){
		func(b *cryptobyte.Builder) {
			attr(b, oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
		},
		func(b *cryptobyte.Builder) {
			attr(b, oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
		},
		func(b *cryptobyte.Builder) {
			attr(b, oidSigningCertificateV2, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2, SHA-256 by default
							b.AddASN1OctetString(certHash[:])
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
									b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
										b.AddBytes(cert.RawIssuer) // directoryName
									})
								})
								b.AddASN1BigInt(cert.SerialNumber)
							})
						})
					})
				})
			})
		},
	} {
		var b cryptobyte.Builder
		a(&b)
		der, err := b.Bytes()
		if err != nil {
			return nil, fmt.Errorf("render: sign: signed attributes: %w", err)
		}
		encoded = append(encoded, der)
	}
	slices.SortFunc(encoded, bytes.Compare) // DER orders a SET OF by its members' encodings
	var set cryptobyte.Builder
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, e := range encoded {
			b.AddBytes(e)
		}
	})
	signedSet, err := set.Bytes()
	if err != nil {
		return nil, fmt.Errorf("render: sign: signed attributes: %w", err)
	}
	sigAlg, opts := oidRSASHA256, crypto.SHA256
	toSign := sha256.Sum256(signedSet)
	switch key.Public().(type) {
	case *rsa.PublicKey:
	case *ecdsa.PublicKey:
		sigAlg = oidECDSASHA256
	default: // certificate authorities issue RSA and ECDSA keys; readers check those
		return nil, fmt.Errorf("render: sign: a %T key is not one Sijill signs with (RSA or ECDSA)", key.Public())
	}
	sig, err := key.Sign(rand.Reader, toSign[:], opts)
	if err != nil {
		return nil, fmt.Errorf("render: sign: %w", err)
	}
	algID := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, null bool) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if null {
				b.AddASN1NULL()
			}
		})
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algID(b, oidSHA256, false) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddBytes(cert.Raw)
					for _, c := range chain {
						b.AddBytes(c.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						algID(b, oidSHA256, false)
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							for _, e := range encoded {
								b.AddBytes(e)
							}
						})
						algID(b, sigAlg, sigAlg.Equal(oidRSASHA256))
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	der, err := out.Bytes()
	if err != nil {
		return nil, fmt.Errorf("render: sign: CMS: %w", err)
	}
	return der, nil
}
