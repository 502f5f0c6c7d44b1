package decode

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tcpAsGopacket reports how TCPHeader and layers.TCP differ on data, or
// "" when they decode it alike (options and padding aside, which
// TCPHeader leaves out).
func tcpAsGopacket(h *TCPHeader, data []byte) string {
	var want layers.TCP
	var gotTrunc, wantTrunc truncFlag
	gotErr, wantErr := fmt.Sprint(h.DecodeFromBytes(data, &gotTrunc)), fmt.Sprint(want.DecodeFromBytes(data, &wantTrunc))
	if gotErr != wantErr || gotTrunc != wantTrunc {
		return fmt.Sprintf("error %s (truncated %v), want %s (truncated %v)", gotErr, gotTrunc, wantErr, wantTrunc)
	}
	if wantErr != "<nil>" {
		return ""
	}
	g := &h.TCP
	type fields struct {
		Src, Dst                                   layers.TCPPort
		Seq, Ack                                   uint32
		Off                                        uint8
		FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, NS bool
		Window, Checksum, Urgent                   uint16
		Flow                                       gopacket.Flow
	}
	of := func(t *layers.TCP) fields {
		return fields{t.SrcPort, t.DstPort, t.Seq, t.Ack, t.DataOffset, t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR, t.NS,
			t.Window, t.Checksum, t.Urgent, t.TransportFlow()}
	}
	if of(g) != of(&want) {
		return fmt.Sprintf("fields %+v, want %+v", of(g), of(&want))
	}
	if !slices.Equal(g.Contents, want.Contents) || !slices.Equal(g.Payload, want.Payload) ||
		len(g.Contents)+len(g.Payload) != len(data) || len(g.Options) != 0 {
		return fmt.Sprintf("header % x payload % x options %v, want header % x payload % x", g.Contents, g.Payload, g.Options, want.Contents, want.Payload)
	}
	return ""
}

// TestTCPHeaderAsGopacket: every TCP header of the public captures,
// cut at every length and with every data offset, decodes as layers.TCP
// decodes it (options aside); the ports stay right after the next header
// is decoded into another value.
func TestTCPHeaderAsGopacket(t *testing.T) {
	d := NewDecoder()
	var h TCPHeader
	var p Packet
	headers := 0
	for i, fr := range sharedFrames(t) {
		if res, _ := d.Decode(fr.Data, fr.LinkType, 0, len(fr.Data), &p); res != Decoded || p.Proto != ProtoTCP {
			continue
		}
		l4 := p.L4()
		headers++
		variants := [][]byte{l4}
		if headers%50 == 0 {
			for n := 0; n <= min(len(l4), 64); n++ {
				variants = append(variants, l4[:n])
			}
			for off := range 16 {
				if len(l4) > 12 {
					v := slices.Clone(l4)
					v[12] = byte(off)<<4 | (v[12]&0x0f ^ 0x01) // NS flipped too
					variants = append(variants, v)
				}
			}
		}
		for _, v := range variants {
			if diff := tcpAsGopacket(&h, v); diff != "" {
				t.Fatalf("frame %d, TCP % x: %s", i, v, diff)
			}
		}
	}
	if headers < 10000 {
		t.Fatalf("only %d TCP headers in the public captures", headers)
	}
	var a, b TCPHeader
	_ = a.DecodeFromBytes([]byte{0, 80, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0}, gopacket.NilDecodeFeedback)
	_ = b.DecodeFromBytes([]byte{0, 25, 0, 26, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0}, gopacket.NilDecodeFeedback)
	if got := a.TransportFlow().String(); got != "80->8080" {
		t.Errorf("first header's flow after a second was decoded: %s, want 80->8080", got)
	}
}

// FuzzTCPHeader: TCPHeader decodes any bytes as layers.TCP does.
func FuzzTCPHeader(f *testing.F) {
	f.Add(frameSYN[34:])
	f.Add([]byte{0, 80, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x12, 0, 0, 0, 0, 0, 0, 1, 1, 8, 10})
	var h TCPHeader
	f.Fuzz(func(t *testing.T, data []byte) {
		if diff := tcpAsGopacket(&h, data); diff != "" {
			t.Fatalf("TCP % x: %s", data, diff)
		}
	})
}
