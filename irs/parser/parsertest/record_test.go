package parsertest

import (
	"strconv"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// echoDet is a toy protocol: every call becomes an event naming it.
type echoDet struct{}

func (echoDet) Name() string                   { return "echo" }
func (echoDet) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }
func (echoDet) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	return parser.Yes
}
func (echoDet) New(c *parser.Conn, env parser.Env) parser.Parser { return &echoParser{env: env} }

type echoParser struct{ env parser.Env }

func (p *echoParser) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	p.env.Emit(&event.Event{Type: "packet", Start: ts, Subject: dir.String() + " " + string(data)})
}
func (p *echoParser) Gap(dir parser.Direction, n int, ts time.Time) {
	p.env.Emit(&event.Event{Type: "gap", Start: ts, Subject: dir.String() + " " + strconv.Itoa(n)})
}
func (p *echoParser) IsContinue() bool { return true }
func (p *echoParser) EndProcess(r parser.EndReason, ts time.Time) {
	p.env.Emit(&event.Event{Type: "end", Start: ts, Subject: r.String()})
}

// TestRecordReplay: replaying a recorded conversation gives the parser
// the same calls, so the same events.
func TestRecordReplay(t *testing.T) {
	segs := []Segment{C("HELLO\r\n"), S("hi\r\n"), {Dir: parser.ServerToClient, Gap: 12}, C("BYE\r\n")}
	for _, split := range []Split{Whole, Bytes} {
		t.Run(strconv.Itoa(int(split)), func(t *testing.T) {
			rec := Record(echoDet{})
			if v := rec.IsRelative(Conn(7), parser.ClientToServer, []byte("HELLO")); v != parser.Yes {
				t.Fatalf("IsRelative = %v, want Yes", v)
			}
			_, want := Run(rec, Conn(7), segs, split, 1)
			if rec.Conns() != 1 {
				t.Fatalf("recorded %d connections, want 1", rec.Conns())
			}
			env := NewEnv()
			rec.Replay(echoDet{}, env)
			if got, w := Normalize(env.Events), Normalize(want); got != w {
				t.Errorf("replayed events differ:\ngot  %s\nwant %s", got, w)
			}
			rec.ReplayProbes(echoDet{})
			d := NewDiscard()
			rec.Replay(echoDet{}, d)
			if a, err := d.SaveArtifact(event.KindAttachment, "x", "text/plain", []byte("abc")); err != nil || a.Size != 3 {
				t.Errorf("Discard.SaveArtifact = %+v, %v; want size 3", a, err)
			}
		})
	}
}
