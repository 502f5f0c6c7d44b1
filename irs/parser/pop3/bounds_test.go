package pop3

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// TestMemoryBounded feeds hostile streams in pieces and checks after every
// piece that the parser holds no more than memoryBound, and nothing after
// EndProcess.
func TestMemoryBounded(t *testing.T) {
	const limit = 1 << 16
	many := strings.Repeat
	tests := []struct {
		name string
		mid  bool
		segs []parsertest.Segment
	}{
		{"endless command line", false, []parsertest.Segment{C(many("A", 1<<20))}},
		{"endless status line", false, []parsertest.Segment{S("+OK " + many("x", 1<<20))}},
		{"endless capability list", false, []parsertest.Segment{C("CAPA\r\n"), S("+OK\r\n" + many(many("c", 500)+"\r\n", 5000))}},
		{"endless UIDL listing", false, []parsertest.Segment{C("UIDL\r\n"), S("+OK\r\n" + many("12345 "+many("u", 60)+"\r\n", 20000))}},
		{"endless message", false, []parsertest.Segment{C("RETR 1\r\n"), S("+OK\r\n" + many("0123456789abcdef\r\n", 1<<16))}},
		{"endless message line", false, []parsertest.Segment{C("TOP 1 5\r\n"), S("+OK\r\n" + many("z", 1<<20))}},
		{"held bytes after STLS without a response", false, []parsertest.Segment{C("STLS\r\n" + many("y", 1<<20))}},
		{"response injection", false, []parsertest.Segment{C("STLS\r\n"), S("+OK go\r\n" + many("+OK inj\r\n", 1<<16))}},
		{"many pipelined commands", false, []parsertest.Segment{C(many("NOOP\r\n", 20000))}},
		{"auth responses without a response", false, []parsertest.Segment{C("AUTH LOGIN\r\n" + many("dXNlcg==\r\n", 20000))}},
		{"mid-session junk", true, []parsertest.Segment{C(many("junk without end ", 1<<16)), S(many("more junk\r\n", 1<<16))}},
	}
	bound := memoryBound(limit)
	for _, tc := range tests {
		for _, step := range []int{1 << 12, 1447} {
			c := parsertest.Conn(110)
			c.MidStream = tc.mid
			env := parsertest.NewEnv()
			env.Opts.MaxArtifactBytes = limit
			p := Detector{}.New(c, env).(*conn)
			peak := 0
			for _, s := range tc.segs {
				for d := s.Data; len(d) > 0 && p.IsContinue(); {
					n := min(step, len(d))
					p.ProcessPacket(s.Dir, d[:n], c.Start)
					d = d[n:]
					peak = max(peak, p.buffered())
				}
			}
			if peak > bound {
				t.Errorf("%s (step %d): parser held %d bytes; bound %d", tc.name, step, peak, bound)
			}
			if len(p.queue) > maxPending || len(p.sess.log) > maxLog || len(p.sess.uids) > maxUIDs || len(p.sess.capa) > maxList {
				t.Errorf("%s: lists beyond their caps: %d queued, %d logged, %d uids, %d capabilities", tc.name, len(p.queue), len(p.sess.log), len(p.sess.uids), len(p.sess.capa))
			}
			p.EndProcess(parser.EndClosed, c.Start)
			if b := p.buffered(); b != 0 {
				t.Errorf("%s (step %d): %d bytes held after EndProcess", tc.name, step, b)
			}
			for _, ev := range env.Events {
				if len(ev.Anomalies) > parser.MaxAnomalies+1 {
					t.Errorf("%s: %d anomalies in one event", tc.name, len(ev.Anomalies))
				}
			}
		}
	}
}

// TestNeverPanics runs malformed and truncated inputs through every
// state, including calls after EndProcess.
func TestNeverPanics(t *testing.T) {
	inputs := [][]byte{
		nil, {0}, []byte("\r\n\r\n\r\n"), []byte("\n.\n.\r\n.\r"), bytes.Repeat([]byte{0xff}, 100),
		[]byte("AUTH PLAIN ===\r\nAUTH\r\nAUTH X Y Z\r\n+\r\n+ \r\n"),
		[]byte("TOP -1 x\r\nRETR\r\nLIST 99999999999999999\r\nUIDL a b\r\nDELE\r\n"),
		[]byte("+OK\r\n+OK 99999999999999999999 octets\r\n-ERR\r\n.\r\n"),
		[]byte("STLS\r\n+OK\r\n\x16\x03"),
	}
	for i, in := range inputs {
		for _, mid := range []bool{false, true} {
			c := parsertest.Conn(110)
			c.MidStream = mid
			env := parsertest.NewEnv()
			p := Detector{}.New(c, env)
			p.ProcessPacket(parser.ClientToServer, in, c.Start)
			p.ProcessPacket(parser.ServerToClient, in, c.Start)
			p.Gap(parser.ClientToServer, -1, c.Start)
			p.Gap(parser.ServerToClient, 5, c.Start)
			p.ProcessPacket(parser.ClientToServer, in, c.Start)
			p.ProcessPacket(parser.ServerToClient, in, c.Start)
			p.EndProcess(parser.EndIdle, c.Start)
			p.ProcessPacket(parser.ClientToServer, []byte("QUIT\r\n"), c.Start)
			p.Gap(parser.ClientToServer, 3, c.Start)
			p.EndProcess(parser.EndIdle, c.Start)
			if p.IsContinue() {
				t.Errorf("input %d: IsContinue after EndProcess", i)
			}
		}
	}
}
