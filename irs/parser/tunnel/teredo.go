package tunnel

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

const teredoPort = 3544

// Teredo claims UDP flows carrying IPv6 the Teredo way (RFC 4380): an
// IPv6 packet, optionally behind an authentication and/or an origin
// indication, with a Teredo address (2001::/32) on one side, or on port
// 3544.
type Teredo struct{}

// Name returns "teredo".
func (Teredo) Name() string { return "teredo" }

// Transports returns UDP.
func (Teredo) Transports() []parser.Transport { return []parser.Transport{parser.UDP} }

// teredoPacket strips the indications and returns the IPv6 packet, the
// origin (mapped address and port, de-obfuscated) if present.
func teredoPacket(b []byte) (ip6 []byte, origin netip.AddrPort, ok bool) {
	if len(b) >= 4 && b[0] == 0 && b[1] == 1 { // authentication indication
		n := 4 + int(b[2]) + int(b[3]) + 8 + 1
		if len(b) < n {
			return nil, origin, false
		}
		b = b[n:]
	}
	if len(b) >= 8 && b[0] == 0 && b[1] == 0 { // origin indication
		port := uint16(be16(b[2:])) ^ 0xffff
		a := [4]byte{b[4] ^ 0xff, b[5] ^ 0xff, b[6] ^ 0xff, b[7] ^ 0xff}
		origin = netip.AddrPortFrom(netip.AddrFrom4(a), port)
		b = b[8:]
	}
	if len(b) < 40 || b[0]>>4 != 6 || 40+be16(b[4:]) != len(b) {
		return nil, origin, false
	}
	return b, origin, true
}

func isTeredoAddr(b []byte) bool { return b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0 }

// IsRelative: an IPv6 packet of exactly the datagram's length, with a
// Teredo address or on port 3544.
func (Teredo) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	ip6, _, ok := teredoPacket(data)
	if !ok {
		return parser.No
	}
	if isTeredoAddr(ip6[8:24]) || isTeredoAddr(ip6[24:40]) || c.Server.Port() == teredoPort || c.Client.Port() == teredoPort {
		if c.Client.Port() == teredoPort && c.Server.Port() != teredoPort {
			return parser.YesReversed // the Teredo server is the side on 3544
		}
		return parser.Yes
	}
	return parser.No
}

// New returns the parser.
func (Teredo) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &teredoFlow{c: c, env: env, in: newInner(), clients: map[[16]byte]bool{}}
}

type teredoFlow struct {
	datagram
	c        *parser.Conn
	env      parser.Env
	n        counts
	in       *inner
	bubbles  int
	origins  []netip.AddrPort
	clients  map[[16]byte]bool // Teredo addresses, decoded into text at the end
	addrSeen bool
}

func (f *teredoFlow) ProcessPacket(dir parser.Direction, b []byte, ts time.Time) {
	f.n.add(dir, len(b), ts)
	ip6, origin, ok := teredoPacket(b)
	if !ok {
		f.n.bad++
		f.n.anoms.Addf("%d-byte datagram from the %s is not Teredo", len(b), dir)
		return
	}
	if origin.IsValid() && len(f.origins) < maxPairs {
		f.origins = append(f.origins, origin)
	}
	if ip6[6] == 59 && be16(ip6[4:]) == 0 {
		f.bubbles++
	}
	f.in.ip(ip6)
	for _, a := range [][]byte{ip6[8:24], ip6[24:40]} {
		if isTeredoAddr(a) && len(f.clients) < maxPairs {
			f.addrSeen = true
			f.clients[[16]byte(a)] = true
		}
	}
}

// teredoAddrText decodes a Teredo address (RFC 4380 §4): the address,
// its server, and the client's mapped address and port.
func teredoAddrText(a [16]byte) string {
	server := netip.AddrFrom4([4]byte(a[4:8]))
	port := uint16(be16(a[10:])) ^ 0xffff
	client := netip.AddrFrom4([4]byte{a[12] ^ 0xff, a[13] ^ 0xff, a[14] ^ 0xff, a[15] ^ 0xff})
	return fmt.Sprintf("%s (server %s, mapped %s)", netip.AddrFrom16(a), server, netip.AddrPortFrom(client, port))
}

func (f *teredoFlow) EndProcess(reason parser.EndReason, ts time.Time) {
	method, ev := "content", []string{"UDP payloads are IPv6 packets of exactly the datagram's length"}
	if f.addrSeen {
		ev = append(ev, "Teredo addresses (2001::/32) inside")
	}
	if f.c.Server.Port() == teredoPort || f.c.Client.Port() == teredoPort {
		method = "content+port"
	}
	conf := 0.8
	if f.addrSeen {
		conf = 0.95
	}
	var s event.Fields
	parser.PutDetection(&s, method, conf, ev)
	f.in.put(&s)
	if len(f.clients) > 0 {
		l := make([]string, 0, len(f.clients))
		for a := range f.clients {
			l = append(l, teredoAddrText(a))
		}
		sort.Strings(l)
		s.Set("teredo_addresses", l)
	}
	if len(f.origins) > 0 {
		l := make([]string, len(f.origins))
		for i, o := range f.origins {
			l[i] = o.String()
		}
		s.Set("origin_indications", l)
	}
	if f.bubbles > 0 {
		s.Set("bubbles", f.bubbles)
	}
	f.n.put(&s, reason)
	f.n.emit(f.env, "teredo", fmt.Sprintf("Teredo %s ↔ %s", f.c.Client, f.c.Server), s, ts)
}
