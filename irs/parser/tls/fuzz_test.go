package tls

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzTLS feeds the input as stream segments in alternating directions
// (each prefixed by its length byte), after a valid record start: no
// input may panic, and the connection ends in one tls-session event.
func FuzzTLS(f *testing.F) {
	f.Add([]byte("\x09\x16\x03\x01\x00\x30\x01\x00\x00\x2c"), false)
	f.Add([]byte("\x05\x16\x03\x03\x00\x04\x04\x02\x00\x00\x00"), true)
	f.Fuzz(func(t *testing.T, b []byte, rnd bool) {
		var segs []parsertest.Segment
		for i := 0; len(b) > 0; i++ {
			n := min(int(b[0]), len(b)-1)
			if n > 0 {
				segs = append(segs, parsertest.Segment{Dir: parser.Direction(i & 1), Data: b[1 : 1+n]})
			}
			b = b[1+n:]
		}
		for _, s := range segs {
			Detector{}.IsRelative(tcpConn(443), s.Dir, s.Data)
		}
		split := parsertest.Whole
		if rnd {
			split = parsertest.Random
		}
		_, evs := parsertest.Run(Detector{}, tcpConn(443), segs, split, 1)
		if len(evs) < 1 || evs[0].Type != TypeSession {
			t.Fatalf("%d events", len(evs))
		}
	})
}
