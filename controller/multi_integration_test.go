//go:build integration

package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/ovslab"
)

// TestLiveLineOfThree: bridges s1 - s2 - s3 joined by veth pairs, h1 on
// s1, h2 on s2, the IRS on s3. The controller finds both links by LLDP;
// every ICMP packet, whichever switch it enters at, reaches the IRS
// exactly once and untagged; the copies crossing s2 never reach its
// NORMAL action (no MAC learnt on the mirror VLAN, no tagged frame at
// h2); toggling ICMP off stops the copies, on resumes them.
func TestLiveLineOfThree(t *testing.T) {
	s1, s2, s3 := ovslab.NewBridge(t, 0x5d11), ovslab.NewBridge(t, 0x5d12), ovslab.NewBridge(t, 0x5d13)
	net := fmt.Sprintf("10.%d.%d", 200+time.Now().Nanosecond()%50, 1+time.Now().Nanosecond()%250)
	h1 := s1.AddHost(net + ".1")
	h2 := s2.AddHost(net + ".2")
	ir := s3.AddHost(net + ".3")
	ir.Isolate(4094)
	ovslab.Link(t, s1, s2)
	ovslab.Link(t, s2, s3)
	cfg := fmt.Sprintf(`{"lldp_interval": "1s", "check_interval": "2s",
		"irs": [{"name": "irs1", "dpid": "%016x", "port": %q}],
		"protocols": {"icmp": {"enabled": true}, "smtp": {"enabled": true}}}`, s3.DPID, ir.Peer)
	k := start(t, "127.0.0.1:0", cfg, nil)
	for _, s := range []*ovslab.Bridge{s1, s2, s3} {
		s.SetController("tcp:" + k.OFAddr)
	}
	k.installed(t, 3)
	ctx := context.Background()
	waitFor(t, 15*time.Second, "two links discovered and transit flows installed", func() bool {
		topo, err := k.API.Topology(ctx)
		if err != nil || len(topo.Links) != 2 {
			return false
		}
		for _, l := range s2.Flows() {
			if strings.Contains(l, "priority=800") {
				return true
			}
		}
		return false
	})
	topo, _ := k.API.Topology(ctx)
	if len(topo.Hosts) != 2 || len(topo.IRS) != 1 || !topo.IRS[0].Resolved {
		t.Errorf("topology %+v; want 2 host ports and the irs resolved", topo)
	}

	count := func(n int) (copies, tagged, atH2 int) {
		c, c2 := ir.Capture(), h2.Capture()
		if got := h1.Ping(h2.Addr, n, 50*time.Millisecond); got != n {
			t.Errorf("ping h1->h2: %d of %d replies", got, n)
		}
		c.Stop()
		c2.Stop()
		return c.Count("icmp"), c.Count("vlan") + c2.Count("vlan"), c2.Count("icmp")
	}
	const n = 10
	copies, tagged, _ := count(n)
	if copies != 2*n || tagged != 0 {
		t.Errorf("irs got %d icmp copies (%d tagged frames seen); want %d, none tagged", copies, tagged, 2*n)
	}
	fdb := ovslab.Must(t, "ovs-appctl", "fdb/show", s2.Name)
	for _, l := range strings.Split(fdb, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "4000" {
			t.Errorf("s2 learnt a MAC on the mirror vlan: %s", l)
		}
	}

	if _, err := k.API.SetMirror(ctx, "icmp", false); err != nil {
		t.Fatalf("PUT icmp off: %v", err)
	}
	if copies, _, _ := count(n); copies != 0 {
		t.Errorf("icmp off: irs got %d copies; want 0", copies)
	}
	res, err := k.API.SetMirror(ctx, "icmp", true)
	if err != nil || len(res.Switches) != 3 {
		t.Fatalf("PUT icmp on: %+v, %v; want 3 switches confirmed", res, err)
	}
	if copies, _, _ := count(n); copies != 2*n {
		t.Errorf("icmp on again: irs got %d copies; want %d", copies, 2*n)
	}
}
