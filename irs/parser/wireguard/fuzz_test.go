package wireguard

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzWireGuard cuts the input into datagrams (each prefixed by its
// length byte) in alternating directions: no input may panic the
// detector or the parser, and every flow ends in exactly one event.
func FuzzWireGuard(f *testing.F) {
	f.Add(append([]byte{148}, msg(1, 148, 1)...))
	f.Add(append(append([]byte{92}, msg(2, 92, 2, 1)...), append([]byte{48}, data(1, 0, 16)...)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDetector()
		var segs []parsertest.Segment
		for i := 0; len(b) > 0; i++ {
			n := min(int(b[0]), len(b)-1)
			if n > 0 {
				segs = append(segs, parsertest.Segment{Dir: parser.Direction(i & 1), Data: b[1 : 1+n]})
			}
			b = b[1+n:]
		}
		for _, s := range segs {
			d.IsRelative(udpConn(1), s.Dir, s.Data)
		}
		_, evs := parsertest.Run(d, udpConn(1), segs, parsertest.Whole, 0)
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
	})
}
