package dns

import (
	"net/netip"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"

	"golang.org/x/net/dns/dnsmessage"
)

// BenchmarkDecode decodes a response with a CNAME and four addresses.
func BenchmarkDecode(b *testing.B) {
	n := "www.example.org."
	answers := []dnsmessage.Resource{{Header: rh(n, dnsmessage.TypeCNAME), Body: &dnsmessage.CNAMEResource{CNAME: name("edge.example.net.")}}}
	for i := 0; i < 4; i++ {
		answers = append(answers, dnsmessage.Resource{Header: rh("edge.example.net.", dnsmessage.TypeA),
			Body: &dnsmessage.AResource{A: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).As4()}})
	}
	msg := respMsg(b, 1, n, dnsmessage.TypeA, answers...)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if m := decode(msg); m.err != nil {
			b.Fatal(m.err)
		}
	}
}

// BenchmarkCaptures replays every dns connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return NewDetector() })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return NewDetector() })
}
