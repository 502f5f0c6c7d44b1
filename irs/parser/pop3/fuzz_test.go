package pop3

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// maxSeed leaves the largest conversations out of the seeds.
const maxSeed = 16 << 10

// fuzzLimit is the message cap the fuzz target runs with, small so that
// the memory bound is tight.
const fuzzLimit = 4096

// FuzzPOP3 feeds arbitrary client and server bytes, interleaved and cut at
// points derived from cuts, with occasional gaps, and checks that nothing
// panics, that the parser never holds more than its documented bound, and
// that every event encodes. Seeds: every scripted conversation
// (testdata/fuzz/FuzzPOP3 holds more).
func FuzzPOP3(f *testing.F) {
	for i, c := range conversations {
		cli, srv := parsertest.Sides(c.segs)
		if len(cli)+len(srv) > maxSeed {
			continue // long-line conversations: slow to mutate and minimise
		}
		f.Add(cli, srv, uint64(i)*0x9e3779b97f4a7c15)
	}
	f.Fuzz(fuzzOne)
}

// fuzzOne is one run of FuzzPOP3.
func fuzzOne(t *testing.T, client, server []byte, cuts uint64) {
	parsertest.FuzzTarget{
		Port: 110, Detector: Detector{}, Limit: fuzzLimit, Bound: memoryBound(fuzzLimit),
		Held:     func(p parser.Parser) int { return p.(*conn).buffered() },
		Protocol: Name, MaxAnomalies: parser.MaxAnomalies + mailAnomalyRoom,
	}.Run(t, client, server, cuts)
}

// mailAnomalyRoom: a download event adds the restore's own findings
// (bounded by irs/mail) to the parser's.
const mailAnomalyRoom = 64
