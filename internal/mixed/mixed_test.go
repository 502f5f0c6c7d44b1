package mixed

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/sdnli/sdnli/irs/capture"
)

// frame is Ethernet + IPv4 192.0.2.1 > 192.0.2.2, UDP, with a valid checksum.
func frame() []byte {
	f := make([]byte, 14+28)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], 28)
	copy(ip[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	return f
}

func checksumOK(ip []byte) bool {
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum) == 0xffff
}

func TestShiftAddresses(t *testing.T) {
	f := frame()
	if !checksumOK(f[14:]) {
		t.Fatal("test frame has a bad checksum")
	}
	ShiftAddresses(f, 3)
	ip := f[14:]
	if ip[15] != 1+3 || ip[19] != 2+3 {
		t.Errorf("addresses after shift 3 = %v > %v, want .4 > .5", ip[12:16], ip[16:20])
	}
	if !checksumOK(ip) {
		t.Error("IPv4 header checksum wrong after the shift")
	}
}

func TestSourceRepeats(t *testing.T) {
	set := []capture.Packet{{Data: frame(), LinkType: layers.LinkTypeEthernet}, {Data: frame(), LinkType: layers.LinkTypeEthernet}}
	src := &Source{Set: set, Limit: 5}
	var p capture.Packet
	var last byte
	for i := 0; i < 5; i++ {
		if err := src.Next(&p); err != nil {
			t.Fatalf("Next %d: %v", i, err)
		}
		last = p.Data[14+15]
	}
	if last != 1+2 { // the fifth packet is in the third repetition
		t.Errorf("fifth packet source address ends in %d, want 3", last)
	}
	if err := src.Next(&p); err != io.EOF {
		t.Errorf("after Limit: %v, want io.EOF", err)
	}
}
