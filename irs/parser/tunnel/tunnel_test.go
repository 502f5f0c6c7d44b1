package tunnel

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func conn(tr parser.Transport, cport, sport uint16) *parser.Conn {
	return &parser.Conn{ID: 1, Transport: tr, Client: netip.AddrPortFrom(netip.MustParseAddr("10.61.0.1"), cport),
		Server: netip.AddrPortFrom(netip.MustParseAddr("10.61.0.2"), sport), Start: time.Unix(1700000000, 0).UTC()}
}

// ip4 is an IPv4/UDP header 10.0.0.1 → 10.0.0.2.
var ip4 = []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2, 0, 8, 0, 0}

// ip6 builds an IPv6 packet from src to dst with next header nh and a
// payload of n bytes.
func ip6(src, dst string, nh byte, n int) []byte {
	b := make([]byte, 40+n)
	b[0] = 0x60
	b[4], b[5] = byte(n>>8), byte(n)
	b[6] = nh
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return b
}

func TestIsRelative(t *testing.T) {
	teredoAddr := "2001:0:4137:9e50:8000:f12a:b9c8:2815"
	cases := []struct {
		name string
		det  parser.Detector
		c    *parser.Conn
		dir  parser.Direction
		data []byte
		want parser.Verdict
	}{
		{"gre ipv4", GRE{}, conn(parser.GRE, 0, 0), 0, append([]byte{0, 0, 8, 0}, ip4...), parser.Yes},
		{"gre with key and seq", GRE{}, conn(parser.GRE, 0, 0), 0, append([]byte{0x30, 0, 8, 0, 0, 0, 0, 7, 0, 0, 0, 1}, ip4...), parser.Yes},
		{"gre version 1", GRE{}, conn(parser.GRE, 0, 0), 0, []byte{0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 0}, parser.No},
		{"gre key cut", GRE{}, conn(parser.GRE, 0, 0), 0, []byte{0x20, 0, 8, 0, 0}, parser.No},
		{"ipip", IPIP{}, conn(parser.IPinIP, 0, 0), 0, ip4, parser.Yes},
		{"ipip given ipv6", IPIP{}, conn(parser.IPinIP, 0, 0), 0, ip6("2001:db8::1", "2001:db8::2", 58, 8), parser.No},
		{"6in4", SixInFour{}, conn(parser.IPinIP, 0, 0), 0, ip6("2001:db8::1", "2001:db8::2", 58, 8), parser.Yes},
		{"teredo address, any port", Teredo{}, conn(parser.UDP, 5000, 6000), 0, ip6(teredoAddr, "2001:db8::2", 58, 8), parser.Yes},
		{"teredo port, plain ipv6", Teredo{}, conn(parser.UDP, 5000, 3544), 0, ip6("2001:db8::1", "2001:db8::2", 59, 0), parser.Yes},
		{"server side guessed client", Teredo{}, conn(parser.UDP, 3544, 5000), 0, ip6(teredoAddr, "2001:db8::2", 59, 0), parser.YesReversed},
		{"origin indication", Teredo{}, conn(parser.UDP, 5000, 3544), 0, append([]byte{0, 0, 0xf1, 0x2a, 0xb9, 0xc8, 0x28, 0x15}, ip6(teredoAddr, "2001:db8::2", 59, 0)...), parser.Yes},
		{"ipv6 of wrong length", Teredo{}, conn(parser.UDP, 5000, 3544), 0, ip6(teredoAddr, "2001:db8::2", 58, 8)[:45], parser.No},
		{"ipv6 elsewhere without teredo address", Teredo{}, conn(parser.UDP, 5000, 6000), 0, ip6("2001:db8::1", "2001:db8::2", 58, 8), parser.No},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.det.IsRelative(tc.c, tc.dir, tc.data); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTeredoSummary(t *testing.T) {
	teredoAddr := "2001:0:4137:9e50:8000:f12a:b9c8:2815"
	segs := []parsertest.Segment{
		{Dir: 0, Data: ip6(teredoAddr, "2001:db8::2", 59, 0)},
		{Dir: 1, Data: append([]byte{0, 0, 0xf1, 0x2a, 0xb9, 0xc8, 0x28, 0x15}, ip6("2001:db8::2", teredoAddr, 6, 20)...)},
		{Dir: 0, Data: []byte("not teredo")},
	}
	_, evs := parsertest.Run(Teredo{}, conn(parser.UDP, 3797, 3544), segs, parsertest.Whole, 0)
	if len(evs) != 1 || evs[0].Protocol != "teredo" {
		t.Fatalf("events %v", evs)
	}
	s := evs[0].Summary
	want := map[string]any{
		"teredo_addresses":   []string{"2001:0:4137:9e50:8000:f12a:b9c8:2815 (server 65.55.158.80, mapped 70.55.215.234:3797)"},
		"origin_indications": []string{"70.55.215.234:3797"},
		"bubbles":            1, "malformed": 1, "detection": "content+port", "confidence": 0.95,
		"inner_transports": map[string]int{"ip-proto-59": 1, "tcp": 1},
	}
	for k, w := range want {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
			t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
		}
	}
}

func TestGREInner(t *testing.T) {
	eth := append([]byte{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 7, 8, 0}, ip4...)
	segs := []parsertest.Segment{
		{Dir: 0, Data: append([]byte{0, 0, 8, 0}, ip4...)},
		{Dir: 1, Data: append([]byte{0x20, 0, 0x65, 0x58, 0, 0, 0, 9}, eth...)},
		{Dir: 0, Data: []byte{0, 0, 0x88, 0x47, 0, 0, 0, 0}},
		{Dir: 0, Data: []byte{0, 1}},
	}
	_, evs := parsertest.Run(GRE{}, conn(parser.GRE, 0, 0), segs, parsertest.Whole, 0)
	if len(evs) != 1 || evs[0].Protocol != "gre" {
		t.Fatalf("events %v", evs)
	}
	s := evs[0].Summary
	want := map[string]any{
		"inner_protocols": map[string]int{"IPv4": 2, "Ethernet (transparent bridging)": 1, "MPLS": 1},
		"inner_pairs":     []string{"10.0.0.1 → 10.0.0.2"}, "keys": []uint32{9}, "malformed": 1,
	}
	for k, w := range want {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
			t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
		}
	}
}

// TestRepeatedAnomalyOnce: a GRE flow whose every packet is malformed
// reports the fault once per direction, not once per packet up to a cap,
// and counts the packets in the summary.
func TestRepeatedAnomalyOnce(t *testing.T) {
	var segs []parsertest.Segment
	for i := range 40 {
		segs = append(segs, parsertest.Segment{Dir: parser.Direction(i % 2), Data: []byte{0, 1}})
	}
	_, evs := parsertest.Run(GRE{}, conn(parser.GRE, 0, 0), segs, parsertest.Whole, 0)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	want := "[packet from the client is not GRE version 0 packet from the server is not GRE version 0]"
	if got := fmt.Sprint(evs[0].Anomalies); got != want {
		t.Errorf("anomalies %s, want %s", got, want)
	}
	if got := evs[0].Summary.Get("malformed"); fmt.Sprint(got) != "40" {
		t.Errorf("malformed = %v, want 40", got)
	}
}
