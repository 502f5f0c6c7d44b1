//go:build integration

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/internal/testdb"
)

// runWithStdin runs `sdnli args...` with the given standard input.
func runWithStdin(t *testing.T, in string, args ...string) (int, string, string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(in)
	defer func() { stdin = old }()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserCommand(t *testing.T) {
	db, dsn := testdb.Shared(t)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"add admin", "correct horse battery\n", []string{"user", "add", "--db", dsn, "--name", "root", "--role", "admin"}, 0, "created root (admin)"},
		{"add analyst, no newline", "analyst password", []string{"user", "add", "--db", dsn, "--name", "ann", "--role", "analyst"}, 0, "created ann (analyst)"},
		{"duplicate", "another password\n", []string{"user", "add", "--db", dsn, "--name", "ROOT", "--role", "admin"}, 1, "already taken"},
		{"weak password", "short\n", []string{"user", "add", "--db", dsn, "--name", "bob", "--role", "analyst"}, 1, "too short"},
		{"no password", "", []string{"user", "add", "--db", dsn, "--name", "bob", "--role", "analyst"}, 1, "standard input"},
		{"bad role", "long enough password\n", []string{"user", "add", "--db", dsn, "--name", "bob", "--role", "root"}, 2, "--role"},
		{"no name", "", []string{"user", "passwd", "--db", dsn}, 2, "--name"},
		{"no db", "", []string{"user", "list"}, 2, "--db"},
		{"unknown sub-command", "", []string{"user", "frobnicate", "--db", dsn}, 2, "unknown sub-command"},
		{"passwd", "a new password!\n", []string{"user", "passwd", "--db", dsn, "--name", "ann"}, 0, "password of ann changed"},
		{"disable the last admin", "", []string{"user", "disable", "--db", dsn, "--name", "root"}, 1, "last enabled admin"},
		{"disable", "", []string{"user", "disable", "--db", dsn, "--name", "ann"}, 0, "ann disabled"},
		{"list", "", []string{"user", "list", "--db", dsn}, 0, "ann   analyst  disabled"},
		{"enable", "", []string{"user", "enable", "--db", dsn, "--name", "ann"}, 0, "ann enabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runWithStdin(t, tc.stdin, tc.args...)
			if code != tc.wantCode || !strings.Contains(out+errs, tc.wantOut) {
				t.Errorf("exit %d, out %q, err %q; want exit %d and %q", code, out, errs, tc.wantCode, tc.wantOut)
			}
		})
	}
	// The changes are in the audit log, with the operating-system user.
	p, err := audit.New(db).List(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var ok, failed int
	for _, e := range p.Entries {
		if !strings.HasPrefix(e.Actor, "cli") || e.ClientIP != "local" {
			t.Errorf("audit row %+v: want a cli actor from local", e)
		}
		if strings.Contains(string(e.Detail), "password!") || strings.Contains(string(e.Detail), "horse") {
			t.Errorf("a password reached the audit log: %s", e.Detail)
		}
		switch e.Outcome {
		case audit.OutcomeOK:
			ok++
		case audit.OutcomeFailure:
			failed++
		}
	}
	// Failed: the duplicate and the last admin. A password refused before
	// the account store is reached changes nothing and is not a row.
	if ok != 5 || failed != 2 {
		t.Errorf("audit: %d ok, %d failed; want 5 and 2", ok, failed)
	}
	if v, err := audit.New(db).Verify(context.Background()); err != nil || !v.OK {
		t.Errorf("audit chain: %+v, %v", v, err)
	}
}
