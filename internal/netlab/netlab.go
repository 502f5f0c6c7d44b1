// Package netlab builds small throw-away networks for integration tests:
// network namespaces joined by veth pairs, with addresses only inside
// them, and runs commands in them. Everything is removed when the test
// ends, also when it fails.
//
// It needs root and iproute2; a test that uses it fails (never skips)
// when they are missing.
package netlab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Host is one network namespace with one veth interface.
type Host struct {
	NS    string // namespace name
	Iface string // interface inside the namespace
	Addr  string // IPv4 address, without prefix length
}

// Pair is two hosts joined by a veth pair on subnet 10.<a>.<b>.0/24.
type Pair struct {
	A, B   Host
	Subnet string // e.g. "10.201.7.0/24"
}

// NewPair creates two namespaces joined by a veth pair, with checksum and
// segmentation offloads off (so captures hold real, correctly summed
// frames), and registers their removal with t.Cleanup.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("netlab: network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("netlab: iproute2 (ip) is not installed")
	}
	id := randomID()
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	subnet := fmt.Sprintf("10.%d.%d", 200+int(b[0])%50, b[1])
	p := &Pair{
		A:      Host{NS: "sdA" + id, Iface: "vA" + id, Addr: subnet + ".1"},
		B:      Host{NS: "sdB" + id, Iface: "vB" + id, Addr: subnet + ".2"},
		Subnet: subnet + ".0/24",
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", p.A.NS).Run()
		_ = exec.Command("ip", "netns", "del", p.B.NS).Run()
	})
	steps := [][]string{
		{"ip", "netns", "add", p.A.NS},
		{"ip", "netns", "add", p.B.NS},
		{"ip", "link", "add", p.A.Iface, "type", "veth", "peer", "name", p.B.Iface},
		{"ip", "link", "set", p.A.Iface, "netns", p.A.NS},
		{"ip", "link", "set", p.B.Iface, "netns", p.B.NS},
	}
	for _, h := range []Host{p.A, p.B} {
		steps = append(steps,
			[]string{"ip", "-n", h.NS, "addr", "add", h.Addr + "/24", "dev", h.Iface},
			[]string{"ip", "-n", h.NS, "link", "set", "lo", "up"},
			[]string{"ip", "-n", h.NS, "link", "set", h.Iface, "up"},
			[]string{"ip", "netns", "exec", h.NS, "ethtool", "-K", h.Iface, "tso", "off", "gso", "off", "gro", "off", "tx", "off"},
		)
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("netlab: %s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return p
}

// Run runs a command inside h's namespace and returns its combined output.
func (h Host) Run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := h.Command(ctx, name, args...)
	// A daemon started by the command may inherit its output and keep it
	// open: stop waiting for it shortly after the command itself exits.
	cmd.WaitDelay = 3 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("netlab: in %s: %s %s: %w\n%s", h.NS, name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Command prepares a command to run inside h's namespace.
func (h Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Start starts a long-running command inside h's namespace, with its
// output going to the test log, and stops it (SIGTERM, then SIGKILL) when
// the test ends.
func (h Host) Start(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
	cmd.Stdout = testWriter{t, h.NS + " " + name}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("netlab: start %s in %s: %v", name, h.NS, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return cmd
}

type testWriter struct {
	t      testing.TB
	prefix string
}

func (w testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Logf("[%s] %s", w.prefix, line)
	}
	return len(p), nil
}

func randomID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
