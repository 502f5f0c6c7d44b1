package topology

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"testing"
	"time"
)

func TestLLDPRoundTrip(t *testing.T) {
	tests := []struct {
		dpid DPID
		port uint32
		mac  net.HardwareAddr
	}{
		{1, 1, net.HardwareAddr{0x02, 0, 0, 0, 0, 1}},
		{0xffffffffffffffff, 0xffffff00, nil},
		{0x5d, 65535, net.HardwareAddr{1, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s:%d", tc.dpid, tc.port), func(t *testing.T) {
			f := EncodeLLDP(tc.dpid, tc.port, tc.mac)
			if len(f) < 60 {
				t.Errorf("frame of %d bytes; want at least 60", len(f))
			}
			if !slices.Equal(f[:6], LLDPMulticast) {
				t.Errorf("destination %x; want the nearest-bridge address", f[:6])
			}
			d, p, err := DecodeLLDP(f)
			if err != nil || d != tc.dpid || p != tc.port {
				t.Errorf("DecodeLLDP = %v, %d, %v; want %v, %d", d, p, err, tc.dpid, tc.port)
			}
		})
	}
}

func TestLLDPRefusesOthers(t *testing.T) {
	good := EncodeLLDP(7, 3, nil)
	// A probe of another LLDP speaker (chassis "host1", subtype 7).
	foreign := append([]byte{}, good[:14]...)
	foreign = appendTLV(foreign, tlvChassisID, append([]byte{subtypeLocal}, "host1"...))
	foreign = appendTLV(foreign, tlvPortID, append([]byte{subtypeLocal}, "3"...))
	foreign = appendTLV(foreign, tlvEnd, nil)
	badPort := append([]byte{}, good[:14]...)
	badPort = appendTLV(badPort, tlvChassisID, append([]byte{subtypeLocal}, "sdnli:0000000000000007"...))
	badPort = appendTLV(badPort, tlvPortID, append([]byte{subtypeLocal}, "x"...))
	arp := append([]byte{}, good...)
	arp[12], arp[13] = 0x08, 0x06
	tests := map[string][]byte{
		"empty":               nil,
		"short":               good[:10],
		"not lldp":            arp,
		"truncated tlv":       good[:20],
		"foreign chassis":     foreign,
		"port id not number":  badPort,
		"no tlvs":             good[:14],
		"chassis of mac type": func() []byte { b := append([]byte{}, good...); b[16] = 4; return b }(),
	}
	for name, frame := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := DecodeLLDP(frame); !errors.Is(err, ErrNotProbe) {
				t.Errorf("DecodeLLDP error %v; want ErrNotProbe", err)
			}
		})
	}
}

func FuzzDecodeLLDP(f *testing.F) {
	f.Add(EncodeLLDP(1, 2, nil))
	b, _ := hex.DecodeString("0180c200000e02000000000188cc")
	f.Add(b)
	f.Fuzz(func(t *testing.T, frame []byte) {
		d, p, err := DecodeLLDP(frame)
		if err != nil {
			return
		}
		// What decodes must be what an encoder would have sent.
		d2, p2, err := DecodeLLDP(EncodeLLDP(d, p, nil))
		if err != nil || d2 != d || p2 != p {
			t.Fatalf("re-encoding %v:%d gave %v:%d, %v", d, p, d2, p2, err)
		}
	})
}

func sw(d DPID, n int) Switch {
	s := Switch{DPID: d}
	for i := 1; i <= n; i++ {
		s.Ports = append(s.Ports, Port{No: uint32(i), Name: fmt.Sprintf("s%d-eth%d", d, i), Up: true})
	}
	return s
}

func TestNextHops(t *testing.T) {
	e := func(d DPID, p uint32) End { return End{d, p} }
	// A tree: s1 root with s2 (port 1) and s3 (port 2); s4 under s2.
	tree := NewGraph([]Switch{sw(1, 3), sw(2, 3), sw(3, 3), sw(4, 3)}, []Link{
		{e(1, 1), e(2, 3)}, {e(3, 3), e(1, 2)}, {e(2, 1), e(4, 1)},
	})
	// A ring of four: two shortest paths from s1 to s3; the tie goes to s2.
	ring := NewGraph([]Switch{sw(1, 3), sw(2, 3), sw(3, 3), sw(4, 3)}, []Link{
		{e(1, 1), e(2, 1)}, {e(2, 2), e(3, 1)}, {e(3, 2), e(4, 1)}, {e(4, 2), e(1, 2)},
	})
	downs := []Switch{sw(1, 2), sw(2, 2)}
	downs[1].Ports[0].Up = false
	down := NewGraph(downs, []Link{{e(1, 1), e(2, 1)}})
	tests := []struct {
		name string
		g    *Graph
		dst  DPID
		want map[DPID]uint32
	}{
		{"tree to leaf s4", tree, 4, map[DPID]uint32{2: 1, 1: 1, 3: 3}},
		{"tree to s3", tree, 3, map[DPID]uint32{1: 2, 2: 3, 4: 1}},
		{"ring to s3", ring, 3, map[DPID]uint32{2: 2, 4: 1, 1: 1}},
		{"link on a port that is down is ignored", down, 2, map[DPID]uint32{}},
		{"unknown switch", tree, 9, map[DPID]uint32{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.g.NextHops(tc.dst); !maps.Equal(got, tc.want) {
				t.Errorf("NextHops(%v) = %v; want %v", tc.dst, got, tc.want)
			}
		})
	}
	if got := tree.LinkPorts(1); !slices.Equal(got, []uint32{1, 2}) {
		t.Errorf("LinkPorts(1) = %v; want [1 2]", got)
	}
	if p, ok := tree.Peer(e(2, 3)); !ok || p != e(1, 1) {
		t.Errorf("Peer(2:3) = %v, %v; want 1:1", p, ok)
	}
}

func TestGraphRefusesTwoLinksOnOnePort(t *testing.T) {
	g := NewGraph([]Switch{sw(1, 2), sw(2, 2), sw(3, 2)}, []Link{
		{End{1, 1}, End{2, 1}}, {End{1, 1}, End{3, 1}},
	})
	if got := len(g.Links()); got != 1 {
		t.Errorf("%d links; want 1 (a port has one neighbour)", got)
	}
}

func TestDiscovery(t *testing.T) {
	d := NewDiscovery(3 * time.Second)
	t0 := time.Unix(1000, 0)
	a, b, c := End{1, 1}, End{2, 1}, End{2, 2}
	if !d.Observe(a, b, t0) {
		t.Errorf("first probe not reported new")
	}
	if d.Observe(b, a, t0.Add(time.Second)) {
		t.Errorf("reverse probe of a known link reported new")
	}
	d.Observe(c, End{3, 1}, t0)
	if d.Observe(a, a, t0) {
		t.Errorf("a probe received on its own port made a link")
	}
	if d.Expire(t0.Add(3500*time.Millisecond)) != true {
		t.Errorf("link 2:2-3:1 unseen for 3.5s did not expire")
	}
	if got := d.Links(); len(got) != 1 || got[0] != NewLink(a, b) {
		t.Errorf("links %v; want only %v", got, NewLink(a, b))
	}
	if !d.DropPort(b) || len(d.Links()) != 0 {
		t.Errorf("port down did not remove its link")
	}
	d.Observe(a, b, t0)
	if !d.DropSwitch(2) || len(d.Links()) != 0 {
		t.Errorf("switch gone did not remove its links")
	}
}
