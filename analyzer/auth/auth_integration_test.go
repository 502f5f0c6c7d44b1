//go:build integration

package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/testdb"
)

func TestUsersIntegration(t *testing.T) {
	db, _ := testdb.Shared(t)
	ctx := context.Background()
	us := NewUsers(db, 4)

	admin, err := us.Create(ctx, "Root", RoleAdmin, "correct horse battery")
	if err != nil {
		t.Fatalf("Create admin: %v", err)
	}
	if admin.ID == 0 || admin.Role != RoleAdmin || admin.Disabled {
		t.Errorf("created %+v", admin)
	}
	for _, tc := range []struct {
		name, user, role, pw string
		want                 error
	}{
		{"duplicate, other case", "root", RoleAnalyst, "0123456789", ErrExists},
		{"bad role", "x", "root", "0123456789", ErrBadRole},
		{"bad name", "a b", RoleAnalyst, "0123456789", ErrBadName},
		{"weak", "y", RoleAnalyst, "short", ErrWeakPassword},
		{"analyst", "ann", RoleAnalyst, "analyst password", nil},
	} {
		t.Run("create/"+tc.name, func(t *testing.T) {
			if _, err := us.Create(ctx, tc.user, tc.role, tc.pw); !errors.Is(err, tc.want) {
				t.Errorf("Create(%q) err = %v; want %v", tc.user, err, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name, user, pw string
		want           error
	}{
		{"right", "root", "correct horse battery", nil},
		{"wrong", "root", "wrong password", ErrBadCredentials},
		{"unknown", "nobody", "whatever12", ErrBadCredentials},
	} {
		t.Run("auth/"+tc.name, func(t *testing.T) {
			u, err := us.Authenticate(ctx, tc.user, tc.pw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate err = %v; want %v", err, tc.want)
			}
			if err == nil && u.Name != "Root" {
				t.Errorf("user = %+v", u)
			}
		})
	}

	if err := us.SetDisabled(ctx, "root", true); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("disable the last admin: %v; want ErrLastAdmin", err)
	}
	if err := us.SetRole(ctx, "root", RoleAuditor); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demote the last admin: %v; want ErrLastAdmin", err)
	}
	if err := us.SetDisabled(ctx, "ann", true); err != nil {
		t.Fatalf("disable ann: %v", err)
	}
	if _, err := us.Authenticate(ctx, "ann", "analyst password"); !errors.Is(err, ErrDisabled) {
		t.Errorf("disabled login err = %v; want ErrDisabled", err)
	}
	if err := us.SetPassword(ctx, "ann", "a new password"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	_ = us.SetDisabled(ctx, "ann", false)
	if _, err := us.Authenticate(ctx, "ann", "analyst password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old password err = %v; want ErrBadCredentials", err)
	}
	if _, err := us.Authenticate(ctx, "ann", "a new password"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := us.SetRole(ctx, "nobody", RoleAdmin); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetRole(unknown) = %v; want ErrNotFound", err)
	}
	list, err := us.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "ann" {
		t.Errorf("List = %+v, %v; want ann, Root", list, err)
	}
}

func TestSessionsIntegration(t *testing.T) {
	db, _ := testdb.Shared(t)
	ctx := context.Background()
	us := NewUsers(db, 4)
	u, err := us.Create(ctx, "ann", RoleAnalyst, "analyst password")
	if err != nil {
		t.Fatal(err)
	}
	ss := NewSessions(db)
	now := time.Now()
	ss.now = func() time.Time { return now }
	token, s, err := ss.Create(ctx, u, "192.0.2.1", "test\xff agent")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	got, err := ss.Lookup(ctx, token)
	if err != nil || got.User.Name != "ann" || got.CSRF != s.CSRF {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	// Stored by hash only.
	var n int
	_ = db.QueryRow("SELECT COUNT(*) FROM sessions WHERE token_sha256 = ?", token).Scan(&n)
	if n != 0 {
		t.Errorf("the raw token is stored in the sessions table")
	}
	// Another token: the last character changed (to "0", or to "1" when
	// it was "0": one run in sixteen drew such a token).
	other := token[:len(token)-1] + "0"
	if other == token {
		other = token[:len(token)-1] + "1"
	}
	if _, err := ss.Lookup(ctx, other); !errors.Is(err, ErrNoSession) {
		t.Errorf("Lookup(other token) = %v; want ErrNoSession", err)
	}
	// Idle for 50 minutes: alive and touched; 61 more minutes: gone.
	now = now.Add(50 * time.Minute)
	if _, err := ss.Lookup(ctx, token); err != nil {
		t.Errorf("after 50 idle minutes: %v", err)
	}
	now = now.Add(59 * time.Minute)
	if _, err := ss.Lookup(ctx, token); err != nil {
		t.Errorf("59 minutes after the last use: %v; want alive (touched)", err)
	}
	now = now.Add(61 * time.Minute)
	if _, err := ss.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("61 idle minutes: %v; want ErrNoSession", err)
	}
	// Disabled user: session refused.
	token, _, _ = ss.Create(ctx, u, "", "")
	_ = us.SetDisabled(ctx, "ann", true)
	if _, err := ss.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("disabled user: %v; want ErrNoSession", err)
	}
	_ = us.SetDisabled(ctx, "ann", false)
	token, _, _ = ss.Create(ctx, u, "", "")
	if err := ss.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("after DeleteUser: %v; want ErrNoSession", err)
	}
	// Absolute lifetime.
	token, _, _ = ss.Create(ctx, u, "", "")
	for range 13 {
		now = now.Add(59 * time.Minute)
		_, _ = ss.Lookup(ctx, token)
	}
	if _, err := ss.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("after 12 h 47 min of use: %v; want expired", err)
	}
	if _, err := ss.Purge(ctx); err != nil {
		t.Errorf("Purge: %v", err)
	}
}
