package openflow

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestMatchPrerequisites covers every one of the 40 basic fields: built
// with its prerequisites it is accepted; without them NewMatch fails and
// the error names the field and what it needs.
func TestMatchPrerequisites(t *testing.T) {
	v4, v6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")
	ip4 := EthType(EthTypeIPv4)
	ip6 := EthType(EthTypeIPv6)
	tests := []struct {
		field OXM
		pre   []OXM
		needs string // "" when the field has no prerequisite
	}{
		{InPort(1), nil, ""},
		{InPhyPort(1), []OXM{InPort(1)}, "in_port"},
		{Metadata(1), nil, ""},
		{EthDst(mac("00:00:00:00:00:01")), nil, ""},
		{EthSrc(mac("00:00:00:00:00:02")), nil, ""},
		{EthType(EthTypeIPv4), nil, ""},
		{VLANVID(10), nil, ""},
		{VLANPCP(3), []OXM{VLANVID(10)}, "vlan_vid"},
		{IPDSCP(46), []OXM{ip4}, "eth_type=0x0800 or eth_type=0x86dd"},
		{IPECN(1), []OXM{ip6}, "eth_type=0x0800 or eth_type=0x86dd"},
		{IPProto(IPProtoTCP), []OXM{ip4}, "eth_type=0x0800 or eth_type=0x86dd"},
		{IPv4Src(v4), []OXM{ip4}, "eth_type=0x0800"},
		{IPv4Dst(v4), []OXM{ip4}, "eth_type=0x0800"},
		{TCPSrc(80), []OXM{ip4, IPProto(IPProtoTCP)}, "ip_proto=6"},
		{TCPDst(25), []OXM{ip6, IPProto(IPProtoTCP)}, "ip_proto=6"},
		{UDPSrc(53), []OXM{ip4, IPProto(IPProtoUDP)}, "ip_proto=17"},
		{UDPDst(53), []OXM{ip4, IPProto(IPProtoUDP)}, "ip_proto=17"},
		{SCTPSrc(1), []OXM{ip4, IPProto(IPProtoSCTP)}, "ip_proto=132"},
		{SCTPDst(2), []OXM{ip6, IPProto(IPProtoSCTP)}, "ip_proto=132"},
		{ICMPv4Type(8), []OXM{ip4, IPProto(IPProtoICMP)}, "ip_proto=1"},
		{ICMPv4Code(0), []OXM{ip4, IPProto(IPProtoICMP)}, "ip_proto=1"},
		{ARPOp(1), []OXM{EthType(EthTypeARP)}, "eth_type=0x0806"},
		{ARPSPA(v4), []OXM{EthType(EthTypeARP)}, "eth_type=0x0806"},
		{ARPTPA(v4), []OXM{EthType(EthTypeARP)}, "eth_type=0x0806"},
		{ARPSHA(mac("00:00:00:00:00:01")), []OXM{EthType(EthTypeARP)}, "eth_type=0x0806"},
		{ARPTHA(mac("00:00:00:00:00:01")), []OXM{EthType(EthTypeARP)}, "eth_type=0x0806"},
		{IPv6Src(v6), []OXM{ip6}, "eth_type=0x86dd"},
		{IPv6Dst(v6), []OXM{ip6}, "eth_type=0x86dd"},
		{IPv6FLabel(7), []OXM{ip6}, "eth_type=0x86dd"},
		{ICMPv6Type(135), []OXM{ip6, IPProto(IPProtoICMPv6)}, "ip_proto=58"},
		{ICMPv6Code(0), []OXM{ip6, IPProto(IPProtoICMPv6)}, "ip_proto=58"},
		{IPv6NDTarget(v6), []OXM{ip6, IPProto(IPProtoICMPv6), ICMPv6Type(136)}, "icmpv6_type=135 or 136"},
		{IPv6NDSLL(mac("00:00:00:00:00:01")), []OXM{ip6, IPProto(IPProtoICMPv6), ICMPv6Type(135)}, "icmpv6_type=135"},
		{IPv6NDTLL(mac("00:00:00:00:00:01")), []OXM{ip6, IPProto(IPProtoICMPv6), ICMPv6Type(136)}, "icmpv6_type=136"},
		{MPLSLabel(100), []OXM{EthType(EthTypeMPLS)}, "eth_type=0x8847 or eth_type=0x8848"},
		{MPLSTC(3), []OXM{EthType(EthTypeMPLSMC)}, "eth_type=0x8847 or eth_type=0x8848"},
		{MPLSBOS(1), []OXM{EthType(EthTypeMPLS)}, "eth_type=0x8847 or eth_type=0x8848"},
		{PBBISID(0x123456), []OXM{EthType(EthTypePBB)}, "eth_type=0x88e7"},
		{TunnelID(9), nil, ""},
		{IPv6ExtHdr(0x100), []OXM{ip6}, "eth_type=0x86dd"},
	}
	seen := map[OXMField]bool{}
	for _, tt := range tests {
		name := tt.field.Field.String()
		seen[tt.field.Field] = true
		t.Run(name, func(t *testing.T) {
			m, err := NewMatch(append([]OXM{tt.field}, tt.pre...)...)
			if err != nil {
				t.Fatalf("NewMatch with prerequisites: %v", err)
			}
			if got := m.Fields[len(m.Fields)-1]; got.Field != tt.field.Field {
				t.Errorf("last field after ordering = %s, want %s (prerequisites first)", got.Field, tt.field.Field)
			}
			if tt.needs == "" {
				return
			}
			_, err = NewMatch(tt.field)
			if err == nil {
				t.Fatalf("NewMatch(%s) without prerequisites succeeded", name)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), name+" needs") || !strings.Contains(err.Error(), tt.needs) {
				t.Errorf("error = %q, want it to name %s and %q", err, name, tt.needs)
			}
		})
	}
	if len(seen) != numBasicFields {
		t.Errorf("table covers %d fields, want %d", len(seen), numBasicFields)
	}
}

func TestMatchPrerequisiteValues(t *testing.T) {
	tests := []struct {
		name    string
		fields  []OXM
		wantErr string
	}{
		{"tcp over udp", []OXM{EthType(EthTypeIPv4), IPProto(IPProtoUDP), TCPDst(25)}, "tcp_dst needs eth_type=0x0800 or eth_type=0x86dd, and ip_proto=6"},
		{"tcp without eth_type names tcp_dst", []OXM{IPProto(IPProtoTCP), TCPDst(25)}, "tcp_dst needs"},
		{"tcp without anything", []OXM{TCPDst(25)}, "tcp_dst needs eth_type=0x0800 or eth_type=0x86dd, and ip_proto=6"},
		{"ipv4 on ipv6", []OXM{EthType(EthTypeIPv6), IPv4Src(netip.MustParseAddr("1.2.3.4"))}, "ipv4_src needs eth_type=0x0800"},
		{"icmpv4 over ipv6", []OXM{EthType(EthTypeIPv6), IPProto(IPProtoICMP), ICMPv4Type(8)}, "icmpv4_type needs"},
		{"pcp on untagged", []OXM{NoVLAN(), VLANPCP(1)}, "vlan_pcp needs vlan_vid"},
		{"pcp on any tag", []OXM{AnyVLAN(), VLANPCP(1)}, ""},
		{"nd_sll on advert", []OXM{EthType(EthTypeIPv6), IPProto(IPProtoICMPv6), ICMPv6Type(136), IPv6NDSLL(mac("00:00:00:00:00:01"))}, "ipv6_nd_sll needs"},
		{"masked eth_type is not a prerequisite", []OXM{{Class: OXMClassOpenFlowBasic, Field: OXMEthType, Value: []byte{8, 0}, Mask: []byte{0xff, 0xff}}, IPv4Src(netip.MustParseAddr("1.2.3.4"))}, "eth_type cannot be masked"},
		{"duplicate", []OXM{TCPDst(1), TCPDst(2)}, "tcp_dst appears twice"},
		{"vlan too big", []OXM{VLANVID(5000)}, "vlan_vid 5000 exceeds 4095"},
		{"pcp too big", []OXM{VLANVID(1), VLANPCP(8)}, "vlan_pcp value 0x8 exceeds 0x7"},
		{"dscp too big", []OXM{EthType(EthTypeIPv4), IPDSCP(64)}, "ip_dscp value 0x40 exceeds 0x3f"},
		{"label too big", []OXM{EthType(EthTypeMPLS), MPLSLabel(1 << 20)}, "mpls_label value 0x100000 exceeds 0xfffff"},
		{"isid too big", []OXM{EthType(EthTypePBB), PBBISID(1 << 24)}, "pbb_isid 0x1000000 exceeds 24 bits"},
		{"ipv6 address for ipv4 field", []OXM{EthType(EthTypeIPv4), IPv4Src(netip.MustParseAddr("::1"))}, "ipv4_src needs an IPv4 address"},
		{"ipv4-mapped is fine", []OXM{EthType(EthTypeIPv4), IPv4Src(netip.MustParseAddr("::ffff:10.0.0.1"))}, ""},
		{"ipv4 address for ipv6 field", []OXM{EthType(EthTypeIPv6), IPv6Dst(netip.MustParseAddr("10.0.0.1"))}, "ipv6_dst needs an IPv6 address"},
		{"invalid prefix", []OXM{EthType(EthTypeIPv4), IPv4SrcPrefix(netip.Prefix{})}, "ipv4_src needs a valid prefix"},
		{"short mac", []OXM{EthSrc(mac("00:11:22:33:44:55")[:4])}, "eth_src needs a 6-byte MAC address"},
		{"mask on exact-only field", []OXM{EthType(EthTypeIPv4), IPProto(6), {Class: OXMClassOpenFlowBasic, Field: OXMTCPDst, Value: []byte{0, 25}, Mask: []byte{0xff, 0xff}}}, "tcp_dst cannot be masked"},
		{"value outside mask", []OXM{{Class: OXMClassOpenFlowBasic, Field: OXMMetadata, Value: make([]byte, 7), Mask: make([]byte, 8)}}, "metadata value is 7 bytes, want 8"},
		{"bits outside mask", []OXM{{Class: OXMClassOpenFlowBasic, Field: OXMEthSrc, Value: []byte{1, 0, 0, 0, 0, 1}, Mask: []byte{1, 0, 0, 0, 0, 0}}}, "eth_src value has bits outside its mask"},
		{"unknown basic field", []OXM{{Class: OXMClassOpenFlowBasic, Field: 60, Value: []byte{1}}}, "unknown basic field 60"},
		{"experimenter field passes", []OXM{{Class: OXMClassExperimenter, Field: 1, Value: []byte{0, 0, 0x23, 0x20, 1}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMatch(tt.fields...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("NewMatch: %v, want success", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("NewMatch succeeded, want error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("NewMatch error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestMatchWire checks encoded bytes against the layout of the spec
// (ofp_match + OXM TLVs, padded to 8), independently of the decoder.
func TestMatchWire(t *testing.T) {
	tests := []struct {
		name   string
		fields []OXM
		want   []byte
	}{
		{"empty", nil, []byte{0, 1, 0, 4, 0, 0, 0, 0}},
		{"tcp_dst 25", []OXM{TCPDst(25), IPProto(IPProtoTCP), EthType(EthTypeIPv4)}, []byte{
			0x00, 0x01, 0x00, 0x15,
			0x80, 0x00, 0x0a, 0x02, 0x08, 0x00,
			0x80, 0x00, 0x14, 0x01, 0x06,
			0x80, 0x00, 0x1c, 0x02, 0x00, 0x19,
			0, 0, 0}},
		{"ipv4_src/8", []OXM{EthType(EthTypeIPv4), IPv4SrcPrefix(netip.MustParsePrefix("10.9.8.7/8"))}, []byte{
			0x00, 0x01, 0x00, 0x16,
			0x80, 0x00, 0x0a, 0x02, 0x08, 0x00,
			0x80, 0x00, 0x17, 0x08, 10, 0, 0, 0, 0xff, 0, 0, 0,
			0, 0}},
		{"vlan 100", []OXM{VLANVID(100)}, []byte{0x00, 0x01, 0x00, 0x0a, 0x80, 0x00, 0x0c, 0x02, 0x10, 0x64, 0, 0, 0, 0, 0, 0}},
		{"pbb_isid", []OXM{EthType(EthTypePBB), PBBISID(0x010203)}, []byte{
			0x00, 0x01, 0x00, 0x11, 0x80, 0x00, 0x0a, 0x02, 0x88, 0xe7, 0x80, 0x00, 0x4a, 0x03, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMatch(t, tt.fields...)
			got, err := m.AppendBinary(nil)
			if err != nil {
				t.Fatalf("AppendBinary: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("AppendBinary = % x, want % x", got, tt.want)
			}
			back, n, err := decodeMatch(got)
			if err != nil || n != len(got) {
				t.Fatalf("decodeMatch = %d, %v; want %d bytes", n, err, len(got))
			}
			if back.String() != m.String() {
				t.Errorf("decoded %q, want %q", back, m)
			}
		})
	}
}

func TestDecodeMatchErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"short", []byte{0, 1}, ErrShort},
		{"standard type", []byte{0, 0, 0, 4, 0, 0, 0, 0}, ErrUnknownType},
		{"length below header", []byte{0, 1, 0, 3, 0, 0, 0, 0}, ErrBadLength},
		{"length past end", []byte{0, 1, 0, 12, 0, 0, 0, 0}, ErrBadLength},
		{"oxm past end", []byte{0, 1, 0, 8, 0x80, 0, 0x0a, 0x09, 0, 0, 0, 0}, ErrBadLength},
		{"oxm wrong size", []byte{0, 1, 0, 9, 0x80, 0, 0x0a, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0}, ErrBadLength},
		{"unknown basic field", []byte{0, 1, 0, 9, 0x80, 0, 0x7e, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0}, ErrUnknownType},
		{"partial oxm header", []byte{0, 1, 0, 6, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeMatch(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("decodeMatch(% x) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestOXMAccessors(t *testing.T) {
	m := mustMatch(t, EthType(EthTypeIPv4), IPv4DstPrefix(netip.MustParsePrefix("192.168.0.0/16")), EthSrc(mac("00:11:22:33:44:55")))
	dst, ok := m.Get(OXMIPv4Dst)
	if !ok {
		t.Fatal("Get(ipv4_dst) missing")
	}
	if a, _ := dst.Addr(); a != netip.MustParseAddr("192.168.0.0") || !dst.Masked() || dst.MaskUint() != 0xffff0000 {
		t.Errorf("ipv4_dst = %v mask %#x, want 192.168.0.0 mask 0xffff0000", a, dst.MaskUint())
	}
	if src, _ := m.Get(OXMEthSrc); src.MAC().String() != "00:11:22:33:44:55" {
		t.Errorf("eth_src = %s", src.MAC())
	}
	if et, _ := m.Get(OXMEthType); et.Uint() != 0x0800 || et.MaskUint() != ^uint64(0) {
		t.Errorf("eth_type = %#x", et.Uint())
	}
	if _, ok := m.Get(OXMTCPDst); ok {
		t.Error("Get(tcp_dst) found a field that is not there")
	}
	if OXMTCPDst.Size() != 2 || !OXMIPv6Src.Maskable() || OXMTCPDst.Maskable() || OXMField(99).Size() != 0 {
		t.Error("field metadata wrong")
	}
}
