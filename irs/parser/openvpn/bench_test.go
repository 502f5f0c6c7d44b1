package openvpn

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// BenchmarkIsRelative: a client hard reset (kept as a probe) followed by
// the server's, and a datagram that is not OpenVPN.
func BenchmarkIsRelative(b *testing.B) {
	d, c := NewDetector(), testConn(parser.UDP, 1194)
	cr, sr := ctl(7, csid, nil, nil, 0, ""), ctl(8, ssid, []uint32{0}, csid, 0, "")
	other := []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.IsRelative(c, parser.ClientToServer, cr)
		d.IsRelative(c, parser.ServerToClient, sr)
		d.IsRelative(c, parser.ClientToServer, other)
	}
}

// BenchmarkCaptures replays every openvpn connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return NewDetector() })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return NewDetector() })
}
