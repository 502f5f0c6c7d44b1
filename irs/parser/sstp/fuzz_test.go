package sstp

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzSSTP feeds length-prefixed stream segments in alternating
// directions after the SSTP request and response: nothing may panic and
// the connection ends in one event.
func FuzzSSTP(f *testing.F) {
	f.Add(ctl(1, attr(1, []byte{0, 1})), uint8(3))
	f.Add(data(pppCtl(0xc023, 1, []byte{3, 'b', 'o', 'b', 0})), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		segs := []parsertest.Segment{parsertest.C(request), parsertest.S(response)}
		for i := 0; len(b) > 0; i++ {
			n := len(b)
			if cut > 0 {
				n = min(n, int(cut))
			}
			segs = append(segs, parsertest.Segment{Dir: parser.Direction(i & 1), Data: b[:n]})
			(Detector{}).IsRelative(tcp(443), 0, b[:n])
			b = b[n:]
		}
		_, evs := parsertest.Run(Detector{}, tcp(443), segs, parsertest.Random, 2)
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
	})
}
