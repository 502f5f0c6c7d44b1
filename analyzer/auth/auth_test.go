package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPasswordPolicyAndHash(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"short", "short", ErrWeakPassword},
		{"nine runes", "ééééééééé", ErrWeakPassword},
		{"ten", "0123456789", nil},
		{"72 bytes", strings.Repeat("x", 72), nil},
		{"73 bytes", strings.Repeat("x", 73), ErrWeakPassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := HashPassword(tc.pw, 4)
			if !errors.Is(err, tc.want) {
				t.Fatalf("HashPassword err = %v; want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if !CheckPassword(h, tc.pw) {
				t.Errorf("CheckPassword(right) = false")
			}
			if CheckPassword(h, tc.pw+"x") {
				t.Errorf("CheckPassword(wrong) = true")
			}
		})
	}
	// bcrypt would ignore byte 73: make sure a long guess never matches.
	h, _ := HashPassword(strings.Repeat("x", 72), 4)
	if CheckPassword(h, strings.Repeat("x", 72)+"y") {
		t.Errorf("a 73-byte password matched the hash of its 72-byte prefix")
	}
}

func TestValidNameAndRole(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"alice", true}, {"a.b-c_d@x", true}, {"", false}, {"a b", false}, {"<script>", false},
		{strings.Repeat("a", 64), true}, {strings.Repeat("a", 65), false}, {"é", false},
	} {
		if err := ValidName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v; want ok=%v", tc.name, err, tc.ok)
		}
	}
	for _, r := range Roles {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	if ValidRole("root") || ValidRole("") {
		t.Errorf("ValidRole accepts an unknown role")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(5, time.Minute)
	l.now = func() time.Time { return now }
	for i := range 5 {
		if ok, _ := l.Check("u:alice", "ip:1"); !ok {
			t.Fatalf("attempt %d refused; want the first 5 allowed", i+1)
		}
		l.Fail("u:alice", "ip:1")
		now = now.Add(time.Second)
	}
	ok, wait := l.Check("u:alice", "ip:1")
	if ok || wait != 55*time.Second {
		t.Fatalf("6th attempt: ok=%v wait=%v; want refused for 55s", ok, wait)
	}
	if ok, _ := l.Check("u:bob", "ip:2"); !ok {
		t.Errorf("other keys are refused too")
	}
	// Per IP alone: a different user from the same address is refused.
	if ok, _ := l.Check("u:bob", "ip:1"); ok {
		t.Errorf("same address, other user: allowed; want refused")
	}
	now = now.Add(55 * time.Second)
	if ok, _ := l.Check("u:alice", "ip:1"); !ok {
		t.Errorf("after the window: still refused")
	}
	// Fail beyond Max keeps only Max entries.
	for range 20 {
		l.Fail("u:carol")
	}
	if n := len(l.keys["u:carol"]); n != 5 {
		t.Errorf("entries kept = %d; want 5", n)
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(5, time.Minute)
	l.now = func() time.Time { return now }
	for i := range maxKeys + 10 {
		l.Fail("k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String())
		if i%10000 == 0 {
			now = now.Add(time.Millisecond)
		}
	}
	if n := len(l.keys); n > maxKeys {
		t.Errorf("keys tracked = %d; want at most %d", n, maxKeys)
	}
}

func TestTokens(t *testing.T) {
	a, b := randomToken(), randomToken()
	if len(a) != 64 || a == b {
		t.Errorf("randomToken: %q %q; want 64 hex chars, distinct", a, b)
	}
	if tokenHash(a) == a || len(tokenHash(a)) != 64 {
		t.Errorf("tokenHash(%q) = %q", a, tokenHash(a))
	}
}
