package smtp

import (
	"encoding/json"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
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
		var cli, srv []byte
		for _, s := range c.segs {
			if s.Dir == parser.ClientToServer {
				cli = append(cli, s.Data...)
			} else {
				srv = append(srv, s.Data...)
			}
		}
		f.Add(cli, srv, uint64(i)*0x9e3779b97f4a7c15)
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cuts uint64) {
		c := parsertest.Conn(25)
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
		rng := cuts | 1
		for (len(client) > 0 || len(server) > 0) && p.IsContinue() {
			rng = rng*6364136223846793005 + 1442695040888963407
			n := int(rng>>33)%700 + 1
			dir := parser.ClientToServer
			src := &client
			if (rng>>17)&1 == 1 && len(server) > 0 || len(client) == 0 {
				dir, src = parser.ServerToClient, &server
			}
			if n > len(*src) {
				n = len(*src)
			}
			if (rng>>45)%97 == 0 {
				p.Gap(dir, n, ts)
			} else {
				p.ProcessPacket(dir, (*src)[:n], ts)
			}
			*src = (*src)[n:]
			if b := p.buffered(); b > bound {
				t.Fatalf("parser holds %d bytes; bound %d", b, bound)
			}
		}
		reason := parser.EndClosed
		if !p.IsContinue() {
			reason = parser.EndDone
		}
		p.EndProcess(reason, ts)
		p.EndProcess(reason, ts) // a second call must be harmless
		if b := p.buffered(); b != 0 {
			t.Fatalf("parser holds %d bytes after EndProcess", b)
		}
		for _, ev := range env.Events {
			if ev.Protocol != Name {
				t.Fatalf("event protocol %q", ev.Protocol)
			}
			if len(ev.Anomalies) > mailproto.MaxAnomalies+mailAnomalyRoom {
				t.Fatalf("%d anomalies in one event", len(ev.Anomalies))
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Fatalf("event does not encode: %v", err)
			}
		}
	})
}

// mailAnomalyRoom: an email-send event adds the restore's own findings
// (bounded by irs/mail) to the parser's.
const mailAnomalyRoom = 64
