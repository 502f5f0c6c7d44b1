package ftp

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// BenchmarkCaptures replays every ftp connection of the shared captures
// (the mix bench/mkmixed repeats) through a fresh detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return NewDetector() })
}

// BenchmarkCapturesIsRelative asks IsRelative every question the
// pipeline asked over the shared captures.
func BenchmarkCapturesIsRelative(b *testing.B) {
	golden.BenchProbes(b, func() parser.Detector { return NewDetector() })
}
