package mailproto

import (
	"bytes"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/parser"
)

// Shape is what the first line of a direction looks like to a mail
// protocol's detector.
type Shape uint8

const (
	ShapeNone        Shape = iota // nothing like the protocol
	ShapeForeign                  // another protocol, recognised: turned down
	ShapeNeedMore                 // too short to tell
	ShapeServer                   // a server line only this protocol sends
	ShapeServerVague              // a server line others could send too
	ShapeClient                   // a client line only this protocol sends
	ShapeClientVague              // a client line others share
	ShapeText                     // printable text: perhaps message data mid-session
)

// FirstLine is the first line of data without its end, at most max
// bytes; complete says whether more data could not change it (its end
// was seen, or it was cut at max).
func FirstLine(data []byte, max int) (line []byte, complete bool) {
	line = data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, complete = line[:i], true
	}
	if len(line) > max {
		line, complete = line[:max], true
	}
	return bytes.TrimSuffix(line, []byte("\r")), complete
}

// Verdict turns the shape of one direction's first bytes into the
// detector's answer: a server or client shape in the direction where it
// belongs is Yes, in the other one YesReversed (a capture that began
// mid-session guessed the sides wrong). Vague shapes are taken only on
// the protocol's ports (hint); otherwise, like unrecognised bytes on
// those ports (message data mid-session, a client that talks before the
// greeting), they leave the decision to the other direction.
func Verdict(sh Shape, hint bool, dir parser.Direction) parser.Verdict {
	as := func(server bool) parser.Verdict {
		if server == (dir == parser.ServerToClient) {
			return parser.Yes
		}
		return parser.YesReversed
	}
	switch sh {
	case ShapeNeedMore:
		return parser.NeedMore
	case ShapeServer:
		return as(true)
	case ShapeClient:
		return as(false)
	case ShapeServerVague:
		if hint {
			return as(true)
		}
		return parser.NeedMore
	case ShapeClientVague:
		if hint {
			return as(false)
		}
		return parser.NeedMore
	case ShapeNone, ShapeText:
		if hint {
			return parser.NeedMore
		}
	}
	return parser.No
}

// Commands is a detector's table of client commands: Strong ones only
// this protocol sends, Vague ones that others share. The lists are line
// prefixes ("MAIL FROM:", "USER "); the Words lists are whole lines, a
// command without arguments ("QUIT").
type Commands struct {
	Strong, StrongWords, Vague, VagueWords []string
}

// Shape classifies a client's first line by the table, ignoring case:
// ShapeClient, ShapeClientVague, ShapeNeedMore while an incomplete line
// could still become one of them, else ShapeNone.
func (c *Commands) Shape(line []byte, complete bool) Shape {
	for _, k := range c.Strong {
		if ascii.HasPrefixFold(line, k) {
			return ShapeClient
		}
	}
	for _, k := range c.Vague {
		if ascii.HasPrefixFold(line, k) {
			return ShapeClientVague
		}
	}
	if complete {
		for _, k := range c.StrongWords {
			if ascii.EqualFold(line, k) {
				return ShapeClient
			}
		}
		for _, k := range c.VagueWords {
			if ascii.EqualFold(line, k) {
				return ShapeClientVague
			}
		}
		return ShapeNone
	}
	for _, list := range [][]string{c.Strong, c.Vague, c.StrongWords, c.VagueWords} {
		for _, k := range list {
			if len(line) <= len(k) && ascii.HasPrefixFold(k, line) {
				return ShapeNeedMore
			}
		}
	}
	return ShapeNone
}
