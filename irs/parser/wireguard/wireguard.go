// Package wireguard recognises WireGuard on any UDP port by the exact
// shape of its four message types and reports each WireGuard flow as one
// "vpn-session" event: the handshakes seen, the sender and receiver
// indices linked into peers, and packets and bytes each way.
//
// WireGuard has no version field and no cleartext beyond the message
// type, three reserved zero bytes and the 32-bit indices, so detection
// rests on exact sizes: handshake initiation 148 bytes, response 92,
// cookie reply 64, transport data at least 32 bytes with a payload
// padded to 16 bytes. A flow seen mid-session (data only) is claimed
// after a few data messages that agree on one receiver index per
// direction and counters that advance.
package wireguard

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// TypeSession is the one event per WireGuard flow.
const TypeSession = "vpn-session"

const protocol = "wireguard"

// Message types and sizes (WireGuard whitepaper, section 5.4).
const (
	msgInitiation = 1
	msgResponse   = 2
	msgCookie     = 3
	msgData       = 4

	sizeInitiation = 148
	sizeResponse   = 92
	sizeCookie     = 64
	minData        = 32 // type, reserved, receiver, counter, 16-byte tag
	defaultPort    = 51820
)

// Limits.
const (
	dataToClaim = 3    // data messages that must agree before a mid-session claim
	maxPending  = 4096 // flows the detector remembers while deciding
	maxIndices  = 64   // distinct indices kept per flow
)

func init() { parser.Register(NewDetector()) }

// Detector claims UDP flows whose datagrams are WireGuard messages.
type Detector struct {
	mu      sync.Mutex
	pending map[uint64]*probe // mid-session flows being judged, by Conn.ID
	order   []uint64
}

// probe is what the detector remembers of a flow that has shown only
// transport data so far: the receiver index per direction and the last
// counter.
type probe struct {
	recv    [2]uint32
	counter [2]uint64
	seen    [2]bool
	n       int
}

// NewDetector returns a detector.
func NewDetector() *Detector { return &Detector{pending: map[uint64]*probe{}} }

// Name returns "wireguard".
func (*Detector) Name() string { return protocol }

// Transports returns UDP.
func (*Detector) Transports() []parser.Transport { return []parser.Transport{parser.UDP} }

// classify returns the message type of b when b has the exact shape of
// one, else 0.
func classify(b []byte) int {
	if len(b) < 4 || b[1] != 0 || b[2] != 0 || b[3] != 0 {
		return 0
	}
	switch b[0] {
	case msgInitiation:
		if len(b) == sizeInitiation {
			return msgInitiation
		}
	case msgResponse:
		if len(b) == sizeResponse {
			return msgResponse
		}
	case msgCookie:
		if len(b) == sizeCookie {
			return msgCookie
		}
	case msgData:
		if len(b) >= minData && (len(b)-minData)%16 == 0 {
			return msgData
		}
	}
	return 0
}

// discoMagic starts Tailscale's disco messages ("TS💬"), which share
// the UDP flow with its WireGuard packets.
const discoMagic = "TS\xf0\x9f\x92\xac"

func isDisco(b []byte) bool {
	return len(b) >= len(discoMagic) && string(b[:len(discoMagic)]) == discoMagic
}

// IsRelative says Yes on a handshake message of the exact size, and on
// data messages only once a few of them agree (see Detector). Tailscale
// disco messages neither decide nor spoil the decision.
func (d *Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if isDisco(data) {
		return parser.NeedMore
	}
	t := classify(data)
	switch t {
	case 0:
		d.forget(c.ID)
		return parser.No
	case msgInitiation:
		d.forget(c.ID)
		if dir == parser.ServerToClient {
			return parser.YesReversed
		}
		return parser.Yes
	case msgResponse, msgCookie:
		d.forget(c.ID)
		if dir == parser.ClientToServer {
			return parser.YesReversed
		}
		return parser.Yes
	}
	recv := binary.LittleEndian.Uint32(data[4:])
	ctr := binary.LittleEndian.Uint64(data[8:])
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pending[c.ID]
	if p == nil {
		if len(d.order) >= maxPending {
			delete(d.pending, d.order[0])
			d.order = d.order[1:]
		}
		p = &probe{}
		d.pending[c.ID] = p
		d.order = append(d.order, c.ID)
	}
	if p.seen[dir] && (p.recv[dir] != recv || ctr < p.counter[dir] || ctr-p.counter[dir] > 1<<16) {
		delete(d.pending, c.ID)
		return parser.No
	}
	p.seen[dir], p.recv[dir], p.counter[dir] = true, recv, ctr
	p.n++
	if p.n >= dataToClaim {
		delete(d.pending, c.ID)
		if c.Client.Port() == defaultPort && c.Server.Port() != defaultPort {
			return parser.YesReversed // mid-session guess by ports named the wrong side
		}
		return parser.Yes
	}
	return parser.NeedMore
}

func (d *Detector) forget(id uint64) {
	d.mu.Lock()
	delete(d.pending, id)
	d.mu.Unlock()
}

// New returns the parser for one flow.
func (*Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &flow{c: c, env: env, indices: map[uint32]parser.Direction{}}
}

// flow counts the messages of one WireGuard flow.
type flow struct {
	c          *parser.Conn
	env        parser.Env
	start, end time.Time
	packets    [2]int
	bytes      [2]int
	types      [msgData + 1]int // messages by type, named when the event is built
	// indices maps each sender index to the side that chose it.
	indices     map[uint32]parser.Direction
	initiations int
	responses   int
	linked      int // responses whose receiver index named a seen initiation
	dataLinked  int // data messages whose receiver index is a known sender index
	data        int
	disco       int
	other       int
	anoms       parser.Anomalies
	ended       bool
}

var typeNames = map[int]string{
	msgInitiation: "handshake-initiation",
	msgResponse:   "handshake-response",
	msgCookie:     "cookie-reply",
	msgData:       "transport-data",
}

// ProcessPacket counts one datagram.
func (f *flow) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if f.start.IsZero() {
		f.start = ts
	}
	f.end = ts
	f.packets[dir]++
	f.bytes[dir] += len(data)
	t := classify(data)
	if t == 0 && isDisco(data) {
		f.disco++
		return
	}
	if t == 0 {
		f.other++
		f.anoms.Addf("%d-byte %s datagram is not a WireGuard message", len(data), dir)
		return
	}
	f.types[t]++
	switch t {
	case msgInitiation:
		f.initiations++
		f.addIndex(binary.LittleEndian.Uint32(data[4:]), dir)
	case msgResponse:
		f.responses++
		f.addIndex(binary.LittleEndian.Uint32(data[4:]), dir)
		if _, ok := f.indices[binary.LittleEndian.Uint32(data[8:])]; ok {
			f.linked++
		}
	case msgCookie:
	case msgData:
		f.data++
		if _, ok := f.indices[binary.LittleEndian.Uint32(data[4:])]; ok {
			f.dataLinked++
		}
	}
}

func (f *flow) addIndex(i uint32, dir parser.Direction) {
	if len(f.indices) < maxIndices {
		f.indices[i] = dir
	}
}

// messages names the messages counted per type.
func (f *flow) messages() map[string]int {
	m := make(map[string]int, len(typeNames))
	for t, n := range f.types {
		if n > 0 {
			m[typeNames[t]] = n
		}
	}
	return m
}

// Gap never happens on UDP.
func (f *flow) Gap(parser.Direction, int, time.Time) {}

// IsContinue: a WireGuard flow is counted to its end.
func (f *flow) IsContinue() bool { return true }

// EndProcess emits the session event.
func (f *flow) EndProcess(reason parser.EndReason, ts time.Time) {
	if f.ended {
		return
	}
	f.ended = true
	if f.start.IsZero() {
		f.start, f.end = ts, ts
	}
	method, conf, evidence := f.verdict()
	var idx []string
	for i, d := range f.indices {
		idx = append(idx, fmt.Sprintf("%08x@%s", i, d))
	}
	sort.Strings(idx)
	sum := event.Fields{
		{Key: "messages", Value: f.messages()},
		{Key: "handshakes", Value: f.initiations},
		{Key: "responses", Value: f.responses},
		{Key: "responses_linked", Value: f.linked},
		{Key: "data_linked", Value: f.dataLinked},
	}
	parser.PutDetection(&sum, method, conf, evidence)
	parser.PutTraffic(&sum, f.packets, f.bytes, reason)
	if len(idx) > 0 {
		sum.Set("sender_indices", idx)
	}
	if f.other > 0 {
		sum.Set("non_wireguard", f.other)
	}
	if f.disco > 0 {
		sum.Set("tailscale_disco", f.disco)
	}
	f.env.Emit(&event.Event{
		Type:      TypeSession,
		Start:     f.start,
		End:       f.end,
		Subject:   fmt.Sprintf("WireGuard %s ↔ %s", f.c.Client, f.c.Server),
		Summary:   sum,
		Anomalies: f.anoms.Out(),
	})
}

// verdict says how the flow was recognised and how sure that is.
func (f *flow) verdict() (method string, conf float64, evidence []string) {
	method = "content"
	if f.c.Server.Port() == defaultPort || f.c.Client.Port() == defaultPort {
		method = "content+port"
	}
	conf = 0.6
	if f.initiations > 0 {
		conf = 0.9
		evidence = append(evidence, fmt.Sprintf("%d handshake initiation(s): type 1, reserved zero, exactly 148 bytes", f.initiations))
	}
	if f.responses > 0 {
		conf = 0.95
		evidence = append(evidence, fmt.Sprintf("%d handshake response(s): type 2, exactly 92 bytes", f.responses))
	}
	if f.linked > 0 {
		conf = 0.99
		evidence = append(evidence, "response receiver index equals the initiation's sender index")
	}
	if f.data > 0 {
		evidence = append(evidence, fmt.Sprintf("%d transport data message(s): type 4, 16-byte padded, consistent receiver index", f.data))
	}
	if f.disco > 0 {
		evidence = append(evidence, fmt.Sprintf("%d Tailscale disco message(s) (magic \"TS💬\") on the same flow", f.disco))
		if conf < 0.8 && f.data > 0 {
			conf = 0.8
		}
	}
	if f.other > 0 && f.other*10 > f.packets[0]+f.packets[1] {
		conf /= 2
	}
	return method, conf, evidence
}
