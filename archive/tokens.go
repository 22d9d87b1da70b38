package archive

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"time"
)

// Token is a bearer credential. Only the SHA-256 of the secret is stored, so a
// copy of the bucket does not hand out sessions.
type Token struct {
	ID        string    `json:"id"` // the SHA-256 of the secret, also its key
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func tokenKey(id string) string { return "tokens/" + id + ".json" }

// IssueToken creates a token for username valid for ttl and returns its secret,
// which is shown once and never stored.
func (s *Store) IssueToken(ctx context.Context, username string, ttl time.Duration) (string, *Token, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now().UTC()
	t := &Token{ID: sha256Hex([]byte(secret)), Username: username, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if _, err := s.createJSON(ctx, tokenKey(t.ID), t); err != nil {
		return "", nil, storageErr("store token", err)
	}
	return secret, t, nil
}

// LookupToken returns the token and its user for a secret; an unknown, expired
// or revoked token, or a disabled user, is EUNAUTHORIZED.
func (s *Store) LookupToken(ctx context.Context, secret string) (*Token, *User, error) {
	if len(secret) < 20 || len(secret) > 100 {
		return nil, nil, Errorf(EUNAUTHORIZED, "invalid or expired token")
	}
	var t Token
	_, err := s.readJSON(ctx, tokenKey(sha256Hex([]byte(secret))), &t)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, Errorf(EUNAUTHORIZED, "invalid or expired token")
	}
	if err != nil {
		return nil, nil, storageErr("read token", err)
	}
	if s.now().After(t.ExpiresAt) {
		return nil, nil, Errorf(EUNAUTHORIZED, "invalid or expired token")
	}
	u, _, err := s.GetUser(ctx, t.Username)
	if ErrorCode(err) == ENOTFOUND || (err == nil && u.Disabled) {
		return nil, nil, Errorf(EUNAUTHORIZED, "invalid or expired token")
	}
	if err != nil {
		return nil, nil, err
	}
	return &t, u, nil
}

// RevokeToken ends a token (logout). Tokens are the one thing Sijill deletes:
// they are credentials, not records.
func (s *Store) RevokeToken(ctx context.Context, secret string) error {
	if err := s.bucket.Delete(ctx, tokenKey(sha256Hex([]byte(secret)))); err != nil {
		return storageErr("revoke token", err)
	}
	return nil
}
