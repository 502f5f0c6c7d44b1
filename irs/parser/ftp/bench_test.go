package ftp

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// BenchmarkCaptures replays every ftp connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	rec := golden.Record(b, NewDetector())
	env := parsertest.NewDiscard()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.Replay(NewDetector(), env)
	}
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	rec := golden.Record(b, NewDetector())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.ReplayProbes(NewDetector())
	}
}
