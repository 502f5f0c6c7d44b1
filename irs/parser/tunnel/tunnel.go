// Package tunnel records the tunnels that carry whole packets without
// encryption: GRE (version 0; PPTP's enhanced GRE belongs to
// irs/parser/pptp), IP-in-IP (IPv4 or IPv6 inside IPv4 or IPv6: IP
// protocols 4 and 41, "ipip" and "6in4") and Teredo (IPv6 inside UDP,
// RFC 4380). Each tunnel flow becomes one "tunnel" event with the inner
// protocol, the inner address pairs and transports seen, and packets and
// bytes each way.
//
// Four detectors live here, one per protocol name: "gre" (GRE), "ipip"
// and "6in4" (IP-in-IP flows whose inner packets are IPv4 or IPv6) and
// "teredo" (UDP). The inner packets are summarised, not parsed by the
// other parsers: the engine does not decapsulate.
package tunnel

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// TypeTunnel is the one event per tunnel flow.
const TypeTunnel = "tunnel"

// Limits.
const (
	maxPairs = 32
	maxKinds = 32
)

func init() {
	parser.Register(GRE{})
	parser.Register(IPIP{})
	parser.Register(SixInFour{})
	parser.Register(Teredo{})
}

// inner summarises the packets carried by a tunnel.
type inner struct {
	kinds   map[string]int             // inner protocol (IPv4, IPv6, Ethernet, ...)
	trans   map[string]int             // inner transport (tcp, udp, icmp ...)
	pairs   map[[2]netip.Addr]struct{} // source and destination of inner IP packets
	dropped int                        // pairs not kept (over maxPairs)
}

func newInner() *inner {
	return &inner{kinds: map[string]int{}, trans: map[string]int{}, pairs: map[[2]netip.Addr]struct{}{}}
}

func bump(m map[string]int, k string) {
	if _, ok := m[k]; ok || len(m) < maxKinds {
		m[k]++
	}
}

var ipProtos = map[int]string{1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 89: "ospf", 132: "sctp"}

// ip records one inner IP packet; it returns false when b is not one.
func (in *inner) ip(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	var src, dst netip.Addr
	var proto int
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 || int(b[0]&0x0f)*4 < 20 {
			return false
		}
		src = netip.AddrFrom4([4]byte(b[12:16]))
		dst = netip.AddrFrom4([4]byte(b[16:20]))
		proto = int(b[9])
		bump(in.kinds, "IPv4")
	case 6:
		if len(b) < 40 {
			return false
		}
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
		proto = int(b[6])
		bump(in.kinds, "IPv6")
	default:
		return false
	}
	name, ok := ipProtos[proto]
	if !ok {
		name = fmt.Sprintf("ip-proto-%d", proto)
	}
	bump(in.trans, name)
	// kept as addresses: the text is written once per pair, in put
	k := [2]netip.Addr{src, dst}
	if _, ok := in.pairs[k]; ok || len(in.pairs) < maxPairs {
		in.pairs[k] = struct{}{}
	} else {
		in.dropped++
	}
	return true
}

// put writes the inner summary.
func (in *inner) put(s *event.Fields) {
	if len(in.kinds) > 0 {
		s.Set("inner_protocols", in.kinds)
	}
	if len(in.trans) > 0 {
		s.Set("inner_transports", in.trans)
	}
	if len(in.pairs) > 0 {
		l := make([]string, 0, len(in.pairs))
		for k := range in.pairs {
			l = append(l, k[0].String()+" → "+k[1].String())
		}
		sort.Strings(l)
		s.Set("inner_pairs", l)
	}
	if in.dropped > 0 {
		s.Set("inner_pairs_not_kept", in.dropped)
	}
}

// counts are a flow's packets and bytes each way, its time span and
// anomalies.
type counts struct {
	start, end     time.Time
	packets, bytes [2]int
	bad            int
	anoms          parser.Anomalies
}

func (c *counts) add(dir parser.Direction, n int, ts time.Time) {
	if c.start.IsZero() {
		c.start = ts
	}
	c.end = ts
	c.packets[dir]++
	c.bytes[dir] += n
}

func (c *counts) put(s *event.Fields, reason parser.EndReason) {
	parser.PutTraffic(s, c.packets, c.bytes, reason)
	if c.bad > 0 {
		s.Set("malformed", c.bad)
	}
}

func (c *counts) emit(env parser.Env, proto, subject string, s event.Fields, ts time.Time) {
	if c.start.IsZero() {
		c.start, c.end = ts, ts
	}
	env.Emit(&event.Event{Protocol: proto, Type: TypeTunnel, Start: c.start, End: c.end, Subject: subject, Summary: s, Anomalies: c.anoms.Out()})
}

// datagram is the lifecycle shared by the tunnel parsers: they count to
// the end of the flow.
type datagram struct{}

func (datagram) Gap(parser.Direction, int, time.Time) {}
func (datagram) IsContinue() bool                     { return true }

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }
