// Package decode turns captured frames into compact packet descriptions
// for the flow table: addresses, ports, transport, TCP flags and sequence
// numbers, and the transport payload as a slice of the frame.
//
// It runs gopacket DecodingLayerParsers (one per first layer, all sharing
// one DecodingLayerSparse container of reused layer structs, so decoding
// allocates nothing) over
// Ethernet, 802.1Q and QinQ, Linux cooked capture (SLL and
// SLL2), BSD loopback, raw IP, IPv4, IPv6 with extension headers, IPsec
// AH, and the transports the IRS parses: TCP, UDP, GRE, ICMPv4/v6 and
// ESP, plus IP-in-IP (protocols 4 and 41), whose payload is the inner IP
// packet. Decoding stops at the first transport header: tunnels are flows
// of their own (GRE, ESP, IP-in-IP), not decapsulated. IP fragments (v4 and v6) are
// reassembled by a bounded defragmenter of our own (Defragmenter), because
// gopacket's ip4defrag has no cap on the datagrams it keeps.
//
// Malformed packets are counted by reason and never panic the decoder.
package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers of the transports the IRS tracks.
const (
	ProtoICMP   = 1
	ProtoIPIP   = 4 // IPv4 in IP (RFC 2003)
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoIPv6   = 41 // IPv6 in IP (6in4, RFC 4213)
	ProtoGRE    = 47
	ProtoESP    = 50
	ProtoICMPv6 = 58
)

// TCP flag bits, as in the TCP header's flags byte.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
)

// Packet is the compact description of one decoded packet. Slices point
// into the frame (or, for a reassembled IP datagram, into the
// Defragmenter's buffer) and are valid until the next Decode.
type Packet struct {
	Timestamp int64 // Unix nanoseconds
	LinkType  layers.LinkType
	Frame     []byte // the frame as captured
	Length    int    // original length on the wire
	// Fragments holds, for a datagram reassembled from IP fragments, the
	// frames of all its fragments (the raw data to keep); nil otherwise.
	Fragments []Fragment

	Family           uint8 // 4 or 6
	Proto            uint8 // IP protocol of the transport header
	Src, Dst         [16]byte
	SrcPort, DstPort uint16 // TCP/UDP ports; ICMP echo identifier in both

	// TCP only.
	Flags    uint8
	Seq, Ack uint32
	// TCP is the decoded TCP header when Proto is TCP (owned by the
	// decoder, valid until the next Decode).
	TCP *layers.TCP

	// ICMP only.
	ICMPType, ICMPCode uint8

	// Base holds the transport header and payload at [L4Off:L4End], the
	// payload at [PayOff:L4End].
	Base                 []byte
	L4Off, PayOff, L4End int
}

// Fragment is one IP fragment's frame, kept for the raw data.
type Fragment struct {
	Timestamp int64
	Length    int
	Frame     []byte
}

// Payload returns the transport payload (TCP/UDP data, GRE payload, ICMP
// body, ESP SPI+sequence+ciphertext).
func (p *Packet) Payload() []byte { return p.Base[p.PayOff:p.L4End] }

// L4 returns the transport header and payload.
func (p *Packet) L4() []byte { return p.Base[p.L4Off:p.L4End] }

// SrcAddr returns the source address.
func (p *Packet) SrcAddr() netip.Addr { return addr(p.Family, &p.Src) }

// DstAddr returns the destination address.
func (p *Packet) DstAddr() netip.Addr { return addr(p.Family, &p.Dst) }

func addr(family uint8, b *[16]byte) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
	}
	return netip.AddrFrom16(*b)
}

// Result says what Decode made of a frame.
type Result uint8

const (
	// Decoded: p describes an IP packet with a tracked transport.
	Decoded Result = iota
	// Queued: an IP fragment, kept until its datagram is complete.
	Queued
	// Ignored: not for the flow table (not IP, or an untracked IP
	// protocol); counted under its Reason, not an error.
	Ignored
	// Malformed: the frame is broken; counted under its Reason.
	Malformed
)

// Reason classifies ignored and malformed frames.
type Reason uint8

// Reasons. Keep reasonNames in step.
const (
	ReasonNone Reason = iota
	// Ignored.
	ReasonNotIP           // ARP, LLDP, STP...
	ReasonOtherProto      // IP, but not TCP/UDP/GRE/ICMP/ESP (IP-in-IP, OSPF...)
	ReasonFragmentExpired // a fragment list timed out incomplete
	ReasonFragmentEvicted // a fragment list was dropped to stay within the caps
	// Malformed.
	ReasonLinkType  // link type not decodable
	ReasonLink      // broken link-layer header (Ethernet, VLAN, SLL...)
	ReasonIPv4      // broken IPv4 header
	ReasonIPv6      // broken IPv6 header or extension header
	ReasonTCP       // broken TCP header
	ReasonUDP       // broken UDP header
	ReasonGRE       // broken GRE header
	ReasonICMP      // broken ICMPv4/v6 header
	ReasonESP       // broken ESP/AH header
	ReasonFragment  // bad fragment (offset past 64 KiB, too many pieces)
	ReasonTruncated // cut by the capture's snap length mid-header
	ReasonPanic     // a layer decoder panicked (recovered)
	NumReasons
)

var reasonNames = [NumReasons]string{
	ReasonNone:            "none",
	ReasonNotIP:           "not-ip",
	ReasonOtherProto:      "other-ip-protocol",
	ReasonFragmentExpired: "fragment-expired",
	ReasonFragmentEvicted: "fragment-evicted",
	ReasonLinkType:        "unsupported-link-type",
	ReasonLink:            "bad-link-header",
	ReasonIPv4:            "bad-ipv4",
	ReasonIPv6:            "bad-ipv6",
	ReasonTCP:             "bad-tcp",
	ReasonUDP:             "bad-udp",
	ReasonGRE:             "bad-gre",
	ReasonICMP:            "bad-icmp",
	ReasonESP:             "bad-ipsec",
	ReasonFragment:        "bad-fragment",
	ReasonTruncated:       "truncated",
	ReasonPanic:           "decoder-panic",
}

func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason-%d", uint8(r))
}

// Malformed reports whether the reason counts as a decode error rather
// than as traffic the IRS simply does not track.
func (r Reason) Malformed() bool { return r >= ReasonLinkType }

// Counters counts frames by reason, plus reassembled datagrams.
type Counters struct {
	ByReason    [NumReasons]uint64
	Fragments   uint64 // fragments received
	Reassembled uint64 // datagrams rebuilt from fragments
	Truncated   uint64 // decoded, but cut short by the snap length
}

// Map returns the non-zero reason counters by name.
func (c *Counters) Map() map[string]uint64 {
	m := map[string]uint64{}
	for i, n := range c.ByReason {
		if n != 0 && Reason(i) != ReasonNone {
			m[Reason(i).String()] = n
		}
	}
	return m
}

// Add adds o to c.
func (c *Counters) Add(o *Counters) {
	for i := range c.ByReason {
		c.ByReason[i] += o.ByReason[i]
	}
	c.Fragments += o.Fragments
	c.Reassembled += o.Reassembled
	c.Truncated += o.Truncated
}

// Wrappers that stop the layer chain at the first transport header and
// keep tunnels from overwriting the outer headers in the shared structs.

type ipv4Layer struct{ layers.IPv4 }

func (l *ipv4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) > 0 && data[0]>>4 != 4 {
		return fmt.Errorf("IPv4 header with version %d", data[0]>>4)
	}
	return l.IPv4.DecodeFromBytes(data, df)
}

func (l *ipv4Layer) NextLayerType() gopacket.LayerType {
	if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
		return gopacket.LayerTypeFragment
	}
	return transportType(l.Protocol)
}

// pppoeLayer decodes a PPPoE session header (RFC 2516) and the PPP
// protocol field behind it, so that IP carried over PPPoE (DSL access
// networks) is tracked like any other. gopacket's PPPoE and PPP layers
// are not DecodingLayers, hence this small one.
type pppoeLayer struct {
	layers.BaseLayer
	SessionID uint16
	Protocol  layers.PPPType
}

func (l *pppoeLayer) LayerType() gopacket.LayerType { return layers.LayerTypePPPoE }

func (l *pppoeLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }

func (l *pppoeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return fmt.Errorf("PPPoE session header: %d bytes, need 8", len(data))
	}
	if data[0] != 0x11 || data[1] != 0 {
		return fmt.Errorf("PPPoE: version/type 0x%02x code 0x%02x is not a session frame", data[0], data[1])
	}
	l.SessionID = binary.BigEndian.Uint16(data[2:4])
	n := int(binary.BigEndian.Uint16(data[4:6])) // PPP frame length, protocol field included
	l.Protocol = layers.PPPType(binary.BigEndian.Uint16(data[6:8]))
	end := 6 + n
	if n < 2 || end > len(data) {
		end = len(data)
	}
	l.Contents, l.Payload = data[:8], data[8:end]
	return nil
}

func (l *pppoeLayer) NextLayerType() gopacket.LayerType {
	switch l.Protocol {
	case layers.PPPTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.PPPTypeIPv6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

type ipv6Layer struct{ layers.IPv6 }

func (l *ipv6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) > 0 && data[0]>>4 != 6 {
		return fmt.Errorf("IPv6 header with version %d", data[0]>>4)
	}
	return l.IPv6.DecodeFromBytes(data, df)
}

func (l *ipv6Layer) NextLayerType() gopacket.LayerType {
	p := l.NextHeader
	if l.HopByHop != nil {
		p = l.HopByHop.NextHeader
	}
	return ip6NextType(p)
}

type ip6ExtLayer struct{ layers.IPv6ExtensionSkipper }

func (l *ip6ExtLayer) NextLayerType() gopacket.LayerType { return ip6NextType(l.NextHeader) }

type ip6FragLayer struct{ layers.IPv6Fragment }

func (l *ip6FragLayer) NextLayerType() gopacket.LayerType {
	if l.FragmentOffset != 0 || l.MoreFragments {
		return gopacket.LayerTypeFragment
	}
	return ip6NextType(l.NextHeader)
}

type ahLayer struct{ layers.IPSecAH }

func (l *ahLayer) NextLayerType() gopacket.LayerType { return ip6NextType(l.NextHeader) }

// ip6NextType follows extension headers and stops at transports.
func ip6NextType(p layers.IPProtocol) gopacket.LayerType {
	switch p {
	case layers.IPProtocolIPv6HopByHop:
		// Only valid right after the fixed header, where IPv6 decodes it
		// itself; elsewhere skip it like any extension header.
		return layers.LayerTypeIPv6Destination
	case layers.IPProtocolIPv6Routing:
		return layers.LayerTypeIPv6Routing
	case layers.IPProtocolIPv6Destination:
		return layers.LayerTypeIPv6Destination
	case layers.IPProtocolIPv6Fragment:
		return layers.LayerTypeIPv6Fragment
	}
	return transportType(p)
}

func transportType(p layers.IPProtocol) gopacket.LayerType {
	switch p {
	case layers.IPProtocolTCP:
		return layers.LayerTypeTCP
	case layers.IPProtocolUDP:
		return layers.LayerTypeUDP
	case layers.IPProtocolGRE:
		return layers.LayerTypeGRE
	case layers.IPProtocolICMPv4:
		return layers.LayerTypeICMPv4
	case layers.IPProtocolICMPv6:
		return layers.LayerTypeICMPv6
	case layers.IPProtocolESP:
		return layers.LayerTypeIPSecESP
	case layers.IPProtocolAH:
		return layers.LayerTypeIPSecAH
	}
	return gopacket.LayerTypeZero
}

type tcpLayer struct{ TCPHeader }

func (l *tcpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// TCPHeader decodes a TCP header as layers.TCP does, without its options:
// nothing in the IRS reads them, and decoding them (a 100-byte struct
// appended per option, MPTCP option structs allocated) cost as much as
// the rest of the header. Errors are layers.TCP's, word for word.
type TCPHeader struct {
	layers.TCP
	// fixed is the fixed part of the header with a data offset of 5,
	// which is what layers.TCP decodes: it keeps its port fields (for
	// TransportFlow) pointing here, valid until the next header.
	fixed [20]byte
}

// DecodeFromBytes decodes the header at the start of data; the payload
// is the rest of data.
func (t *TCPHeader) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 20 || data[12]>>4 < 5 || int(data[12]>>4)*4 > len(data) {
		return t.TCP.DecodeFromBytes(data, df) // the error it gives
	}
	copy(t.fixed[:], data[:20])
	t.fixed[12] = 5<<4 | data[12]&0x0f
	if err := t.TCP.DecodeFromBytes(t.fixed[:], df); err != nil {
		return err
	}
	t.DataOffset = data[12] >> 4
	t.Contents, t.Payload = data[:4*int(t.DataOffset)], data[4*int(t.DataOffset):]
	return nil
}

type udpLayer struct{ layers.UDP }

func (l *udpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

type greLayer struct{ layers.GRE }

func (l *greLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

type icmp4Layer struct{ layers.ICMPv4 }

func (l *icmp4Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

type icmp6Layer struct{ layers.ICMPv6 }

func (l *icmp6Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

type espLayer struct{ layers.IPSecESP }

func (l *espLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Decoder decodes frames. It is not safe for concurrent use: give each
// goroutine its own.
type Decoder struct {
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	lo    layers.Loopback
	ip4   ipv4Layer
	ip6   ipv6Layer
	ext   ip6ExtLayer
	frag6 ip6FragLayer
	ah    ahLayer
	tcp   tcpLayer
	udp   udpLayer
	gre   greLayer
	icmp4 icmp4Layer
	icmp6 icmp6Layer
	esp   espLayer
	pppoe pppoeLayer

	container gopacket.DecodingLayerContainer
	decoded   []gopacket.LayerType
	truncated truncFlag

	Defrag   *Defragmenter
	Counters Counters
}

// NewDecoder returns a Decoder with a defragmenter using the default caps.
func NewDecoder() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 16), Defrag: NewDefragmenter(DefragConfig{})}
	var c gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo,
		&d.ip4, &d.ip6, &d.ext, &d.frag6, &d.ah,
		&d.tcp, &d.udp, &d.gre, &d.icmp4, &d.icmp6, &d.esp, &d.pppoe,
	} {
		// ext is registered before frag6 so the fragment header gets its
		// own decoder (the skipper claims the whole extension class).
		c = c.Put(l)
	}
	d.container = c
	return d
}

// truncFlag records that a layer found its data cut short (it is the
// layers' gopacket.DecodeFeedback).
type truncFlag bool

func (t *truncFlag) SetTruncated() { *t = true }

// run decodes data from the layer first on over the shared layers, as a
// gopacket.DecodingLayerParser over d.container does with
// IgnoreUnsupported (decoding stops quietly at a layer it has no decoder
// for: a transport's payload, ARP...) and IgnorePanic (panics are left to
// Decode's recover, which counts them). The layers nearly every packet
// has are called directly, not through the container's interface: the
// parser's loop cost as much as decoding Ethernet and IPv4.
func (d *Decoder) run(first gopacket.LayerType, data []byte) error {
	d.decoded = d.decoded[:0]
	d.truncated = false
	df := &d.truncated
	typ := first
	for {
		var (
			err     error
			next    gopacket.LayerType
			payload []byte
		)
		switch typ {
		case layers.LayerTypeEthernet:
			err = d.eth.DecodeFromBytes(data, df)
			next, payload = d.eth.NextLayerType(), d.eth.Payload
		case layers.LayerTypeIPv4:
			err = d.ip4.DecodeFromBytes(data, df)
			next, payload = d.ip4.NextLayerType(), d.ip4.Payload
		case layers.LayerTypeIPv6:
			err = d.ip6.DecodeFromBytes(data, df)
			next, payload = d.ip6.NextLayerType(), d.ip6.Payload
		case layers.LayerTypeTCP:
			err = d.tcp.DecodeFromBytes(data, df)
			next, payload = d.tcp.NextLayerType(), d.tcp.Payload
		case layers.LayerTypeUDP:
			err = d.udp.DecodeFromBytes(data, df)
			next, payload = d.udp.NextLayerType(), d.udp.Payload
		default:
			dl, ok := d.container.Decoder(typ)
			if !ok {
				return nil
			}
			err = dl.DecodeFromBytes(data, df)
			next, payload = dl.NextLayerType(), dl.LayerPayload()
		}
		if err != nil {
			return err
		}
		d.decoded = append(d.decoded, typ)
		if len(payload) == 0 {
			return nil
		}
		typ, data = next, payload
	}
}

// Decode decodes one frame into p. On Decoded, p is complete; on Queued,
// the frame was an IP fragment now held by the defragmenter (its frame
// bytes copied); on Ignored and Malformed the Reason says why and has
// been counted.
func (d *Decoder) Decode(frame []byte, lt layers.LinkType, ts int64, length int, p *Packet) (res Result, reason Reason) {
	defer func() {
		if r := recover(); r != nil {
			res, reason = Malformed, ReasonPanic
			d.Counters.ByReason[reason]++
		}
	}()
	res, reason = d.decode(frame, lt, ts, length, p)
	if res != Decoded && res != Queued {
		d.Counters.ByReason[reason]++
	}
	return res, reason
}

func (d *Decoder) decode(frame []byte, lt layers.LinkType, ts int64, length int, p *Packet) (Result, Reason) {
	p.Timestamp, p.LinkType, p.Frame, p.Length, p.Fragments = ts, lt, frame, length, nil
	var first gopacket.LayerType
	switch lt {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		first = layers.LayerTypeLoopback
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(frame) == 0 {
			return Malformed, ReasonTruncated
		}
		switch frame[0] >> 4 {
		case 4:
			first = layers.LayerTypeIPv4
		case 6:
			first = layers.LayerTypeIPv6
		default:
			return Malformed, ReasonIPv4
		}
	default:
		return Malformed, ReasonLinkType
	}
	err := d.run(first, frame)
	n := len(d.decoded)
	if err != nil {
		return Malformed, d.failedReason(n)
	}
	// Find the network and transport layers.
	var network, transport gopacket.LayerType
	fragment := false
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			network = t
			fragment = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
		case layers.LayerTypeIPv6:
			network = t
		case layers.LayerTypeIPv6Fragment:
			fragment = d.frag6.FragmentOffset != 0 || d.frag6.MoreFragments
		case layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeGRE,
			layers.LayerTypeICMPv4, layers.LayerTypeICMPv6, layers.LayerTypeIPSecESP:
			transport = t
		}
	}
	if network == 0 {
		if d.truncated {
			return Malformed, ReasonTruncated
		}
		return Ignored, ReasonNotIP
	}
	if network == layers.LayerTypeIPv4 {
		p.Family = 4
		copy(p.Src[:4], d.ip4.SrcIP)
		copy(p.Dst[:4], d.ip4.DstIP)
		clear(p.Src[4:])
		clear(p.Dst[4:])
	} else {
		p.Family = 6
		copy(p.Src[:], d.ip6.SrcIP)
		copy(p.Dst[:], d.ip6.DstIP)
	}
	if fragment {
		return d.fragment(network, p)
	}
	if transport == 0 {
		if d.truncated {
			return Malformed, ReasonTruncated
		}
		if proto := d.lastProto(network); proto == ProtoIPIP || proto == ProtoIPv6 {
			return d.fillEncap(uint8(proto), frame, p)
		}
		// An IP packet whose payload is empty ends the chain before its
		// transport: that is a malformed transport header too.
		if proto := d.lastProto(network); transportType(proto) != gopacket.LayerTypeZero && proto != layers.IPProtocolAH {
			return Malformed, reasonFor(transportType(proto))
		}
		return Ignored, ReasonOtherProto
	}
	if d.truncated {
		d.Counters.Truncated++
	}
	return d.fill(transport, frame, p)
}

// lastProto returns the IP protocol the network layer (or its last
// extension header) names.
func (d *Decoder) lastProto(network gopacket.LayerType) layers.IPProtocol {
	if network == layers.LayerTypeIPv4 {
		return d.ip4.Protocol
	}
	p := d.ip6.NextHeader
	if d.ip6.HopByHop != nil {
		p = d.ip6.HopByHop.NextHeader
	}
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing:
			p = d.ext.NextHeader
		case layers.LayerTypeIPv6Fragment:
			p = d.frag6.NextHeader
		case layers.LayerTypeIPSecAH:
			p = d.ah.NextHeader
		}
	}
	return p
}

// fill completes p from the decoded transport layer; base is the buffer
// the layers were decoded from.
func (d *Decoder) fill(transport gopacket.LayerType, base []byte, p *Packet) (Result, Reason) {
	var l4, payload []byte
	p.SrcPort, p.DstPort, p.Flags, p.Seq, p.Ack, p.TCP = 0, 0, 0, 0, 0, nil
	p.ICMPType, p.ICMPCode = 0, 0
	switch transport {
	case layers.LayerTypeTCP:
		t := &d.tcp.TCP
		p.Proto = ProtoTCP
		p.SrcPort, p.DstPort = uint16(t.SrcPort), uint16(t.DstPort)
		p.Seq, p.Ack = t.Seq, t.Ack
		if len(t.Contents) > 13 {
			p.Flags = t.Contents[13] & 0x3f
		}
		p.TCP = t
		l4, payload = t.Contents, t.Payload
	case layers.LayerTypeUDP:
		u := &d.udp.UDP
		p.Proto = ProtoUDP
		p.SrcPort, p.DstPort = uint16(u.SrcPort), uint16(u.DstPort)
		l4, payload = u.Contents, u.Payload
	case layers.LayerTypeGRE:
		p.Proto = ProtoGRE
		l4, payload = d.gre.Contents, d.gre.Payload
	case layers.LayerTypeICMPv4:
		i := &d.icmp4.ICMPv4
		p.Proto = ProtoICMP
		p.ICMPType, p.ICMPCode = i.TypeCode.Type(), i.TypeCode.Code()
		switch p.ICMPType {
		case layers.ICMPv4TypeEchoRequest, layers.ICMPv4TypeEchoReply:
			// Requests and replies share the identifier: one flow.
			p.SrcPort, p.DstPort = i.Id, i.Id
		}
		l4, payload = i.Contents, i.Payload
	case layers.LayerTypeICMPv6:
		i := &d.icmp6.ICMPv6
		p.Proto = ProtoICMPv6
		p.ICMPType, p.ICMPCode = i.TypeCode.Type(), i.TypeCode.Code()
		if (p.ICMPType == layers.ICMPv6TypeEchoRequest || p.ICMPType == layers.ICMPv6TypeEchoReply) && len(i.Payload) >= 2 {
			id := binary.BigEndian.Uint16(i.Payload)
			p.SrcPort, p.DstPort = id, id
		}
		l4, payload = i.Contents, i.Payload
	case layers.LayerTypeIPSecESP:
		p.Proto = ProtoESP
		// ESP has no cleartext header beyond SPI and sequence: the parser
		// gets them with the ciphertext.
		l4, payload = d.esp.Contents, d.esp.Contents
	}
	if len(l4) == 0 {
		l4 = payload
	}
	p.Base = base
	p.L4Off = offset(base, l4)
	p.PayOff = offset(base, payload)
	p.L4End = p.PayOff + len(payload)
	if p.L4Off < 0 || p.PayOff < p.L4Off || p.L4End > len(base) {
		// The layers always slice the buffer they were given; anything
		// else is a bug in a layer, not a reason to crash.
		return Malformed, ReasonPanic
	}
	return Decoded, ReasonNone
}

// fillEncap completes p for an IP-in-IP packet (protocol 4 or 41): the
// payload is the inner IP packet, left for the tunnel parser.
func (d *Decoder) fillEncap(proto uint8, base []byte, p *Packet) (Result, Reason) {
	var payload []byte
	switch d.decoded[len(d.decoded)-1] {
	case layers.LayerTypeIPv4:
		payload = d.ip4.Payload
	case layers.LayerTypeIPv6:
		payload = d.ip6.Payload
	case layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing:
		payload = d.ext.Payload
	case layers.LayerTypeIPSecAH:
		payload = d.ah.Payload
	default:
		return Ignored, ReasonOtherProto
	}
	if len(payload) == 0 {
		return Malformed, ReasonTruncated
	}
	return fillRaw(proto, base, payload, p)
}

// fillRaw completes p for a transport whose payload is handed over as is
// (IP-in-IP): no ports, the payload a slice of base.
func fillRaw(proto uint8, base, payload []byte, p *Packet) (Result, Reason) {
	p.Proto = proto
	p.SrcPort, p.DstPort, p.Flags, p.Seq, p.Ack, p.TCP = 0, 0, 0, 0, 0, nil
	p.ICMPType, p.ICMPCode = 0, 0
	p.Base = base
	p.PayOff = offset(base, payload)
	p.L4Off = p.PayOff
	p.L4End = p.PayOff + len(payload)
	if p.PayOff < 0 || p.L4End > len(base) {
		return Malformed, ReasonPanic
	}
	return Decoded, ReasonNone
}

// offset returns where sub starts in base; sub must be a slice of base.
func offset(base, sub []byte) int {
	if cap(sub) == 0 {
		return len(base)
	}
	return cap(base) - cap(sub)
}

// failedReason names the layer that failed: the one after the n layers
// decoded successfully.
func (d *Decoder) failedReason(n int) Reason {
	if d.truncated {
		return ReasonTruncated
	}
	if n == 0 {
		return ReasonLink
	}
	var next gopacket.LayerType
	last := d.decoded[n-1]
	if dl, ok := d.container.Decoder(last); ok {
		next = dl.NextLayerType()
	}
	return reasonFor(next)
}

func reasonFor(t gopacket.LayerType) Reason {
	switch t {
	case layers.LayerTypeIPv4:
		return ReasonIPv4
	case layers.LayerTypeIPv6, layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing,
		layers.LayerTypeIPv6Fragment, layers.LayerTypeIPv6HopByHop:
		return ReasonIPv6
	case layers.LayerTypeTCP:
		return ReasonTCP
	case layers.LayerTypeUDP:
		return ReasonUDP
	case layers.LayerTypeGRE:
		return ReasonGRE
	case layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
		return ReasonICMP
	case layers.LayerTypeIPSecESP, layers.LayerTypeIPSecAH:
		return ReasonESP
	}
	return ReasonLink
}

// fragment hands an IP fragment to the defragmenter and, when it
// completes a datagram, decodes the datagram's transport.
func (d *Decoder) fragment(network gopacket.LayerType, p *Packet) (Result, Reason) {
	d.Counters.Fragments++
	var (
		key     fragKey
		off     int
		more    bool
		data    []byte
		proto   layers.IPProtocol
		tooLong bool
	)
	key.family = p.Family
	key.src, key.dst = p.Src, p.Dst
	if network == layers.LayerTypeIPv4 {
		key.id = uint32(d.ip4.Id)
		proto = d.ip4.Protocol
		off = int(d.ip4.FragOffset) * 8
		more = d.ip4.Flags&layers.IPv4MoreFragments != 0
		data = d.ip4.Payload
	} else {
		key.id = d.frag6.Identification
		proto = d.frag6.NextHeader
		off = int(d.frag6.FragmentOffset) * 8
		more = d.frag6.MoreFragments
		data = d.frag6.Payload
	}
	key.proto = uint8(proto)
	if off+len(data) > maxDatagram {
		tooLong = true
	}
	if tooLong || (more && len(data)%8 != 0) || bool(d.truncated) {
		return Malformed, ReasonFragment
	}
	whole, frags, reason := d.Defrag.add(&key, off, more, data, p.Frame, p.Timestamp, p.Length)
	if reason != ReasonNone {
		return Malformed, reason
	}
	if whole == nil {
		return Queued, ReasonNone
	}
	d.Counters.Reassembled++
	p.Fragments = frags
	if proto == ProtoIPIP || proto == ProtoIPv6 {
		return fillRaw(uint8(proto), whole, whole, p)
	}
	first := ip6NextType(proto)
	if first == gopacket.LayerTypeZero {
		return Ignored, ReasonOtherProto
	}
	if err := d.run(first, whole); err != nil {
		return Malformed, d.failedReasonFrom(first)
	}
	var transport gopacket.LayerType
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeGRE,
			layers.LayerTypeICMPv4, layers.LayerTypeICMPv6, layers.LayerTypeIPSecESP:
			transport = t
		}
	}
	if transport == 0 {
		return Ignored, ReasonOtherProto
	}
	return d.fill(transport, whole, p)
}

func (d *Decoder) failedReasonFrom(first gopacket.LayerType) Reason {
	if len(d.decoded) == 0 {
		return reasonFor(first)
	}
	return d.failedReason(len(d.decoded))
}

// Expire drops fragment lists older than the defragmenter's timeout
// (packet time, Unix ns), counting them.
func (d *Decoder) Expire(now int64) {
	d.Counters.ByReason[ReasonFragmentExpired] += uint64(d.Defrag.Expire(now))
}
