package wireguard

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// BenchmarkIsRelative: the detector on a handshake and on a datagram
// that is not WireGuard (what most UDP flows show it).
func BenchmarkIsRelative(b *testing.B) {
	d, c := NewDetector(), udpConn(1)
	init, other := msg(1, 148, 1), []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.IsRelative(c, parser.ClientToServer, init)
		d.IsRelative(c, parser.ClientToServer, other)
	}
}

// BenchmarkCaptures replays every wireguard connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return NewDetector() })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return NewDetector() })
}
