package pptp

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// FuzzPPTP feeds the input as a control stream (random splits) and as
// GRE packets through one detector: nothing may panic.
func FuzzPPTP(f *testing.F) {
	f.Add(append(ctrl(1, sccr(false, "a", "b")), ctrl(8, ocrp(1, 2))...), []byte{8}, gre(1, true, pppCtl(pppPAP, 1, []byte{1, 'u', 0})))
	f.Fuzz(func(t *testing.T, stream, cuts, pkt []byte) {
		d := NewDetector()
		d.IsRelative(ctrlConn(), 0, stream)
		var segs []parsertest.Segment
		for i := 0; len(stream) > 0; i++ {
			n := len(stream)
			if i < len(cuts) && int(cuts[i]) > 0 {
				n = min(n, int(cuts[i]))
			}
			segs = append(segs, parsertest.Segment{Dir: parser.Direction(i & 1), Data: stream[:n]})
			stream = stream[n:]
		}
		gp := d.New(greConn(), parsertest.NewEnv())
		d.IsRelative(greConn(), 0, pkt)
		gp.ProcessPacket(0, pkt, t0)
		_, evs := parsertest.Run(d, ctrlConn(), segs, parsertest.Whole, 0)
		gp.EndProcess(parser.EndShutdown, t0)
		_ = evs
	})
}
