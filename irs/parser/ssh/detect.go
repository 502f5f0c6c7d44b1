package ssh

import (
	"bytes"

	"github.com/sdnli/sdnli/irs/parser"
)

// maxPreBanner is how much text a server may send before its version
// line (RFC 4253 §4.2 allows other lines first) while detection waits.
const maxPreBanner = 1024

// IsRelative recognises SSH by a version line "SSH-<proto>-" from either
// side, whichever speaks first. A server may precede its version line
// with other text lines; on port 22 the detector waits for them, on other
// ports it waits only while the text could still be such a preamble of
// a server that speaks first.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) == 0 {
		return parser.NeedMore
	}
	switch bannerShape(data) {
	case shapeNeedMore:
		return parser.NeedMore
	case shapeBanner:
		if c != nil && c.MidStream && dir == parser.ClientToServer && c.Client.Port() == 22 && c.Server.Port() != 22 {
			// Mid-stream capture that guessed the sides wrong.
			return parser.YesReversed
		}
		return parser.Yes
	}
	// Text lines before a server's version line.
	if dir == parser.ServerToClient && c != nil && (c.Server.Port() == 22 || c.Client.Port() == 22) && len(data) < maxPreBanner && textLines(data) {
		if i := bytes.Index(data, []byte("\nSSH-")); i >= 0 {
			if bannerShape(data[i+1:]) == shapeBanner {
				return parser.Yes
			}
		}
		return parser.NeedMore
	}
	return parser.No
}

type shape uint8

const (
	shapeNo shape = iota
	shapeNeedMore
	shapeBanner
)

// bannerShape checks "SSH-" digits "." digits "-" at the start of data.
func bannerShape(d []byte) shape {
	const pfx = "SSH-"
	for i := 0; i < len(pfx); i++ {
		if i >= len(d) {
			return shapeNeedMore
		}
		if d[i] != pfx[i] {
			return shapeNo
		}
	}
	i := len(pfx)
	digits := func() (int, bool) { // count, reached end of data
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' && n < 4 {
			i++
			n++
		}
		return n, i >= len(d)
	}
	n, end := digits()
	if end {
		return shapeNeedMore
	}
	if n == 0 || d[i] != '.' {
		return shapeNo
	}
	i++
	n, end = digits()
	if end {
		return shapeNeedMore
	}
	if n == 0 || d[i] != '-' {
		return shapeNo
	}
	return shapeBanner
}

// textLines reports whether d looks like lines of printable text.
func textLines(d []byte) bool {
	for _, c := range d {
		if c < 0x20 && c != '\r' && c != '\n' && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}
