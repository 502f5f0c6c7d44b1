//go:build integration

package vpn

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	_ "github.com/sdnli/sdnli/irs/parser/all"
)

// node is one network namespace with its veth end.
type node struct {
	ns, iface, addr string
}

// lab is two namespaces joined by a veth pair: A runs the VPN client, B
// the server, and tcpdump captures on B's interface. Names start with
// "vp", addresses lie in 10.60-69.x.x.
type lab struct {
	t    *testing.T
	a, b node
	dir  string
}

// need fails the test when it is not root or a tool is missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("vpn live test: needs root (network namespaces)")
	}
	for _, tool := range append([]string{"ip", "tcpdump", "ethtool"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("vpn live test: %s is not installed (scripts/setup.sh installs it): %v", tool, err)
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

// newLab builds the two namespaces on subnet 10.<second>.<random>.0/24.
func newLab(t *testing.T, second int, tools ...string) *lab {
	t.Helper()
	need(t, tools...)
	var r [3]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:2])
	subnet := fmt.Sprintf("10.%d.%d", second, r[2])
	l := &lab{t: t, dir: t.TempDir(),
		a: node{ns: "vpA" + id, iface: "vpa" + id, addr: subnet + ".1"},
		b: node{ns: "vpB" + id, iface: "vpb" + id, addr: subnet + ".2"}}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", l.a.ns).Run()
		_ = exec.Command("ip", "netns", "del", l.b.ns).Run()
	})
	run(t, "ip", "netns", "add", l.a.ns)
	run(t, "ip", "netns", "add", l.b.ns)
	run(t, "ip", "link", "add", l.a.iface, "type", "veth", "peer", "name", l.b.iface)
	for _, h := range []node{l.a, l.b} {
		run(t, "ip", "link", "set", h.iface, "netns", h.ns)
		run(t, "ip", "-n", h.ns, "addr", "add", h.addr+"/24", "dev", h.iface)
		run(t, "ip", "-n", h.ns, "link", "set", "lo", "up")
		run(t, "ip", "-n", h.ns, "link", "set", h.iface, "up")
		// Without this, captures on veth hold GSO super-frames with bad checksums.
		run(t, "ip", "netns", "exec", h.ns, "ethtool", "-K", h.iface, "tso", "off", "gso", "off", "gro", "off", "tx", "off")
	}
	return l
}

// exec runs a command in namespace ns and returns its output.
func (l *lab) exec(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	return string(out), err
}

// mustExec runs a command in ns and fails the test on error.
func (l *lab) mustExec(ns string, args ...string) string {
	l.t.Helper()
	out, err := l.exec(ns, args...)
	if err != nil {
		l.t.Fatalf("in %s: %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return out
}

// start runs a long-lived command in ns with its output in DIR/name.log;
// the test's cleanup stops it (SIGTERM, then SIGKILL) by its process ID.
func (l *lab) start(ns, name string, env []string, args ...string) *exec.Cmd {
	l.t.Helper()
	logf, err := os.Create(filepath.Join(l.dir, name+".log"))
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	l.t.Cleanup(func() {
		// The process group is ours: ip netns exec and what it started.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	return cmd
}

// log returns what a started command wrote so far.
func (l *lab) log(name string) string {
	b, _ := os.ReadFile(filepath.Join(l.dir, name+".log"))
	return string(b)
}

// waitLog waits until name's log contains want.
func (l *lab) waitLog(name, want string, timeout time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(l.log(name), want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("%s did not log %q within %s:\n%s", name, want, timeout, l.log(name))
}

// capture starts tcpdump on B's interface; stop ends it (SIGINT so the
// file is complete) and returns the pcap's path.
func (l *lab) capture(name string) (stop func() string) {
	l.t.Helper()
	path := filepath.Join(l.dir, name+".pcap")
	cmd := l.start(l.b.ns, "tcpdump-"+name, nil, "tcpdump", "--immediate-mode", "-i", l.b.iface, "-s", "0", "-U", "-n", "-w", path)
	l.waitLog("tcpdump-"+name, "listening on", 10*time.Second)
	return func() string {
		time.Sleep(300 * time.Millisecond)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && !strings.Contains(l.log("tcpdump-"+name), "packets captured") {
			time.Sleep(50 * time.Millisecond)
		}
		return path
	}
}

// waitCapture runs the pipeline over what capture name holds so far
// (tcpdump -U writes each packet at once) until cond is true of the
// events, or fails after timeout.
func (l *lab) waitCapture(name string, timeout time.Duration, cond func([]*event.Event) bool) {
	l.t.Helper()
	path := filepath.Join(l.dir, name+".pcap")
	snap := filepath.Join(l.dir, name+".snapshot.pcap")
	var evs []*event.Event
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil || len(b) < 24 {
			continue
		}
		if err := os.WriteFile(snap, b, 0o600); err != nil {
			l.t.Fatal(err)
		}
		evs = golden.Run(l.t, parser.Default, parser.Options{}, snap).Events
		if cond(evs) {
			return
		}
	}
	l.t.Fatalf("capture %s: condition not met within %s; events so far:\n%s", name, timeout, describe(evs))
}

// pipeline runs the IRS with every parser over a capture.
func pipeline(t *testing.T, path string) []*event.Event {
	t.Helper()
	res := golden.Run(t, parser.Default, parser.Options{}, path)
	if res.Err != nil {
		t.Fatalf("engine: %v", res.Err)
	}
	return res.Events
}

// only returns the events of one protocol.
func only(evs []*event.Event, proto string) []*event.Event {
	var out []*event.Event
	for _, ev := range evs {
		if ev.Protocol == proto {
			out = append(out, ev)
		}
	}
	return out
}

func describe(evs []*event.Event) string {
	var sb strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&sb, "%s/%s %s %s → %s %v\n", ev.Protocol, ev.Type, ev.Transport, ev.Client, ev.Server, ev.Summary)
	}
	return sb.String()
}
