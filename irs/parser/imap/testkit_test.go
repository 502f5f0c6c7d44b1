package imap

import (
	"encoding/base64"
	"math/rand"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// C, S and G build conversation segments: client bytes, server bytes and
// a gap.
var (
	C = parsertest.C
	S = parsertest.S
)

func Gap(dir parser.Direction, n int) parsertest.Segment {
	return parsertest.Segment{Dir: dir, Gap: n}
}

// runOpts feeds a conversation like parsertest.Run, with operator
// options of the test's choosing.
func runOpts(c *parser.Conn, segs []parsertest.Segment, split parsertest.Split, seed int64, opts *parser.Options) (*parsertest.Env, []*event.Event, *conn) {
	env := parsertest.NewEnv()
	if opts != nil {
		env.Opts = *opts
	}
	p := Detector{}.New(c, env).(*conn)
	ts := c.Start
	rng := rand.New(rand.NewSource(seed))
	for i, s := range segs {
		segTS := ts.Add(time.Duration(i) * time.Millisecond)
		if !p.IsContinue() {
			break
		}
		if s.Gap != 0 {
			p.Gap(s.Dir, s.Gap, segTS)
			continue
		}
		data := s.Data
		for len(data) > 0 && p.IsContinue() {
			n := len(data)
			switch split {
			case parsertest.Bytes:
				n = 1
			case parsertest.Random:
				n = 1 + rng.Intn(len(data))
			}
			p.ProcessPacket(s.Dir, data[:n], segTS)
			data = data[n:]
		}
	}
	end := ts.Add(time.Duration(len(segs)) * time.Millisecond)
	reason := parser.EndClosed
	if !p.IsContinue() {
		reason = parser.EndDone
	}
	p.EndProcess(reason, end)
	return env, env.Events, p
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// The event assertions shared by every parser's tests.
var (
	byType      = parsertest.ByType
	want        = parsertest.Want
	hasAnomaly  = parsertest.HasAnomaly
	wantAnomaly = parsertest.WantAnomaly
	eml         = parsertest.EML
	hasAddress  = parsertest.HasAddress
	attachment  = parsertest.Attachment
	one         = parsertest.One
	types       = parsertest.Types
	byRole      = parsertest.ByRole
	stored      = parsertest.Stored
	fileKeys    = parsertest.FileKeys
)
