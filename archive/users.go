package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/argon2"
)

// Roles. What each may do is decided in one place, Can.
const (
	RoleAdmin     = "admin"     // everything, including users
	RoleSecretary = "secretary" // register, edit, annul, upload, print
	RoleReader    = "reader"    // search and read records that are not confidential
	RoleAuditor   = "auditor"   // read everything and the audit trail; write nothing
)

// ValidRole reports whether role is one of the four roles.
func ValidRole(role string) bool {
	switch role {
	case RoleAdmin, RoleSecretary, RoleReader, RoleAuditor:
		return true
	}
	return false
}

// Permissions.
const (
	PermRead         = "read"         // read and search records
	PermConfidential = "confidential" // see confidential records
	PermWrite        = "write"        // register, edit, annul, upload
	PermPrint        = "print"        // print register books
	PermAudit        = "audit"        // read the audit trail, run verification
	PermUsers        = "users"        // manage users
)

// Can reports whether role has perm.
func Can(role, perm string) bool {
	switch role {
	case RoleAdmin:
		return true
	case RoleSecretary:
		return perm != PermUsers && perm != PermAudit
	case RoleAuditor:
		return perm == PermRead || perm == PermConfidential || perm == PermAudit || perm == PermPrint
	case RoleReader:
		return perm == PermRead
	}
	return false
}

// User is an account. The password is kept only as an argon2id hash.
type User struct {
	Username     string    `json:"username"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"password_hash"`
	Disabled     bool      `json:"disabled,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Prefs        Prefs     `json:"prefs"`
}

// Prefs is how a user wants numbers and dates shown, on the pages and as
// the default of the prints: many Arab administrations write Eastern
// Arabic digits (١٢٣) and date letters by the Hijri calendar too.
type Prefs struct {
	EasternDigits bool `json:"eastern_digits"`
	Hijri         bool `json:"hijri"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

func userKey(name string) string { return "users/" + name + ".json" }

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane) keeps a login
// well under 100 ms on a small server while making offline guessing costly.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of password in the PHC string format.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Password rules: at least minPassword characters, and strong enough that
// zxcvbn, which knows the common passwords, names, dictionary words, keyboard
// walks and repeats and estimates how many guesses a password takes, scores
// it at least minPasswordScore of 4 (10^8 guesses or more: with argon2id,
// years of one attacker's machine). A passphrase of a few ordinary words
// passes; "password", "12345678" or ten times the same letter do not.
const (
	minPassword      = 10
	maxPassword      = 256
	minPasswordScore = 3
)

func validatePassword(pw, username string) error {
	if n := utf8.RuneCountInString(pw); n < minPassword || n > maxPassword {
		return &ValidationError{Fields: []FieldError{{"password", fmt.Sprintf("كلمة المرور بين %d و%d حرفًا", minPassword, maxPassword)}}}
	}
	if strings.TrimSpace(pw) == "" || zxcvbn.PasswordStrength(pw, []string{username, "sijill", "admin"}).Score < minPasswordScore {
		return &ValidationError{Fields: []FieldError{{"password",
			"كلمة المرور سهلة التخمين (شائعة، أو كلمة واحدة، أو تكرار، أو تسلسل): اختر عبارة من بضع كلمات لا يخمّنها غيرك"}}}
	}
	return nil
}

// CreateUser adds an account. An existing username is ECONFLICT.
func (s *Store) CreateUser(ctx context.Context, actor, username, password, role string) (*User, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if !usernameRE.MatchString(username) {
		return nil, &ValidationError{Fields: []FieldError{{"username", "اسم المستخدم من 2 إلى 32 حرفًا لاتينيًا صغيرًا أو رقمًا أو . _ -"}}}
	}
	if !ValidRole(role) {
		return nil, &ValidationError{Fields: []FieldError{{"role", "الدور أحد: admin, secretary, reader, auditor"}}}
	}
	if err := validatePassword(password, username); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := &User{Username: username, Role: role, PasswordHash: HashPassword(password), CreatedAt: now, UpdatedAt: now}
	if _, err := s.createJSON(ctx, userKey(username), u); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, Errorf(ECONFLICT, "the user %q exists already", username)
		}
		return nil, storageErr("create user", err)
	}
	s.auditBestEffort(ctx, Event{Time: now, Actor: actor, Action: ActionUserCreate, Target: username, Detail: role})
	return u, nil
}

// GetUser returns the account named username.
func (s *Store) GetUser(ctx context.Context, username string) (*User, string, error) {
	if !usernameRE.MatchString(username) {
		return nil, "", Errorf(ENOTFOUND, "no user %q", username)
	}
	var u User
	etag, err := s.readJSON(ctx, userKey(username), &u)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", Errorf(ENOTFOUND, "no user %q", username)
	}
	if err != nil {
		return nil, "", storageErr("read user", err)
	}
	return &u, etag, nil
}

// UserUpdate changes an account; nil fields stay as they are.
type UserUpdate struct {
	Password *string `json:"password"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Prefs    *Prefs  `json:"prefs"`
}

// UpdateUser applies up to the account, compare-and-swap on its stored version.
func (s *Store) UpdateUser(ctx context.Context, actor, username string, up UserUpdate) (*User, error) {
	for attempt := 0; attempt < 5; attempt++ {
		u, etag, err := s.GetUser(ctx, username)
		if err != nil {
			return nil, err
		}
		var what []string
		if up.Password != nil {
			if err := validatePassword(*up.Password, username); err != nil {
				return nil, err
			}
			u.PasswordHash = HashPassword(*up.Password)
			what = append(what, "password")
		}
		if up.Role != nil {
			if !ValidRole(*up.Role) {
				return nil, &ValidationError{Fields: []FieldError{{"role", "الدور أحد: admin, secretary, reader, auditor"}}}
			}
			u.Role = *up.Role
			what = append(what, "role="+u.Role)
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
			what = append(what, fmt.Sprintf("disabled=%v", u.Disabled))
		}
		if up.Prefs != nil {
			u.Prefs = *up.Prefs
			what = append(what, fmt.Sprintf("prefs eastern_digits=%v hijri=%v", u.Prefs.EasternDigits, u.Prefs.Hijri))
		}
		u.UpdatedAt = s.now().UTC()
		b := marshal(u)
		_, err = s.bucket.Replace(ctx, userKey(username), etag, bytes.NewReader(b), int64(len(b)))
		if errors.Is(err, ErrPrecondition) {
			continue
		}
		if err != nil {
			return nil, storageErr("update user", err)
		}
		s.auditBestEffort(ctx, Event{Actor: actor, Action: ActionUserUpdate, Target: username, Detail: strings.Join(what, " ")})
		return u, nil
	}
	return nil, Errorf(ECONFLICT, "the user is being changed by someone else; try again")
}

// Users lists every account.
func (s *Store) Users(ctx context.Context) ([]*User, error) {
	var out []*User
	err := s.bucket.List(ctx, "users/", func(o ObjectInfo) error {
		var u User
		if _, err := s.readJSON(ctx, o.Key, &u); err != nil {
			return err
		}
		out = append(out, &u)
		return nil
	})
	if err != nil {
		return nil, storageErr("list users", err)
	}
	return out, nil
}

// EnsureAdmin creates the admin account with password when no account named
// admin exists: the first start of a new archive.
func (s *Store) EnsureAdmin(ctx context.Context, password string) (created bool, err error) {
	if _, _, err := s.GetUser(ctx, "admin"); err == nil {
		return false, nil
	} else if ErrorCode(err) != ENOTFOUND {
		return false, err
	}
	if password == "" {
		return false, Errorf(EINVALID, "no admin account yet: set SIJILL_ADMIN_PASSWORD for the first start")
	}
	_, err = s.CreateUser(ctx, "system", "admin", password, RoleAdmin)
	if ErrorCode(err) == ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

// Authenticate checks a username and password. Any failure, an unknown user
// included, is the same EUNAUTHORIZED, and costs the same hashing time.
func (s *Store) Authenticate(ctx context.Context, username, password string) (*User, error) {
	u, _, err := s.GetUser(ctx, strings.ToLower(strings.TrimSpace(username)))
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	if u == nil {
		CheckPassword(dummyHash, password)
		return nil, Errorf(EUNAUTHORIZED, "wrong username or password")
	}
	if !CheckPassword(u.PasswordHash, password) || u.Disabled {
		return nil, Errorf(EUNAUTHORIZED, "wrong username or password")
	}
	return u, nil
}

// dummyHash is checked against when the user does not exist, so the response
// time does not tell which usernames exist.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2lqaWxsc2lqaWxsc2lqaQ$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE"
