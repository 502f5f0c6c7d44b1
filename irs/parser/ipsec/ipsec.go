// Package ipsec recognises IPsec by content: IKEv1 (ISAKMP) and IKEv2 on
// any UDP port (500 and 4500 by convention, 4500 with the 4-byte
// non-ESP marker), ESP encapsulated in UDP (RFC 3948) and ESP as its own
// IP protocol. Each IKE flow becomes one "vpn-session" event with its
// exchanges, initiator and responder SPIs, named vendor IDs, the
// proposals offered and chosen (encryption, PRF, integrity, DH group,
// weak choices flagged) and the ESP it carried; each ESP flow becomes a
// "vpn-session" event with its SPIs and counts, linked to the IKE seen
// between the same two addresses.
//
// What stays hidden: IKEv2 encrypts everything after IKE_SA_INIT
// (IKE_AUTH and CREATE_CHILD_SA carry the child SAs' SPIs inside the SK
// payload), and IKEv1 encrypts quick mode, so an ESP SPI is tied to its
// IKE exchange by the addresses, not by the SPI itself.
package ipsec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// TypeSession is the event of an IKE flow and of an ESP flow.
const TypeSession = "vpn-session"

const protocol = "ipsec"

// Limits.
const (
	ikeHeader   = 28
	maxPayloads = 64
	maxSPIs     = 64
	maxList     = 32
	maxPeers    = 4096
	portIKE     = 500
	portNATT    = 4500
)

func init() { parser.Register(NewDetector()) }

// Detector claims IKE and ESP flows. It keeps a small table of the
// address pairs that spoke IKE, so ESP flows (other flows, maybe on
// other workers) can name their key exchange.
type Detector struct {
	mu    sync.Mutex
	peers map[[2]netip.Addr]*ikeSeen
	order [][2]netip.Addr
}

// ikeSeen is what the table keeps of the IKE between two addresses.
type ikeSeen struct {
	versions versionSet
	spis     []string // initiator/responder SPI pairs
	last     time.Time
}

// NewDetector returns a detector with an empty table.
func NewDetector() *Detector { return &Detector{peers: map[[2]netip.Addr]*ikeSeen{}} }

// Name returns "ipsec".
func (*Detector) Name() string { return protocol }

// Transports returns UDP and ESP.
func (*Detector) Transports() []parser.Transport { return []parser.Transport{parser.UDP, parser.ESP} }

func pairOf(a, b netip.Addr) [2]netip.Addr {
	if b.Less(a) {
		a, b = b, a
	}
	return [2]netip.Addr{a, b}
}

// noteIKE records that a and b ran IKE with these SPIs.
func (d *Detector) noteIKE(a, b netip.Addr, version int, spi string, ts time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := pairOf(a, b)
	s := d.peers[k]
	if s == nil {
		if len(d.order) >= maxPeers {
			delete(d.peers, d.order[0])
			d.order = d.order[1:]
		}
		s = &ikeSeen{}
		d.peers[k] = s
		d.order = append(d.order, k)
	}
	s.versions.add(version)
	if len(s.spis) < maxSPIs && !contains(s.spis, spi) {
		s.spis = append(s.spis, spi)
	}
	s.last = ts
}

// lookupIKE returns what is known of IKE between a and b.
func (d *Detector) lookupIKE(a, b netip.Addr) (versions []int, spis []string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.peers[pairOf(a, b)]
	if s == nil {
		return nil, nil, false
	}
	return s.versions.list(), append([]string(nil), s.spis...), true
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// ikeHeaderOK checks an IKE header: a non-zero initiator SPI, version
// 1.0 or 2.0, a known exchange type and a length that matches.
func ikeHeaderOK(b []byte) bool {
	if len(b) < ikeHeader {
		return false
	}
	if binary.BigEndian.Uint64(b) == 0 {
		return false
	}
	ver := b[17]
	if ver != 0x10 && ver != 0x20 {
		return false
	}
	if _, ok := exchangeNames[int(b[18])]; !ok {
		return false
	}
	if ver == 0x20 && b[18] < 34 {
		return false
	}
	n := int(binary.BigEndian.Uint32(b[24:]))
	return n == len(b) || (n > len(b) && n <= 65535 && len(b) >= 512) // a capture may cut long messages
}

// espLooksOK checks the start of ESP: an SPI outside the reserved 1-255
// range and a non-zero sequence number.
func espLooksOK(b []byte) bool {
	return len(b) >= 8+8 && binary.BigEndian.Uint32(b) > 255 && binary.BigEndian.Uint32(b[4:]) != 0
}

func natt(c *parser.Conn) bool { return c.Server.Port() == portNATT || c.Client.Port() == portNATT }

// IsRelative: ESP flows are ESP; on UDP an IKE header (after the non-ESP
// marker on 4500), or ESP on a NAT-T port; keepalives wait.
func (d *Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if c.Transport == parser.ESP {
		if len(data) >= 8 {
			return parser.Yes
		}
		return parser.No
	}
	if len(data) == 1 && data[0] == 0xff {
		return parser.NeedMore // NAT-T keepalive
	}
	ike := data
	if len(data) >= 4 && binary.BigEndian.Uint32(data) == 0 {
		ike = data[4:]
	}
	if ikeHeaderOK(ike) {
		var fromInitiator bool
		if ike[17] == 0x20 {
			fromInitiator = ike[19]&0x08 != 0 // IKEv2 Initiator flag
		} else {
			fromInitiator = binary.BigEndian.Uint64(ike[8:]) == 0 // IKEv1: no responder SPI yet
		}
		if !fromInitiator && dir == parser.ClientToServer || fromInitiator && dir == parser.ServerToClient {
			if ike[17] == 0x20 || fromInitiator {
				return parser.YesReversed
			}
		}
		return parser.Yes
	}
	if natt(c) && espLooksOK(data) {
		return parser.Yes
	}
	return parser.No
}

// New returns the parser for an IKE/NAT-T flow or an ESP flow.
func (d *Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	// the maps are made when first written: most flows need one or two
	return &flow{d: d, c: c, env: env}
}

type spiStats struct {
	spi            uint32
	dir            parser.Direction
	packets, bytes int
	seqMin, seqMax uint32
}

// flow follows one IKE flow (with its NAT-T ESP) or one ESP flow.
type flow struct {
	d          *Detector
	c          *parser.Conn
	env        parser.Env
	start, end time.Time
	packets    [2]int
	bytes      [2]int
	ikeMsgs    int
	versions   versionSet
	exch       []exchCount // messages per exchange type, in order of first sight
	spiPairs   []string
	vids       map[string]bool
	notify     map[string]int
	proposals  []string
	chosen     []string
	weak       []string
	encrypted  int // IKE messages whose payloads are encrypted
	keepalives int
	mirrored   bool
	// ESP SPIs in order of first sight: a flow carries a few (one per
	// direction and rekeying), searched in place from the last one used
	esp     []spiStats
	espLast int
	other   int
	anoms   parser.Anomalies
	ended   bool
}

// ProcessPacket handles one IKE/NAT-T datagram or one ESP packet.
func (f *flow) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if f.start.IsZero() {
		f.start = ts
	}
	f.end = ts
	f.packets[dir]++
	f.bytes[dir] += len(data)
	if f.c.Transport == parser.ESP {
		f.espPacket(dir, data)
		return
	}
	switch {
	case len(data) == 1 && data[0] == 0xff:
		f.keepalives++
	case len(data) >= 4 && binary.BigEndian.Uint32(data) == 0:
		f.ike(dir, data[4:], ts)
	case ikeHeaderOK(data):
		f.ike(dir, data, ts)
	case espLooksOK(data) || (len(data) >= 8 && natt(f.c)):
		f.espPacket(dir, data)
	default:
		f.other++
		f.anoms.Addf("%d-byte datagram from the %s is neither IKE nor ESP", len(data), dir)
	}
}

func (f *flow) espPacket(dir parser.Direction, data []byte) {
	if len(data) < 8 {
		f.other++
		return
	}
	spi, seq := binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
	s := f.espStats(spi)
	if s == nil {
		if len(f.esp) >= maxSPIs {
			f.other++
			return
		}
		f.esp = append(f.esp, spiStats{spi: spi, dir: dir, seqMin: seq, seqMax: seq})
		f.espLast = len(f.esp) - 1
		s = &f.esp[f.espLast]
	}
	s.packets++
	s.bytes += len(data)
	s.seqMin, s.seqMax = min(s.seqMin, seq), max(s.seqMax, seq)
}

// espStats returns the SPI's counters, nil when it is new. Packets of
// both directions alternate: the search starts at the last SPI found.
func (f *flow) espStats(spi uint32) *spiStats {
	for i, n := f.espLast, len(f.esp); i < f.espLast+n; i++ {
		if s := &f.esp[i%n]; s.spi == spi {
			f.espLast = i % n
			return s
		}
	}
	return nil
}

// versionSet is a set of IKE major versions (4 bits): a bit each.
type versionSet uint16

func (v *versionSet) add(ver int) { *v |= 1 << (ver & 0xf) }

// list is the versions in the set, ascending (nil when empty).
func (v versionSet) list() []int {
	var l []int
	for ver := 0; ver < 16; ver++ {
		if v&(1<<ver) != 0 {
			l = append(l, ver)
		}
	}
	return l
}

// exchCount counts the messages of one exchange type.
type exchCount struct {
	typ byte
	n   int
}

// countExchange counts a message of exchange type typ. A flow shows a
// few types, named only when the event is built.
func (f *flow) countExchange(typ byte) {
	for i := range f.exch {
		if f.exch[i].typ == typ {
			f.exch[i].n++
			return
		}
	}
	f.exch = append(f.exch, exchCount{typ, 1})
}

// ike parses one IKE message.
func (f *flow) ike(dir parser.Direction, b []byte, ts time.Time) {
	if !ikeHeaderOK(b) {
		f.other++
		f.anoms.Addf("bad IKE header from the %s", dir)
		return
	}
	f.ikeMsgs++
	ver := int(b[17] >> 4)
	f.versions.add(ver)
	f.countExchange(b[18])
	var spiText [33]byte // initiator/responder SPIs in hex
	hex.Encode(spiText[:16], b[0:8])
	spiText[16] = '/'
	hex.Encode(spiText[17:], b[8:16])
	spi := f.spiString(spiText[:])
	if binary.BigEndian.Uint64(b[8:]) != 0 && !contains(f.spiPairs, spi) && len(f.spiPairs) < maxSPIs {
		// keep only complete pairs, plus the first half-open one
		f.spiPairs = append(f.spiPairs, spi)
	} else if len(f.spiPairs) == 0 {
		f.spiPairs = append(f.spiPairs, spi)
	}
	f.d.noteIKE(f.c.Client.Addr(), f.c.Server.Addr(), ver, spi, ts)
	if !f.mirrored {
		// The SAs this exchange sets up carry ESP between the same two
		// addresses (IP protocol 50 unless NAT-T puts it on this flow).
		f.mirrored = true
		f.env.RequestMirror(parser.MirrorRequest{Protocol: protocol, Transport: parser.ESP,
			A: netip.AddrPortFrom(f.c.Client.Addr(), 0), B: netip.AddrPortFrom(f.c.Server.Addr(), 0),
			IdleTimeout: 10 * time.Minute, Reason: "ipsec: ESP of IKE SA " + spi})
	}
	if n := int(binary.BigEndian.Uint32(b[24:])); n < len(b) {
		b = b[:n]
	}
	if ver == 1 && b[19]&0x01 != 0 {
		f.encrypted++ // IKEv1 encryption bit: payloads unreadable
		return
	}
	f.payloads(dir, ver, int(b[16]), b[ikeHeader:], b[19])
}

// spiString returns the SPI pair text as a string: the flow's own when
// it already holds it (every message of an exchange, and retransmissions,
// carry the same pair), a new one otherwise.
func (f *flow) spiString(text []byte) string {
	for _, x := range f.spiPairs {
		if x == string(text) {
			return x
		}
	}
	return string(text)
}

// payloads walks the generic payload chain.
func (f *flow) payloads(dir parser.Direction, ver, next int, b []byte, flags byte) {
	for i := 0; next != 0 && i < maxPayloads; i++ {
		if len(b) < 4 {
			f.anoms.Addf("IKE payload chain truncated (next payload %d)", next)
			return
		}
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			f.anoms.Addf("IKE payload %d with bad length %d", next, n)
			return
		}
		body := b[4:n]
		switch next {
		case 1: // IKEv1 SA
			if len(body) >= 8 {
				f.proposalsV1(dir, body[8:])
			}
		case 33: // IKEv2 SA
			f.proposalsV2(dir, body, flags&0x20 != 0)
		case 13, 43: // vendor ID
			if f.vids == nil {
				f.vids = map[string]bool{}
			}
			f.vids[vendorName(body)] = true
		case 11: // IKEv1 notification: DOI(4) proto(1) spisize(1) type(2)
			if len(body) >= 8 {
				f.note(notifyName(int(binary.BigEndian.Uint16(body[6:]))))
			}
		case 41: // IKEv2 notify: proto(1) spisize(1) type(2)
			if len(body) >= 4 {
				f.note(notifyName(int(binary.BigEndian.Uint16(body[2:]))))
			}
		case 46, 53: // IKEv2 SK / SKF: the rest is encrypted
			f.encrypted++
			return
		}
		next = int(b[0])
		b = b[n:]
	}
}

// spiHex is fmt's "0x%08x" of an SPI.
func spiHex(spi uint32) string {
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], spi)
	b := [10]byte{'0', 'x'}
	hex.Encode(b[2:], v[:])
	return string(b[:])
}

// note counts a notification.
func (f *flow) note(name string) {
	if f.notify == nil {
		f.notify = map[string]int{}
	}
	f.notify[name]++
}

// proposalsV1 reads IKEv1 proposal and transform payloads.
func (f *flow) proposalsV1(dir parser.Direction, b []byte) {
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 8 || n > len(b) {
			return
		}
		spiSize := int(b[6])
		t := b[8:n]
		if spiSize > len(t) {
			return
		}
		t = t[spiSize:]
		for len(t) >= 8 {
			tn := int(binary.BigEndian.Uint16(t[2:]))
			if tn < 8 || tn > len(t) {
				break
			}
			f.addProposal(dir, f.transformV1(t[8:tn]))
			if t[0] == 0 {
				break
			}
			t = t[tn:]
		}
		if b[0] == 0 {
			return
		}
		b = b[n:]
	}
}

// transformV1 describes IKEv1 phase-1 attributes.
func (f *flow) transformV1(a []byte) string {
	var parts []string
	for len(a) >= 4 {
		typ := int(binary.BigEndian.Uint16(a))
		var val int
		if typ&0x8000 != 0 {
			val = int(binary.BigEndian.Uint16(a[2:]))
			a = a[4:]
		} else {
			l := int(binary.BigEndian.Uint16(a[2:]))
			if 4+l > len(a) {
				break
			}
			v := a[4 : 4+l]
			for _, x := range v[:min(len(v), 4)] {
				val = val<<8 | int(x)
			}
			a = a[4+l:]
		}
		typ &= 0x7fff
		switch typ {
		case 1:
			name := lookup(v1Encr, val, "ENCR")
			parts = append(parts, name)
			f.flagWeak(name)
		case 2:
			name := lookup(v1Hash, val, "HASH")
			parts = append(parts, name)
			f.flagWeak(name)
		case 3:
			parts = append(parts, lookup(v1Auth, val, "AUTH"))
		case 4:
			name := lookup(dhGroups, val, "DH")
			parts = append(parts, name)
			f.flagWeak(name)
		case 14:
			parts = append(parts, "KEYLEN_"+strconv.Itoa(val))
		}
	}
	return strings.Join(parts, " ")
}

// proposalsV2 reads IKEv2 proposal substructures. A proposal's text is
// written into a stack buffer and becomes a string only when it is new
// (peers retransmit the same SA payload).
func (f *flow) proposalsV2(dir parser.Direction, b []byte, response bool) {
	var scratch [1024]byte
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 8 || n > len(b) {
			f.anoms.Add("IKEv2 proposal with bad length")
			return
		}
		proto, spiSize, count := b[5], int(b[6]), int(b[7])
		t := b[8:n]
		if spiSize > len(t) {
			return
		}
		t = t[spiSize:]
		desc := append(scratch[:0], protoNameV2(proto)...)
		desc = append(desc, ": "...)
		first := true
		for i := 0; i < count && len(t) >= 8; i++ {
			tn := int(binary.BigEndian.Uint16(t[2:]))
			if tn < 8 || tn > len(t) {
				break
			}
			typ, id := int(t[4]), int(binary.BigEndian.Uint16(t[6:]))
			if name := transformNameV2(typ, id); name != "" {
				if !first {
					desc = append(desc, ' ')
				}
				first = false
				from := len(desc)
				desc = append(desc, name...)
				if at := t[8:tn]; len(at) >= 4 && binary.BigEndian.Uint16(at) == 0x800e {
					desc = append(desc, '-')
					desc = strconv.AppendUint(desc, uint64(binary.BigEndian.Uint16(at[2:])), 10)
				}
				if weakV2(typ, id) {
					f.flagWeakBytes(desc[from:])
				}
			}
			t = t[tn:]
		}
		if response {
			if len(f.chosen) < maxList && !containsBytes(f.chosen, desc) {
				f.chosen = append(f.chosen, string(desc))
			}
		} else {
			f.addProposalBytes(dir, desc)
		}
		if b[0] == 0 {
			return
		}
		b = b[n:]
	}
}

// transformNameV2 names an IKEv2 transform ("" for an unknown type).
func transformNameV2(typ, id int) string {
	switch typ {
	case 1:
		return lookup(v2Encr, id, "ENCR")
	case 2:
		return lookup(v2PRF, id, "PRF")
	case 3:
		return lookup(v2Integ, id, "INTEG")
	case 4:
		return lookup(dhGroups, id, "DH")
	case 5:
		return esnName(id)
	}
	return ""
}

// protoNameV2 names a proposal's protocol ("" when unknown, as before).
func protoNameV2(p byte) string {
	switch p {
	case 1:
		return "IKE"
	case 2:
		return "AH"
	case 3:
		return "ESP"
	}
	return ""
}

// esnName names an extended sequence numbers transform ("" when unknown).
func esnName(id int) string {
	switch id {
	case 0:
		return "NO_ESN"
	case 1:
		return "ESN"
	}
	return ""
}

// containsBytes is contains for a text still in a buffer; the comparison
// does not copy it.
func containsBytes(l []string, b []byte) bool {
	for _, x := range l {
		if x == string(b) {
			return true
		}
	}
	return false
}

// addProposalBytes is addProposal for a text still in a buffer.
func (f *flow) addProposalBytes(dir parser.Direction, desc []byte) {
	l := &f.proposals
	if dir == parser.ServerToClient {
		l = &f.chosen
	}
	if len(*l) < maxList && !containsBytes(*l, desc) {
		*l = append(*l, string(desc))
	}
}

func (f *flow) addProposal(dir parser.Direction, desc string) {
	if dir == parser.ServerToClient {
		if len(f.chosen) < maxList && !contains(f.chosen, desc) {
			f.chosen = append(f.chosen, desc)
		}
		return
	}
	if len(f.proposals) < maxList && !contains(f.proposals, desc) {
		f.proposals = append(f.proposals, desc)
	}
}

// flagWeakBytes is flagWeak for a name still in a buffer: it becomes a
// string only when it is added.
func (f *flow) flagWeakBytes(name []byte) {
	base := name
	if bytes.HasPrefix(name, []byte("ENCR_AES")) { // the cheaper test first
		if i := bytes.IndexByte(name, '-'); i > 0 {
			base = name[:i]
		}
	}
	if weakNames[string(base)] && len(f.weak) < maxList && !containsBytes(f.weak, name) {
		f.weak = append(f.weak, string(name))
	}
}

func (f *flow) flagWeak(name string) {
	base := name
	if strings.HasPrefix(name, "ENCR_AES") {
		if i := strings.IndexByte(name, '-'); i > 0 {
			base = name[:i]
		}
	}
	if weakNames[base] && len(f.weak) < maxList && !contains(f.weak, name) {
		f.weak = append(f.weak, name)
	}
}

// Gap never happens on datagram flows.
func (f *flow) Gap(parser.Direction, int, time.Time) {}

// IsContinue: IPsec flows are counted to their end.
func (f *flow) IsContinue() bool { return true }

// EndProcess emits the flow's event.
func (f *flow) EndProcess(reason parser.EndReason, ts time.Time) {
	if f.ended {
		return
	}
	f.ended = true
	if f.start.IsZero() {
		f.start, f.end = ts, ts
	}
	// sized for an IKE flow's summary (up to some 20 fields), so it does not grow
	sum := make(event.Fields, 0, 22)
	parser.PutTraffic(&sum, f.packets, f.bytes, reason)
	var evidence []string
	method, conf := "content", 0.9
	subject := ""
	if f.c.Transport == parser.ESP {
		sum.Set("channel", "esp")
		method, conf = "content", 0.95
		evidence = append(evidence, "IP protocol 50 (ESP)")
		subject = "ESP " + f.c.Client.Addr().String() + " ↔ " + f.c.Server.Addr().String()
		if vs, spis, ok := f.d.lookupIKE(f.c.Client.Addr(), f.c.Server.Addr()); ok {
			sum.Set("ike_versions", vs)
			sum.Set("ike_spis", spis)
			evidence = append(evidence, "IKE seen between the same addresses")
			conf = 0.99
		}
	} else {
		sum.Set("channel", "ike")
		subject = "IKE " + f.c.Client.String() + " ↔ " + f.c.Server.String()
		if f.ikeMsgs > 0 {
			sum.Set("ike_versions", f.versions.list())
			exch := make(map[string]int, len(f.exch))
			for _, e := range f.exch {
				exch[exchangeName(int(e.typ))] = e.n
			}
			sum.Set("exchanges", exch)
			sum.Set("ike_messages", f.ikeMsgs)
			sum.Set("spis", f.spiPairs)
			evidence = append(evidence, fmt.Sprintf("%d IKE message(s) with a valid header (version, exchange type, length)", f.ikeMsgs))
			if f.c.Server.Port() == portIKE || f.c.Server.Port() == portNATT {
				method = "content+port"
			}
			if f.encrypted > 0 {
				sum.Set("encrypted_messages", f.encrypted)
				sum.Set("note", "IKEv2 IKE_AUTH/CREATE_CHILD_SA and IKEv1 quick mode are encrypted: child SA SPIs are not visible")
			}
		} else {
			method, conf = "content+port", 0.7
			sum.Set("channel", "esp-in-udp")
			evidence = append(evidence, "ESP-shaped datagrams (SPI > 255, sequence number) on UDP 4500 without IKE seen")
		}
		if len(f.vids) > 0 {
			var v []string
			for k := range f.vids {
				v = append(v, k)
			}
			sort.Strings(v)
			sum.Set("vendor_ids", v)
		}
		if len(f.notify) > 0 {
			sum.Set("notifications", f.notify)
		}
		if len(f.proposals) > 0 {
			sum.Set("proposals", f.proposals)
		}
		if len(f.chosen) > 0 {
			sum.Set("chosen", f.chosen)
		}
		if len(f.weak) > 0 {
			sum.Set("weak", f.weak)
			f.anoms.Add("weak algorithms offered or chosen: " + strings.Join(f.weak, ", "))
		}
		if f.keepalives > 0 {
			sum.Set("natt_keepalives", f.keepalives)
		}
	}
	if len(f.esp) > 0 {
		l := make([]event.Fields, 0, len(f.esp))
		for i := range f.esp {
			s := &f.esp[i]
			l = append(l, event.Fields{{Key: "spi", Value: spiHex(s.spi)}, {Key: "from", Value: s.dir.String()},
				{Key: "packets", Value: s.packets}, {Key: "bytes", Value: s.bytes},
				{Key: "seq_first", Value: s.seqMin}, {Key: "seq_last", Value: s.seqMax}})
		}
		sum.Set("esp", l)
		if f.c.Transport != parser.ESP {
			evidence = append(evidence, fmt.Sprintf("ESP in UDP with %d SPI(s)", len(f.esp)))
		}
	}
	if f.other > 0 {
		sum.Set("unrecognised", f.other)
	}
	parser.PutDetection(&sum, method, conf, evidence)
	f.env.Emit(&event.Event{Type: TypeSession, Start: f.start, End: f.end, Subject: subject, Summary: sum, Anomalies: f.anoms.Out()})
}
