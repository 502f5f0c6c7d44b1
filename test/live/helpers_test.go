//go:build integration

package live

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/netlab"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sdnliBinary builds cmd/sdnli once per test run.
func sdnliBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sdnli-live-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sdnli")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sdnli")
		cmd.Dir = golden.RepoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building sdnli: %v", buildErr)
	}
	return binPath
}

// mailServer starts Postfix and Dovecot (topologies/servers/mail.sh) in
// host h, stopped when the test ends.
func mailServer(t *testing.T, h netlab.Host, clientNet string) {
	t.Helper()
	script := filepath.Join(golden.RepoRoot(t), "topologies", "servers", "mail.sh")
	// Not t.TempDir: its parent is private to root, and Postfix's daemons
	// run as their own users and must reach the queue.
	dir, err := os.MkdirTemp("", "sdnli-mail-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t.Cleanup(func() { _, _ = h.Run(context.Background(), script, "stop", dir) })
	if out, err := h.Run(ctx, script, "start", dir, h.Addr, clientNet); err != nil {
		t.Fatalf("mail server: %v\n%s", err, out)
	}
}

// unixDSN rewrites a DSN to reach the same server over its unix socket,
// which works from inside any network namespace.
func unixDSN(t *testing.T, dsn, socket string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Net, cfg.Addr = "unix", socket
	return cfg.FormatDSN()
}

// waitFor polls cond every 200 ms until it is true or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}

func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Logf("query %q: %v", query, err)
		return -1
	}
	return n
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return sha256Hex(b)
}
