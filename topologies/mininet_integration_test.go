//go:build integration

package topologies

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/ovslab"
	"github.com/sdnli/sdnli/internal/mnlab"
	"github.com/sdnli/sdnli/internal/testdb"
)

// scenario names a topology and the hosts its traffic runs between.
type scenario struct {
	script string
	client string // sends the traffic
	server string // runs the mail and web servers
}

func TestOneSwitch(t *testing.T) {
	run(t, scenario{script: "one_switch.py", client: "h1", server: "h2"})
}

// TestMultiSwitch: h1 on s1 talks to h3 on s2; the IRS is on s3, so
// copies made at s1 cross s2, where h3 also sits.
func TestMultiSwitch(t *testing.T) {
	run(t, scenario{script: "multi_switch.py", client: "h1", server: "h3"})
}

func writeConfig(t *testing.T, n *mnlab.Network, protocols string) string {
	t.Helper()
	cfg := fmt.Sprintf(`{"lldp_interval": "1s", "check_interval": "2s",
  "irs": [{"name": "irs1", "dpid": %q, "port": %q}],
  "protocols": {%s}}`, n.IRS.DPID, n.IRS.PortName, protocols)
	path := filepath.Join(t.TempDir(), "controller.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flows returns a bridge's flows without counters, sorted.
func flows(t *testing.T, bridge string) []string {
	t.Helper()
	out := ovslab.Must(t, "ovs-ofctl", "-O", "OpenFlow13", "dump-flows", "--no-stats", bridge)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "OFPST_FLOW") {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

// allFlows returns every switch's flows, keyed by bridge.
func allFlows(t *testing.T, n *mnlab.Network) map[string][]string {
	m := map[string][]string{}
	for _, s := range n.Switches {
		m[s.Name] = flows(t, s.Name)
	}
	return m
}

// The epoch bit of sdnli cookies flips on every reinstall.
var epochRE = regexp.MustCompile(`cookie=0x5d([89a-f])`)

func withoutEpoch(m map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, lines := range m {
		for _, l := range lines {
			out[k] = append(out[k], epochRE.ReplaceAllStringFunc(l, func(s string) string {
				v := strings.IndexByte("0123456789abcdef", s[len(s)-1]) &^ 8
				return "cookie=0x5d" + string("0123456789abcdef"[v])
			}))
		}
		slices.Sort(out[k])
	}
	return out
}

func sameFlows(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// ready waits until every switch is programmed, every link found and
// the copy paths installed.
func ready(t *testing.T, p *controllerProc, n *mnlab.Network) {
	t.Helper()
	ctx := context.Background()
	mnlab.WaitFor(t, 60*time.Second, "every switch programmed and every link found", func() bool {
		sws, err := p.API.Switches(ctx)
		if err != nil || len(sws) != len(n.Switches) {
			return false
		}
		for _, s := range sws {
			if s.Flows.Desired == 0 {
				return false
			}
		}
		topo, err := p.API.Topology(ctx)
		if err != nil || len(topo.Links) != len(n.Switches)-1 || len(topo.IRS) != 1 || !topo.IRS[0].Resolved {
			return false
		}
		fl, err := p.API.Flows(ctx)
		if err != nil {
			return false
		}
		for _, s := range fl {
			if len(s.Missing) > 0 || len(s.Unexpected) > 0 {
				return false
			}
			// Every switch copies ICMP somewhere once paths exist.
			if !slices.ContainsFunc(s.Desired, func(l string) bool { return strings.Contains(l, "priority=210,icmp ") }) {
				return false
			}
		}
		return true
	})
}

// traffic is what one round of traffic left at the client and the IRS.
type traffic struct {
	client, irs, server *ovslab.Capture
}

// count compares, for a tcpdump filter, the packets the client saw with
// the copies the IRS got.
func (tr traffic) count(filter string) (atClient, atIRS int) {
	return tr.client.Count(filter), tr.irs.Count(filter)
}

const mailText = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: sdnli topology test\r\n\r\nHello from the topology test.\r\n"

func run(t *testing.T, sc scenario) {
	ofAddr := mnlab.FreeAddr(t) // the controller listens here; the switches are told now
	n := mnlab.StartNetwork(t, sc.script, ofAddr, topoNet)
	_, dsn := testdb.Shared(t)
	cfg := writeConfig(t, n, `"smtp": {"enabled": true}, "icmp": {"enabled": true}, "http": {"enabled": false}`)
	p := startController(t, ofAddr, cfg, dsn)
	ready(t, p, n)
	ctx := context.Background()

	client, server, irs := n.Host(t, sc.client), n.Host(t, sc.server), n.Host(t, "irs")
	dir := t.TempDir()
	// Not under t.TempDir, whose parent is private to root: Postfix's
	// daemons run as their own users and must reach the queue.
	mailDir := mnlab.TempDir(t, "sdnli-topo-mail-")
	mailSh := filepath.Join(mnlab.RepoRoot(t), "topologies", "servers", "mail.sh")
	t.Cleanup(func() { _, _ = server.Run("bash", mailSh, "stop", mailDir) })
	clientNet := server.Addr[:strings.LastIndex(server.Addr, ".")] + ".0/24"
	server.Must("bash", mailSh, "start", mailDir, server.Addr, clientNet)
	webDir := filepath.Join(dir, "www")
	if err := os.MkdirAll(webDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(webDir, "index.html"), []byte(strings.Repeat("sdnli web page\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	mnlab.StartProc(t, "web", server.Command(mnlab.Python, "-m", "http.server", "80", "--bind", server.Addr, "--directory", webDir))
	mailFile := filepath.Join(dir, "mail.eml")
	if err := os.WriteFile(mailFile, []byte(mailText), 0o644); err != nil {
		t.Fatal(err)
	}

	// round runs the traffic of one step and returns the captures.
	round := func(t *testing.T, ping, web, mail bool) traffic {
		t.Helper()
		tr := traffic{client: client.Capture(), irs: irs.Capture(), server: server.Capture()}
		if ping {
			if got := client.Ping(server.Addr, 20, 50*time.Millisecond); got != 20 {
				t.Errorf("ping %s->%s: %d of 20 replies; want no loss", sc.client, sc.server, got)
			}
		}
		if web {
			var out string
			var err error
			for i := 0; i < 30; i++ { // until the web server listens
				if out, err = client.Run("curl", "-sS", "--max-time", "10", "http://"+server.Addr+"/index.html"); err == nil {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if err != nil || !strings.Contains(out, "sdnli web page") {
				t.Errorf("http GET: %v", err)
			}
		}
		if mail {
			if _, err := client.Run("curl", "-sS", "--max-time", "20", "smtp://"+server.Addr, "--mail-from", "alice@example.test",
				"--mail-rcpt", "bob@example.test", "-T", mailFile); err != nil {
				t.Errorf("smtp session: %v", err)
			}
		}
		tr.client.Stop()
		tr.irs.Stop()
		tr.server.Stop()
		if got := tr.server.Count("vlan"); got != 0 {
			t.Errorf("%d tagged frames reached %s; want 0 (copies leaking from a transit switch)", got, sc.server)
		}
		return tr
	}
	icmpFilter := fmt.Sprintf("icmp and host %s and host %s", client.Addr, server.Addr)
	smtpFilter := fmt.Sprintf("tcp port 25 and host %s and host %s", client.Addr, server.Addr)
	httpFilter := fmt.Sprintf("tcp port 80 and host %s and host %s", client.Addr, server.Addr)
	// exact checks that every packet of filter reached the IRS once.
	exact := func(t *testing.T, tr traffic, what, filter string) {
		t.Helper()
		c, i := tr.count(filter)
		if c == 0 || c != i {
			t.Errorf("%s: client saw %d packets, the irs got %d copies; want the same, more than 0", what, c, i)
		} else {
			t.Logf("%s: %d packets, %d copies", what, c, i)
		}
	}
	none := func(t *testing.T, tr traffic, what, filter string) {
		t.Helper()
		c, i := tr.count(filter)
		if c == 0 || i != 0 {
			t.Errorf("%s: client saw %d packets, the irs got %d copies; want copies 0 of more than 0", what, c, i)
		}
	}

	t.Run("smtp and icmp mirrored, http not", func(t *testing.T) {
		tr := round(t, true, true, true)
		exact(t, tr, "icmp", icmpFilter)
		exact(t, tr, "smtp", smtpFilter)
		none(t, tr, "http", httpFilter)
		if got := tr.irs.Count("vlan"); got != 0 {
			t.Errorf("%d tagged frames at the irs; want 0", got)
		}
		if got := tr.irs.Count("arp and not ether src " + irs.MAC); got != 0 {
			t.Errorf("%d ARP frames flooded to the irs; want 0", got)
		}
		// Copies never meet NORMAL: no switch learns a MAC on a mirror VLAN.
		for _, s := range n.Switches {
			for _, l := range strings.Split(ovslab.Must(t, "ovs-appctl", "fdb/show", s.Name), "\n") {
				if f := strings.Fields(l); len(f) > 2 && f[1] == "4000" {
					t.Errorf("%s learnt a MAC on mirror vlan 4000: %s", s.Name, l)
				}
			}
		}
	})

	t.Run("smtp toggled off and on", func(t *testing.T) {
		res, err := p.API.SetMirror(ctx, "smtp", false)
		if err != nil || len(res.Switches) != len(n.Switches) {
			t.Fatalf("PUT smtp off: %+v, %v; want every switch confirmed", res, err)
		}
		none(t, round(t, false, false, true), "smtp while off", smtpFilter)
		if _, err := p.API.SetMirror(ctx, "smtp", true); err != nil {
			t.Fatalf("PUT smtp on: %v", err)
		}
		exact(t, round(t, false, false, true), "smtp on again", smtpFilter)
	})

	t.Run("periodic check repairs", func(t *testing.T) {
		edge := n.Bridge(t, "s1")
		before := allFlows(t, n)
		ovslab.Must(t, "ovs-ofctl", "-O", "OpenFlow13", "del-flows", "--strict", edge, "table=1,priority=210,tcp,tp_dst=25")
		ovslab.Must(t, "ovs-ofctl", "-O", "OpenFlow13", "add-flow", edge, "cookie=0x5d02000300000000,table=1,priority=123,udp,tp_dst=9999,actions=drop")
		mnlab.WaitFor(t, 15*time.Second, "the check to restore the flow table", func() bool {
			return sameFlows(allFlows(t, n), before)
		})
	})

	t.Run("controller killed and restarted", func(t *testing.T) {
		before := allFlows(t, n)
		const count = 250
		replies := make(chan int, 1)
		go func() { replies <- client.Ping(server.Addr, count, 20*time.Millisecond) }()
		time.Sleep(500 * time.Millisecond)
		p.kill()
		time.Sleep(time.Second)
		if got := allFlows(t, n); !sameFlows(got, before) {
			t.Errorf("flows changed while the controller was dead")
		}
		p.start()
		ready(t, p, n)
		if got := <-replies; got != count {
			t.Errorf("ping across the restart: %d of %d replies; want no loss", got, count)
		}
		after := allFlows(t, n)
		if !sameFlows(withoutEpoch(after), withoutEpoch(before)) {
			t.Errorf("flow set differs after the restart (epoch bit aside):\nbefore %v\nafter  %v", before, after)
		}
		if sameFlows(after, before) {
			t.Errorf("cookies unchanged: the restart did not reinstall with a new epoch")
		}
		tr := round(t, true, false, true)
		exact(t, tr, "icmp after restart", icmpFilter)
		exact(t, tr, "smtp after restart", smtpFilter)
	})

	t.Run("policy kept in MariaDB across a restart", func(t *testing.T) {
		if _, err := p.API.SetMirror(ctx, "http", true); err != nil {
			t.Fatalf("PUT http on: %v", err)
		}
		p.kill()
		p.start()
		ready(t, p, n)
		prs, err := p.API.Mirror(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range prs {
			if pr.Name == "http" && !pr.Enabled {
				t.Errorf("http disabled after the restart; want the stored toggle in force")
			}
		}
		exact(t, round(t, false, true, false), "http after restart", httpFilter)
	})
}
