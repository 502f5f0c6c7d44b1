// Package mnlab drives the Mininet topologies of topologies/ for the
// integration tests that run on them (topologies and test/e2e): it starts
// a topology script in driver mode and reads its description, gives its
// hosts as ovslab hosts, builds the sdnli binary once per test binary, and
// runs long-lived processes whose output is shown when the test fails.
//
// Everything it starts is stopped in t.Cleanup, also when the test fails:
// the network (switches, links, host shells; whatever is left of it is
// removed by its name prefix), processes (their whole process group) and
// temporary directories. A test that needs Mininet or Open vSwitch fails
// (never skips) when they are missing.
//
// Nothing runs at import: the package may be built without root, and only
// the calls of a test need it.
package mnlab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/ovslab"
)

// Python is Mininet's interpreter: Debian installs Mininet for the
// system Python, which need not be the first python3 on PATH.
const Python = "/usr/bin/python3"

// Network is a running topology as its script describes it in driver
// mode, with the name prefix and subnet it was started with.
type Network struct {
	Switches []Switch `json:"switches"`
	Hosts    []Host   `json:"hosts"`
	IRS      IRS      `json:"irs"`
	// Prefix starts the name of every switch and interface of the run.
	Prefix string `json:"-"`
	// Subnet is the first three octets of the hosts' IPv4 addresses.
	Subnet string `json:"-"`
}

// Switch is one OVS bridge of the topology.
type Switch struct {
	Short string         `json:"short"` // name in the script ("s1")
	Name  string         `json:"name"`  // bridge name (prefix + short)
	DPID  string         `json:"dpid"`
	Ports map[string]int `json:"ports"`
}

// Host is one Mininet host: a shell process in its own network namespace.
type Host struct {
	Name   string `json:"name"`
	PID    int    `json:"pid"`
	IP     string `json:"ip"`
	IP6    string `json:"ip6"`
	MAC    string `json:"mac"`
	Intf   string `json:"intf"`
	Switch string `json:"switch"` // bridge name
	Port   int    `json:"port"`   // its port on that bridge
}

// IRS is the host that receives the mirrored copies, and its switch port.
type IRS struct {
	Host
	DPID     string `json:"dpid"`
	PortName string `json:"port_name"`
	VLAN     int    `json:"vlan"`
}

// Options are what tells the networks of one suite from another's, so
// that suites run side by side never share a name, subnet or DPID.
type Options struct {
	// Letter starts the name prefix; the prefix is Letter and four hex
	// digits, so that interface names (mXXXXs1-eth1) stay under 15 bytes.
	Letter string
	// SubnetBase is the lowest second octet of the 10.x.y subnet; the run
	// picks one of the 40 from there.
	SubnetBase int
	// DPIDBase is the high part of the datapath IDs; the run adds a
	// random offset below 0xffff and the script numbers the switches.
	DPIDBase int
}

// StartNetwork runs topology script (a file of topologies/) in driver
// mode with its switches pointed at controller, and waits up to 90 s for
// it to be ready. Closing its stdin in t.Cleanup stops it (net.stop removes
// bridges, links and host shells); if it does not stop within 60 s it is
// killed, and whatever still carries the run's prefix is removed after.
func StartNetwork(t *testing.T, script, controller string, opt Options) *Network {
	t.Helper()
	ovslab.RequireOVS(t)
	if _, err := os.Stat(Python); err != nil {
		t.Fatalf("Mininet's python %s missing: apt-get install mininet", Python)
	}
	if out, err := exec.Command(Python, "-c", "import mininet.net").CombinedOutput(); err != nil {
		t.Fatalf("Mininet is not installed for %s: %v\n%s (apt-get install mininet)", Python, err, out)
	}
	now := time.Now().Nanosecond()
	n := &Network{
		Prefix: opt.Letter + ovslab.ID(2),
		Subnet: fmt.Sprintf("10.%d.%d", opt.SubnetBase+now%40, 1+now/7%250),
	}
	cmd := exec.Command(Python, filepath.Join(RepoRoot(t), "topologies", script),
		"--controller", controller, "--prefix", n.Prefix, "--subnet", n.Subnet,
		"--dpid-base", fmt.Sprintf("0x%x00", opt.DPIDBase+now%0xffff))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			t.Errorf("%s did not stop within 60s; killing it and removing its bridges", script)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		n.removeLeftovers(t, script)
	})
	deadline := time.After(90 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				<-exited
				t.Fatalf("%s ended before it was ready:\n%s", script, stderr.String())
			}
			if strings.HasPrefix(l, "{") {
				if err := json.Unmarshal([]byte(l), n); err != nil {
					t.Fatalf("%s printed a bad description: %v\n%s", script, err, l)
				}
			}
			if l == "ready" {
				if len(n.Switches) == 0 || n.IRS.PID == 0 {
					t.Fatalf("%s ready without a description", script)
				}
				return n
			}
		case <-deadline:
			t.Fatalf("%s not ready after 90s:\n%s", script, stderr.String())
		}
	}
}

// removeLeftovers deletes the bridges and interfaces of the run that a
// stopped script left; a bridge left behind fails the test.
func (n *Network) removeLeftovers(t *testing.T, script string) {
	t.Helper()
	if out, err := ovslab.Run("ovs-vsctl", "list-br"); err == nil {
		for _, br := range strings.Fields(out) {
			if strings.HasPrefix(br, n.Prefix) {
				t.Errorf("bridge %s left behind by %s; removing it", br, script)
				_, _ = ovslab.Run("ovs-vsctl", "--if-exists", "del-br", br)
			}
		}
	}
	if out, err := ovslab.Run("ip", "-o", "link", "show"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], n.Prefix) {
				name := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
				_, _ = ovslab.Run("ip", "link", "del", name)
			}
		}
	}
}

// Host returns a host of the network by name ("irs" for the IRS host),
// ready for commands and captures; failures are reported to t.
func (n *Network) Host(t testing.TB, name string) *ovslab.Host {
	t.Helper()
	if name == "irs" {
		h := n.IRS.Host
		return ovslab.PIDHost(t, h.PID, h.Intf, h.IP, "", h.MAC)
	}
	for _, h := range n.Hosts {
		if h.Name == name {
			return ovslab.PIDHost(t, h.PID, h.Intf, h.IP, h.IP6, h.MAC)
		}
	}
	t.Fatalf("no host %s in the topology", name)
	return nil
}

// Bridge returns the OVS name of switch short ("s1").
func (n *Network) Bridge(t testing.TB, short string) string {
	t.Helper()
	for _, s := range n.Switches {
		if s.Short == short {
			return s.Name
		}
	}
	t.Fatalf("no switch %s in the topology", short)
	return ""
}

// RepoRoot walks up from the working directory to the directory holding
// go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("mnlab: getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("mnlab: go.mod not found above the working directory")
		}
		dir = parent
	}
}
