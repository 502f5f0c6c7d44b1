package tls

import (
	gotls "crypto/tls"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// BenchmarkHandshake: a whole TLS 1.2 handshake (ClientHello, ServerHello,
// certificate) through a new parser.
func BenchmarkHandshake(b *testing.B) {
	segs := handshake(b, gotls.VersionTLS12, "bench.example", []string{"h2"}, selfSigned(b, "bench.example"))
	c := tcpConn(443)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := Detector{}.New(c, parsertest.NewEnv())
		for _, s := range segs {
			p.ProcessPacket(s.Dir, s.Data, c.Start)
		}
		p.EndProcess(parser.EndClosed, c.Start)
	}
}

// BenchmarkCaptures replays every tls connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return Detector{} })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return Detector{} })
}
