package openflow

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
)

// OXMClass is the class of an OXM TLV.
type OXMClass uint16

// OXM classes.
const (
	OXMClassNXM0          OXMClass = 0x0000
	OXMClassNXM1          OXMClass = 0x0001
	OXMClassOpenFlowBasic OXMClass = 0x8000
	OXMClassExperimenter  OXMClass = 0xffff
)

// OXMField is the field number within OXMClassOpenFlowBasic.
type OXMField uint8

// The 40 OpenFlow basic match fields (oxm_ofb_match_fields).
const (
	OXMInPort       OXMField = 0
	OXMInPhyPort    OXMField = 1
	OXMMetadata     OXMField = 2
	OXMEthDst       OXMField = 3
	OXMEthSrc       OXMField = 4
	OXMEthType      OXMField = 5
	OXMVLANVID      OXMField = 6
	OXMVLANPCP      OXMField = 7
	OXMIPDSCP       OXMField = 8
	OXMIPECN        OXMField = 9
	OXMIPProto      OXMField = 10
	OXMIPv4Src      OXMField = 11
	OXMIPv4Dst      OXMField = 12
	OXMTCPSrc       OXMField = 13
	OXMTCPDst       OXMField = 14
	OXMUDPSrc       OXMField = 15
	OXMUDPDst       OXMField = 16
	OXMSCTPSrc      OXMField = 17
	OXMSCTPDst      OXMField = 18
	OXMICMPv4Type   OXMField = 19
	OXMICMPv4Code   OXMField = 20
	OXMARPOp        OXMField = 21
	OXMARPSPA       OXMField = 22
	OXMARPTPA       OXMField = 23
	OXMARPSHA       OXMField = 24
	OXMARPTHA       OXMField = 25
	OXMIPv6Src      OXMField = 26
	OXMIPv6Dst      OXMField = 27
	OXMIPv6FLabel   OXMField = 28
	OXMICMPv6Type   OXMField = 29
	OXMICMPv6Code   OXMField = 30
	OXMIPv6NDTarget OXMField = 31
	OXMIPv6NDSLL    OXMField = 32
	OXMIPv6NDTLL    OXMField = 33
	OXMMPLSLabel    OXMField = 34
	OXMMPLSTC       OXMField = 35
	OXMMPLSBOS      OXMField = 36
	OXMPBBISID      OXMField = 37
	OXMTunnelID     OXMField = 38
	OXMIPv6ExtHdr   OXMField = 39

	numBasicFields = 40
)

// Frequently matched EtherTypes and IP protocols.
const (
	EthTypeIPv4    uint16 = 0x0800
	EthTypeARP     uint16 = 0x0806
	EthTypeVLAN    uint16 = 0x8100
	EthTypeIPv6    uint16 = 0x86dd
	EthTypeMPLS    uint16 = 0x8847
	EthTypeMPLSMC  uint16 = 0x8848
	EthTypeQinQ    uint16 = 0x88a8
	EthTypeLLDP    uint16 = 0x88cc
	EthTypePBB     uint16 = 0x88e7
	IPProtoICMP    uint8  = 1
	IPProtoTCP     uint8  = 6
	IPProtoUDP     uint8  = 17
	IPProtoICMPv6  uint8  = 58
	IPProtoSCTP    uint8  = 132
	VLANPresent    uint16 = 0x1000 // OFPVID_PRESENT
	VLANNone       uint16 = 0x0000 // OFPVID_NONE
	icmpv6NSol     uint8  = 135
	icmpv6NAdv     uint8  = 136
	maxVLANVIDBits uint16 = 0x1fff
)

type fieldInfo struct {
	name     string // OXM name, as ovs-ofctl and Ryu spell it
	size     int    // value bytes
	maskable bool
	limit    uint64 // largest value for fields narrower than their bytes; 0: no limit
}

var fieldInfos = [numBasicFields]fieldInfo{
	{"in_port", 4, false, 0},
	{"in_phy_port", 4, false, 0},
	{"metadata", 8, true, 0},
	{"eth_dst", 6, true, 0},
	{"eth_src", 6, true, 0},
	{"eth_type", 2, false, 0},
	{"vlan_vid", 2, true, 0x1fff},
	{"vlan_pcp", 1, false, 7},
	{"ip_dscp", 1, false, 63},
	{"ip_ecn", 1, false, 3},
	{"ip_proto", 1, false, 0},
	{"ipv4_src", 4, true, 0},
	{"ipv4_dst", 4, true, 0},
	{"tcp_src", 2, false, 0},
	{"tcp_dst", 2, false, 0},
	{"udp_src", 2, false, 0},
	{"udp_dst", 2, false, 0},
	{"sctp_src", 2, false, 0},
	{"sctp_dst", 2, false, 0},
	{"icmpv4_type", 1, false, 0},
	{"icmpv4_code", 1, false, 0},
	{"arp_op", 2, false, 0},
	{"arp_spa", 4, true, 0},
	{"arp_tpa", 4, true, 0},
	{"arp_sha", 6, true, 0},
	{"arp_tha", 6, true, 0},
	{"ipv6_src", 16, true, 0},
	{"ipv6_dst", 16, true, 0},
	{"ipv6_flabel", 4, true, 0xfffff},
	{"icmpv6_type", 1, false, 0},
	{"icmpv6_code", 1, false, 0},
	{"ipv6_nd_target", 16, false, 0},
	{"ipv6_nd_sll", 6, false, 0},
	{"ipv6_nd_tll", 6, false, 0},
	{"mpls_label", 4, false, 0xfffff},
	{"mpls_tc", 1, false, 7},
	{"mpls_bos", 1, false, 1},
	{"pbb_isid", 3, true, 0},
	{"tunnel_id", 8, true, 0},
	{"ipv6_exthdr", 2, true, 0x1ff},
}

func (f OXMField) String() string {
	if int(f) < numBasicFields {
		return fieldInfos[f].name
	}
	return "field" + strconv.Itoa(int(f))
}

// Size is the value length of a basic field in bytes (0 if unknown).
func (f OXMField) Size() int {
	if int(f) < numBasicFields {
		return fieldInfos[f].size
	}
	return 0
}

// Maskable reports whether the spec allows a mask on the basic field.
func (f OXMField) Maskable() bool { return int(f) < numBasicFields && fieldInfos[f].maskable }

// OXM is one match field TLV: class, field, value and optional mask. It
// is used in matches and in set-field actions. Build basic fields with the
// constructors (InPort, EthType, TCPDst, IPv4SrcPrefix, ...), which fill
// Value and Mask in wire form.
//
// For the experimenter class the value starts with the 4-byte experimenter
// id; for masked non-basic fields Mask holds the second half of the payload.
type OXM struct {
	Class OXMClass
	Field OXMField
	Value []byte
	Mask  []byte // nil when the field is exact

	bad string // set by a constructor given an unusable argument
}

// IsBasic reports whether o is an OpenFlow basic field.
func (o OXM) IsBasic() bool { return o.Class == OXMClassOpenFlowBasic }

// Is reports whether o is the basic field f.
func (o OXM) Is(f OXMField) bool { return o.IsBasic() && o.Field == f }

// Masked reports whether o carries a mask.
func (o OXM) Masked() bool { return o.Mask != nil }

// Uint returns the value as a big-endian integer (values up to 8 bytes).
func (o OXM) Uint() uint64 { return beUint(o.Value) }

// MaskUint returns the mask as an integer, or all ones when unmasked.
func (o OXM) MaskUint() uint64 {
	if o.Mask == nil {
		return ^uint64(0)
	}
	return beUint(o.Mask)
}

// Addr returns a 4- or 16-byte value as an IP address.
func (o OXM) Addr() (netip.Addr, bool) { return netip.AddrFromSlice(o.Value) }

// MAC returns a 6-byte value as a hardware address.
func (o OXM) MAC() net.HardwareAddr { return net.HardwareAddr(slices.Clone(o.Value)) }

func (o OXM) name() string {
	if o.IsBasic() {
		return o.Field.String()
	}
	return fmt.Sprintf("oxm class 0x%04x field %d", uint16(o.Class), o.Field)
}

func beUint(b []byte) uint64 {
	var v uint64
	for _, c := range b[:min(len(b), 8)] {
		v = v<<8 | uint64(c)
	}
	return v
}

func beBytes(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// check verifies what the wire needs: known length, mask allowed and of
// the same length, value within the field's width and inside the mask.
func (o OXM) check() error {
	if o.bad != "" {
		return fmt.Errorf("%w: %s", ErrInvalid, o.bad)
	}
	if len(o.Value)+len(o.Mask) > 255 {
		return fmt.Errorf("%w: %s: %d payload bytes exceed 255", ErrInvalid, o.name(), len(o.Value)+len(o.Mask))
	}
	if !o.IsBasic() {
		return nil
	}
	if int(o.Field) >= numBasicFields {
		return fmt.Errorf("%w: unknown basic field %d", ErrInvalid, o.Field)
	}
	info := fieldInfos[o.Field]
	if len(o.Value) != info.size {
		return fmt.Errorf("%w: %s value is %d bytes, want %d", ErrInvalid, info.name, len(o.Value), info.size)
	}
	if o.Mask != nil {
		if !info.maskable {
			return fmt.Errorf("%w: %s cannot be masked", ErrInvalid, info.name)
		}
		if len(o.Mask) != info.size {
			return fmt.Errorf("%w: %s mask is %d bytes, want %d", ErrInvalid, info.name, len(o.Mask), info.size)
		}
		for i := range o.Value {
			if o.Value[i]&^o.Mask[i] != 0 {
				return fmt.Errorf("%w: %s value has bits outside its mask", ErrInvalid, info.name)
			}
		}
	}
	if info.limit != 0 && o.Uint() > info.limit {
		return fmt.Errorf("%w: %s value %#x exceeds %#x", ErrInvalid, info.name, o.Uint(), info.limit)
	}
	return nil
}

// AppendBinary appends the TLV (header, value, mask).
func (o OXM) AppendBinary(b []byte) ([]byte, error) {
	b, err := o.appendTLV(b)
	if err != nil {
		return b, fmt.Errorf("openflow: oxm: %w", err)
	}
	return b, nil
}

func (o OXM) appendTLV(b []byte) ([]byte, error) {
	if err := o.check(); err != nil {
		return b, err
	}
	hasMask := uint32(0)
	if o.Mask != nil {
		hasMask = 1
	}
	b = be.AppendUint32(b, uint32(o.Class)<<16|uint32(o.Field&0x7f)<<9|hasMask<<8|uint32(len(o.Value)+len(o.Mask)))
	b = append(b, o.Value...)
	return append(b, o.Mask...), nil
}

// parseOXM reads one TLV from b. Value and Mask alias b; callers copy.
func parseOXM(b []byte) (OXM, int, error) {
	if len(b) < 4 {
		return OXM{}, 0, short("oxm header", 4, len(b))
	}
	h := be.Uint32(b)
	o := OXM{Class: OXMClass(h >> 16), Field: OXMField(h >> 9 & 0x7f)}
	hasMask, n := h>>8&1 == 1, int(h&0xff)
	if 4+n > len(b) {
		return o, 0, fmt.Errorf("%w: oxm %s length %d with %d bytes left", ErrBadLength, o.name(), n, len(b)-4)
	}
	payload := b[4 : 4+n : 4+n]
	if o.IsBasic() {
		if int(o.Field) >= numBasicFields {
			return o, 0, fmt.Errorf("%w: basic oxm field %d", ErrUnknownType, o.Field)
		}
		want := fieldInfos[o.Field].size
		if hasMask {
			want *= 2
		}
		if n != want {
			return o, 0, fmt.Errorf("%w: oxm %s length %d, want %d", ErrBadLength, o.name(), n, want)
		}
	}
	if !hasMask {
		o.Value = payload
		return o, 4 + n, nil
	}
	// A masked experimenter field keeps its experimenter id with the value.
	skip := 0
	if o.Class == OXMClassExperimenter {
		skip = 4
	}
	if n < skip || (n-skip)%2 != 0 {
		return o, 0, fmt.Errorf("%w: masked oxm %s has odd length %d", ErrBadLength, o.name(), n)
	}
	half := skip + (n-skip)/2
	o.Value, o.Mask = payload[:half:half], payload[half:]
	return o, 4 + n, nil
}

// Match is an ofp_match of type OXM: an ordered list of fields.
type Match struct {
	Fields []OXM
}

// NewMatch builds a match from fields, checks each field (length, mask,
// range), refuses duplicates, checks every prerequisite of the spec (for
// example tcp_dst needs eth_type 0x0800 or 0x86dd and ip_proto 6), and
// orders basic fields by number so prerequisites precede their dependents
// as the spec requires. The error names the field at fault.
func NewMatch(fields ...OXM) (Match, error) {
	m := Match{Fields: slices.Clone(fields)}
	slices.SortStableFunc(m.Fields, func(a, b OXM) int {
		switch {
		case a.IsBasic() && !b.IsBasic():
			return -1
		case !a.IsBasic() && b.IsBasic():
			return 1
		case a.IsBasic() && b.IsBasic():
			return int(a.Field) - int(b.Field)
		}
		return 0
	})
	if err := m.Validate(); err != nil {
		return Match{}, err
	}
	return m, nil
}

// Get returns the basic field f.
func (m Match) Get(f OXMField) (OXM, bool) {
	for _, o := range m.Fields {
		if o.Is(f) {
			return o, true
		}
	}
	return OXM{}, false
}

// exact returns the value of an unmasked basic field.
func (m Match) exact(f OXMField) (uint64, bool) {
	o, ok := m.Get(f)
	if !ok || o.Mask != nil {
		return 0, false
	}
	return o.Uint(), true
}

// Validate checks every field, duplicates and prerequisites.
func (m Match) Validate() error {
	var seen [numBasicFields]bool
	for _, o := range m.Fields {
		if err := o.check(); err != nil {
			return fmt.Errorf("openflow: match: %w", err)
		}
		if o.IsBasic() {
			if seen[o.Field] {
				return fmt.Errorf("openflow: match: %w: %s appears twice", ErrInvalid, o.Field)
			}
			seen[o.Field] = true
		}
	}
	// Dependents first, so a forgotten eth_type is reported on tcp_dst
	// rather than on the ip_proto in between.
	for _, o := range slices.Backward(m.Fields) {
		if !o.IsBasic() {
			continue
		}
		if need := m.missingPrereq(o.Field); need != "" {
			return fmt.Errorf("openflow: match: %w: %s needs %s", ErrInvalid, o.Field, need)
		}
	}
	return nil
}

// missingPrereq returns the unmet prerequisite of f, or "".
func (m Match) missingPrereq(f OXMField) string {
	ethIs := func(want ...uint16) bool {
		v, ok := m.exact(OXMEthType)
		return ok && slices.Contains(want, uint16(v))
	}
	protoIs := func(want uint8) bool {
		v, ok := m.exact(OXMIPProto)
		return ok && uint8(v) == want
	}
	icmp6Is := func(want ...uint8) bool {
		v, ok := m.exact(OXMICMPv6Type)
		return ok && slices.Contains(want, uint8(v))
	}
	switch f {
	case OXMInPhyPort:
		if _, ok := m.Get(OXMInPort); !ok {
			return "in_port"
		}
	case OXMVLANPCP:
		vid, ok := m.Get(OXMVLANVID)
		if !ok || vid.Uint()&uint64(VLANPresent) == 0 || vid.MaskUint()&uint64(VLANPresent) == 0 {
			return "vlan_vid with the present bit (a tagged packet)"
		}
	case OXMIPDSCP, OXMIPECN, OXMIPProto:
		if !ethIs(EthTypeIPv4, EthTypeIPv6) {
			return "eth_type=0x0800 or eth_type=0x86dd"
		}
	case OXMIPv4Src, OXMIPv4Dst:
		if !ethIs(EthTypeIPv4) {
			return "eth_type=0x0800"
		}
	case OXMTCPSrc, OXMTCPDst:
		if !ethIs(EthTypeIPv4, EthTypeIPv6) || !protoIs(IPProtoTCP) {
			return "eth_type=0x0800 or eth_type=0x86dd, and ip_proto=6"
		}
	case OXMUDPSrc, OXMUDPDst:
		if !ethIs(EthTypeIPv4, EthTypeIPv6) || !protoIs(IPProtoUDP) {
			return "eth_type=0x0800 or eth_type=0x86dd, and ip_proto=17"
		}
	case OXMSCTPSrc, OXMSCTPDst:
		if !ethIs(EthTypeIPv4, EthTypeIPv6) || !protoIs(IPProtoSCTP) {
			return "eth_type=0x0800 or eth_type=0x86dd, and ip_proto=132"
		}
	case OXMICMPv4Type, OXMICMPv4Code:
		if !ethIs(EthTypeIPv4) || !protoIs(IPProtoICMP) {
			return "eth_type=0x0800 and ip_proto=1"
		}
	case OXMARPOp, OXMARPSPA, OXMARPTPA, OXMARPSHA, OXMARPTHA:
		if !ethIs(EthTypeARP) {
			return "eth_type=0x0806"
		}
	case OXMIPv6Src, OXMIPv6Dst, OXMIPv6FLabel, OXMIPv6ExtHdr:
		if !ethIs(EthTypeIPv6) {
			return "eth_type=0x86dd"
		}
	case OXMICMPv6Type, OXMICMPv6Code:
		if !ethIs(EthTypeIPv6) || !protoIs(IPProtoICMPv6) {
			return "eth_type=0x86dd and ip_proto=58"
		}
	case OXMIPv6NDTarget:
		if !ethIs(EthTypeIPv6) || !protoIs(IPProtoICMPv6) || !icmp6Is(icmpv6NSol, icmpv6NAdv) {
			return "eth_type=0x86dd, ip_proto=58 and icmpv6_type=135 or 136"
		}
	case OXMIPv6NDSLL:
		if !ethIs(EthTypeIPv6) || !protoIs(IPProtoICMPv6) || !icmp6Is(icmpv6NSol) {
			return "eth_type=0x86dd, ip_proto=58 and icmpv6_type=135"
		}
	case OXMIPv6NDTLL:
		if !ethIs(EthTypeIPv6) || !protoIs(IPProtoICMPv6) || !icmp6Is(icmpv6NAdv) {
			return "eth_type=0x86dd, ip_proto=58 and icmpv6_type=136"
		}
	case OXMMPLSLabel, OXMMPLSTC, OXMMPLSBOS:
		if !ethIs(EthTypeMPLS, EthTypeMPLSMC) {
			return "eth_type=0x8847 or eth_type=0x8848"
		}
	case OXMPBBISID:
		if !ethIs(EthTypePBB) {
			return "eth_type=0x88e7"
		}
	}
	return ""
}

// AppendBinary appends the ofp_match with its padding. It checks each
// field's wire form but not prerequisites (see NewMatch, Validate).
func (m Match) AppendBinary(b []byte) ([]byte, error) {
	b, err := m.appendMatch(b)
	if err != nil {
		return b, fmt.Errorf("openflow: %w", err)
	}
	return b, nil
}

func (m Match) appendMatch(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 1, 0, 0) // OFPMT_OXM
	var err error
	for _, o := range m.Fields {
		if b, err = o.appendTLV(b); err != nil {
			return b[:start], fmt.Errorf("match: %w", err)
		}
	}
	if err := putLen16(b, start+2, start, "match"); err != nil {
		return b[:start], err
	}
	return appendZeros(b, pad8(len(b)-start)-(len(b)-start)), nil
}

// decodeMatch reads an ofp_match and returns it with the bytes consumed
// (padding included). All values share one copy of the input.
func decodeMatch(b []byte) (Match, int, error) {
	if len(b) < 4 {
		return Match{}, 0, short("match", 4, len(b))
	}
	if t := be.Uint16(b); t != 1 {
		return Match{}, 0, fmt.Errorf("%w: match type %d (only OXM, 1, exists in 1.3)", ErrUnknownType, t)
	}
	n := int(be.Uint16(b[2:]))
	if n < 4 || pad8(n) > len(b) {
		return Match{}, 0, fmt.Errorf("%w: match length %d with %d bytes available", ErrBadLength, n, len(b))
	}
	region := b[4:n]
	count := 0
	for rest := region; len(rest) > 0; count++ {
		_, used, err := parseOXM(rest)
		if err != nil {
			return Match{}, 0, fmt.Errorf("match field %d: %w", count, err)
		}
		rest = rest[used:]
	}
	if count == 0 {
		return Match{}, pad8(n), nil
	}
	buf := cloneBytes(region)
	m := Match{Fields: make([]OXM, 0, count)}
	for rest := buf; len(rest) > 0; {
		o, used, _ := parseOXM(rest)
		m.Fields = append(m.Fields, o)
		rest = rest[used:]
	}
	return m, pad8(n), nil
}

// ---- constructors of basic fields ----

func basic(f OXMField, v []byte) OXM {
	return OXM{Class: OXMClassOpenFlowBasic, Field: f, Value: v}
}

func basicMasked(f OXMField, v, mask []byte) OXM {
	if len(v) == len(mask) {
		for i := range v {
			v[i] &= mask[i]
		}
	}
	return OXM{Class: OXMClassOpenFlowBasic, Field: f, Value: v, Mask: mask}
}

func uintField(f OXMField, v uint64) OXM {
	return basic(f, beBytes(v, fieldInfos[f].size))
}

func uintMasked(f OXMField, v, mask uint64) OXM {
	n := fieldInfos[f].size
	return basicMasked(f, beBytes(v, n), beBytes(mask, n))
}

func macField(f OXMField, a net.HardwareAddr) OXM {
	o := basic(f, slices.Clone([]byte(a)))
	if len(a) != 6 {
		o.bad = fmt.Sprintf("%s needs a 6-byte MAC address, got %d bytes", f, len(a))
	}
	return o
}

func macMasked(f OXMField, a, mask net.HardwareAddr) OXM {
	o := basicMasked(f, slices.Clone([]byte(a)), slices.Clone([]byte(mask)))
	if len(a) != 6 || len(mask) != 6 {
		o.bad = fmt.Sprintf("%s needs a 6-byte MAC address and mask", f)
	}
	return o
}

func addrField(f OXMField, a netip.Addr) OXM {
	a = a.Unmap()
	if want := fieldInfos[f].size * 8; a.BitLen() != want {
		family := "IPv4"
		if want == 128 {
			family = "IPv6"
		}
		return OXM{Class: OXMClassOpenFlowBasic, Field: f, bad: fmt.Sprintf("%s needs an %s address, got %q", f, family, a)}
	}
	return basic(f, a.AsSlice())
}

func prefixField(f OXMField, p netip.Prefix) OXM {
	a := p.Addr().Unmap()
	if !p.IsValid() {
		return OXM{Class: OXMClassOpenFlowBasic, Field: f, bad: fmt.Sprintf("%s needs a valid prefix, got %q", f, p)}
	}
	o := addrField(f, a)
	if o.bad != "" || p.Bits() == a.BitLen() {
		return o
	}
	mask := make([]byte, len(o.Value))
	for i := range p.Bits() {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return basicMasked(f, o.Value, mask)
}

// InPort matches the ingress port (physical or logical).
func InPort(port uint32) OXM { return uintField(OXMInPort, uint64(port)) }

// InPhyPort matches the physical ingress port; needs InPort.
func InPhyPort(port uint32) OXM { return uintField(OXMInPhyPort, uint64(port)) }

// Metadata matches the metadata register.
func Metadata(v uint64) OXM { return uintField(OXMMetadata, v) }

// MetadataMasked matches metadata bits under mask.
func MetadataMasked(v, mask uint64) OXM { return uintMasked(OXMMetadata, v, mask) }

// EthDst matches the Ethernet destination.
func EthDst(a net.HardwareAddr) OXM { return macField(OXMEthDst, a) }

// EthDstMasked matches Ethernet destination bits under mask.
func EthDstMasked(a, mask net.HardwareAddr) OXM { return macMasked(OXMEthDst, a, mask) }

// EthSrc matches the Ethernet source.
func EthSrc(a net.HardwareAddr) OXM { return macField(OXMEthSrc, a) }

// EthSrcMasked matches Ethernet source bits under mask.
func EthSrcMasked(a, mask net.HardwareAddr) OXM { return macMasked(OXMEthSrc, a, mask) }

// EthType matches the EtherType (after VLAN tags).
func EthType(t uint16) OXM { return uintField(OXMEthType, uint64(t)) }

// VLANVID matches packets tagged with VLAN id vid (0..4095); it sets the
// OFPVID_PRESENT bit as the spec requires.
func VLANVID(vid uint16) OXM {
	o := uintField(OXMVLANVID, uint64(VLANPresent|vid))
	if vid > 0xfff {
		o.bad = fmt.Sprintf("vlan_vid %d exceeds 4095", vid)
	}
	return o
}

// NoVLAN matches packets without a VLAN tag.
func NoVLAN() OXM { return uintField(OXMVLANVID, uint64(VLANNone)) }

// AnyVLAN matches packets with any VLAN tag.
func AnyVLAN() OXM { return VLANVIDMasked(VLANPresent, VLANPresent) }

// VLANVIDMasked matches raw vlan_vid bits (OFPVID_PRESENT included) under mask.
func VLANVIDMasked(v, mask uint16) OXM { return uintMasked(OXMVLANVID, uint64(v), uint64(mask)) }

// VLANPCP matches the VLAN priority (0..7); needs a VLAN id match.
func VLANPCP(pcp uint8) OXM { return uintField(OXMVLANPCP, uint64(pcp)) }

// IPDSCP matches the 6-bit DSCP; needs eth_type IPv4 or IPv6.
func IPDSCP(dscp uint8) OXM { return uintField(OXMIPDSCP, uint64(dscp)) }

// IPECN matches the 2-bit ECN; needs eth_type IPv4 or IPv6.
func IPECN(ecn uint8) OXM { return uintField(OXMIPECN, uint64(ecn)) }

// IPProto matches the IP protocol; needs eth_type IPv4 or IPv6.
func IPProto(p uint8) OXM { return uintField(OXMIPProto, uint64(p)) }

// IPv4Src matches the IPv4 source; needs eth_type 0x0800.
func IPv4Src(a netip.Addr) OXM { return addrField(OXMIPv4Src, a) }

// IPv4SrcPrefix matches an IPv4 source prefix.
func IPv4SrcPrefix(p netip.Prefix) OXM { return prefixField(OXMIPv4Src, p) }

// IPv4Dst matches the IPv4 destination; needs eth_type 0x0800.
func IPv4Dst(a netip.Addr) OXM { return addrField(OXMIPv4Dst, a) }

// IPv4DstPrefix matches an IPv4 destination prefix.
func IPv4DstPrefix(p netip.Prefix) OXM { return prefixField(OXMIPv4Dst, p) }

// TCPSrc matches the TCP source port; needs ip_proto 6.
func TCPSrc(port uint16) OXM { return uintField(OXMTCPSrc, uint64(port)) }

// TCPDst matches the TCP destination port; needs ip_proto 6.
func TCPDst(port uint16) OXM { return uintField(OXMTCPDst, uint64(port)) }

// UDPSrc matches the UDP source port; needs ip_proto 17.
func UDPSrc(port uint16) OXM { return uintField(OXMUDPSrc, uint64(port)) }

// UDPDst matches the UDP destination port; needs ip_proto 17.
func UDPDst(port uint16) OXM { return uintField(OXMUDPDst, uint64(port)) }

// SCTPSrc matches the SCTP source port; needs ip_proto 132.
func SCTPSrc(port uint16) OXM { return uintField(OXMSCTPSrc, uint64(port)) }

// SCTPDst matches the SCTP destination port; needs ip_proto 132.
func SCTPDst(port uint16) OXM { return uintField(OXMSCTPDst, uint64(port)) }

// ICMPv4Type matches the ICMP type; needs ip_proto 1.
func ICMPv4Type(t uint8) OXM { return uintField(OXMICMPv4Type, uint64(t)) }

// ICMPv4Code matches the ICMP code; needs ip_proto 1.
func ICMPv4Code(c uint8) OXM { return uintField(OXMICMPv4Code, uint64(c)) }

// ARPOp matches the ARP opcode; needs eth_type 0x0806.
func ARPOp(op uint16) OXM { return uintField(OXMARPOp, uint64(op)) }

// ARPSPA matches the ARP sender protocol address.
func ARPSPA(a netip.Addr) OXM { return addrField(OXMARPSPA, a) }

// ARPSPAPrefix matches an ARP sender protocol address prefix.
func ARPSPAPrefix(p netip.Prefix) OXM { return prefixField(OXMARPSPA, p) }

// ARPTPA matches the ARP target protocol address.
func ARPTPA(a netip.Addr) OXM { return addrField(OXMARPTPA, a) }

// ARPTPAPrefix matches an ARP target protocol address prefix.
func ARPTPAPrefix(p netip.Prefix) OXM { return prefixField(OXMARPTPA, p) }

// ARPSHA matches the ARP sender hardware address.
func ARPSHA(a net.HardwareAddr) OXM { return macField(OXMARPSHA, a) }

// ARPSHAMasked matches ARP sender hardware address bits under mask.
func ARPSHAMasked(a, mask net.HardwareAddr) OXM { return macMasked(OXMARPSHA, a, mask) }

// ARPTHA matches the ARP target hardware address.
func ARPTHA(a net.HardwareAddr) OXM { return macField(OXMARPTHA, a) }

// ARPTHAMasked matches ARP target hardware address bits under mask.
func ARPTHAMasked(a, mask net.HardwareAddr) OXM { return macMasked(OXMARPTHA, a, mask) }

// IPv6Src matches the IPv6 source; needs eth_type 0x86dd.
func IPv6Src(a netip.Addr) OXM { return addrField(OXMIPv6Src, a) }

// IPv6SrcPrefix matches an IPv6 source prefix.
func IPv6SrcPrefix(p netip.Prefix) OXM { return prefixField(OXMIPv6Src, p) }

// IPv6Dst matches the IPv6 destination; needs eth_type 0x86dd.
func IPv6Dst(a netip.Addr) OXM { return addrField(OXMIPv6Dst, a) }

// IPv6DstPrefix matches an IPv6 destination prefix.
func IPv6DstPrefix(p netip.Prefix) OXM { return prefixField(OXMIPv6Dst, p) }

// IPv6FLabel matches the 20-bit flow label.
func IPv6FLabel(l uint32) OXM { return uintField(OXMIPv6FLabel, uint64(l)) }

// IPv6FLabelMasked matches flow label bits under mask.
func IPv6FLabelMasked(l, mask uint32) OXM {
	return uintMasked(OXMIPv6FLabel, uint64(l), uint64(mask))
}

// ICMPv6Type matches the ICMPv6 type; needs ip_proto 58.
func ICMPv6Type(t uint8) OXM { return uintField(OXMICMPv6Type, uint64(t)) }

// ICMPv6Code matches the ICMPv6 code; needs ip_proto 58.
func ICMPv6Code(c uint8) OXM { return uintField(OXMICMPv6Code, uint64(c)) }

// IPv6NDTarget matches the neighbour discovery target; needs icmpv6_type 135 or 136.
func IPv6NDTarget(a netip.Addr) OXM { return addrField(OXMIPv6NDTarget, a) }

// IPv6NDSLL matches the ND source link-layer address; needs icmpv6_type 135.
func IPv6NDSLL(a net.HardwareAddr) OXM { return macField(OXMIPv6NDSLL, a) }

// IPv6NDTLL matches the ND target link-layer address; needs icmpv6_type 136.
func IPv6NDTLL(a net.HardwareAddr) OXM { return macField(OXMIPv6NDTLL, a) }

// MPLSLabel matches the 20-bit MPLS label; needs eth_type 0x8847/0x8848.
func MPLSLabel(l uint32) OXM { return uintField(OXMMPLSLabel, uint64(l)) }

// MPLSTC matches the MPLS traffic class (0..7).
func MPLSTC(tc uint8) OXM { return uintField(OXMMPLSTC, uint64(tc)) }

// MPLSBOS matches the MPLS bottom-of-stack bit (0 or 1).
func MPLSBOS(bos uint8) OXM { return uintField(OXMMPLSBOS, uint64(bos)) }

// PBBISID matches the 24-bit PBB I-SID; needs eth_type 0x88e7.
func PBBISID(isid uint32) OXM {
	o := uintField(OXMPBBISID, uint64(isid))
	if isid > 0xffffff {
		o.bad = fmt.Sprintf("pbb_isid %#x exceeds 24 bits", isid)
	}
	return o
}

// PBBISIDMasked matches I-SID bits under mask.
func PBBISIDMasked(isid, mask uint32) OXM {
	o := uintMasked(OXMPBBISID, uint64(isid), uint64(mask))
	if isid > 0xffffff || mask > 0xffffff {
		o.bad = "pbb_isid value or mask exceeds 24 bits"
	}
	return o
}

// TunnelID matches the logical port's tunnel id.
func TunnelID(id uint64) OXM { return uintField(OXMTunnelID, id) }

// TunnelIDMasked matches tunnel id bits under mask.
func TunnelIDMasked(id, mask uint64) OXM { return uintMasked(OXMTunnelID, id, mask) }

// IPv6ExtHdr matches the 9-bit IPv6 extension header pseudo-field.
func IPv6ExtHdr(v uint16) OXM { return uintField(OXMIPv6ExtHdr, uint64(v)) }

// IPv6ExtHdrMasked matches extension header bits under mask.
func IPv6ExtHdrMasked(v, mask uint16) OXM {
	return uintMasked(OXMIPv6ExtHdr, uint64(v), uint64(mask))
}
