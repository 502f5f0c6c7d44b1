package tunnel

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzTunnel feeds one packet to every tunnel detector and parser:
// nothing may panic and each parser ends in one event.
func FuzzTunnel(f *testing.F) {
	f.Add(append([]byte{0x30, 0, 8, 0, 0, 0, 0, 7, 0, 0, 0, 1}, ip4...))
	f.Add(ip6("2001:0:4137:9e50:8000:f12a:b9c8:2815", "2001:db8::2", 59, 0))
	f.Add(append([]byte{0, 1, 2, 2, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ip6("2001:db8::1", "2001:db8::2", 59, 0)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, tc := range []struct {
			d parser.Detector
			c *parser.Conn
		}{{GRE{}, conn(parser.GRE, 0, 0)}, {IPIP{}, conn(parser.IPinIP, 0, 0)}, {SixInFour{}, conn(parser.IPinIP, 0, 0)}, {Teredo{}, conn(parser.UDP, 1, 3544)}} {
			tc.d.IsRelative(tc.c, 0, b)
			segs := []parsertest.Segment{{Dir: 0, Data: b}, {Dir: 1, Data: b}}
			if len(b) == 0 {
				segs = nil
			}
			_, evs := parsertest.Run(tc.d, tc.c, segs, parsertest.Whole, 0)
			if len(evs) != 1 {
				t.Fatalf("%s: %d events", tc.d.Name(), len(evs))
			}
		}
	})
}
