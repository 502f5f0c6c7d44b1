package tunnel

import (
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/parser"
)

// BenchmarkCaptures replays every flow of each tunnel detector in the
// shared captures (the mix bench/mkmixed repeats) through a fresh one.
func BenchmarkCaptures(b *testing.B) {
	for _, det := range []func() parser.Detector{
		func() parser.Detector { return GRE{} },
		func() parser.Detector { return IPIP{} },
		func() parser.Detector { return SixInFour{} },
		func() parser.Detector { return Teredo{} },
	} {
		b.Run(det().Name(), func(b *testing.B) { golden.BenchCaptures(b, det) })
	}
}
