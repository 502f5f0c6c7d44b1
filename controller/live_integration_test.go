//go:build integration

package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/controller/ovslab"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/openflow"
)

// ctl is a controller running in the test process.
type ctl struct {
	C      *controller.Controller
	OFAddr string
	API    *client.Client
	stop   func()
}

type startOpt func(*controller.Options)

// start runs a controller on addr ("127.0.0.1:0" for any port) with the
// configuration in cfgJSON; it is stopped in t.Cleanup unless stopped
// before.
func start(t *testing.T, addr, cfgJSON string, store policy.Store, opts ...startOpt) *ctl {
	t.Helper()
	cfg, err := policy.ParseConfig([]byte(cfgJSON))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	o := controller.Options{Config: cfg, Store: store, Conn: openflow.Config{EchoInterval: time.Second},
		Logger: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := controller.New(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("controller.New: %v", err)
	}
	var ln net.Listener
	for i := 0; ; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if i == 50 {
			cancel()
			t.Fatalf("listen %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, ln) }()
	srv := httptest.NewServer(c.Handler(""))
	stopped := false
	k := &ctl{C: c, OFAddr: ln.Addr().String(), API: client.New(srv.URL)}
	k.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(k.stop)
	return k
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// installed waits until n switches are connected and programmed.
func (k *ctl) installed(t *testing.T, n int) {
	t.Helper()
	waitFor(t, 20*time.Second, fmt.Sprintf("%d switches programmed", n), func() bool {
		sws, err := k.API.Switches(context.Background())
		if err != nil || len(sws) != n {
			return false
		}
		for _, s := range sws {
			if s.Flows.Desired == 0 {
				return false
			}
		}
		return true
	})
}

// desiredLines returns the flows the controller wants on a switch.
func (k *ctl) desiredLines(t *testing.T, dpid string) []string {
	t.Helper()
	fl, err := k.API.Flows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range fl {
		if s.DPID == dpid {
			var out []string
			for _, l := range s.Desired {
				if !strings.HasPrefix(l, "group_id=") {
					out = append(out, l)
				}
			}
			return out
		}
	}
	t.Fatalf("switch %s unknown to the controller", dpid)
	return nil
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := sorted(got), sorted(want)
	if !slices.Equal(g, w) {
		t.Errorf("%s differ\n got:\n  %s\nwant:\n  %s", what, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

// oneBridge is a switch with h1 (port 1), h2 (port 2) and an IRS host
// (port 3) in an access VLAN of its own.
type oneBridge struct {
	br         *ovslab.Bridge
	h1, h2, ir *ovslab.Host
	cfg        string
}

func newOneBridge(t *testing.T, protocols string) *oneBridge {
	t.Helper()
	b := &oneBridge{br: ovslab.NewBridge(t, 0x5d0001)}
	net := fmt.Sprintf("10.%d.%d", 100+os.Getpid()%50, 1+time.Now().Nanosecond()%250)
	b.h1 = b.br.AddHost(net + ".1")
	b.h2 = b.br.AddHost(net + ".2")
	b.ir = b.br.AddHost(net + ".3")
	b.ir.Isolate(4094)
	b.cfg = fmt.Sprintf(`{"lldp_interval": "1s", "check_interval": "1s",
		"irs": [{"name": "irs1", "dpid": "%016x", "port": %q}],
		"protocols": {%s}}`, b.br.DPID, b.ir.Peer, protocols)
	return b
}

func (b *oneBridge) dpid() string { return fmt.Sprintf("%016x", b.br.DPID) }

// TestLiveOneSwitch installs the flows of SMTP and ICMP on a live bridge
// and checks them against what OVS itself prints, then sends traffic:
// every ICMP packet reaches the IRS exactly once, untagged; ARP
// broadcasts, unknown unicast floods and unmirrored traffic never do;
// frames from the IRS are dropped.
func TestLiveOneSwitch(t *testing.T) {
	b := newOneBridge(t, `"smtp": {"enabled": true}, "icmp": {"enabled": true}`)
	k := start(t, "127.0.0.1:0", b.cfg, nil)
	b.br.SetController("tcp:" + k.OFAddr)
	k.installed(t, 1)

	t.Run("flows as ovs-ofctl prints them", func(t *testing.T) {
		sameSet(t, "dump-flows and desired flows", b.br.Flows(), k.desiredLines(t, b.dpid()))
	})

	t.Run("traffic", func(t *testing.T) {
		irs := b.ir.Capture()
		h2 := b.h2.Capture()
		const n = 20
		if got := b.h1.Ping(b.h2.Addr, n, 50*time.Millisecond); got != n {
			t.Errorf("ping h1->h2: %d of %d replies; want no loss", got, n)
		}
		if got := b.h1.Ping(b.h2.Addr6, 5, 50*time.Millisecond); got != 5 {
			t.Errorf("ping6 h1->h2: %d of 5 replies", got)
		}
		// Unknown unicast: h1 sends to a MAC nobody has; NORMAL floods it
		// (h2 sees it), the IRS must not.
		b.h1.Must("ip", "neigh", "replace", strings.TrimSuffix(b.h2.Addr, ".2")+".99", "lladdr", "02:5d:00:00:00:99", "dev", "eth0")
		for i := 0; i < 3; i++ {
			b.h1.Must("bash", "-c", "echo probe > /dev/udp/"+strings.TrimSuffix(b.h2.Addr, ".2")+".99/9999")
		}
		// The IRS sends: dropped at the switch, nobody hears it.
		b.ir.Run("ping", "-c", "2", "-i", "0.1", "-W", "1", b.h1.Addr)
		irs.Stop()
		h2.Stop()
		if got := irs.Count("icmp and icmp[icmptype] == icmp-echo"); got != n {
			t.Errorf("echo requests at the irs: %d; want %d", got, n)
		}
		if got := irs.Count("icmp and icmp[icmptype] == icmp-echoreply"); got != n {
			t.Errorf("echo replies at the irs: %d; want %d", got, n)
		}
		if got := irs.Count("icmp6 and ip6[40] == 128"); got != 5 {
			t.Errorf("icmpv6 echo requests at the irs: %d; want 5", got)
		}
		if got := irs.Count("vlan"); got != 0 {
			t.Errorf("tagged frames at the irs: %d; want 0\n%s", got, strings.Join(irs.Lines("vlan"), "\n"))
		}
		if got := irs.Count("arp and not ether src " + b.ir.MAC); got != 0 {
			t.Errorf("ARP frames flooded to the irs: %d; want 0", got)
		}
		if got := h2.Count("ether dst 02:5d:00:00:00:99"); got == 0 {
			t.Errorf("unknown unicast not flooded to h2: the check below proves nothing")
		}
		if got := irs.Count("ether dst 02:5d:00:00:00:99"); got != 0 {
			t.Errorf("unknown unicast flooded to the irs: %d frames; want 0", got)
		}
		if got := h2.Count("ether src " + b.ir.MAC); got != 0 {
			t.Errorf("frames from the irs reached h2: %d; want 0", got)
		}
	})
}

// normalize clears the epoch bit of sdnli cookies, which flips on every
// reinstall.
var epochRE = regexp.MustCompile(`cookie=0x5d([89a-f])`)

func normalize(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = epochRE.ReplaceAllStringFunc(l, func(m string) string {
			d := m[len(m)-1]
			v := strings.IndexByte("0123456789abcdef", d) &^ 8
			return "cookie=0x5d" + string("0123456789abcdef"[v])
		})
	}
	return out
}

// TestLiveRepair: a flow deleted by hand comes back and a flow added by
// hand in sdnli's cookie space goes, at the next periodic check; flows of
// other cookies stay.
func TestLiveRepair(t *testing.T) {
	b := newOneBridge(t, `"smtp": {"enabled": true}`)
	k := start(t, "127.0.0.1:0", b.cfg, nil)
	b.br.SetController("tcp:" + k.OFAddr)
	k.installed(t, 1)
	want := b.br.Flows()

	b.br.Ofctl("del-flows", "--strict", "table=1,priority=210,tcp,tp_dst=25")
	b.br.Ofctl("add-flow", "cookie=0x5d02000300000000,table=1,priority=123,tcp,tp_dst=9999,actions=drop")
	b.br.Ofctl("add-flow", "cookie=0x1234,table=1,priority=5,udp,tp_dst=7,actions=drop")
	if got := len(b.br.Flows()); got != len(want)+1 {
		t.Fatalf("%d flows after the damage; want %d", got, len(want)+1)
	}
	waitFor(t, 10*time.Second, "the periodic check to repair the table", func() bool {
		var mine []string
		for _, l := range b.br.Flows() {
			if !strings.HasPrefix(l, "cookie=0x1234") {
				mine = append(mine, l)
			}
		}
		return slices.Equal(sorted(mine), sorted(want))
	})
	if !slices.ContainsFunc(b.br.Flows(), func(l string) bool { return strings.HasPrefix(l, "cookie=0x1234") }) {
		t.Errorf("the flow of another cookie was removed; want it kept")
	}
	sws, _ := k.API.Switches(context.Background())
	if len(sws) != 1 || sws[0].Flows.Repaired < 2 {
		t.Errorf("switch stats %+v; want at least 2 repairs counted", sws)
	}
}

// installCounter passes the controller's log to the test's and counts
// its "flows installed" lines.
type installCounter struct {
	testLog
	n atomic.Int32
}

func (w *installCounter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), `msg="flows installed"`) {
		w.n.Add(1)
	}
	return w.testLog.Write(p)
}

// TestLiveCheckDuringInstall: with the periodic check every millisecond,
// a switch that connects is installed once. A check that finds no table
// applied while the connect's own install is running used to install
// again, which flipped the epoch back.
func TestLiveCheckDuringInstall(t *testing.T) {
	b := newOneBridge(t, `"icmp": {"enabled": true}`)
	cfg := strings.Replace(b.cfg, `"check_interval": "1s"`, `"check_interval": "1ms"`, 1)
	log := &installCounter{testLog: testLog{t}}
	k := start(t, "127.0.0.1:0", cfg, nil, func(o *controller.Options) {
		o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	b.br.SetController("tcp:" + k.OFAddr)
	k.installed(t, 1)
	time.Sleep(300 * time.Millisecond) // room for a late second install
	if n := log.n.Load(); n != 1 {
		t.Errorf("the switch was installed %d times on connecting; want once", n)
	}
}

// TestLiveRestart: the controller stops and another starts on the same
// address; meanwhile the switch (fail_mode=secure) keeps its flows, so a
// ping running across the restart loses nothing; the new controller
// reinstalls the same flow set (new epoch) and mirroring goes on.
func TestLiveRestart(t *testing.T) {
	b := newOneBridge(t, `"smtp": {"enabled": true}, "icmp": {"enabled": true}`)
	k1 := start(t, "127.0.0.1:0", b.cfg, nil)
	addr := k1.OFAddr
	b.br.SetController("tcp:" + addr)
	k1.installed(t, 1)
	before := b.br.Flows()

	const n = 250
	pinged := make(chan int, 1)
	go func() { pinged <- b.h1.Ping(b.h2.Addr, n, 20*time.Millisecond) }()
	time.Sleep(500 * time.Millisecond)
	k1.stop()
	time.Sleep(time.Second)
	if got := b.br.Flows(); !slices.Equal(sorted(got), sorted(before)) {
		t.Errorf("flows changed while no controller was connected")
	}
	k2 := start(t, addr, b.cfg, nil)
	k2.installed(t, 1)
	if got := <-pinged; got != n {
		t.Errorf("ping across the restart: %d of %d replies; want no loss", got, n)
	}
	after := b.br.Flows()
	sameSet(t, "flows before and after the restart (epoch aside)", normalize(after), normalize(before))
	if slices.Equal(sorted(after), sorted(before)) {
		t.Errorf("cookies unchanged: the reinstall did not flip the epoch")
	}
	irs := b.ir.Capture()
	b.h1.Ping(b.h2.Addr, 5, 50*time.Millisecond)
	irs.Stop()
	if got := irs.Count("icmp"); got != 10 {
		t.Errorf("icmp copies after the restart: %d; want 10", got)
	}
}

// TestLiveDegraded: an IRS port that does not exist on its switch makes
// the health "degraded" with the reason, and no mirror flow is
// installed, while forwarding flows are.
func TestLiveDegraded(t *testing.T) {
	b := newOneBridge(t, `"icmp": {"enabled": true}`)
	cfg := strings.Replace(b.cfg, b.ir.Peer, "no-such-port", 1)
	k := start(t, "127.0.0.1:0", cfg, nil)
	b.br.SetController("tcp:" + k.OFAddr)
	k.installed(t, 1)
	h, err := k.API.Health(context.Background())
	if err != nil || h.Status != "degraded" || len(h.Problems) == 0 || !strings.Contains(h.Problems[0], "irs irs1: port not found") {
		t.Errorf("health %+v, %v; want degraded naming irs1", h, err)
	}
	if hasFlow(b.br.Flows(), "icmp") {
		t.Errorf("mirror flow installed without a resolvable irs")
	}
	if got := b.h1.Ping(b.h2.Addr, 3, 50*time.Millisecond); got != 3 {
		t.Errorf("forwarding broken without an irs: %d of 3 replies", got)
	}
}
