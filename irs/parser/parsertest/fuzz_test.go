package parsertest

import (
	"bytes"
	"fmt"
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
