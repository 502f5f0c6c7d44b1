package imap

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// maxSeed leaves the largest conversations out of the seeds.
const maxSeed = 16 << 10

// fuzzLimit is the message cap the fuzz target runs with, small so that
// the memory bound is tight.
const fuzzLimit = 4096

// FuzzIMAP feeds arbitrary client and server bytes, interleaved and cut at
// points derived from cuts, with occasional gaps, and checks that nothing
// panics, that the parser never holds more than its documented bound, that
// it holds nothing after EndProcess, and that every event encodes. Seeds:
// every scripted conversation (testdata/fuzz/FuzzIMAP holds more).
func FuzzIMAP(f *testing.F) {
	for i, c := range conversations {
		cli, srv := parsertest.Sides(c.segs)
		if len(cli)+len(srv) > maxSeed {
			continue // long-line conversations: slow to mutate and minimise
		}
		f.Add(cli, srv, uint64(i)*0x9e3779b97f4a7c15)
	}
	f.Fuzz(fuzzOne)
}

// fuzzOne is one run of FuzzIMAP.
func fuzzOne(t *testing.T, client, server []byte, cuts uint64) {
	c := parsertest.Conn(143)
	c.MidStream = cuts&1 != 0
	d := Detector{}
	d.IsRelative(c, parser.ClientToServer, client)
	d.IsRelative(c, parser.ServerToClient, server)

	env := parsertest.NewEnv()
	env.Opts.MaxArtifactBytes = fuzzLimit
	env.Opts.RecordPasswords = cuts&2 != 0
	p := d.New(c, env).(*conn)
	bound := memoryBound(fuzzLimit)
	ts := c.Start
	parsertest.Interleave(p, client, server, cuts, ts, func() {
		if b := p.buffered(); b > bound {
			t.Fatalf("parser holds %d bytes; bound %d", b, bound)
		}
	})
	p.EndProcess(parser.EndClosed, ts)
	p.EndProcess(parser.EndClosed, ts) // a second call must be harmless
	if b := p.buffered(); b != 0 {
		t.Fatalf("parser holds %d bytes after EndProcess", b)
	}
	parsertest.CheckEvents(t, env.Events, Name, mailproto.MaxAnomalies+mailAnomalyRoom)
}

// mailAnomalyRoom: a message event adds the restore's own findings
// (bounded by irs/mail) to the parser's.
const mailAnomalyRoom = 64
