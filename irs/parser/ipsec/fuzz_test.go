package ipsec

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzIKE feeds length-prefixed datagrams on UDP 4500 (IKE behind the
// non-ESP marker, ESP, keepalives) and as ESP: nothing may panic and a
// flow ends in one event.
func FuzzIKE(f *testing.F) {
	init := ikeV2Init(false, [][2]int{{1, 12}, {2, 5}, {3, 12}, {4, 14}})
	f.Add(append([]byte{byte(len(init))}, init...), false)
	f.Add(append([]byte{40}, esp(5000, 1)...), true)
	f.Fuzz(func(t *testing.T, b []byte, espProto bool) {
		c := udp(4500, 4500)
		if espProto {
			c.Transport = parser.ESP
		}
		var segs []parsertest.Segment
		for i := 0; len(b) > 0; i++ {
			n := min(int(b[0]), len(b)-1)
			if n > 0 {
				segs = append(segs, parsertest.Segment{Dir: parser.Direction(i & 1), Data: b[1 : 1+n]})
			}
			b = b[1+n:]
		}
		d := NewDetector()
		for _, s := range segs {
			d.IsRelative(c, s.Dir, s.Data)
			d.IsRelative(c, s.Dir, append([]byte{0, 0, 0, 0}, s.Data...))
		}
		_, evs := parsertest.Run(d, c, segs, parsertest.Whole, 0)
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
	})
}
