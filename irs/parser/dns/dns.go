// Package dns parses DNS over UDP and TCP for the IRS: each query is
// paired with its response (by ID and question) and reported as one
// "dns-query" event with the answers summarised; unanswered queries are
// reported too, malformed messages become "dns-malformed" events, and
// DNS tunnelling is flagged with a "dns-tunnel-suspected" event carrying
// its evidence.
//
// The decoder is written here rather than taken from
// golang.org/x/net/dns/dnsmessage: that package stops at the first error
// and keeps nothing of the sections decoded before it, treats HTTPS/SVCB,
// CAA and NULL data as opaque bytes, and reports errors in words an
// analyst cannot act on. Ours is bounded the same way (names at most 255
// bytes, compression pointers only backwards so loops are impossible,
// counts capped), keeps partial results and names what was wrong.
//
// Tunnel detection needs traffic across flows (a stub resolver changes
// its source port per query), so the Detector keeps a bounded,
// mutex-guarded table of statistics per client address and base domain.
package dns

import (
	"encoding/binary"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
)

// Event types.
const (
	TypeQuery     = "dns-query"
	TypeTunnel    = "dns-tunnel-suspected"
	TypeMalformed = "dns-malformed"
	TypeAnomaly   = "dns-anomaly"
)

// Per-flow limits.
const (
	maxPending        = 1024             // queries waiting for a response
	pendingTimeout    = 30 * time.Second // then reported unanswered
	maxMalformed      = 64               // malformed-message events per flow
	maxAnswersShown   = 32
	maxAuthorityShown = 4
)

const protocol = "dns"

func init() { parser.Register(NewDetector()) }

// Detector recognises DNS messages and keeps the tunnel statistics.
type Detector struct {
	tun *tunnelTable
}

// NewDetector returns a detector with its own tunnel statistics.
func NewDetector() *Detector { return &Detector{tun: newTunnelTable()} }

// Name returns "dns".
func (*Detector) Name() string { return protocol }

// Transports returns UDP and TCP.
func (*Detector) Transports() []parser.Transport {
	return []parser.Transport{parser.UDP, parser.TCP}
}

// wellKnown reports the ports DNS-format traffic usually uses: DNS,
// multicast DNS and LLMNR. They relax, never replace, the content test.
func wellKnown(c *parser.Conn) bool {
	for _, p := range []uint16{c.Server.Port(), c.Client.Port()} {
		if p == 53 || p == 5353 || p == 5355 {
			return true
		}
	}
	return false
}

// IsRelative decodes the first message. Without a DNS port it must
// decode completely with plausible counts and classes; with one, a sound
// header and question suffice. TCP messages carry a 2-byte length.
func (d *Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	hint := wellKnown(c)
	msg := data
	partial := false
	if c.Transport == parser.TCP {
		if len(data) < 2 {
			return parser.NeedMore
		}
		n := int(binary.BigEndian.Uint16(data))
		if n < headerLen {
			return parser.No
		}
		msg = data[2:]
		if len(msg) > n {
			msg = msg[:n]
		}
		partial = len(msg) < n
	}
	if len(msg) < headerLen {
		if partial {
			return parser.NeedMore
		}
		return parser.No
	}
	// the header alone rules out most datagrams that are not DNS, so it
	// is checked before the message is decoded
	h := readHeader(msg)
	maxQD := 4
	if hint {
		maxQD = maxQuestions
	}
	switch {
	case h.opcode() == 3 || h.opcode() > 6:
		return parser.No
	case h.qd == 0 || int(h.qd) > maxQD:
		return parser.No
	case !h.response() && !hint && (h.rcode() != 0 || h.an > 0 || h.ns > 0 || h.ar > 2):
		return parser.No
	}
	// decoded into a pooled message: the flow's parser decodes it again
	m := responses.Get().(*message)
	defer responses.Put(m)
	decodeInto(m, msg)
	if m.err != nil && (m.errWhere == "header" || m.errWhere == "question") {
		if partial && (m.err == errTruncName || m.err == errTruncRR) {
			return parser.NeedMore
		}
		return parser.No
	}
	for _, q := range m.questions {
		cls := q.qclass
		if hint {
			cls &= 0x7fff // mDNS unicast-response bit
		}
		if q.qtype == 0 || !knownClass(cls) {
			return parser.No
		}
	}
	if !hint && m.err != nil {
		if partial {
			return parser.NeedMore
		}
		return parser.No
	}
	query := !h.response()
	if query == (dir == parser.ClientToServer) {
		return parser.Yes
	}
	return parser.YesReversed
}

// New returns the parser for one flow.
func (d *Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return newFlow(c, env, d)
}
