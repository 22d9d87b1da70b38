package archive

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/oklog/ulid/v2"
)

// cryptoReader feeds ULIDs from crypto/rand.
type cryptoReader struct{}

func (cryptoReader) Read(p []byte) (int, error) { return rand.Read(p) }

// newULID returns a time-ordered unique ID for audit events and the like.
func (s *Store) newULID(t time.Time) string { return s.ulidAt(t).String() }

// ulidAt returns a new ULID of time t, after every earlier one of this Store
// within the same millisecond.
func (s *Store) ulidAt(t time.Time) ulid.ULID {
	s.ulidMu.Lock()
	defer s.ulidMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), s.entropy)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
