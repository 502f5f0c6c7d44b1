package flows

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/sdnli/sdnli/controller/topology"
	"github.com/sdnli/sdnli/openflow"
)

var (
	h1Addr = netip.MustParseAddr("10.0.0.1")
	h3Addr = netip.MustParseAddr("10.0.0.3")
)

func tcpPacket(src, dst netip.Addr, sport, dport uint16) Packet {
	return Packet{EthType: openflow.EthTypeIPv4, IPProto: 6, Src: src, Dst: dst, SrcPort: sport, DstPort: dport}
}

// TestWalkLineOfThree follows packets through the desired tables of the
// three-switch line: a mirrored packet reaches its destination once and
// the IRS exactly once, whatever the switch it enters at, and a copy
// never meets NORMAL on the way.
func TestWalkLineOfThree(t *testing.T) {
	g, irs := lineOfThree()
	d, errs := Compute(Input{Graph: g, Protocols: states(t, []string{"irs1"}, "smtp", "icmp"), IRS: irs})
	if len(errs) != 0 {
		t.Fatalf("Compute errors: %v", errs)
	}
	h1, h2, h3 := end(1, 1), end(1, 2), end(2, 3)
	icmp := Packet{EthType: openflow.EthTypeIPv4, IPProto: 1, Src: h1Addr, Dst: h3Addr}
	icmp6 := Packet{EthType: openflow.EthTypeIPv6, IPProto: 58, Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::3")}
	tests := []struct {
		name       string
		in, dst    topology.End
		pkt        Packet
		wantCopies int
		wantOut    []topology.End
	}{
		{"smtp h1 to h3 (client to server)", h1, h3, tcpPacket(h1Addr, h3Addr, 40000, 25), 1, []topology.End{h3}},
		{"smtp h3 to h1 (server to client)", h3, h1, tcpPacket(h3Addr, h1Addr, 25, 40000), 1, []topology.End{h1}},
		{"smtp h1 to h2 on one switch", h1, h2, tcpPacket(h1Addr, h3Addr, 40000, 25), 1, []topology.End{h2}},
		{"http h1 to h3 not mirrored", h1, h3, tcpPacket(h1Addr, h3Addr, 40000, 80), 0, []topology.End{h3}},
		{"http h3 to h1 not mirrored", h3, h1, tcpPacket(h3Addr, h1Addr, 80, 40000), 0, []topology.End{h1}},
		{"icmp h1 to h3", h1, h3, icmp, 1, []topology.End{h3}},
		{"icmp h3 to h1", h3, h1, icmp.Reverse(), 1, []topology.End{h1}},
		{"icmpv6 h3 to h2", h3, h2, icmp6, 1, []topology.End{h2}},
		{"udp dns not mirrored", h1, h3, Packet{EthType: openflow.EthTypeIPv4, IPProto: 17, Src: h1Addr, Dst: h3Addr, SrcPort: 5000, DstPort: 53}, 0, []topology.End{h3}},
		{"host sending on the mirror vlan is dropped", h1, h3, func() Packet { p := icmp; p.VLAN = 4000; return p }(), 0, nil},
		{"frames from the irs are dropped", end(3, 2), h1, icmp, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Walk(d, g, irs, tc.in, tc.dst, tc.pkt)
			if len(res.Violations) > 0 {
				t.Errorf("violations: %v\ntrace:\n%v", res.Violations, res.Trace)
			}
			if got := res.Copies["irs1"]; got != tc.wantCopies {
				t.Errorf("copies at irs1 = %d; want %d\ntrace: %v", got, tc.wantCopies, res.Trace)
			}
			if !slices.Equal(res.Delivered, tc.wantOut) {
				t.Errorf("left by %v; want %v\ntrace: %v", res.Delivered, tc.wantOut, res.Trace)
			}
		})
	}
}

// TestWalkSpreadIsSymmetric: with a protocol spread over two IRS nodes,
// both directions of each connection reach the same IRS, once, and
// both IRS nodes get some connections.
func TestWalkSpreadIsSymmetric(t *testing.T) {
	g, irs := lineOfThree()
	irs = append(irs, IRSPort{Name: "irs2", DPID: 1, Port: 2, VLAN: 4001, Weight: 1})
	d, errs := Compute(Input{Graph: g, Protocols: states(t, []string{"irs1", "irs2"}, "smtp"), IRS: irs})
	if len(errs) != 0 {
		t.Fatalf("Compute errors: %v", errs)
	}
	h1, h3 := end(1, 1), end(2, 3)
	per := map[string]int{}
	for sport := uint16(40000); sport < 40040; sport++ {
		t.Run(fmt.Sprint(sport), func(t *testing.T) {
			fwd := Walk(d, g, irs, h1, h3, tcpPacket(h1Addr, h3Addr, sport, 25))
			rev := Walk(d, g, irs, h3, h1, tcpPacket(h3Addr, h1Addr, 25, sport))
			for _, r := range []WalkResult{fwd, rev} {
				if len(r.Violations) > 0 {
					t.Fatalf("violations: %v", r.Violations)
				}
				if n := r.Copies["irs1"] + r.Copies["irs2"]; n != 1 {
					t.Fatalf("%d copies; want 1: %v", n, r.Copies)
				}
			}
			if fwd.Copies["irs1"] != rev.Copies["irs1"] {
				t.Errorf("directions split: forward %v, reverse %v", fwd.Copies, rev.Copies)
			}
			for n, c := range fwd.Copies {
				per[n] += c
			}
		})
	}
	if per["irs1"] == 0 || per["irs2"] == 0 {
		t.Errorf("connections per irs %v; want both used", per)
	}
}
