package parsertest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Sides joins a conversation's bytes per direction: the client and
// server inputs of a fuzz seed.
func Sides(segs []Segment) (client, server []byte) {
	for _, s := range segs {
		if s.Dir == parser.ClientToServer {
			client = append(client, s.Data...)
		} else {
			server = append(server, s.Data...)
		}
	}
	return client, server
}

// Interleave feeds client and server bytes to p while it wants data, in
// pieces of 1 to 700 bytes whose direction and size, and the occasional
// gap (one piece in 97 is reported missing instead of given), are drawn
// from cuts: the same cuts always give the same feeding. after runs
// after every piece (a fuzz target checks the parser's bounds there).
func Interleave(p parser.Parser, client, server []byte, cuts uint64, ts time.Time, after func()) {
	rng := cuts | 1
	for (len(client) > 0 || len(server) > 0) && p.IsContinue() {
		rng = rng*6364136223846793005 + 1442695040888963407
		n := int(rng>>33)%700 + 1
		dir, src := parser.ClientToServer, &client
		if (rng>>17)&1 == 1 && len(server) > 0 || len(client) == 0 {
			dir, src = parser.ServerToClient, &server
		}
		n = min(n, len(*src))
		if (rng>>45)%97 == 0 {
			p.Gap(dir, n, ts)
		} else {
			p.ProcessPacket(dir, (*src)[:n], ts)
		}
		*src = (*src)[n:]
		if after != nil {
			after()
		}
	}
}

// CheckEvents fails t unless every event names protocol, lists at most
// maxAnomalies anomalies and encodes as JSON.
func CheckEvents(t testing.TB, evs []*event.Event, protocol string, maxAnomalies int) {
	t.Helper()
	for _, ev := range evs {
		if ev.Protocol != protocol {
			t.Fatalf("event protocol %q, want %q", ev.Protocol, protocol)
		}
		if len(ev.Anomalies) > maxAnomalies {
			t.Fatalf("%d anomalies in one event, at most %d", len(ev.Anomalies), maxAnomalies)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("event does not encode: %v", err)
		}
	}
}

// FuzzTarget describes the fuzz target of a TCP parser whose memory is
// bounded: Run is one run of it.
type FuzzTarget struct {
	Port     uint16          // the connection's server port
	Detector parser.Detector // judges the two sides, then makes the parser
	// Limit is Options.MaxArtifactBytes; Bound the most bytes the
	// parser may hold with it; Held reports what the parser holds.
	Limit, Bound int
	Held         func(parser.Parser) int
	// Protocol and MaxAnomalies are what CheckEvents checks.
	Protocol     string
	MaxAnomalies int
}

// Run feeds the fuzzer's client and server bytes to a new parser,
// interleaved and cut at points derived from cuts (bit 0: the capture
// began mid-stream; bit 1: passwords are recorded), and checks that it
// never holds more than Bound, that a second EndProcess is harmless,
// that it holds nothing after EndProcess, and that every event encodes.
func (ft FuzzTarget) Run(t testing.TB, client, server []byte, cuts uint64) {
	t.Helper()
	c := Conn(ft.Port)
	c.MidStream = cuts&1 != 0
	ft.Detector.IsRelative(c, parser.ClientToServer, client)
	ft.Detector.IsRelative(c, parser.ServerToClient, server)
	env := NewEnv()
	env.Opts.MaxArtifactBytes = ft.Limit
	env.Opts.RecordPasswords = cuts&2 != 0
	p := ft.Detector.New(c, env)
	ts := c.Start
	Interleave(p, client, server, cuts, ts, func() {
		if b := ft.Held(p); b > ft.Bound {
			t.Fatalf("parser holds %d bytes; bound %d", b, ft.Bound)
		}
	})
	reason := parser.EndClosed
	if !p.IsContinue() {
		reason = parser.EndDone
	}
	p.EndProcess(reason, ts)
	p.EndProcess(reason, ts) // a second call must be harmless
	if b := ft.Held(p); b != 0 {
		t.Fatalf("parser holds %d bytes after EndProcess", b)
	}
	CheckEvents(t, env.Events, ft.Protocol, ft.MaxAnomalies)
}
