package parsertest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
)

// tape records what a parser is given.
type tape struct {
	got  [2][]byte // bytes given, per direction; gaps as '#'
	log  []string
	stop int // stop wanting data after this many calls (0: never)
}

func (p *tape) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	p.got[dir] = append(p.got[dir], data...)
	p.log = append(p.log, fmt.Sprint(dir, len(data)))
}
func (p *tape) Gap(dir parser.Direction, n int, ts time.Time) {
	p.got[dir] = append(p.got[dir], bytes.Repeat([]byte{'#'}, n)...)
	p.log = append(p.log, fmt.Sprint("gap", dir, n))
}
func (p *tape) IsContinue() bool                       { return p.stop == 0 || len(p.log) < p.stop }
func (p *tape) EndProcess(parser.EndReason, time.Time) {}

func TestInterleave(t *testing.T) {
	client := bytes.Repeat([]byte("c"), 50_000)
	server := bytes.Repeat([]byte("s"), 70_000)
	cli, srv := Sides([]Segment{C("ab"), S("xy"), C("cd"), S("z")})
	if string(cli) != "abcd" || string(srv) != "xyz" {
		t.Fatalf("Sides = %q, %q", cli, srv)
	}
	var a, b tape
	checks := 0
	Interleave(&a, client, server, 42, time.Unix(0, 0), func() { checks++ })
	Interleave(&b, client, server, 42, time.Unix(0, 0), nil)
	if fmt.Sprint(a.log) != fmt.Sprint(b.log) {
		t.Error("the same cuts fed differently")
	}
	if checks != len(a.log) {
		t.Errorf("after ran %d times for %d pieces", checks, len(a.log))
	}
	gaps := 0
	for d, want := range [][]byte{client, server} {
		got := a.got[d]
		if len(got) != len(want) {
			t.Fatalf("direction %d: %d bytes given or reported missing, want %d", d, len(got), len(want))
		}
		gaps += bytes.Count(got, []byte("#"))
		if bytes.Count(got, want[:1])+bytes.Count(got, []byte("#")) != len(want) {
			t.Errorf("direction %d: bytes of the other side or out of place", d)
		}
	}
	if gaps == 0 || len(a.log) < 100 {
		t.Errorf("%d pieces, %d gap bytes: want many pieces and some gaps", len(a.log), gaps)
	}
	stopped := tape{stop: 3}
	Interleave(&stopped, client, server, 42, time.Unix(0, 0), nil)
	if len(stopped.log) != 3 {
		t.Errorf("fed %d pieces to a parser that stopped after 3", len(stopped.log))
	}
}

// holder is a parser that holds what it is given, up to keep bytes, and
// lets go of it at EndProcess unless leak.
type holder struct {
	tape
	held, keep int
	leak       bool
}

func (p *holder) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	p.held = min(p.held+len(data), p.keep)
}
func (p *holder) EndProcess(parser.EndReason, time.Time) {
	if !p.leak {
		p.held = 0
	}
}

type holderDetector struct {
	keep int
	leak bool
}

func (holderDetector) Name() string                   { return "holder" }
func (holderDetector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }
func (holderDetector) IsRelative(*parser.Conn, parser.Direction, []byte) parser.Verdict {
	return parser.Yes
}
func (d holderDetector) New(*parser.Conn, parser.Env) parser.Parser {
	return &holder{keep: d.keep, leak: d.leak}
}

// fatalTB records a failure and stops the run, as t.Fatalf would.
type fatalTB struct {
	testing.TB
	msg string
}

type stopRun struct{}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(stopRun{})
}
func (f *fatalTB) Errorf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

// TestFuzzTarget: a run fails for a parser that holds more than its
// bound or anything after EndProcess, and passes for one that does not.
func TestFuzzTarget(t *testing.T) {
	client, server := bytes.Repeat([]byte("c"), 5000), bytes.Repeat([]byte("s"), 5000)
	for _, c := range []struct {
		name string
		det  holderDetector
		want string // in the failure; "" for none
	}{
		{"within its bound", holderDetector{keep: 100}, ""},
		{"over its bound", holderDetector{keep: 10_000}, "bound 1000"},
		{"holding after EndProcess", holderDetector{keep: 100, leak: true}, "after EndProcess"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := &fatalTB{TB: t}
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(stopRun); !ok {
							panic(r)
						}
					}
				}()
				FuzzTarget{Port: 9, Detector: c.det, Limit: 1 << 20, Bound: 1000,
					Held:     func(p parser.Parser) int { return p.(*holder).held },
					Protocol: "holder", MaxAnomalies: 8}.Run(tb, client, server, 7)
			}()
			if c.want == "" && tb.msg != "" || c.want != "" && !strings.Contains(tb.msg, c.want) {
				t.Errorf("failure %q, want one containing %q", tb.msg, c.want)
			}
		})
	}
}
