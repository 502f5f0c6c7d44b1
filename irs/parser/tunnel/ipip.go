package tunnel

import (
	"fmt"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// IPIP claims IP-in-IP flows whose inner packets are IPv4 (IP protocol
// 4: IPv4 in IPv4 or in IPv6).
type IPIP struct{}

// Name returns "ipip".
func (IPIP) Name() string { return "ipip" }

// Transports returns IP-in-IP.
func (IPIP) Transports() []parser.Transport { return []parser.Transport{parser.IPinIP} }

// IsRelative: the payload is an IPv4 header.
func (IPIP) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) >= 20 && data[0]>>4 == 4 && data[0]&0x0f >= 5 {
		return parser.Yes
	}
	return parser.No
}

// New returns the parser.
func (IPIP) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &ipFlow{c: c, env: env, proto: "ipip", in: newInner()}
}

// SixInFour claims IP-in-IP flows whose inner packets are IPv6 (IP
// protocol 41: 6in4, 6to4, ISATAP).
type SixInFour struct{}

// Name returns "6in4".
func (SixInFour) Name() string { return "6in4" }

// Transports returns IP-in-IP.
func (SixInFour) Transports() []parser.Transport { return []parser.Transport{parser.IPinIP} }

// IsRelative: the payload is an IPv6 header.
func (SixInFour) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) >= 40 && data[0]>>4 == 6 {
		return parser.Yes
	}
	return parser.No
}

// New returns the parser.
func (SixInFour) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &ipFlow{c: c, env: env, proto: "6in4", in: newInner()}
}

type ipFlow struct {
	datagram
	c     *parser.Conn
	env   parser.Env
	proto string
	n     counts
	in    *inner
}

func (f *ipFlow) ProcessPacket(dir parser.Direction, b []byte, ts time.Time) {
	f.n.add(dir, len(b), ts)
	if !f.in.ip(b) {
		f.n.bad++
		f.n.anoms.Addf("payload from the %s is not an IP packet", dir)
	}
}

func (f *ipFlow) EndProcess(reason parser.EndReason, ts time.Time) {
	ev := "IP protocol 4 carrying IPv4 packets"
	if f.proto == "6in4" {
		ev = "IP protocol 41 carrying IPv6 packets"
	}
	var s event.Fields
	parser.PutDetection(&s, "content", 0.99, []string{ev})
	f.in.put(&s)
	f.n.put(&s, reason)
	f.n.emit(f.env, f.proto, fmt.Sprintf("%s tunnel %s ↔ %s", f.proto, f.c.Client.Addr(), f.c.Server.Addr()), s, ts)
}
