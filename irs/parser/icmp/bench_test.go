package icmp

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// BenchmarkCaptures replays every icmp connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	rec := golden.Record(b, Detector{})
	env := parsertest.NewDiscard()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.Replay(Detector{}, env)
	}
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	rec := golden.Record(b, Detector{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.ReplayProbes(Detector{})
	}
}
