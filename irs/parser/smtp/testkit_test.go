package smtp

import (
	"encoding/base64"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// C, S and Gap build conversation segments: client bytes, server bytes
// and a gap.
var (
	C   = parsertest.C
	S   = parsertest.S
	Gap = parsertest.Gap
)

// runOpts feeds a conversation like parsertest.Run, with operator
// options of the test's choosing.
func runOpts(c *parser.Conn, segs []parsertest.Segment, split parsertest.Split, seed int64, opts *parser.Options) (*parsertest.Env, []*event.Event, *conn) {
	env := parsertest.NewEnv()
	if opts != nil {
		env.Opts = *opts
	}
	p := Detector{}.New(c, env).(*conn)
	parsertest.Feed(p, c.Start, segs, split, seed)
	return env, env.Events, p
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// oneSend returns the only email-send event, failing the test otherwise.
func oneSend(t *testing.T, evs []*event.Event) *event.Event {
	t.Helper()
	s := byType(evs, TypeSend)
	if len(s) != 1 {
		t.Fatalf("events %s; want one email-send", types(evs))
	}
	return s[0]
}

// The event assertions shared by every parser's tests.
var (
	byType      = parsertest.ByType
	field       = parsertest.Field
	want        = parsertest.Want
	hasAnomaly  = parsertest.HasAnomaly
	wantAnomaly = parsertest.WantAnomaly
	eml         = parsertest.EML
	hasAddress  = parsertest.HasAddress
	attachment  = parsertest.Attachment
	sha         = parsertest.SHA256Hex
)
