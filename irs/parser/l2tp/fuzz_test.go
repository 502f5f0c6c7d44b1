package l2tp

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzL2TP feeds length-prefixed datagrams in alternating directions:
// nothing may panic and the flow ends in one event.
func FuzzL2TP(f *testing.F) {
	c := ctl(0, msg(1), avp(true, false, 7, []byte("h")))
	f.Add(append([]byte{byte(len(c))}, c...))
	f.Add(append([]byte{8}, data(1, 2, "\xff\x03\xc0\x21")...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var segs []parsertest.Segment
		for i := 0; len(b) > 0; i++ {
			n := min(int(b[0]), len(b)-1)
			if n > 0 {
				segs = append(segs, parsertest.Segment{Dir: parser.Direction(i & 1), Data: b[1 : 1+n]})
			}
			b = b[1+n:]
		}
		for _, s := range segs {
			Detector{}.IsRelative(udp(1), s.Dir, s.Data)
		}
		_, evs := parsertest.Run(Detector{}, udp(1701), segs, parsertest.Whole, 0)
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
	})
}
