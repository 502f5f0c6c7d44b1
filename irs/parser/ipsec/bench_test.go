package ipsec

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// BenchmarkESPInUDP: the parser's per-packet cost on NAT-T ESP, the bulk
// of an IPsec flow.
func BenchmarkESPInUDP(b *testing.B) {
	p := NewDetector().New(udp(4500, 4500), parsertest.NewEnv())
	pkt := esp(0x1000, 1)
	c := udp(4500, 4500)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.ProcessPacket(parser.ClientToServer, pkt, c.Start)
	}
}

// BenchmarkCaptures replays every ipsec connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return NewDetector() })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return NewDetector() })
}
