package icmp

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzICMP cuts the input into messages (each prefixed by its length
// byte) and feeds them in alternating directions over IPv4 or IPv6: no
// input may panic, and every message must end up in some event.
func FuzzICMP(f *testing.F) {
	f.Add([]byte{8, 8, 0, 0, 0, 1, 0, 1, 9, 9, 8, 0, 0, 0, 0, 1, 0, 1, 0}, false)
	f.Add(append([]byte{60, 3, 3, 0, 0, 0, 0, 0, 0}, udpHeader4("10.0.0.1", "10.0.0.2", 5, 53)...), false)
	f.Add(append([]byte{80, 2, 0, 0, 0, 0, 0, 5, 0}, tcpHeader6WithHopByHop("2001:db8::1", "2001:db8::2", 1, 2)...), true)
	f.Add([]byte{2, 165, 0, 0, 3, 128, 0}, true)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		c := conn4()
		if v6 {
			c = conn6()
		}
		var segs []parsertest.Segment
		for i := 0; len(b) > 0; i++ {
			n := min(int(b[0]), len(b)-1)
			if n > 0 { // the driver skips empty segments
				segs = append(segs, parsertest.Segment{Dir: parser.Direction(i & 1), Data: b[1 : 1+n]})
			}
			b = b[1+n:]
		}
		for _, s := range segs {
			Detector{}.IsRelative(c, s.Dir, s.Data)
		}
		_, evs := parsertest.Run(Detector{}, c, segs, parsertest.Whole, 0)
		if len(segs) > 0 && len(evs) == 0 {
			t.Fatalf("%d messages left no event", len(segs))
		}
	})
}
