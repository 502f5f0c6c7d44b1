package smtp

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
	many := func(s string, n int) string { return strings.Repeat(s, n) }
	tests := []struct {
		name string
		mid  bool
		segs []parsertest.Segment
	}{
		{"endless line", false, []parsertest.Segment{C(many("A", 1<<20))}},
		{"endless reply line", false, []parsertest.Segment{S("250 " + many("x", 1<<20))}},
		{"endless multi-line reply", false, []parsertest.Segment{C("EHLO a\r\n"), S(many("250-"+many("e", 500)+"\r\n", 5000))}},
		{"held bytes after DATA without reply", false, []parsertest.Segment{C("DATA\r\n" + many("y", 1<<20))}},
		{"endless message", false, []parsertest.Segment{C("DATA\r\n"), S("354 go\r\n"), C(many("0123456789abcdef\r\n", 1<<16))}},
		{"endless message with loose ends", false, []parsertest.Segment{C("DATA\r\n"), S("354 go\r\n"), C(many("x\n.\r\nMAIL FROM:<a@b>\r\n", 1<<15))}},
		{"huge BDAT", false, []parsertest.Segment{C("BDAT 99999999999999 LAST\r\n" + many("z", 1<<20))}},
		{"many pipelined commands", false, []parsertest.Segment{C(many("RCPT TO:<a@b.example>\r\n", 20000))}},
		{"many messages awaiting replies", false, []parsertest.Segment{C(many("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 70000 LAST\r\n"+many("q", 70000), 8))}},
		{"mid-session junk", true, []parsertest.Segment{C(many("junk without end ", 1<<16))}},
		{"mid-session long lines", true, []parsertest.Segment{C(many(many("k", 5000)+"\r\n", 300))}},
		{"response injection", false, []parsertest.Segment{C("STARTTLS\r\n"), S("220 go\r\n" + many("250 inj\r\n", 1<<16))}},
		{"auth responses without replies", false, []parsertest.Segment{C("AUTH LOGIN\r\n" + many("dXNlcg==\r\n", 20000))}},
	}
	bound := memoryBound(limit)
	for _, tc := range tests {
		for _, step := range []int{1 << 12, 1447} {
			c := parsertest.Conn(25)
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
					if b := p.buffered(); b > peak {
						peak = b
					}
				}
			}
			if peak > bound {
				t.Errorf("%s (step %d): parser held %d bytes; bound %d", tc.name, step, peak, bound)
			}
			p.EndProcess(parser.EndClosed, c.Start)
			if b := p.buffered(); b != 0 {
				t.Errorf("%s (step %d): %d bytes held after EndProcess", tc.name, step, b)
			}
			if len(p.queue) > maxPending {
				t.Errorf("%s: %d commands queued; cap %d", tc.name, len(p.queue), maxPending)
			}
		}
	}
}

// TestNeverPanics runs malformed and truncated inputs through every
// state, including calls after EndProcess.
func TestNeverPanics(t *testing.T) {
	inputs := [][]byte{
		nil, {0}, []byte("\r\n\r\n\r\n"), []byte("\n.\n.\r\n.\r"), bytes.Repeat([]byte{0xff}, 100),
		[]byte("EHLO a\r\nAUTH PLAIN ab\r\nAUTH LOGIN x\r\n"),
		[]byte("AUTH PLAIN ===\r\nAUTH NTLM " + b64s("NTLMSSP\x00\x03\x00\x00\x00") + "\r\n"),
		[]byte("BDAT -1\r\nBDAT x LAST\r\nBDAT 1 FIRST\r\nBDAT\r\n"),
		[]byte("MAIL FROM:<\"unterminated\r\nRCPT TO:\r\nRCPT\r\nMAIL\r\n"),
	}
	for i, in := range inputs {
		for _, mid := range []bool{false, true} {
			c := parsertest.Conn(25)
			c.MidStream = mid
			env := parsertest.NewEnv()
			p := Detector{}.New(c, env)
			p.ProcessPacket(parser.ClientToServer, in, c.Start)
			p.ProcessPacket(parser.ServerToClient, in, c.Start)
			p.Gap(parser.ClientToServer, -1, c.Start)
			p.Gap(parser.ServerToClient, 5, c.Start)
			p.ProcessPacket(parser.ClientToServer, in, c.Start)
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
