package decode

import (
	"bytes"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ipipFragments builds an IPv4 packet of protocol 4 around inner, cut
// into two fragments (the first holding 24 bytes).
func ipipFragments(t *testing.T, inner []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for i, part := range [][]byte{inner[:24], inner[24:]} {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 77, Protocol: layers.IPProtocolIPv4, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
		if i == 0 {
			ip.Flags = layers.IPv4MoreFragments
		} else {
			ip.FragOffset = 3
		}
		b := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, gopacket.Payload(part)); err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), b.Bytes()...))
	}
	return out
}

// TestIPinIP: IP protocols 4 and 41 decode with the inner packet as
// payload, also when the outer datagram came in fragments.
func TestIPinIP(t *testing.T) {
	inner := make([]byte, 40)
	copy(inner, []byte{0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	d := NewDecoder()
	var p Packet
	frags := ipipFragments(t, inner)
	if res, reason := d.Decode(frags[0], layers.LinkTypeEthernet, 1, len(frags[0]), &p); res != Queued {
		t.Fatalf("first fragment: %v/%v, want Queued", res, reason)
	}
	res, reason := d.Decode(frags[1], layers.LinkTypeEthernet, 2, len(frags[1]), &p)
	if res != Decoded || p.Proto != ProtoIPIP || !bytes.Equal(p.Payload(), inner) || len(p.Fragments) != 2 {
		t.Fatalf("reassembled: %v/%v proto %d payload % x", res, reason, p.Proto, p.Payload())
	}
	if p.SrcPort != 0 || p.DstPort != 0 || p.SrcAddr().String() != "192.0.2.1" {
		t.Errorf("ports %d > %d src %s", p.SrcPort, p.DstPort, p.SrcAddr())
	}
	// 6in4, one piece.
	six := make([]byte, 40)
	six[0] = 0x60
	six[6] = 59
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolIPv6, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
	b := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, gopacket.Payload(six)); err != nil {
		t.Fatal(err)
	}
	if res, reason := d.Decode(b.Bytes(), layers.LinkTypeEthernet, 3, len(b.Bytes()), &p); res != Decoded || p.Proto != ProtoIPv6 || !bytes.Equal(p.Payload(), six) {
		t.Fatalf("6in4: %v/%v proto %d payload % x", res, reason, p.Proto, p.Payload())
	}
}
