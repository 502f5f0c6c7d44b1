package smtp

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// fuzzLimit is the message cap the fuzz target runs with, small so that
// the memory bound is tight.
const fuzzLimit = 4096

// FuzzSMTP feeds arbitrary client and server bytes, interleaved and cut
// at points derived from cuts, with occasional gaps, and checks that
// nothing panics, that the parser never holds more than its documented
// bound, that it holds nothing after EndProcess, and that every event
// encodes.
func FuzzSMTP(f *testing.F) {
	for i, c := range conversations {
		cli, srv := parsertest.Sides(c.segs)
		f.Add(cli, srv, uint64(i)*0x9e3779b97f4a7c15)
	}
	f.Fuzz(fuzzOne)
}

// fuzzOne is one run of FuzzSMTP.
func fuzzOne(t *testing.T, client, server []byte, cuts uint64) {
	parsertest.FuzzTarget{
		Port: 25, Detector: Detector{}, Limit: fuzzLimit, Bound: memoryBound(fuzzLimit),
		Held:     func(p parser.Parser) int { return p.(*conn).buffered() },
		Protocol: Name, MaxAnomalies: parser.MaxAnomalies + mailAnomalyRoom,
	}.Run(t, client, server, cuts)
}

// mailAnomalyRoom: an email-send event adds the restore's own findings
// (bounded by irs/mail) to the parser's.
const mailAnomalyRoom = 64
