//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/ovslab"
	"github.com/sdnli/sdnli/internal/golden"
)

// mininetPython is Mininet's interpreter: Debian installs Mininet for the
// system Python, which need not be the first python3 on PATH.
const mininetPython = "/usr/bin/python3"

// network is what a topology script prints in driver mode.
type network struct {
	Switches []struct {
		Short string `json:"short"`
		Name  string `json:"name"`
		DPID  string `json:"dpid"`
	} `json:"switches"`
	Hosts []mnHost `json:"hosts"`
	IRS   struct {
		mnHost
		DPID     string `json:"dpid"`
		PortName string `json:"port_name"`
	} `json:"irs"`
	prefix string
	subnet string
}

type mnHost struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	IP   string `json:"ip"`
	IP6  string `json:"ip6"`
	MAC  string `json:"mac"`
	Intf string `json:"intf"`
}

// host returns a host of the network by name ("irs" for the IRS host).
func (n *network) host(t *testing.T, name string) *ovslab.Host {
	t.Helper()
	if name == "irs" {
		h := n.IRS.mnHost
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

// startNetwork runs a topology script in driver mode; closing its stdin
// in t.Cleanup stops it (net.stop: bridges, links, host shells), and
// whatever still carries the run's name prefix is removed after.
func startNetwork(t *testing.T, script, controller string) *network {
	t.Helper()
	ovslab.RequireOVS(t)
	if out, err := exec.Command(mininetPython, "-c", "import mininet.net").CombinedOutput(); err != nil {
		t.Fatalf("Mininet is not installed for %s: %v\n%s (apt-get install mininet)", mininetPython, err, out)
	}
	now := time.Now().Nanosecond()
	n := &network{
		prefix: "e" + ovslab.ID(2), // eXXXXs1-eth1 stays under 15 bytes
		subnet: fmt.Sprintf("10.%d.%d", 100+now%40, 1+now/7%250),
	}
	cmd := exec.Command(mininetPython, filepath.Join(golden.RepoRoot(t), "topologies", script),
		"--controller", controller, "--prefix", n.prefix, "--subnet", n.subnet,
		"--dpid-base", fmt.Sprintf("0x%x00", 0xe20000+now%0xffff))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
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
			t.Errorf("%s did not stop within 60s; killing it", script)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if out, err := ovslab.Run("ovs-vsctl", "list-br"); err == nil {
			for _, br := range strings.Fields(out) {
				if strings.HasPrefix(br, n.prefix) {
					t.Errorf("bridge %s left behind by %s; removing it", br, script)
					_, _ = ovslab.Run("ovs-vsctl", "--if-exists", "del-br", br)
				}
			}
		}
		if out, err := ovslab.Run("ip", "-o", "link", "show"); err == nil {
			for _, l := range strings.Split(out, "\n") {
				if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], n.prefix) {
					_, _ = ovslab.Run("ip", "link", "del", strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
				}
			}
		}
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

// mgmtLink joins the root namespace and the IRS host with a veth pair of
// their own (rootIP/30 and irsIP/30): the IRS reaches the controller's API
// and the analyzer reaches the IRS's API over it, as over a management
// network, while the mirrored traffic arrives on the switch port.
func mgmtLink(t *testing.T, n *network) (rootIP, irsIP string) {
	t.Helper()
	r, _ := strconv.ParseUint(ovslab.ID(1), 16, 8)
	rootIP, irsIP = fmt.Sprintf("172.30.%d.1", r), fmt.Sprintf("172.30.%d.2", r)
	a, b := n.prefix+"mg0", n.prefix+"mg1"
	ovslab.Must(t, "ip", "link", "add", a, "type", "veth", "peer", "name", b, "netns", fmt.Sprint(n.IRS.PID))
	t.Cleanup(func() { _, _ = ovslab.Run("ip", "link", "del", a) })
	ovslab.Must(t, "ip", "addr", "add", rootIP+"/30", "dev", a)
	ovslab.Must(t, "ip", "link", "set", a, "up")
	irs := n.host(t, "irs")
	irs.Must("ip", "addr", "add", irsIP+"/30", "dev", b)
	irs.Must("ip", "link", "set", b, "up")
	irs.Must("ip", "link", "set", "lo", "up")
	return rootIP, irsIP
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
		dir, err := os.MkdirTemp("", "sdnli-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sdnli")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sdnli")
		cmd.Dir = golden.RepoRoot(t)
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

// freePort returns a TCP port nobody listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tempDir is a directory every daemon user can enter (t.TempDir's parent
// is private to root; Postfix, Dovecot and vsftpd drop privileges).
func tempDir(t *testing.T, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// proc is a long-lived process of the test, stopped in t.Cleanup
// (SIGTERM to its process group, SIGKILL after 10 s).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

func start(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), out: &syncBuffer{}}
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
			t.Logf("output of %s:\n%s", name, p.out.tail(4000))
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond every 250 ms until it holds; it fails the test after
// timeout, or at once when one of watch has died.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, watch ...*proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		for _, p := range watch {
			if p.exited() {
				t.Fatalf("%s exited while waiting for %s:\n%s", p.name, what, p.out.tail(4000))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 { // a chatty daemon must not grow the test without bound
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

// analyst is a logged-in client of the analyzer's API.
type analyst struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

// login logs name in through POST /api/v1/login, as the web UI does.
func login(t *testing.T, base, name, password string) *analyst {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &analyst{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	code, body := a.do("POST", "/api/v1/login", map[string]string{"name": name, "password": password})
	if code != http.StatusOK {
		t.Fatalf("login %s: got %d %s, want 200", name, code, body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.CSRF == "" {
		t.Fatalf("login %s: no csrf_token in %s", name, body)
	}
	a.csrf = me.CSRF
	return a
}

// with returns the same client reporting failures to t (a subtest).
func (a *analyst) with(t *testing.T) *analyst {
	c := *a
	c.t = t
	return &c
}

// do sends a request (JSON body and CSRF header when not a GET) and
// returns the status and body.
func (a *analyst) do(method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", a.csrf)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		a.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// getJSON fetches path, requires 200 and decodes into v.
func (a *analyst) getJSON(path string, v any) {
	a.t.Helper()
	code, body := a.do("GET", path, nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET %s: got %d %s, want 200", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		a.t.Fatalf("GET %s: decode: %v: %.300s", path, err, body)
	}
}

// download fetches a raw-data path and requires 200.
func (a *analyst) download(path string) []byte {
	a.t.Helper()
	code, body := a.do("GET", path, nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET %s: got %d %.300s, want 200", path, code, body)
	}
	return body
}

// eventItem and event are the parts of the analyzer's answers the test reads.
type eventItem struct {
	ID       int64  `json:"id"`
	Node     string `json:"node"`
	Protocol string `json:"protocol"`
	Type     string `json:"type"`
	Subject  string `json:"subject"`
}

type artifact struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type event struct {
	eventItem
	HasPcap   bool           `json:"has_pcap"`
	Summary   map[string]any `json:"summary"`
	Artifacts []artifact     `json:"artifacts"`
}

// search runs GET /api/v1/events with the query.
func (a *analyst) search(query string) []eventItem {
	a.t.Helper()
	var res struct {
		Events []eventItem `json:"events"`
	}
	a.getJSON("/api/v1/events?limit=500&"+query, &res)
	return res.Events
}

func (a *analyst) event(id int64) event {
	a.t.Helper()
	var e event
	a.getJSON(fmt.Sprintf("/api/v1/events/%d", id), &e)
	return e
}

// ping checks the analyzer answers at all (for waiting on its start).
func ping(base string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
