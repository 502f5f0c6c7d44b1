package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Session lifetimes: an analyst works all day, but an unattended browser
// logs itself out.
const (
	DefaultIdleTimeout = time.Hour
	DefaultMaxAge      = 12 * time.Hour
	// touchEvery limits the writes that keep a session alive to one a
	// minute per session.
	touchEvery = time.Minute
)

// Session is a logged-in user.
type Session struct {
	User      User
	CSRF      string // the token state-changing requests must echo
	CreatedAt time.Time
	ExpiresAt time.Time
	hash      string
	lastSeen  time.Time
}

// Sessions is the sessions table.
type Sessions struct {
	db          *sql.DB
	IdleTimeout time.Duration
	MaxAge      time.Duration
	now         func() time.Time
}

// NewSessions returns the sessions table behind db, with default
// lifetimes.
func NewSessions(db *sql.DB) *Sessions {
	return &Sessions{db: db, IdleTimeout: DefaultIdleTimeout, MaxAge: DefaultMaxAge, now: time.Now}
}

// Create starts a session for u and returns its token (the cookie value).
func (ss *Sessions) Create(ctx context.Context, u User, clientIP, userAgent string) (string, *Session, error) {
	token := randomToken()
	now := ss.now().UTC().Truncate(time.Microsecond)
	s := &Session{User: u, CSRF: randomToken(), CreatedAt: now, ExpiresAt: now.Add(ss.MaxAge), hash: tokenHash(token), lastSeen: now}
	if len(userAgent) > 255 {
		userAgent = userAgent[:255]
	}
	_, err := ss.db.ExecContext(ctx, `INSERT INTO sessions (token_sha256, user_id, csrf_token, client_ip, user_agent, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.hash, u.ID, s.CSRF, clientIP, strings.ToValidUTF8(userAgent, "?"), now, now, s.ExpiresAt)
	if err != nil {
		return "", nil, fmt.Errorf("auth: create session for %q: %w", u.Name, err)
	}
	return token, s, nil
}

// Lookup returns the live session of token with its user, or
// ErrNoSession when the token is unknown, expired, idle too long or its
// user is disabled.
func (ss *Sessions) Lookup(ctx context.Context, token string) (*Session, error) {
	if len(token) != 64 {
		return nil, fmt.Errorf("auth: %w", ErrNoSession)
	}
	s := &Session{hash: tokenHash(token)}
	var userID int64
	row := ss.db.QueryRowContext(ctx, `SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
			u.id, u.name, u.role, u.disabled, u.created_at, u.password_changed_at, u.last_login_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ?`, s.hash)
	var last sql.NullTime
	err := row.Scan(&userID, &s.CSRF, &s.CreatedAt, &s.lastSeen, &s.ExpiresAt,
		&s.User.ID, &s.User.Name, &s.User.Role, &s.User.Disabled, &s.User.CreatedAt, &s.User.PasswordChangedAt, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("auth: %w", ErrNoSession)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up session: %w", err)
	}
	if last.Valid {
		t := last.Time
		s.User.LastLoginAt = &t
	}
	now := ss.now().UTC()
	if s.User.Disabled || !now.Before(s.ExpiresAt) || now.Sub(s.lastSeen) > ss.IdleTimeout {
		_, _ = ss.db.ExecContext(ctx, "DELETE FROM sessions WHERE token_sha256 = ?", s.hash)
		return nil, fmt.Errorf("auth: %w", ErrNoSession)
	}
	if now.Sub(s.lastSeen) >= touchEvery {
		if _, err := ss.db.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_sha256 = ?", now.Truncate(time.Microsecond), s.hash); err != nil {
			return nil, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return s, nil
}

// Delete ends the session of token.
func (ss *Sessions) Delete(ctx context.Context, token string) error {
	if _, err := ss.db.ExecContext(ctx, "DELETE FROM sessions WHERE token_sha256 = ?", tokenHash(token)); err != nil {
		return fmt.Errorf("auth: delete session: %w", err)
	}
	return nil
}

// DeleteUser ends every session of a user (after a password change, a
// role change or when the account is disabled).
func (ss *Sessions) DeleteUser(ctx context.Context, userID int64) error {
	if _, err := ss.db.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("auth: delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// Purge removes expired sessions and returns how many.
func (ss *Sessions) Purge(ctx context.Context) (int64, error) {
	now := ss.now().UTC()
	res, err := ss.db.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?", now, now.Add(-ss.IdleTimeout))
	if err != nil {
		return 0, fmt.Errorf("auth: purge sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
