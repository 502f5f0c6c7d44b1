package openvpn

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzOpenVPN feeds the input as length-prefixed datagrams (UDP) or as
// a stream (TCP), both directions: nothing may panic, and a flow ends in
// exactly one event.
func FuzzOpenVPN(f *testing.F) {
	f.Add(append([]byte{14}, ctl(7, csid, nil, nil, 0, "")...), false)
	f.Add(tcpFrame(ctl(7, csid, nil, nil, 0, "")), true)
	f.Fuzz(func(t *testing.T, b []byte, tcp bool) {
		tr := parser.UDP
		if tcp {
			tr = parser.TCP
		}
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
			d.IsRelative(testConn(tr, 1), s.Dir, s.Data)
		}
		_, evs := parsertest.Run(d, testConn(tr, 1), segs, parsertest.Random, 1)
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
	})
}
