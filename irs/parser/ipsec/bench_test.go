package ipsec

import (
	"testing"

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
