package tunnel

import (
	"fmt"
	"sort"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// GRE claims GRE version 0 flows (RFC 2784/2890).
type GRE struct{}

// Name returns "gre".
func (GRE) Name() string { return "gre" }

// Transports returns GRE.
func (GRE) Transports() []parser.Transport { return []parser.Transport{parser.GRE} }

// greHeader decodes a version-0 GRE header: protocol type, key (if
// present) and the payload. ok is false for other versions, reserved
// bits set or a short packet.
func greHeader(b []byte) (proto int, key uint32, hasKey bool, payload []byte, ok bool) {
	if len(b) < 4 || b[1]&0x07 != 0 || b[0]&0x40 != 0 || b[0]&0x07 != 0 || b[1]&0xf8 != 0 {
		return 0, 0, false, nil, false
	}
	proto = be16(b[2:])
	off := 4
	if b[0]&0x80 != 0 { // checksum + reserved
		off += 4
	}
	if b[0]&0x20 != 0 {
		if len(b) < off+4 {
			return 0, 0, false, nil, false
		}
		key, hasKey = uint32(be16(b[off:]))<<16|uint32(be16(b[off+2:])), true
		off += 4
	}
	if b[0]&0x10 != 0 {
		off += 4
	}
	if len(b) < off {
		return 0, 0, false, nil, false
	}
	return proto, key, hasKey, b[off:], true
}

// IsRelative: a well-formed version-0 header.
func (GRE) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if _, _, _, _, ok := greHeader(data); ok {
		return parser.Yes
	}
	return parser.No
}

// New returns the parser for one GRE flow.
func (GRE) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &greFlow{c: c, env: env, in: newInner(), keys: map[uint32]bool{}}
}

var greProtos = map[int]string{0x0800: "IPv4", 0x86dd: "IPv6", 0x6558: "Ethernet (transparent bridging)", 0x88be: "ERSPAN type II",
	0x22eb: "ERSPAN type III", 0x8847: "MPLS", 0x8848: "MPLS multicast", 0x880b: "PPP", 0x0806: "ARP", 0x894f: "NSH", 0x22f3: "TRILL",
	0x0001: "keepalive (Cisco)"}

type greFlow struct {
	datagram
	c    *parser.Conn
	env  parser.Env
	n    counts
	in   *inner
	keys map[uint32]bool
}

func (g *greFlow) ProcessPacket(dir parser.Direction, b []byte, ts time.Time) {
	g.n.add(dir, len(b), ts)
	proto, key, hasKey, pl, ok := greHeader(b)
	if !ok {
		g.n.bad++
		g.n.anoms.Addf("packet from the %s is not GRE version 0", dir)
		return
	}
	if hasKey && len(g.keys) < maxKinds {
		g.keys[key] = true
	}
	switch proto {
	case 0x0800, 0x86dd:
		if !g.in.ip(pl) {
			bump(g.in.kinds, "malformed inner IP")
		}
	case 0x6558:
		bump(g.in.kinds, greProtos[proto])
		if len(pl) >= 14 {
			et := be16(pl[12:])
			if et == 0x0800 || et == 0x86dd {
				g.in.ip(pl[14:])
			}
		}
	default:
		name, ok := greProtos[proto]
		if !ok {
			name = fmt.Sprintf("ethertype 0x%04x", proto)
		}
		bump(g.in.kinds, name)
	}
}

func (g *greFlow) EndProcess(reason parser.EndReason, ts time.Time) {
	var s event.Fields
	parser.PutDetection(&s, "content", 0.95, []string{"IP protocol 47 with a well-formed GRE version 0 header"})
	g.in.put(&s)
	if len(g.keys) > 0 {
		var k []uint32
		for x := range g.keys {
			k = append(k, x)
		}
		sort.Slice(k, func(i, j int) bool { return k[i] < k[j] })
		s.Set("keys", k)
	}
	g.n.put(&s, reason)
	g.n.emit(g.env, "gre", fmt.Sprintf("GRE %s ↔ %s", g.c.Client.Addr(), g.c.Server.Addr()), s, ts)
}
