package mail

import (
	"bytes"

	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// DotDecoder undoes the dot-stuffing of an SMTP DATA body or a POP3
// multi-line response (RFC 5321 4.5.2, RFC 1939 3) as the bytes stream in,
// in pieces of any size, and finds the terminating <CRLF>.<CRLF>.
//
// The decoded message keeps line endings exactly as sent (CRLF, or bare
// LF from sloppy clients) and leaves out the terminating "." line; the
// CRLF before it belongs to the message's last line.
//
// Only <CRLF>.<CRLF> ends the data. A "." line delimited otherwise
// (<LF>.<CRLF>, <CRLF>.<LF>, <LF>.<LF>, <CR>.<CR><LF>, <CRLF>.<CR>...) is
// a "loose end": some servers end the data there, which is what SMTP
// smuggling exploits, so the decoder keeps it in the message, counts it,
// remembers where the first one was and keeps (bounded) the raw bytes
// that follow it, so that a parser that learns from the server's reply
// that the data ended there can cut the message and re-read the rest as
// commands.
//
// Memory is bounded: at most max decoded bytes and keepRaw raw bytes are
// kept; the rest is counted only.
type DotDecoder struct {
	max     int
	keepRaw int
	buf     []byte
	size    int64 // decoded bytes seen, kept or not
	st      dotState
	bol     bolKind
	lineLen int

	// Truncated: more than max decoded bytes; only the first max are kept.
	Truncated bool
	// NUL: the data held NUL bytes (forbidden in mail text).
	NUL bool
	// LongLine: a line was longer than 1000 octets (RFC 5321 4.5.3.1.6).
	LongLine bool
	// LooseEnds counts "." lines not delimited by CRLF on both sides.
	LooseEnds int

	looseAt     int64 // decoded offset where the data would end at the first loose end
	capturing   bool
	rawAfter    []byte
	rawOverflow bool
}

type dotState uint8

const (
	dsBOL   dotState = iota // at the start of a line
	dsMid                   // inside a line
	dsCR                    // inside a line, the last byte was CR
	dsDot                   // a line started with "."
	dsDotCR                 // a line started with ".", CR
)

// bolKind says what ended the previous line.
type bolKind uint8

const (
	bolCRLF bolKind = iota
	bolLF
	bolCR
)

// maxTextLine is RFC 5321's limit on a text line, CRLF included.
const maxTextLine = 1000

// NewDotDecoder returns a decoder positioned at the start of the data
// (right after the DATA command's CRLF). It keeps at most max decoded
// bytes (max <= 0: nothing is kept, only counted) and at most keepRaw raw
// bytes after the first loose end.
func NewDotDecoder(max, keepRaw int) *DotDecoder {
	return &DotDecoder{max: max, keepRaw: keepRaw, looseAt: -1}
}

// Expect reserves room for a message announced as n bytes long (SMTP's
// SIZE parameter, POP3's "+OK n octets"), with a little slack for a
// miscount; see mailproto.Reserve.
func (d *DotDecoder) Expect(n int) {
	if n > 0 {
		d.buf = mailproto.Reserve(d.buf, n+n/32+64, d.max)
	}
}

// StartMidLine tells the decoder that the data is being picked up in the
// middle (after a gap, or a capture that began during DATA): the first
// bytes are not the start of a line.
func (d *DotDecoder) StartMidLine() {
	d.st = dsMid
	d.lineLen = 0
}

// Bytes returns the decoded message so far (at most max bytes). It
// aliases the decoder's buffer.
func (d *DotDecoder) Bytes() []byte { return d.buf }

// Size returns how many decoded bytes were seen, kept or not.
func (d *DotDecoder) Size() int64 { return d.size }

// Buffered reports the bytes of memory the decoder holds.
func (d *DotDecoder) Buffered() int { return cap(d.buf) + cap(d.rawAfter) }

// LooseEnd returns where the data would have ended at the first loose end
// (a decoded offset) and the raw bytes that followed that "." line; ok is
// false when there was no loose end, or when what followed it was not
// kept whole (it exceeded keepRaw, or the message was truncated before
// it).
func (d *DotDecoder) LooseEnd() (at int, rawAfter []byte, ok bool) {
	if d.looseAt < 0 || d.rawOverflow || d.looseAt > int64(len(d.buf)) {
		return 0, nil, false
	}
	return int(d.looseAt), d.rawAfter, true
}

// CutAt shortens the decoded message to n bytes (used with LooseEnd).
func (d *DotDecoder) CutAt(n int) {
	if n >= 0 && n <= len(d.buf) {
		d.buf = d.buf[:n]
		d.size = int64(n)
		d.Truncated = false
	}
}

// Feed consumes p up to and including the terminating "." line. It
// returns how many bytes it consumed and whether the end was found; the
// bytes after it (p[n:]) are not part of the data.
func (d *DotDecoder) Feed(p []byte) (n int, done bool) {
	capFrom := 0
	i := 0
	for i < len(p) {
		c := p[i]
		switch d.st {
		case dsMid:
			// Bulk path: copy up to the next CR or LF.
			rest := p[i:]
			k := bytes.IndexByte(rest, '\n')
			if k < 0 {
				k = len(rest)
			}
			if r := bytes.IndexByte(rest[:k], '\r'); r >= 0 {
				k = r
			}
			if k < len(rest) && rest[k] == '\r' && k+1 < len(rest) && rest[k+1] == '\n' {
				// The common case: a whole line ending in CRLF.
				d.content(rest[:k+2])
				i += k + 2
				d.newLine(bolCRLF)
				continue
			}
			if k > 0 {
				d.content(rest[:k])
				i += k
				continue
			}
			// rest[0] is CR or LF.
			d.content(rest[:1])
			i++
			if c == '\r' {
				d.st = dsCR
			} else {
				d.newLine(bolLF)
			}
		case dsCR:
			if c == '\n' {
				d.content(p[i : i+1])
				i++
				d.newLine(bolCRLF)
				continue
			}
			// A bare CR: for the smuggling check it may end a line.
			d.lineLen = 0
			if c == '.' {
				d.bol = bolCR
				d.st = dsDot
				i++
				continue
			}
			d.st = dsMid
		case dsBOL:
			if c == '.' {
				d.st = dsDot
				i++
				continue
			}
			d.st = dsMid
		case dsDot:
			switch {
			case c == '\r':
				d.st = dsDotCR
				i++
			case c == '\n':
				// ".<LF>": a loose end; the line stays in the message.
				d.loose()
				d.content(dotLF)
				i++
				if d.capturing && capFrom == 0 && d.LooseEnds == 1 {
					capFrom = i
				}
				d.newLine(bolLF)
			default:
				// Dot-stuffed line: drop the leading dot, except after a
				// bare CR, which was not a real line start.
				if d.bol == bolCR {
					d.content(dotOnly)
				}
				d.st = dsMid
			}
		case dsDotCR:
			if c == '\n' {
				if d.bol == bolCRLF {
					i++
					d.st = dsBOL
					d.capture(p[capFrom:i])
					d.checkNUL(p[:i])
					return i, true
				}
				// "<LF>.<CRLF>" or "<CR>.<CRLF>": loose.
				d.loose()
				d.content(dotCRLF)
				i++
				if d.capturing && capFrom == 0 && d.LooseEnds == 1 {
					capFrom = i
				}
				d.newLine(bolCRLF)
				continue
			}
			// ".<CR>" then something else: the dot line ended with a bare CR.
			d.loose()
			d.content(dotCR)
			if d.capturing && capFrom == 0 && d.LooseEnds == 1 {
				capFrom = i
			}
			d.lineLen = 0
			if c == '.' {
				d.bol = bolCR
				d.st = dsDot
				i++
				continue
			}
			d.st = dsMid
		}
	}
	d.capture(p[capFrom:])
	d.checkNUL(p)
	return len(p), false
}

// checkNUL notes NUL bytes among consumed bytes (the terminating dot line
// has none, so all of them are message bytes).
func (d *DotDecoder) checkNUL(b []byte) {
	if !d.NUL && bytes.IndexByte(b, 0) >= 0 {
		d.NUL = true
	}
}

var (
	dotOnly = []byte(".")
	dotLF   = []byte(".\n")
	dotCR   = []byte(".\r")
	dotCRLF = []byte(".\r\n")
)

func (d *DotDecoder) newLine(k bolKind) {
	d.bol = k
	d.st = dsBOL
	d.lineLen = 0
}

// loose records a loose end at the current position. The raw bytes after
// the first one are captured from the caller's next index on.
func (d *DotDecoder) loose() {
	d.LooseEnds++
	if d.LooseEnds == 1 {
		d.looseAt = d.size
		d.capturing = true
	}
}

// capture keeps raw bytes after the first loose end, bounded.
func (d *DotDecoder) capture(b []byte) {
	if !d.capturing || d.rawOverflow || len(b) == 0 {
		return
	}
	if len(d.rawAfter)+len(b) > d.keepRaw {
		d.rawOverflow = true
		d.rawAfter = nil
		return
	}
	d.rawAfter, _ = mailproto.AppendBounded(d.rawAfter, b, d.keepRaw)
}

func (d *DotDecoder) content(b []byte) {
	d.size += int64(len(b))
	d.lineLen += len(b)
	if d.lineLen > maxTextLine {
		d.LongLine = true
	}
	room := d.max - len(d.buf)
	if room <= 0 {
		if len(b) > 0 {
			d.Truncated = true
		}
		return
	}
	if len(b) > room {
		b = b[:room]
		d.Truncated = true
	}
	if d.buf == nil {
		// No length was announced (see Expect): start from a buffer
		// an earlier message released (see Release).
		d.buf = mailproto.TakeBuffer(d.max)
	}
	d.buf, _ = mailproto.AppendBounded(d.buf, b, d.max)
}

// Release hands the decoded message's buffer over for reuse by a later
// message and forgets it (Bytes is empty after). Call it only when done
// with every byte Bytes returned: once the message is restored
// (mail.Restore and DecodeHeader keep no reference to their input, and
// the Env saves a copy), never while anything may still read them.
func (d *DotDecoder) Release() {
	mailproto.ReleaseBuffer(d.buf)
	d.buf = nil
	d.rawAfter = nil
}
