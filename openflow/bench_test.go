package openflow

import "testing"

func benchPacketIn(b *testing.B) *PacketIn {
	return &PacketIn{BufferID: NoBuffer, TotalLen: 60, Reason: PacketInNoMatch, Cookie: 0,
		Match: mustMatch(b, InPort(7)), Data: lldpFrame()}
}

func BenchmarkEncodeFlowMod(b *testing.B) {
	fm := mirrorFlow(b)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendMessage(buf[:0], 1, fm); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeFlowMod(b *testing.B) {
	raw := mustBytes(b, 1, mirrorFlow(b))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePacketIn(b *testing.B) {
	pi := benchPacketIn(b)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendMessage(buf[:0], 1, pi); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodePacketIn(b *testing.B) {
	raw := mustBytes(b, 1, benchPacketIn(b))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
