// Package openvpn recognises OpenVPN over UDP and TCP on any port by the
// shape of its control channel and reports each OpenVPN connection as one
// "vpn-session" event: the opcodes seen, both session IDs, the key IDs,
// how the control channel is protected (no HMAC, tls-auth with an HMAC
// of 20, 32 or 64 bytes, tls-crypt, tls-crypt-v2), packets and bytes
// each way.
//
// Every OpenVPN packet starts with one byte: opcode (high 5 bits) and key
// ID (low 3 bits); over TCP each packet has a 2-byte length in front.
// Control packets then carry the sender's 8-byte session ID. With
// tls-auth an HMAC, a packet ID and a Unix timestamp follow; with
// tls-crypt the packet ID and timestamp come first and the rest is
// encrypted. The detector needs two packets before it says yes, so that
// random UDP is not claimed: a client hard reset and the server's hard
// reset that acknowledges the client's session ID (or, when the
// acknowledgement is encrypted, carries a timestamp at the same place),
// or a hard reset followed by a control packet from the same side with
// the same session ID (one-way captures).
package openvpn

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// TypeSession is the one event per OpenVPN connection.
const TypeSession = "vpn-session"

const protocol = "openvpn"

// Opcodes (OpenVPN ssl_pkt.h).
const (
	opResetClientV1 = 1
	opResetServerV1 = 2
	opSoftResetV1   = 3
	opControlV1     = 4
	opAckV1         = 5
	opDataV1        = 6
	opResetClientV2 = 7
	opResetServerV2 = 8
	opDataV2        = 9
	opResetClientV3 = 10
	opControlWKCV1  = 11
)

var opNames = [...]string{
	opResetClientV1: "P_CONTROL_HARD_RESET_CLIENT_V1",
	opResetServerV1: "P_CONTROL_HARD_RESET_SERVER_V1",
	opSoftResetV1:   "P_CONTROL_SOFT_RESET_V1",
	opControlV1:     "P_CONTROL_V1",
	opAckV1:         "P_ACK_V1",
	opDataV1:        "P_DATA_V1",
	opResetClientV2: "P_CONTROL_HARD_RESET_CLIENT_V2",
	opResetServerV2: "P_CONTROL_HARD_RESET_SERVER_V2",
	opDataV2:        "P_DATA_V2",
	opResetClientV3: "P_CONTROL_HARD_RESET_CLIENT_V3",
	opControlWKCV1:  "P_CONTROL_WKC_V1",
}

func opName(op int) string {
	if op > 0 && op < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("opcode-%d", op)
}

func isClientReset(op int) bool {
	return op == opResetClientV1 || op == opResetClientV2 || op == opResetClientV3
}
func isServerReset(op int) bool { return op == opResetServerV1 || op == opResetServerV2 }
func isControl(op int) bool {
	return op == opControlV1 || op == opAckV1 || op == opSoftResetV1 || op == opControlWKCV1
}
func isData(op int) bool { return op == opDataV1 || op == opDataV2 }

// Limits.
const (
	minControl  = 14 // opcode, session ID, ack count, message packet ID
	maxPacket   = 1 << 16
	maxPending  = 4096
	maxSIDs     = 16
	defaultPort = 1194
)

// Control-channel protection, found from where a plausible packet ID and
// timestamp sit in a hard reset.
const (
	layoutNone     = "none"
	layoutTLSCrypt = "tls-crypt"
	layoutSHA1     = "tls-auth-hmac20"
	layoutSHA256   = "tls-auth-hmac32"
	layoutSHA512   = "tls-auth-hmac64"
)

var tsLayouts = []struct {
	name string
	off  int // offset of the packet ID; the timestamp follows
}{
	{layoutTLSCrypt, 9}, {layoutSHA1, 9 + 20}, {layoutSHA256, 9 + 32}, {layoutSHA512, 9 + 64},
}

// layoutOf guesses the protection of a control packet: a small packet
// ID (its low 24 bits below 2^20; tls-crypt-v2 sets high bits) followed
// by a Unix timestamp between 2008 and 2100 marks tls-auth or tls-crypt
// (timestamps are the sender's clock, not the capture's, which may be
// rebased); an empty acknowledgement list with a zero message ID (a
// first hard reset) or an acknowledgement of up to 8 IDs with a remote
// session ID marks no HMAC. "" when nothing fits.
func layoutOf(p []byte) string {
	for _, l := range tsLayouts {
		if len(p) < l.off+8 {
			break
		}
		pid := binary.BigEndian.Uint32(p[l.off:])
		ts := binary.BigEndian.Uint32(p[l.off+4:])
		if pid != 0 && pid&0xffffff < 1<<20 && ts >= minTS && ts <= maxTS {
			return l.name
		}
	}
	if len(p) >= minControl {
		n := int(p[9])
		switch {
		case n == 0 && binary.BigEndian.Uint32(p[10:]) == 0:
			return layoutNone
		case n > 0 && n <= 8 && len(p) >= 10+4*n+8+4:
			return layoutNone
		}
	}
	return ""
}

// Plausible control-packet timestamps: 2008-01-01 to 2100-01-01.
const (
	minTS = 1199145600
	maxTS = 4102444800
)

func init() { parser.Register(NewDetector()) }

// Detector claims OpenVPN connections. It remembers, per connection
// still being decided, the hard resets seen (bounded, oldest forgotten).
type Detector struct {
	mu      sync.Mutex
	pending map[uint64]*probe
	order   []uint64
}

// probe is what one direction showed so far.
type probe struct {
	reset  [2]bool
	role   [2]int // opcode of the reset in each direction
	sid    [2][8]byte
	layout [2]string
}

// NewDetector returns a detector.
func NewDetector() *Detector { return &Detector{pending: map[uint64]*probe{}} }

// Name returns "openvpn".
func (*Detector) Name() string { return protocol }

// Transports returns UDP and TCP.
func (*Detector) Transports() []parser.Transport {
	return []parser.Transport{parser.UDP, parser.TCP}
}

// firstPacket returns the first OpenVPN packet in data (TCP: behind its
// length), or more=true when TCP data is still short.
func firstPacket(c *parser.Conn, data []byte) (p []byte, more, bad bool) {
	if c.Transport != parser.TCP {
		return data, false, false
	}
	if len(data) < 2 {
		return nil, true, false
	}
	n := int(binary.BigEndian.Uint16(data))
	if n < minControl {
		return nil, false, true
	}
	if len(data) < 2+n {
		if n > 1600 {
			return nil, false, true // a hard reset is small
		}
		return nil, true, false
	}
	return data[2 : 2+n], false, false
}

// IsRelative decides from hard resets and control packets (see the
// package comment).
func (d *Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	p, more, bad := firstPacket(c, data)
	if more {
		return parser.NeedMore
	}
	if bad || len(p) < minControl {
		d.forget(c.ID)
		return parser.No
	}
	op, key := int(p[0]>>3), p[0]&7
	var sid [8]byte
	copy(sid[:], p[1:9])
	d.mu.Lock()
	defer d.mu.Unlock()
	pr := d.pending[c.ID]
	switch {
	case isClientReset(op) || isServerReset(op):
		if key != 0 {
			delete(d.pending, c.ID)
			return parser.No
		}
		lay := layoutOf(p)
		if lay == "" {
			delete(d.pending, c.ID)
			return parser.No
		}
		if pr == nil {
			pr = d.add(c.ID)
		}
		if pr.reset[dir] && pr.sid[dir] == sid && pr.role[dir] == op {
			return d.claim(c.ID, pr, dir) // a retransmitted reset
		}
		pr.reset[dir], pr.role[dir], pr.sid[dir], pr.layout[dir] = true, op, sid, lay
		o := dir.Reverse()
		if pr.reset[o] && isClientReset(pr.role[o]) != isClientReset(op) {
			if bytes.Contains(p[9:], pr.sid[o][:]) || (lay != layoutNone && lay == pr.layout[o]) {
				return d.claim(c.ID, pr, dir)
			}
			delete(d.pending, c.ID)
			return parser.No
		}
		return parser.NeedMore
	case isControl(op) || isData(op):
		if pr != nil && pr.reset[dir] && pr.sid[dir] == sid && isControl(op) {
			return d.claim(c.ID, pr, dir)
		}
		if pr != nil && (pr.reset[0] || pr.reset[1]) {
			return parser.NeedMore // e.g. data racing the handshake
		}
	}
	delete(d.pending, c.ID)
	return parser.No
}

// claim answers Yes or YesReversed from which side sent the client
// reset, and forgets the probe.
func (d *Detector) claim(id uint64, pr *probe, dir parser.Direction) parser.Verdict {
	delete(d.pending, id)
	clientDir := parser.ClientToServer
	switch {
	case pr.reset[dir] && isClientReset(pr.role[dir]):
		clientDir = dir
	case pr.reset[dir] && isServerReset(pr.role[dir]):
		clientDir = dir.Reverse()
	case pr.reset[dir.Reverse()] && isClientReset(pr.role[dir.Reverse()]):
		clientDir = dir.Reverse()
	}
	if clientDir == parser.ServerToClient {
		return parser.YesReversed
	}
	return parser.Yes
}

func (d *Detector) add(id uint64) *probe {
	if len(d.order) >= maxPending {
		delete(d.pending, d.order[0])
		d.order = d.order[1:]
	}
	pr := &probe{}
	d.pending[id] = pr
	d.order = append(d.order, id)
	return pr
}

func (d *Detector) forget(id uint64) {
	d.mu.Lock()
	delete(d.pending, id)
	d.mu.Unlock()
}

// New returns the parser for one connection.
func (*Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &conn{c: c, env: env}
}

// conn follows one OpenVPN connection.
type conn struct {
	c          *parser.Conn
	env        parser.Env
	start, end time.Time
	buf        [2][]byte // TCP: an incomplete packet
	packets    [2]int
	bytes      [2]int
	ops        [32]int // packets by opcode (5 bits); named in the event
	sids       [2][][8]byte
	keyIDs     uint8 // bit per key ID seen
	layout     string
	v3         bool
	keyMethod  int // 1 from a V1 hard reset, 2 from V2/V3
	bad        int
	gaps       int
	anoms      parser.Anomalies
	ended      bool
}

// ProcessPacket takes a datagram (UDP) or stream bytes (TCP).
func (s *conn) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if s.start.IsZero() {
		s.start = ts
	}
	s.end = ts
	if s.c.Transport != parser.TCP {
		s.packet(dir, data, ts)
		return
	}
	// A packet begun in an earlier call is completed from the front of
	// data; the packets wholly inside data are read in place, and only
	// an incomplete one at its end is kept.
	buf := s.buf[dir]
	for len(buf) > 0 && len(data) > 0 {
		need := 2
		if len(buf) >= 2 {
			n := int(binary.BigEndian.Uint16(buf))
			if n == 0 {
				s.zeroLength(dir)
				return
			}
			need = 2 + n
		}
		k := min(need-len(buf), len(data))
		buf = append(buf, data[:k]...)
		data = data[k:]
		if len(buf) == need && need > 2 {
			s.packet(dir, buf[2:], ts)
			buf = buf[:0]
		}
	}
	for len(buf) == 0 && len(data) >= 2 {
		n := int(binary.BigEndian.Uint16(data))
		if n == 0 {
			s.zeroLength(dir)
			return
		}
		if len(data) < 2+n {
			break
		}
		s.packet(dir, data[2:2+n], ts)
		data = data[2+n:]
	}
	if len(buf)+len(data) > maxPacket+2 {
		buf, data = buf[:0], nil
	}
	s.buf[dir] = append(buf, data...)
}

// zeroLength: a zero length field means the stream's framing is lost;
// what this call brought is dropped.
func (s *conn) zeroLength(dir parser.Direction) {
	s.anoms.Addf("zero-length packet from the %s: stream no longer followed", dir)
	s.buf[dir] = s.buf[dir][:0]
}

// opcodes names the packets counted per opcode.
func (s *conn) opcodes() map[string]int {
	m := map[string]int{}
	for op, n := range s.ops {
		if n > 0 {
			m[opName(op)] = n
		}
	}
	return m
}

func (s *conn) packet(dir parser.Direction, p []byte, ts time.Time) {
	s.packets[dir]++
	s.bytes[dir] += len(p)
	if len(p) == 0 {
		s.bad++
		return
	}
	op := int(p[0] >> 3)
	s.ops[op]++
	s.keyIDs |= 1 << (p[0] & 7)
	if op == 0 || op >= len(opNames) {
		s.bad++
		return
	}
	if isData(op) {
		return
	}
	if len(p) < 9 {
		s.bad++
		return
	}
	var sid [8]byte
	copy(sid[:], p[1:9])
	if !containsSID(s.sids[dir], sid) && len(s.sids[dir]) < maxSIDs {
		s.sids[dir] = append(s.sids[dir], sid)
	}
	if isClientReset(op) || isServerReset(op) {
		if op == opResetClientV3 {
			s.v3 = true
		}
		// The hard reset's version names the key method: V1 resets
		// belong to key method 1, V2 and V3 to key method 2.
		if op == opResetClientV1 || op == opResetServerV1 {
			s.keyMethod = 1
		} else if s.keyMethod == 0 {
			s.keyMethod = 2
		}
		if s.layout == "" || s.layout == layoutNone {
			if l := layoutOf(p); l != "" {
				s.layout = l
			}
		}
	}
}

func containsSID(l [][8]byte, s [8]byte) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Gap: TCP framing is lost after a gap; the rest is not parsed.
func (s *conn) Gap(dir parser.Direction, n int, ts time.Time) {
	s.gaps++
	s.buf[dir] = nil
	s.anoms.Addf("gap of %d bytes from the %s", n, dir)
}

// IsContinue stops after a TCP gap: the packet boundaries are lost.
func (s *conn) IsContinue() bool { return s.gaps == 0 }

// EndProcess emits the session event.
func (s *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if s.ended {
		return
	}
	s.ended = true
	if s.start.IsZero() {
		s.start, s.end = ts, ts
	}
	layout := s.layout
	if s.v3 {
		layout = "tls-crypt-v2"
	}
	method := "content"
	if s.c.Server.Port() == defaultPort {
		method = "content+port"
	}
	conf := 0.9
	evidence := []string{"hard reset (opcode 7/10) answered by a server hard reset (opcode 8) acknowledging the client session ID or with the same packet-ID/timestamp layout"}
	if s.packets[0] == 0 || s.packets[1] == 0 {
		conf = 0.75
		evidence = []string{"one-way capture: a hard reset followed by control packets with the same session ID"}
	}
	if s.bad > 0 && s.bad*10 > s.packets[0]+s.packets[1] {
		conf /= 2
	}
	var keys []int
	for k := 0; k < 8; k++ {
		if s.keyIDs&(1<<k) != 0 {
			keys = append(keys, k)
		}
	}
	sum := event.Fields{
		{Key: "opcodes", Value: s.opcodes()},
		{Key: "key_ids", Value: keys},
		{Key: "control_channel", Value: layout},
	}
	parser.PutDetection(&sum, method, conf, evidence)
	parser.PutTraffic(&sum, s.packets, s.bytes, reason)
	if l := hexSIDs(s.sids[parser.ClientToServer]); len(l) > 0 {
		sum.Set("client_session_ids", l)
	}
	if l := hexSIDs(s.sids[parser.ServerToClient]); len(l) > 0 {
		sum.Set("server_session_ids", l)
	}
	if s.keyMethod > 0 {
		sum.Set("key_method", s.keyMethod)
	}
	if s.bad > 0 {
		sum.Set("malformed", s.bad)
	}
	s.env.Emit(&event.Event{
		Type:      TypeSession,
		Start:     s.start,
		End:       s.end,
		Subject:   fmt.Sprintf("OpenVPN over %s %s → %s (%s)", s.c.Transport, s.c.Client, s.c.Server, layout),
		Summary:   sum,
		Anomalies: s.anoms.Out(),
	})
}

func hexSIDs(l [][8]byte) []string {
	var out []string
	for _, s := range l {
		out = append(out, hex.EncodeToString(s[:]))
	}
	sort.Strings(out)
	return out
}
