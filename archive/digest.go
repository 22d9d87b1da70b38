package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
)

// BookDigest is the SHA-256 of a register's content for one year, as printed on
// the closing certificate of its book, so that `sijill verify` can recompute it
// from the bucket and show that the paper and the archive agree.
//
// Add the records in ascending number order. Each contributes its ID, the hash
// of its immutable entry, its status and annulment reason.
type BookDigest struct {
	h hash.Hash
	n int
}

// NewBookDigest starts an empty digest.
func NewBookDigest() *BookDigest { return &BookDigest{h: sha256.New()} }

// Add folds one record into the digest.
func (d *BookDigest) Add(r *Record) {
	fmt.Fprintf(d.h, "%s\x00%s\x00%s\x00%s\n", r.ID, r.Chain.Hash, r.Status, r.AnnulReason)
	d.n++
}

// Count is the number of records added.
func (d *BookDigest) Count() int { return d.n }

// Sum returns the hex digest of the records added so far.
func (d *BookDigest) Sum() string { return hex.EncodeToString(d.h.Sum(nil)) }
