//go:build integration

package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// host is one network namespace with its veth end.
type host struct {
	ns, iface, addr string
}

// lab is two namespaces joined by a veth pair: A runs the clients, B the
// OpenSSH server. Names start with "ss", addresses lie in 10.70-79.x.x.
type lab struct {
	a, b   host
	dir    string // keys, configs, captures
	subnet string
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("ssh live test: needs root (network namespaces)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("ssh live test: %s is not installed (scripts/setup.sh installs it): %v", tool, err)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newLab(t *testing.T) *lab {
	t.Helper()
	need(t, "ip", "tcpdump", "/usr/sbin/sshd", "ssh", "scp", "sftp", "ssh-keygen", "socat", "xauth", "ethtool")
	var r [4]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:3])
	subnet := fmt.Sprintf("10.%d.%d", 70+int(r[3])%10, r[0])
	l := &lab{
		a:      host{ns: "ssA" + id, iface: "ssa" + id, addr: subnet + ".1"},
		b:      host{ns: "ssB" + id, iface: "ssb" + id, addr: subnet + ".2"},
		dir:    t.TempDir(),
		subnet: subnet,
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", l.a.ns).Run()
		_ = exec.Command("ip", "netns", "del", l.b.ns).Run()
	})
	run(t, "ip", "netns", "add", l.a.ns)
	run(t, "ip", "netns", "add", l.b.ns)
	run(t, "ip", "link", "add", l.a.iface, "type", "veth", "peer", "name", l.b.iface)
	for _, h := range []host{l.a, l.b} {
		run(t, "ip", "link", "set", h.iface, "netns", h.ns)
		run(t, "ip", "-n", h.ns, "addr", "add", h.addr+"/24", "dev", h.iface)
		run(t, "ip", "-n", h.ns, "link", "set", "lo", "up")
		run(t, "ip", "-n", h.ns, "link", "set", h.iface, "up")
		run(t, "ip", "netns", "exec", h.ns, "ethtool", "-K", h.iface, "tso", "off", "gso", "off", "gro", "off", "tx", "off")
	}
	return l
}

// cmd prepares a command in h's namespace.
func (h host) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// daemon starts a long-running command in h and stops it at cleanup.
func (l *lab) daemon(t *testing.T, h host, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s in %s: %v", name, h.ns, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("[%s %s] %s", h.ns, name, out.String())
		}
	})
	return cmd
}

// startSSHD writes keys and a config and runs sshd in B with a private
// /run (sshd needs /run/sshd for privilege separation).
func (l *lab) startSSHD(t *testing.T) {
	t.Helper()
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(l.dir, "hostkey"))
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(l.dir, "id"))
	pub, err := os.ReadFile(filepath.Join(l.dir, "id.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`ListenAddress %s
Port 22
HostKey %s
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile %s
X11Forwarding yes
X11UseLocalhost yes
XAuthLocation /usr/bin/xauth
AllowTcpForwarding yes
Subsystem sftp internal-sftp
LogLevel VERBOSE
`, l.b.addr, filepath.Join(l.dir, "hostkey"), filepath.Join(l.dir, "authorized_keys"))
	cfgPath := filepath.Join(l.dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l.daemon(t, l.b, "sh", "-c", "mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /root && mkdir -m755 /run/sshd && exec /usr/sbin/sshd -D -e -f "+cfgPath)
	l.waitPort(t, l.b, l.b.addr, 22)
}

// waitPort waits until something listens on addr:port inside h.
func (l *lab) waitPort(t *testing.T, h host, addr string, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := h.cmd(context.Background(), "ss", "-Htln").CombinedOutput()
		if strings.Contains(string(out), fmt.Sprintf("%s:%d ", addr, port)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s:%d in %s after 10s", addr, port, h.ns)
}

// capture runs tcpdump on B's interface until the returned stop function
// is called; stop returns the capture file. Immediate mode: without it
// packets wait in the kernel's ring until a block fills or times out,
// and a short session stopped early is lost.
func (l *lab) capture(t *testing.T, name string) func() string {
	t.Helper()
	path := filepath.Join(l.dir, name+".pcap")
	cmd := exec.Command("ip", "netns", "exec", l.b.ns, "tcpdump", "-i", l.b.iface, "-s", "0", "-U", "--immediate-mode", "-n", "-w", path, "tcp")
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("tcpdump did not start: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			time.Sleep(300 * time.Millisecond) // let the last segments in
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		t.Logf("tcpdump: %s", strings.TrimSpace(out.String()))
		if keep := os.Getenv("SDNLI_KEEP_CAPTURES"); keep != "" {
			b, _ := os.ReadFile(path)
			_ = os.WriteFile(filepath.Join(keep, name+".pcap"), b, 0o644)
		}
		return path
	}
	t.Cleanup(func() { stop() })
	return stop
}

// sshArgs are the client options every test uses.
func (l *lab) sshArgs(extra ...string) []string {
	base := []string{"-i", filepath.Join(l.dir, "id"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"}
	return append(base, extra...)
}

// typer writes s one byte at a time with a pause after each, like a
// person at a keyboard, then closes the pipe.
type typer struct {
	s     string
	delay time.Duration
	pos   int
}

func (ty *typer) Read(p []byte) (int, error) {
	if ty.pos >= len(ty.s) {
		// Leave the remote shell time to answer before end of input.
		time.Sleep(500 * time.Millisecond)
		return 0, io.EOF
	}
	if ty.pos > 0 {
		time.Sleep(ty.delay)
	}
	p[0] = ty.s[ty.pos]
	ty.pos++
	return 1, nil
}

// syncBuf is a goroutine-safe output buffer.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
