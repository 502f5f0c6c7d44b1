//go:build integration

package controller_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/ovslab"
)

// ports of "A.B.C.D.SPORT > E.F.G.H.DPORT:" in tcpdump lines.
var l4Ports = regexp.MustCompile(`\.(\d+) > [0-9.]+\.(\d+):`)

// TestLiveSpreadSymmetric spreads SSH (TCP) and DNS (UDP) over two IRS
// ports with a select group and sends both directions of 40 connections
// of each. What Open vSwitch 3.1 does with a select group that names no
// selection method (all OpenFlow 1.3 can say): the datapath computes
// hash(sym_l4(0)), a symmetric hash, and a recirculation picks the bucket
// by dp_hash. The test shows both directions of every connection reach
// the same IRS, each packet once; TCP connections spread over both IRS
// nodes by addresses and ports; UDP ports are left out of that hash
// (flow_hash_symmetric_l3l4 without UDP ports), so all UDP between two
// hosts goes to one IRS.
func TestLiveSpreadSymmetric(t *testing.T) {
	br := ovslab.NewBridge(t, 0x5d0002)
	net := fmt.Sprintf("10.%d.%d", 150+time.Now().Nanosecond()%50, 1+time.Now().Nanosecond()%250)
	h1, h2 := br.AddHost(net+".1"), br.AddHost(net+".2")
	irs1, irs2 := br.AddHost(net+".3"), br.AddHost(net+".4")
	irs1.Isolate(4094)
	irs2.Isolate(4093)
	cfg := fmt.Sprintf(`{"irs": [{"name": "irs1", "dpid": "%016x", "port": %d}, {"name": "irs2", "dpid": "%016x", "port": %d}],
		"protocols": {"ssh": {"enabled": true, "irs": ["irs1", "irs2"]}, "dns": {"enabled": true, "irs": ["irs1", "irs2"]}}}`,
		br.DPID, irs1.Port, br.DPID, irs2.Port)
	k := start(t, "127.0.0.1:0", cfg, nil)
	br.SetController("tcp:" + k.OFAddr)
	k.installed(t, 1)
	if groups := br.Ofctl("dump-groups"); !strings.Contains(groups, "type=select") {
		t.Fatalf("no select group on the switch:\n%s", groups)
	}

	c1, c2 := irs1.Capture(), irs2.Capture()
	const first, n = 20000, 40
	seq := fmt.Sprintf("$(seq %d %d)", first, first+n-1)
	// TCP: a SYN to port 22 where nothing listens, and the RST back.
	h1.Must("bash", "-c", fmt.Sprintf("for p in %s; do socat -u /dev/null TCP:%s:22,sourceport=$p 2>/dev/null; done; true", seq, h2.Addr))
	// UDP: one datagram each way.
	h1.Must("bash", "-c", fmt.Sprintf("for p in %s; do echo q | socat -u - UDP-SENDTO:%s:53,sourceport=$p; done", seq, h2.Addr))
	h2.Must("bash", "-c", fmt.Sprintf("for p in %s; do echo a | socat -u - UDP-SENDTO:%s:$p,sourceport=53; done", seq, h1.Addr))
	c1.Stop()
	c2.Stop()
	dp, _ := ovslab.Run("ovs-appctl", "dpctl/dump-flows")
	for _, l := range strings.Split(dp, "\n") {
		if strings.Contains(l, "hash(") && strings.Contains(l, "udp(dst=53)") {
			t.Logf("datapath flow choosing the bucket: %s", l)
		}
	}
	if !strings.Contains(dp, "hash(sym_l4(0))") {
		t.Errorf("no datapath flow hashes with sym_l4: OVS chose another selection method")
	}

	for _, proto := range []struct {
		name, filter, server string
		wantSpread           bool
	}{
		{"tcp", "tcp", "22", true},
		{"udp", "udp", "53", false},
	} {
		t.Run(proto.name, func(t *testing.T) {
			count := func(c *ovslab.Capture) map[string]int {
				m := map[string]int{}
				for _, l := range c.Lines(proto.filter) {
					if mm := l4Ports.FindStringSubmatch(l); mm != nil {
						p := mm[1]
						if p == proto.server {
							p = mm[2]
						}
						m[p]++
					}
				}
				return m
			}
			m1, m2 := count(c1), count(c2)
			used1, used2 := 0, 0
			for p := first; p < first+n; p++ {
				k := fmt.Sprint(p)
				a, b := m1[k], m2[k]
				switch {
				case a == 2 && b == 0:
					used1++
				case a == 0 && b == 2:
					used2++
				default:
					t.Errorf("connection %s: %d packets at irs1, %d at irs2; want both directions, once, at one irs", k, a, b)
				}
			}
			t.Logf("%s connections per irs: irs1 %d, irs2 %d", proto.name, used1, used2)
			spread := used1 > 0 && used2 > 0
			if spread != proto.wantSpread {
				t.Errorf("%s connections spread over both irs: %v; want %v (irs1 %d, irs2 %d)", proto.name, spread, proto.wantSpread, used1, used2)
			}
		})
	}
}
