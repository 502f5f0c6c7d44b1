//go:build integration

package topologies

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/controller/ovslab"
)

// mininetPython is Mininet's interpreter: Debian installs Mininet for the
// system Python, which need not be the first python3 on PATH.
const mininetPython = "/usr/bin/python3"

// network is what a topology script prints in driver mode.
type network struct {
	Switches []struct {
		Short string         `json:"short"`
		Name  string         `json:"name"`
		DPID  string         `json:"dpid"`
		Ports map[string]int `json:"ports"`
	} `json:"switches"`
	Hosts []mnHost `json:"hosts"`
	IRS   struct {
		mnHost
		DPID     string `json:"dpid"`
		PortName string `json:"port_name"`
		VLAN     int    `json:"vlan"`
	} `json:"irs"`
	t *testing.T
}

type mnHost struct {
	Name   string `json:"name"`
	PID    int    `json:"pid"`
	IP     string `json:"ip"`
	IP6    string `json:"ip6"`
	MAC    string `json:"mac"`
	Intf   string `json:"intf"`
	Switch string `json:"switch"`
	Port   int    `json:"port"`
}

// host returns a host by name, ready for commands and captures.
func (n *network) host(name string) *ovslab.Host {
	n.t.Helper()
	if name == "irs" {
		h := n.IRS.mnHost
		return ovslab.PIDHost(n.t, h.PID, h.Intf, h.IP, "", h.MAC)
	}
	for _, h := range n.Hosts {
		if h.Name == name {
			return ovslab.PIDHost(n.t, h.PID, h.Intf, h.IP, h.IP6, h.MAC)
		}
	}
	n.t.Fatalf("no host %s in the topology", name)
	return nil
}

// bridge returns the OVS name of switch short ("s1").
func (n *network) bridge(short string) string {
	for _, s := range n.Switches {
		if s.Short == short {
			return s.Name
		}
	}
	n.t.Fatalf("no switch %s in the topology", short)
	return ""
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// startNetwork runs a topology script in driver mode and stops it (which
// removes its switches, links and hosts) in t.Cleanup; if the script
// does not stop, its bridges and interfaces are removed by name.
func startNetwork(t *testing.T, script, controller string) *network {
	t.Helper()
	ovslab.RequireOVS(t)
	if _, err := os.Stat(mininetPython); err != nil {
		t.Fatalf("Mininet's python %s missing: apt-get install mininet", mininetPython)
	}
	if out, err := exec.Command(mininetPython, "-c", "import mininet.net").CombinedOutput(); err != nil {
		t.Fatalf("Mininet is not installed for %s: %v\n%s (apt-get install mininet)", mininetPython, err, out)
	}
	prefix := "m" + ovslab.ID(2) // switch names mXXXXs1: interface names stay under 15 bytes
	subnet := fmt.Sprintf("10.%d.%d", 60+time.Now().Nanosecond()%40, 1+time.Now().Nanosecond()/7%250)
	cmd := exec.Command(mininetPython, filepath.Join(repoRoot(t), "topologies", script),
		"--controller", controller, "--prefix", prefix, "--subnet", subnet,
		"--dpid-base", fmt.Sprintf("0x%x00", 0x5d0000+time.Now().Nanosecond()%0xffff))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
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
		// Whatever is left of this run (names carry the prefix).
		if out, err := ovslab.Run("ovs-vsctl", "list-br"); err == nil {
			for _, br := range strings.Fields(out) {
				if strings.HasPrefix(br, prefix) {
					t.Errorf("bridge %s left behind by %s; removing it", br, script)
					_, _ = ovslab.Run("ovs-vsctl", "--if-exists", "del-br", br)
				}
			}
		}
		if out, err := ovslab.Run("ip", "-o", "link", "show"); err == nil {
			for _, l := range strings.Split(out, "\n") {
				if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], prefix) {
					name := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
					_, _ = ovslab.Run("ip", "link", "del", name)
				}
			}
		}
	})
	n := &network{t: t}
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
				if len(n.Switches) == 0 {
					t.Fatalf("%s ready without a description", script)
				}
				return n
			}
		case <-deadline:
			t.Fatalf("%s not ready after 90s:\n%s", script, stderr.String())
		}
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sdnliBinary builds cmd/sdnli once per test run.
func sdnliBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sdnli-topo-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sdnli")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sdnli")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/sdnli: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// controllerProc is `sdnli controller` running as a process.
type controllerProc struct {
	t       *testing.T
	args    []string
	OFAddr  string
	APIAddr string
	API     *client.Client
	cmd     *exec.Cmd
	done    chan struct{}
}

// startController runs the controller binary on ofAddr with a
// configuration file and, when dsn is set, a database; it is killed in
// t.Cleanup.
func startController(t *testing.T, ofAddr, configFile, dsn string) *controllerProc {
	t.Helper()
	p := &controllerProc{t: t, OFAddr: ofAddr, APIAddr: freeAddr(t)}
	p.args = []string{"controller", "--listen", p.OFAddr, "--api", p.APIAddr, "--config", configFile, "--echo-interval", "1s"}
	if dsn != "" {
		p.args = append(p.args, "--db", dsn)
	}
	p.API = client.New("http://" + p.APIAddr)
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *controllerProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(sdnliBinary(p.t), p.args...)
	p.cmd.Stdout = logWriter{p.t, "controller"}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start controller: %v", err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(p.cmd, p.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.API.Health(context.Background()); err == nil {
			return
		}
		select {
		case <-p.done:
			p.t.Fatalf("controller exited at start")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("controller API did not answer within 30s")
		}
	}
}

// kill ends the controller with SIGKILL: no goodbye to the switches.
func (p *controllerProc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

type logWriter struct {
	t      *testing.T
	prefix string
}

func (w logWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.t.Logf("[%s] %s", w.prefix, l)
	}
	return len(b), nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// background runs a long-lived command in a host until the test ends.
func background(t *testing.T, h *ovslab.Host, name string, args ...string) {
	t.Helper()
	cmd := h.Command(name, args...)
	cmd.Stdout = logWriter{t, name}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
}
