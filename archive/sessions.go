package archive

import (
	"context"
	"errors"
	"io/fs"
	"sort"
)

// UserTokens lists the live tokens of username, newest first, so a user can
// see where they are logged in. Expired tokens are removed on the way: they
// are dead credentials, not records.
func (s *Store) UserTokens(ctx context.Context, username string) ([]*Token, error) {
	now := s.now()
	var out []*Token
	var expired []string
	err := s.bucket.List(ctx, "tokens/", func(o ObjectInfo) error {
		var t Token
		if _, err := s.readJSON(ctx, o.Key, &t); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // revoked while listing
			}
			return err
		}
		switch {
		case now.After(t.ExpiresAt):
			expired = append(expired, o.Key)
		case t.Username == username:
			out = append(out, &t)
		}
		return nil
	})
	if err != nil {
		return nil, storageErr("list tokens", err)
	}
	for _, k := range expired {
		if err := s.bucket.Delete(ctx, k); err != nil {
			s.log.Warn("expired token not removed", "err", err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// RevokeTokenID ends the token with id (as UserTokens shows it) if it belongs
// to username. Another user's token, or an unknown one, is ENOTFOUND: the
// answer does not tell which token IDs exist.
func (s *Store) RevokeTokenID(ctx context.Context, username, id string) error {
	if !ValidSHA256(id) {
		return Errorf(ENOTFOUND, "no such token")
	}
	var t Token
	_, err := s.readJSON(ctx, tokenKey(id), &t)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && t.Username != username) {
		return Errorf(ENOTFOUND, "no such token")
	}
	if err != nil {
		return storageErr("read token", err)
	}
	if err := s.bucket.Delete(ctx, tokenKey(id)); err != nil {
		return storageErr("revoke token", err)
	}
	return nil
}

// RevokeUserTokens ends every token of username except the one with id
// keep ("" keeps none): after a password change, so a stolen session does
// not outlive it, or when an account is disabled. It returns how many ended.
func (s *Store) RevokeUserTokens(ctx context.Context, username, keep string) (int, error) {
	toks, err := s.UserTokens(ctx, username)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range toks {
		if t.ID == keep {
			continue
		}
		if err := s.bucket.Delete(ctx, tokenKey(t.ID)); err != nil {
			return n, storageErr("revoke token", err)
		}
		n++
	}
	return n, nil
}

// TokenID is the ID of the token whose secret is secret, as UserTokens shows it.
func TokenID(secret string) string { return sha256Hex([]byte(secret)) }
