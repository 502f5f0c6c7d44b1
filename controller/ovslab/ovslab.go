// Package ovslab builds throw-away Open vSwitch networks for the
// controller's integration tests: userspace-datapath bridges (every
// bridge needs datapath_type=netdev where OVS has no kernel module)
// pointed at a controller, hosts in network namespaces attached to them
// by veth pairs, and packet captures in those hosts. Every bridge,
// namespace and process is removed in t.Cleanup, also when the test
// fails; names carry a random suffix and the prefixes "ctbr" (bridges)
// and "ctn" (namespaces), so concurrent tests never touch each other's.
//
// A test that needs OVS fails (never skips) when it is missing.
package ovslab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Run runs a command and returns its combined output.
func Run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Must runs a command and fails the test if it fails.
func Must(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := Run(name, args...)
	if err != nil {
		t.Fatalf("ovslab: %v", err)
	}
	return out
}

var startOnce sync.Once

// RequireOVS fails the test unless Open vSwitch answers; it starts the
// daemons (ovs-ctl start) once if they are installed but not running.
func RequireOVS(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("ovslab: Open vSwitch tests need root")
	}
	for _, tool := range []string{"ovs-vsctl", "ovs-ofctl", "ip", "ethtool", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("ovslab: %s is not installed (apt-get install openvswitch-switch iproute2 ethtool tcpdump)", tool)
		}
	}
	if _, err := Run("ovs-vsctl", "--timeout=5", "show"); err == nil {
		return
	}
	startOnce.Do(func() {
		_, _ = Run("/usr/share/openvswitch/scripts/ovs-ctl", "start", "--system-id=random")
	})
	if out, err := Run("ovs-vsctl", "--timeout=5", "show"); err != nil {
		t.Fatalf("ovslab: Open vSwitch is not running and could not be started: %v\n%s", err, out)
	}
}

// ID returns a random hex string of n bytes.
func ID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Bridge is an OVS bridge of the test.
type Bridge struct {
	Name string
	DPID uint64
	t    testing.TB
	next int
}

// NewBridge creates a userspace bridge speaking OpenFlow 1.3 in
// fail_mode=secure with the given datapath id, and deletes it in
// t.Cleanup.
func NewBridge(t testing.TB, dpid uint64) *Bridge {
	t.Helper()
	RequireOVS(t)
	b := &Bridge{Name: "ctbr" + ID(3), DPID: dpid, t: t, next: 1}
	t.Cleanup(func() { _, _ = Run("ovs-vsctl", "--if-exists", "del-br", b.Name) })
	Must(t, "ovs-vsctl", "add-br", b.Name, "--", "set", "bridge", b.Name,
		"datapath_type=netdev", "protocols=OpenFlow13", "fail_mode=secure",
		fmt.Sprintf("other-config:datapath-id=%016x", dpid),
		"other-config:disable-in-band=true")
	return b
}

// SetController points the bridge at an OpenFlow controller
// ("tcp:127.0.0.1:6653"; several for master/slave tests), with a short
// reconnection backoff so tests do not wait for OVS's default 8 s.
func (b *Bridge) SetController(targets ...string) {
	b.t.Helper()
	Must(b.t, "ovs-vsctl", append([]string{"set-controller", b.Name}, targets...)...)
	ids := strings.Fields(Must(b.t, "ovs-vsctl", "get", "bridge", b.Name, "controller"))
	for _, id := range ids {
		id = strings.Trim(id, "[],")
		if id == "" {
			continue
		}
		Must(b.t, "ovs-vsctl", "set", "controller", id, "max_backoff=1000", "inactivity_probe=5000")
	}
}

// DelController disconnects the bridge from its controllers.
func (b *Bridge) DelController() {
	b.t.Helper()
	Must(b.t, "ovs-vsctl", "del-controller", b.Name)
}

// Flows returns the bridge's flows as `ovs-ofctl dump-flows --no-stats`
// prints them, sorted, without the leading space.
func (b *Bridge) Flows() []string {
	b.t.Helper()
	out := Must(b.t, "ovs-ofctl", "-O", "OpenFlow13", "dump-flows", "--no-stats", b.Name)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "OFPST_FLOW") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// Ofctl runs ovs-ofctl -O OpenFlow13 with args followed by the bridge name
// inserted after the command (e.g. Ofctl("add-flow", "priority=1 actions=drop")).
func (b *Bridge) Ofctl(cmd string, args ...string) string {
	b.t.Helper()
	return Must(b.t, "ovs-ofctl", append([]string{"-O", "OpenFlow13", cmd, b.Name}, args...)...)
}

// Host is a network namespace with one interface on a bridge.
type Host struct {
	NS    string // namespace name ("" for hosts entered by pid)
	Iface string // inside the namespace
	Peer  string // the bridge side
	Port  int    // OpenFlow port number
	Addr  string // IPv4 without prefix
	Addr6 string // IPv6 without prefix
	MAC   string
	enter []string // command prefix that runs a command inside
	t     testing.TB
}

// PIDHost returns a Host for the network namespace of process pid (a
// Mininet host's shell), with interface iface; commands run in it with
// nsenter.
func PIDHost(t testing.TB, pid int, iface, addr, addr6, mac string) *Host {
	return &Host{Iface: iface, Addr: addr, Addr6: addr6, MAC: mac, t: t,
		enter: []string{"nsenter", "-t", strconv.Itoa(pid), "-n", "--"}}
}

// Command prepares a command to run inside the host.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	full := append(append(slices.Clone(h.enter), name), args...)
	return exec.Command(full[0], full[1:]...)
}

func (h *Host) where() string {
	if h.NS != "" {
		return h.NS
	}
	return strings.Join(h.enter, " ")
}

// AddHost creates a namespace with address addr/24 (and fd00::X/64 from
// the last octet) attached to the bridge at the next port number.
func (b *Bridge) AddHost(addr string) *Host {
	b.t.Helper()
	id := ID(3)
	h := &Host{NS: "ctn" + id, Iface: "eth0", Peer: "ctv" + id, Port: b.next, Addr: addr, t: b.t}
	h.enter = []string{"ip", "netns", "exec", h.NS}
	b.next++
	last := addr[strings.LastIndex(addr, ".")+1:]
	h.Addr6 = "fd00:5d::" + last
	b.t.Cleanup(func() {
		_, _ = Run("ip", "netns", "del", h.NS)
		_, _ = Run("ip", "link", "del", h.Peer)
	})
	steps := [][]string{
		{"ip", "netns", "add", h.NS},
		{"ip", "link", "add", h.Peer, "type", "veth", "peer", "name", "ctx" + id},
		{"ip", "link", "set", "ctx" + id, "netns", h.NS},
		{"ip", "-n", h.NS, "link", "set", "ctx" + id, "name", h.Iface},
		{"ip", "-n", h.NS, "addr", "add", addr + "/24", "dev", h.Iface},
		{"ip", "-n", h.NS, "addr", "add", h.Addr6 + "/64", "dev", h.Iface, "nodad"},
		{"ip", "-n", h.NS, "link", "set", "lo", "up"},
		{"ip", "-n", h.NS, "link", "set", h.Iface, "up"},
		{"ip", "netns", "exec", h.NS, "ethtool", "-K", h.Iface, "tx", "off", "tso", "off", "gso", "off", "gro", "off"},
		// The bridge side must stay silent: no IPv6 of its own.
		{"sysctl", "-qw", "net.ipv6.conf." + h.Peer + ".disable_ipv6=1"},
		{"ip", "link", "set", h.Peer, "up"},
		{"ovs-vsctl", "add-port", b.Name, h.Peer, "--", "set", "interface", h.Peer, "ofport_request=" + strconv.Itoa(h.Port)},
	}
	for _, s := range steps {
		Must(b.t, s[0], s[1:]...)
	}
	out := Must(b.t, "ip", "-n", h.NS, "-o", "link", "show", h.Iface)
	if i := strings.Index(out, "link/ether "); i >= 0 {
		h.MAC = strings.Fields(out[i+len("link/ether "):])[0]
	}
	return h
}

// Link joins two bridges with a veth pair; it returns the port numbers.
func Link(t testing.TB, a, b *Bridge) (int, int) {
	t.Helper()
	id := ID(3)
	pa, pb := "ctla"+id, "ctlb"+id
	t.Cleanup(func() { _, _ = Run("ip", "link", "del", pa) })
	na, nb := a.next, b.next
	a.next++
	b.next++
	Must(t, "ip", "link", "add", pa, "type", "veth", "peer", "name", pb)
	for _, p := range []string{pa, pb} {
		Must(t, "sysctl", "-qw", "net.ipv6.conf."+p+".disable_ipv6=1")
		Must(t, "ip", "link", "set", p, "up")
		Must(t, "ethtool", "-K", p, "tx", "off")
	}
	Must(t, "ovs-vsctl", "add-port", a.Name, pa, "--", "set", "interface", pa, "ofport_request="+strconv.Itoa(na))
	Must(t, "ovs-vsctl", "add-port", b.Name, pb, "--", "set", "interface", pb, "ofport_request="+strconv.Itoa(nb))
	return na, nb
}

// Isolate puts the host's bridge port in an access VLAN of its own, so
// that NORMAL never floods to it (for IRS ports).
func (h *Host) Isolate(vlan int) {
	h.t.Helper()
	Must(h.t, "ovs-vsctl", "set", "port", h.Peer, "tag="+strconv.Itoa(vlan))
}

// Run runs a command in the host's namespace.
func (h *Host) Run(name string, args ...string) (string, error) {
	full := append(append(slices.Clone(h.enter), name), args...)
	return Run(full[0], full[1:]...)
}

// Must runs a command in the host's namespace and fails the test if it fails.
func (h *Host) Must(name string, args ...string) string {
	h.t.Helper()
	out, err := h.Run(name, args...)
	if err != nil {
		h.t.Fatalf("ovslab: in %s: %v", h.where(), err)
	}
	return out
}

// Ping sends n echo requests to addr at interval and returns how many
// replies came back.
func (h *Host) Ping(addr string, n int, interval time.Duration) int {
	h.t.Helper()
	cmd := "ping"
	if strings.Contains(addr, ":") {
		cmd = "ping6"
	}
	out, _ := h.Run(cmd, "-n", "-c", strconv.Itoa(n), "-i", fmt.Sprintf("%.3f", interval.Seconds()), "-W", "1", addr)
	var sent, recv int
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "packets transmitted") {
			fmt.Sscanf(strings.TrimSpace(l), "%d packets transmitted, %d received", &sent, &recv)
		}
	}
	if recv != n {
		h.t.Logf("ovslab: ping %s from %s: %d of %d replies:\n%s", addr, h.where(), recv, n, out)
	}
	return recv
}

// Capture is a tcpdump running in a host.
type Capture struct {
	file string
	cmd  *exec.Cmd
	done chan struct{}
	t    testing.TB
}

// Capture starts tcpdump on the host's interface (all frames, also
// tagged ones) into a pcap file, and waits until it is listening.
func (h *Host) Capture() *Capture {
	h.t.Helper()
	dir := h.t.TempDir()
	c := &Capture{file: filepath.Join(dir, "cap.pcap"), done: make(chan struct{}), t: h.t}
	c.cmd = h.Command("tcpdump", "-i", h.Iface, "--immediate-mode", "-U", "-n", "-s", "256", "-w", c.file)
	var stderr syncBuffer
	c.cmd.Stderr = &stderr
	if err := c.cmd.Start(); err != nil {
		h.t.Fatalf("ovslab: tcpdump in %s: %v", h.where(), err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	h.t.Cleanup(c.kill)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		if time.Now().After(deadline) {
			h.t.Fatalf("ovslab: tcpdump in %s did not start: %s", h.where(), stderr.String())
		}
		select {
		case <-c.done:
			h.t.Fatalf("ovslab: tcpdump in %s exited: %s", h.where(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return c
}

func (c *Capture) kill() {
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(os.Interrupt)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// Stop ends the capture (after a short settle time for frames in flight).
func (c *Capture) Stop() {
	time.Sleep(300 * time.Millisecond)
	c.kill()
}

// Count returns how many captured frames match a tcpdump filter
// expression (for example "icmp", "vlan", "tcp port 25").
func (c *Capture) Count(filter string) int {
	c.t.Helper()
	return len(c.Lines(filter))
}

// Lines returns the captured frames matching filter, one tcpdump line each.
func (c *Capture) Lines(filter string) []string {
	c.t.Helper()
	args := []string{"-n", "-e", "-r", c.file}
	if filter != "" {
		args = append(args, strings.Fields(filter)...)
	}
	out, err := Run("tcpdump", args...)
	if err != nil {
		c.t.Fatalf("ovslab: read capture: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "reading from") {
			lines = append(lines, l)
		}
	}
	return lines
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
