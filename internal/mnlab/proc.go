package mnlab

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// outputTail is how much of a process's output a failure shows.
const outputTail = 4000

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/sdnli once per test binary and returns its path; Main
// removes it when the tests are done.
func Binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sdnli-mnlab-bin-")
		if err != nil {
			buildErr = fmt.Errorf("mnlab: directory for the sdnli binary: %w", err)
			return
		}
		binPath = filepath.Join(dir, "sdnli")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sdnli")
		cmd.Dir = RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/sdnli: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Main runs the tests and then removes the binary Binary built; a
// suite's TestMain is os.Exit(mnlab.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	return code
}

// FreePort returns a loopback TCP port nobody listens on at the moment.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mnlab: free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns a loopback address with a port nobody listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}

// TempDir is a directory every daemon user can enter, removed in
// t.Cleanup: t.TempDir's parent is private to root, and Postfix, Dovecot
// and vsftpd drop privileges.
func TempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatalf("mnlab: temporary directory: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("mnlab: temporary directory: %v", err)
	}
	return dir
}

// Proc is a long-lived process of the test, stopped in t.Cleanup
// (SIGTERM to its process group, SIGKILL after 10 s); its output is
// logged when the test has failed.
type Proc struct {
	name string
	done chan struct{}
	out  *syncBuffer
}

// StartProc starts cmd in a process group of its own, with its output
// kept for failure messages.
func StartProc(t *testing.T, name string, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{name: name, done: make(chan struct{}), out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop within 10s of SIGTERM; killing it", name)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, p.out.tail(outputTail))
		}
	})
	return p
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// pollInterval is how often WaitFor checks its condition.
const pollInterval = 250 * time.Millisecond

// WaitFor polls cond until it holds; it fails the test after timeout,
// or at once, with its output, when one of watch has died.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool, watch ...*Proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		for _, p := range watch {
			if p.Exited() {
				t.Fatalf("%s exited while waiting for %s:\n%s", p.name, what, p.out.tail(outputTail))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// syncBuffer is an output buffer written by a process and read by the
// test; it is emptied when it passes 4 MiB so that a chatty daemon does
// not grow the test without bound.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 {
		s.b.Reset()
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) tail(n int) string {
	str := s.String()
	if len(str) > n {
		return "..." + str[len(str)-n:]
	}
	return str
}
