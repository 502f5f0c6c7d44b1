package imap

import (
	"bytes"

	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// streamReader cuts one direction of an IMAP connection into line pieces
// and literals (RFC 9051 4.3). A line piece ends at LF; when it ends with
// a literal marker ({n}, {n+} or ~{n}), the next n octets are the
// literal, after which the line goes on with the next piece. The result
// does not depend on how the stream is cut.
//
// A line longer than maxLine is kept up to maxLine (its end counted, the
// last bytes kept so that a literal marker at its end still frames the
// stream).
type streamReader struct {
	line    []byte
	tail    []byte // the last bytes of an over-long line
	over    bool
	ready   bool // line holds the piece returned last time
	n       int  // bytes of the current line, kept or not
	litLeft int64
}

// maxMarker is the longest literal marker looked for: "~{" + 20 digits
// + "+}".
const maxMarker = 24

// maxLiteral caps a literal's announced size: larger markers are taken
// as damage (RFC 9051 allows 63 bits; no real message comes near 2^40).
const maxLiteral = 1 << 40

// piece is one line piece.
type piece struct {
	text    []byte // without the line end and without the literal marker
	over    bool   // the line was longer than maxLine: text is its start
	raw     int    // its length on the wire, line end included
	bareLF  bool
	lit     bool  // a literal follows
	litN    int64 // its announced size
	nonSync bool  // {n+}: the client did not wait for a continuation
	lit8    bool  // ~{n}: a literal8 (RFC 3516), binary content
	badLit  bool  // a marker that does not parse as a size
}

// unit kinds.
const (
	unitNone    = iota // bytes consumed into an unfinished line
	unitPiece          // a line piece ended
	unitLiteral        // literal bytes
)

// next consumes what it can of data: literal bytes, or a line up to and
// including its LF. It returns how much it consumed and what that was;
// a piece aliases the reader or data and is valid until the next call.
func (r *streamReader) next(data []byte) (n int, kind int, pc piece, lit []byte, litEnd bool) {
	if r.ready {
		r.line, r.tail = r.line[:0], r.tail[:0]
		r.over, r.ready, r.n = false, false, 0
	}
	if r.litLeft > 0 {
		k := int64(len(data))
		if k > r.litLeft {
			k = r.litLeft
		}
		r.litLeft -= k
		return int(k), unitLiteral, piece{}, data[:k], r.litLeft == 0
	}
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		r.add(data)
		return len(data), unitNone, piece{}, nil, false
	}
	var line []byte
	if len(r.line) == 0 && !r.over {
		line = data[:i+1]
		r.n = i + 1
	} else {
		r.add(data[:i+1])
		line = r.line
	}
	r.ready = true
	pc = r.cut(line)
	if pc.lit && pc.litN > 0 {
		r.litLeft = pc.litN
	}
	return i + 1, unitPiece, pc, nil, false
}

// add appends to the current line, keeping at most maxLine bytes of it
// and its last maxMarker bytes.
func (r *streamReader) add(b []byte) {
	r.n += len(b)
	if !r.over {
		room := maxLine - len(r.line)
		if len(b) <= room {
			r.line, _ = mailproto.AppendBounded(r.line, b, maxLine)
			return
		}
		r.line, _ = mailproto.AppendBounded(r.line, b[:room], maxLine)
		r.over = true
		// The tail starts with the end of what was kept.
		r.tail = append(r.tail[:0], r.line[max(0, len(r.line)-maxMarker):]...)
		b = b[room:]
	}
	if len(b) >= maxMarker {
		r.tail = append(r.tail[:0], b[len(b)-maxMarker:]...)
		return
	}
	r.tail = append(r.tail, b...)
	if len(r.tail) > maxMarker {
		copy(r.tail, r.tail[len(r.tail)-maxMarker:])
		r.tail = r.tail[:maxMarker]
	}
}

// cut strips the line end and a literal marker from a complete line.
func (r *streamReader) cut(line []byte) piece {
	pc := piece{raw: r.n, over: r.over}
	end := line
	if r.over {
		end = r.tail
	}
	// Strip the line end (from the line, or from the tail of an
	// over-long one).
	if r.over {
		end, pc.bareLF = mailproto.TrimEOL(end)
		pc.text = line
	} else {
		line, pc.bareLF = mailproto.TrimEOL(line)
		pc.text, end = line, line
	}
	if len(end) < 3 || end[len(end)-1] != '}' {
		return pc
	}
	open := bytes.LastIndexByte(end, '{')
	if open < 0 || len(end)-open > maxMarker {
		return pc
	}
	num := end[open+1 : len(end)-1]
	if len(num) > 0 && num[len(num)-1] == '+' {
		pc.nonSync = true
		num = num[:len(num)-1]
	}
	if len(num) == 0 {
		return pc
	}
	var v int64
	for _, c := range num {
		if !mailproto.IsDigit(c) {
			pc.nonSync = false
			return pc
		}
		v = v*10 + int64(c-'0')
		if v > maxLiteral {
			pc.badLit = true
			return pc
		}
	}
	pc.lit, pc.litN = true, v
	cut := len(end) - open // marker length
	if open > 0 && end[open-1] == '~' {
		pc.lit8 = true
		cut++
	}
	if !r.over && cut <= len(pc.text) {
		pc.text = pc.text[:len(pc.text)-cut]
	}
	return pc
}

// atLineStart reports whether the next byte begins a line (not inside a
// line or a literal).
func (r *streamReader) atLineStart() bool {
	return r.litLeft == 0 && (r.ready || len(r.line) == 0 && !r.over)
}

// cancelLiteral drops the literal the last piece announced (a
// synchronising literal the server refused, a marker read while
// resynchronising).
func (r *streamReader) cancelLiteral() { r.litLeft = 0 }

// skip accounts for n bytes lost in a gap: inside a literal they shorten
// it (true); elsewhere the position is lost (false) and the line is
// dropped.
func (r *streamReader) skip(n int) bool {
	if r.litLeft > 0 && n >= 0 && int64(n) < r.litLeft {
		r.litLeft -= int64(n)
		return true
	}
	r.reset()
	return false
}

// reset forgets the current line and literal.
func (r *streamReader) reset() {
	r.line, r.tail = r.line[:0], r.tail[:0]
	r.over, r.ready, r.n, r.litLeft = false, false, 0, 0
}

// partial returns the start of a line whose end was not read yet (nil
// inside a literal or an over-long line).
func (r *streamReader) partial() []byte {
	if r.ready || r.over || r.litLeft > 0 {
		return nil
	}
	return r.line
}

// release frees the buffers of a reader that will not be used again.
func (r *streamReader) release() { *r = streamReader{} }

// size is the memory the reader holds.
func (r *streamReader) size() int { return cap(r.line) + cap(r.tail) }
