// Package pptp parses PPTP VPN sessions: the control connection (TCP,
// 1723 by convention, recognised by the PPTP magic cookie on any port)
// and the enhanced GRE (version 1, protocol 0x880b) that carries the PPP
// frames of each call. The two are different flows, possibly on
// different engine workers: a small mutex-protected, bounded, expiring
// table in the Detector ties GRE packets to their call by call ID, so
// that one "vpn-session" event reports both channels: control messages,
// host and vendor names, call IDs and result codes, GRE packets and
// bytes each way, and the PPP authentication seen (PAP user, CHAP
// names) while PPP is still cleartext (before MPPE starts).
//
// PPTP is RFC 2637; GRE version 1 is its section 4.1; PPP LCP, PAP and
// CHAP are RFC 1661, 1334 and 1994.
package pptp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// TypeSession is the one event per PPTP call (control and GRE), or per
// control connection without a call, or per GRE flow whose control
// connection was not seen.
const TypeSession = "vpn-session"

const protocol = "pptp"

// Control message types (RFC 2637 section 2).
var ctrlNames = map[int]string{
	1: "Start-Control-Connection-Request", 2: "Start-Control-Connection-Reply",
	3: "Stop-Control-Connection-Request", 4: "Stop-Control-Connection-Reply",
	5: "Echo-Request", 6: "Echo-Reply",
	7: "Outgoing-Call-Request", 8: "Outgoing-Call-Reply",
	9: "Incoming-Call-Request", 10: "Incoming-Call-Reply", 11: "Incoming-Call-Connected",
	12: "Call-Clear-Request", 13: "Call-Disconnect-Notify", 14: "WAN-Error-Notify", 15: "Set-Link-Info",
}

func ctrlName(t int) string {
	if n, ok := ctrlNames[t]; ok {
		return n
	}
	return fmt.Sprintf("control-type-%d", t)
}

const (
	magic       = 0x1A2B3C4D
	ctrlHeader  = 12
	maxCtrl     = 1024 // no control message is longer (the largest is 220 bytes)
	defaultPort = 1723
	greProtoPPP = 0x880b
	maxCalls    = 4096
	callTTL     = 2 * time.Hour
	maxNames    = 16
	attachTries = 64 // GRE packets looked up before a flow gives up on its call
)

func init() { parser.Register(NewDetector()) }

// Detector claims PPTP control connections and enhanced GRE flows, and
// holds the call table they share.
type Detector struct {
	mu    sync.Mutex
	calls map[callKey]*call
	order []*call
}

// callKey names the GRE packets of one call in one direction: GRE
// carries the receiver's call ID.
type callKey struct {
	src, dst netip.Addr
	id       uint16
}

// NewDetector returns a detector with an empty call table.
func NewDetector() *Detector { return &Detector{calls: map[callKey]*call{}} }

// Name returns "pptp".
func (*Detector) Name() string { return protocol }

// Transports returns TCP and GRE.
func (*Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP, parser.GRE} }

// IsRelative: TCP starting with a control message carrying the magic
// cookie; GRE version 1 carrying PPP.
func (*Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if c.Transport == parser.GRE {
		if len(data) >= 8 && data[1]&0x07 == 1 && binary.BigEndian.Uint16(data[2:]) == greProtoPPP && data[0]&0x20 != 0 {
			return parser.Yes
		}
		return parser.No
	}
	if len(data) < 10 {
		if len(data) >= 2 && (binary.BigEndian.Uint16(data) < ctrlHeader+4 || binary.BigEndian.Uint16(data) > maxCtrl) {
			return parser.No
		}
		return parser.NeedMore
	}
	n := int(binary.BigEndian.Uint16(data))
	if n < ctrlHeader+4 || n > maxCtrl || binary.BigEndian.Uint16(data[2:]) != 1 || binary.BigEndian.Uint32(data[4:]) != magic {
		return parser.No
	}
	t := int(binary.BigEndian.Uint16(data[8:]))
	if _, ok := ctrlNames[t]; !ok {
		return parser.No
	}
	// Requests come from the client; a reply first means the capture
	// named the sides the wrong way round.
	fromClient := t == 1 || t == 3 || t == 5 || t == 7 || t == 9 || t == 11 || t == 12 || t == 15
	if t == 2 || t == 4 || t == 6 || t == 8 || t == 10 || t == 13 {
		fromClient = false
	}
	if fromClient != (dir == parser.ClientToServer) {
		return parser.YesReversed
	}
	return parser.Yes
}

// New returns the control parser or the GRE parser.
func (d *Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	if c.Transport == parser.GRE {
		return &greFlow{d: d, c: c, env: env, ppp: newPPP()}
	}
	return &control{d: d, c: c, env: env, msgs: map[string]int{}}
}

// call is one PPTP call as the table keeps it. Fields are guarded by
// Detector.mu.
type call struct {
	pns, pac         netip.Addr // client (PNS) and server (PAC)
	pnsCall, pacCall uint16
	keys             []callKey
	last             time.Time
	refs             int // GRE flows attached
	controlDone      bool
	emitted          bool
	ev               *event.Event // the control connection's event, held until the GRE flows end
	env              parser.Env   // the control connection's, to emit a held event
	gre              greStats
}

// greStats are GRE counts; index 0 is PNS → PAC.
type greStats struct {
	packets, bytes [2]int
	flows          int
	ppp            *pppInfo
}

// register enters a call in the table (both GRE directions), evicting
// expired or, when full, the oldest calls.
func (d *Detector) register(cl *call, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.order) > 0 && (len(d.order) >= maxCalls || now.Sub(d.order[0].last) > callTTL) {
		old := d.order[0]
		d.order = d.order[1:]
		d.drop(old)
	}
	cl.keys = []callKey{{cl.pns, cl.pac, cl.pacCall}, {cl.pac, cl.pns, cl.pnsCall}}
	for _, k := range cl.keys {
		d.calls[k] = cl
	}
	d.order = append(d.order, cl)
}

// drop removes a call; a held event is emitted first (its GRE flows
// never ended: evicted or the IRS lost them).
func (d *Detector) drop(cl *call) {
	for _, k := range cl.keys {
		if d.calls[k] == cl {
			delete(d.calls, k)
		}
	}
	if cl.ev != nil && !cl.emitted {
		cl.emitted = true
		finish(cl)
		cl.env.Emit(cl.ev)
	}
}

// attach finds the call of a GRE packet from src to dst with key id.
func (d *Detector) attach(src, dst netip.Addr, id uint16, now time.Time) *call {
	d.mu.Lock()
	defer d.mu.Unlock()
	cl := d.calls[callKey{src, dst, id}]
	if cl == nil || cl.emitted {
		return nil
	}
	cl.refs++
	cl.gre.flows++
	cl.last = now
	return cl
}

// detach merges a GRE flow's counts into its call and emits the call's
// event when the control connection is done and no GRE flow is left.
func (d *Detector) detach(cl *call, st *greStats, fromPNS [2]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for dir := 0; dir < 2; dir++ {
		i := 1
		if fromPNS[dir] {
			i = 0
		}
		cl.gre.packets[i] += st.packets[dir]
		cl.gre.bytes[i] += st.bytes[dir]
	}
	if cl.gre.ppp == nil {
		cl.gre.ppp = st.ppp
	} else {
		cl.gre.ppp.merge(st.ppp)
	}
	cl.refs--
	if cl.refs == 0 && cl.controlDone && cl.ev != nil && !cl.emitted {
		cl.emitted = true
		finish(cl)
		cl.env.Emit(cl.ev)
	}
}

// controlEnded hands the control connection's event to the table: it is
// emitted now when no GRE flow is attached, else by the last one to end.
// It reports whether the caller should emit it itself (the call was not
// in the table).
func (d *Detector) controlEnded(cl *call, ev *event.Event, env parser.Env) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cl.controlDone, cl.ev, cl.env = true, ev, env
	if cl.refs == 0 && !cl.emitted {
		cl.emitted = true
		finish(cl)
		env.Emit(ev)
	}
}

// finish adds the GRE channel to the held event (under Detector.mu).
func finish(cl *call) {
	s := &cl.ev.Summary
	s.Set("gre_flows", cl.gre.flows)
	s.Set("gre_packets_to_server", cl.gre.packets[0])
	s.Set("gre_packets_to_client", cl.gre.packets[1])
	s.Set("gre_bytes_to_server", cl.gre.bytes[0])
	s.Set("gre_bytes_to_client", cl.gre.bytes[1])
	if cl.gre.flows > 0 {
		s.Set("channels", []string{"control", "gre"})
		s.Set("evidence", append(s.Get("evidence").([]string), fmt.Sprintf("GRE version 1 packets with call IDs %d/%d", cl.pacCall, cl.pnsCall)))
	}
	if p := cl.gre.ppp; p != nil {
		p.summarise(s, cl.ev)
	}
}

// control parses the control connection.
type control struct {
	d          *Detector
	c          *parser.Conn
	env        parser.Env
	start, end time.Time
	buf        [2][]byte
	msgs       map[string]int
	host       [2]string
	vendor     [2]string
	firmware   [2]int
	version    string
	results    []string
	calls      []*call
	pending    map[uint16]uint16 // OCRQ call ID → call serial
	phone      string
	lost       [2]bool
	anoms      parser.Anomalies
	ended      bool
}

// ProcessPacket frames control messages from the stream.
func (p *control) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if p.start.IsZero() {
		p.start = ts
	}
	p.end = ts
	if p.lost[dir] {
		return
	}
	b := append(p.buf[dir], data...)
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		if n < ctrlHeader || n > maxCtrl {
			p.lost[dir] = true
			p.anoms.Addf("control message of %d bytes from the %s: framing lost", n, dir)
			b = nil
			break
		}
		if len(b) < n {
			break
		}
		p.message(dir, b[:n], ts)
		b = b[n:]
	}
	p.buf[dir] = append(p.buf[dir][:0], b...)
}

// cstr reads a NUL-padded string field.
func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, string(b)))
}

var resultNames = map[int]string{1: "connected", 2: "general-error", 3: "no-carrier", 4: "busy", 5: "no-dial-tone", 6: "time-out", 7: "do-not-accept"}

func (p *control) message(dir parser.Direction, m []byte, ts time.Time) {
	if binary.BigEndian.Uint16(m[2:]) != 1 || binary.BigEndian.Uint32(m[4:]) != magic {
		p.anoms.Addf("message from the %s without the PPTP magic cookie", dir)
		return
	}
	t := int(binary.BigEndian.Uint16(m[8:]))
	p.msgs[ctrlName(t)]++
	body := m[ctrlHeader:]
	switch t {
	case 1, 2: // SCCRQ/SCCRP: version(2) [result(1) error(1) | reserved(2)] framing(4) bearer(4) maxch(2) fw(2) host(64) vendor(64)
		if len(body) < 16+128 {
			p.anoms.Add(ctrlName(t) + " too short")
			return
		}
		p.version = fmt.Sprintf("%d.%d", body[0], body[1])
		p.firmware[dir] = int(binary.BigEndian.Uint16(body[14:]))
		p.host[dir] = cstr(body[16:80])
		p.vendor[dir] = cstr(body[80:144])
		if t == 2 {
			p.result(ctrlName(t), int(body[2]), int(body[3]))
		}
	case 7: // OCRQ: call ID(2) serial(2) minbps(4) maxbps(4) bearer(4) framing(4) window(2) delay(2) phonelen(2) res(2) phone(64)
		if len(body) >= 4 {
			if p.pending == nil {
				p.pending = map[uint16]uint16{}
			}
			if len(p.pending) < 64 {
				p.pending[binary.BigEndian.Uint16(body)] = binary.BigEndian.Uint16(body[2:])
			}
		}
		if len(body) >= 28+64 && p.phone == "" {
			p.phone = cstr(body[28:92])
		}
	case 8: // OCRP: call ID(2) peer call ID(2) result(1) error(1) cause(2) speed(4) window(2) delay(2) channel(4)
		if len(body) < 6 {
			p.anoms.Add("Outgoing-Call-Reply too short")
			return
		}
		pac, pns := binary.BigEndian.Uint16(body), binary.BigEndian.Uint16(body[2:])
		p.result(ctrlName(t), int(body[4]), int(body[5]))
		client, server := p.c.Client.Addr(), p.c.Server.Addr()
		if dir == parser.ClientToServer { // the reply came from the side called client
			client, server = server, client
		}
		if len(p.calls) < 16 {
			cl := &call{pns: client, pac: server, pnsCall: pns, pacCall: pac, last: ts}
			p.calls = append(p.calls, cl)
			p.d.register(cl, ts)
			p.env.RequestMirror(parser.MirrorRequest{Protocol: protocol, Transport: parser.GRE,
				A: netip.AddrPortFrom(client, 0), B: netip.AddrPortFrom(server, 0), IdleTimeout: 10 * time.Minute,
				Reason: fmt.Sprintf("pptp call %d/%d", pns, pac)})
		}
	case 13: // CDN: call ID(2) result(1) error(1) cause(2)
		if len(body) >= 4 {
			p.result(ctrlName(t), int(body[2]), int(body[3]))
		}
	case 3, 4:
		if len(body) >= 1 && t == 4 {
			p.result(ctrlName(t), int(body[0]), int(body[1%len(body)]))
		}
	}
}

func (p *control) result(msg string, code, errc int) {
	if len(p.results) >= 32 {
		return
	}
	name, ok := resultNames[code]
	if !ok || strings.HasPrefix(msg, "Start") || strings.HasPrefix(msg, "Stop") || strings.HasPrefix(msg, "Call-Disconnect") {
		name = fmt.Sprintf("result %d", code)
	}
	if strings.HasPrefix(msg, "Start") && code == 1 {
		name = "ok"
	}
	r := fmt.Sprintf("%s: %s", msg, name)
	if errc != 0 {
		r += fmt.Sprintf(" (error %d)", errc)
	}
	p.results = append(p.results, r)
}

// Gap: framing of that direction is lost.
func (p *control) Gap(dir parser.Direction, n int, ts time.Time) {
	p.lost[dir] = true
	p.buf[dir] = nil
	p.anoms.Addf("gap of %d bytes from the %s: the rest of that direction is not parsed", n, dir)
}

// IsContinue: the control connection is followed to its end.
func (p *control) IsContinue() bool { return !(p.lost[0] && p.lost[1]) }

// EndProcess builds the session event and hands it to the call table.
func (p *control) EndProcess(reason parser.EndReason, ts time.Time) {
	if p.ended {
		return
	}
	p.ended = true
	if p.start.IsZero() {
		p.start, p.end = ts, ts
	}
	method := "content"
	if p.c.Server.Port() == defaultPort {
		method = "content+port"
	}
	sum := event.Fields{
		{Key: "channels", Value: []string{"control"}},
		{Key: "messages", Value: p.msgs},
		{Key: "end_reason", Value: reason.String()},
	}
	parser.PutDetection(&sum, method, 0.99, []string{"control messages with the PPTP magic cookie 0x1A2B3C4D"})
	set := func(k, v string) {
		if v != "" {
			sum.Set(k, v)
		}
	}
	set("version", p.version)
	set("client_host", p.host[parser.ClientToServer])
	set("client_vendor", p.vendor[parser.ClientToServer])
	set("server_host", p.host[parser.ServerToClient])
	set("server_vendor", p.vendor[parser.ServerToClient])
	set("phone_number", p.phone)
	if len(p.results) > 0 {
		sum.Set("results", p.results)
	}
	var ids []string
	for _, cl := range p.calls {
		ids = append(ids, fmt.Sprintf("%d/%d", cl.pnsCall, cl.pacCall))
	}
	if len(ids) > 0 {
		sum.Set("call_ids", ids) // client (PNS) call ID / server (PAC) call ID
	}
	subject := fmt.Sprintf("PPTP %s → %s", p.c.Client.Addr(), p.c.Server)
	if h := p.host[parser.ClientToServer]; h != "" {
		subject += " from host " + h
	}
	ev := &event.Event{Type: TypeSession, Start: p.start, End: p.end, Transport: "tcp", Client: p.c.Client, Server: p.c.Server,
		Protocol: protocol, Subject: subject, Summary: sum, Anomalies: p.anoms.Out()}
	if len(p.calls) == 0 {
		p.env.Emit(ev)
		return
	}
	// One event per control connection: the first call carries it, the
	// GRE counts of the others are merged by their own flows' ends into
	// their calls, reported separately only when they hold traffic.
	p.d.controlEnded(p.calls[0], ev, p.env)
	for _, cl := range p.calls[1:] {
		ev2 := *ev
		ev2.Summary = slices.Clone(sum) // its own: finish appends to it
		ev2.Summary.Set("call_ids", []string{fmt.Sprintf("%d/%d", cl.pnsCall, cl.pacCall)})
		p.d.controlEnded(cl, &ev2, p.env)
	}
}

// greFlow follows one GRE flow (all calls between two addresses).
type greFlow struct {
	d          *Detector
	c          *parser.Conn
	env        parser.Env
	start, end time.Time
	st         greStats
	ppp        *pppInfo
	callIDs    []uint16 // distinct, at most 64 (a flow carries one or two): searched in place
	cl         *call
	fromPNS    [2]bool
	tries      int
	bad        int
	anoms      parser.Anomalies
	ended      bool
}

// ProcessPacket decodes one GRE packet: header, call ID, PPP frame.
func (g *greFlow) ProcessPacket(dir parser.Direction, b []byte, ts time.Time) {
	if g.start.IsZero() {
		g.start = ts
	}
	g.end = ts
	g.st.packets[dir]++
	g.st.bytes[dir] += len(b)
	if len(b) < 8 || b[1]&0x07 != 1 || binary.BigEndian.Uint16(b[2:]) != greProtoPPP {
		g.bad++
		return
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	id := binary.BigEndian.Uint16(b[6:])
	if len(g.callIDs) < 64 && !slices.Contains(g.callIDs, id) {
		g.callIDs = append(g.callIDs, id)
	}
	off := 8
	if b[0]&0x10 != 0 {
		off += 4
	}
	if b[1]&0x80 != 0 {
		off += 4
	}
	if g.cl == nil && g.tries < attachTries {
		g.tries++
		src, dst := g.c.Client.Addr(), g.c.Server.Addr()
		if dir == parser.ServerToClient {
			src, dst = dst, src
		}
		if cl := g.d.attach(src, dst, id, ts); cl != nil {
			g.cl = cl
			g.fromPNS[dir] = src == cl.pns
			g.fromPNS[dir.Reverse()] = !g.fromPNS[dir]
		}
	}
	if off > len(b) {
		g.bad++
		return
	}
	pl := b[off:]
	if plen < len(pl) {
		pl = pl[:plen]
	}
	if len(pl) > 0 {
		g.ppp.frame(dir, pl)
	}
}

// Gap never happens on GRE.
func (g *greFlow) Gap(parser.Direction, int, time.Time) {}

// IsContinue: GRE is counted to its end.
func (g *greFlow) IsContinue() bool { return true }

// EndProcess merges into the call, or emits a GRE-only session event.
func (g *greFlow) EndProcess(reason parser.EndReason, ts time.Time) {
	if g.ended {
		return
	}
	g.ended = true
	if g.start.IsZero() {
		g.start, g.end = ts, ts
	}
	if g.cl != nil {
		g.st.ppp = g.ppp
		g.d.detach(g.cl, &g.st, g.fromPNS)
		return
	}
	var ids []int
	for _, id := range g.callIDs {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	sum := event.Fields{
		{Key: "channels", Value: []string{"gre"}},
		{Key: "note", Value: "control connection not seen: the GRE flow is reported alone"},
		{Key: "gre_call_ids", Value: ids},
	}
	parser.PutDetection(&sum, "content", 0.9, []string{"GRE version 1 (enhanced GRE) carrying PPP (protocol 0x880b)"})
	parser.PutTraffic(&sum, g.st.packets, g.st.bytes, reason)
	if g.bad > 0 {
		sum.Set("malformed", g.bad)
	}
	ev := &event.Event{Type: TypeSession, Start: g.start, End: g.end,
		Subject: fmt.Sprintf("PPTP GRE %s ↔ %s", g.c.Client.Addr(), g.c.Server.Addr()), Summary: sum, Anomalies: g.anoms.Out()}
	g.ppp.summarise(&ev.Summary, ev)
	g.env.Emit(ev)
}
