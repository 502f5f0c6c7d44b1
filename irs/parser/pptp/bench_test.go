package pptp

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// BenchmarkCaptures replays every PPTP control connection and GRE flow of
// the shared captures (the mix bench/mkmixed repeats) through a fresh
// detector.
func BenchmarkCaptures(b *testing.B) {
	golden.BenchCaptures(b, func() parser.Detector { return NewDetector() })
}
