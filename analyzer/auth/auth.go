// Package auth holds the analyzer's accounts: users with one role each,
// bcrypt password hashes, login sessions stored in MySQL, and a limiter
// for failed logins.
//
// Roles: admin may do everything (users, mirroring, status, search,
// audit); analyst searches events and downloads their raw data; auditor
// reads the audit log and nothing else.
//
// Passwords are hashed with bcrypt (golang.org/x/crypto/bcrypt), whose
// 72-byte input limit is enforced rather than silently truncated. Session
// tokens are 256-bit random values; the database keeps only their
// SHA-256, so reading the sessions table does not yield a usable cookie.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Roles.
const (
	RoleAdmin   = "admin"
	RoleAnalyst = "analyst"
	RoleAuditor = "auditor"
)

// Roles lists every role, for validation and help texts.
var Roles = []string{RoleAdmin, RoleAnalyst, RoleAuditor}

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Password limits. bcrypt reads at most 72 bytes; a longer password would
// be cut without notice, so it is refused instead.
const (
	MinPasswordLen   = 10 // characters
	MaxPasswordBytes = 72
	// DefaultCost is the bcrypt cost of new hashes (about 0.2 s here).
	DefaultCost = 12
)

// Errors, to be told apart with errors.Is.
var (
	ErrBadCredentials = errors.New("wrong user name or password")
	ErrDisabled       = errors.New("account disabled")
	ErrNotFound       = errors.New("no such user")
	ErrExists         = errors.New("user name already taken")
	ErrWeakPassword   = errors.New("password too short or too long")
	ErrBadName        = errors.New("user name must be 1-64 characters of letters, digits, '.', '_', '-', '@'")
	ErrBadRole        = errors.New("unknown role (want admin, analyst or auditor)")
	ErrNoSession      = errors.New("no valid session")
	ErrLastAdmin      = errors.New("the last enabled admin cannot be disabled or demoted")
)

// CheckPasswordPolicy returns ErrWeakPassword for a password that is too
// short or longer than bcrypt can take.
func CheckPasswordPolicy(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return fmt.Errorf("auth: %w: at least %d characters", ErrWeakPassword, MinPasswordLen)
	}
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("auth: %w: at most %d bytes", ErrWeakPassword, MaxPasswordBytes)
	}
	return nil
}

// HashPassword checks the policy and returns the bcrypt hash of pw.
func HashPassword(pw string, cost int) (string, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether pw matches the bcrypt hash.
func CheckPassword(hash, pw string) bool {
	if len(pw) > MaxPasswordBytes {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// ValidName checks a user name: 1 to 64 characters from a conservative
// set, so that names are safe in logs, the audit trail and the UI.
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("auth: %w", ErrBadName)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)
		if !ok {
			return fmt.Errorf("auth: %w", ErrBadName)
		}
	}
	return nil
}

// randomToken returns 32 random bytes in hex.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tokenHash is what the sessions table stores for a token.
func tokenHash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}
