package testdb

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The child half of TestSharedFailsWhenUnreachable.
func TestSharedChild(t *testing.T) {
	if os.Getenv("SDNLI_TESTDB_CHILD") != "1" {
		return // only meaningful inside the parent test's subprocess
	}
	Shared(t)
	t.Log("Shared returned without failing")
}

// Shared must fail the test, not skip it and not hang, when no server
// answers. Run in a subprocess because the failure is the point.
func TestSharedFailsWhenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedChild$", "-test.v")
	cmd.Env = append(os.Environ(), "SDNLI_TESTDB_CHILD=1", EnvDSN+"=root@tcp("+addr+")/?timeout=2s")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child test passed against a dead server; want it to fail. Output:\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestSharedChild", "not reachable", addr, "start-stop-daemon"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "SKIP") {
		t.Errorf("child skipped; want a failure:\n%s", out)
	}
}

func TestServerDSN(t *testing.T) {
	tests := []struct {
		name, env, want string
	}{
		{"default", "", DefaultDSN},
		{"blank", "   ", DefaultDSN},
		{"set", "u:p@tcp(db:3306)/", "u:p@tcp(db:3306)/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvDSN, tc.env)
			if got := ServerDSN(); got != tc.want {
				t.Errorf("ServerDSN() = %q; want %q", got, tc.want)
			}
		})
	}
}
