package mailproto

import (
	"bytes"

	"github.com/sdnli/sdnli/irs/parser/bufpool"
)

// LineReader cuts a stream into lines ending in LF, with a cap (MaxLine)
// on how long a line may grow before it is given up (skipped to its end).
// A whole line in one piece of input is returned without a copy;
// otherwise it is assembled in a buffer that the next call reuses. The
// result does not depend on how the stream is cut. The zero value is
// ready to use.
type LineReader struct {
	buf     []byte
	ready   bool // buf holds the line returned last time
	discard bool // skipping an over-long line up to its LF
}

// Next returns the next complete line (LF included) from data, or nil
// when data ends inside a line, and how many bytes it consumed; overflow
// reports a line that exceeded MaxLine and was dropped. The line is valid
// until the next call.
func (r *LineReader) Next(data []byte) (line []byte, n int, overflow bool) {
	if r.ready {
		r.buf = r.buf[:0]
		r.ready = false
	}
	i := bytes.IndexByte(data, '\n')
	if r.discard {
		if i < 0 {
			return nil, len(data), false
		}
		r.discard = false
		return nil, i + 1, false
	}
	if i < 0 {
		if len(r.buf)+len(data) > MaxLine {
			r.buf = r.buf[:0]
			r.discard = true
			return nil, len(data), true
		}
		r.buf, _ = AppendBounded(r.buf, data, MaxLine+1)
		return nil, len(data), false
	}
	if len(r.buf)+i+1 > MaxLine+1 {
		r.buf = r.buf[:0]
		return nil, i + 1, true
	}
	if len(r.buf) == 0 {
		return data[:i+1], i + 1, false
	}
	r.buf, _ = AppendBounded(r.buf, data[:i+1], MaxLine+1)
	r.ready = true
	return r.buf, i + 1, false
}

// AtStart reports whether the next byte begins a line.
func (r *LineReader) AtStart() bool { return (r.ready || len(r.buf) == 0) && !r.discard }

// Reset drops a partial line (after a gap).
func (r *LineReader) Reset() {
	r.buf = r.buf[:0]
	r.ready = false
	r.discard = false
}

// Release frees the buffer of a reader that will not be used again.
func (r *LineReader) Release() { *r = LineReader{} }

// Buffered is the capacity the reader holds, for memory accounting.
func (r *LineReader) Buffered() int { return cap(r.buf) }

// TrimEOL strips the line end and says whether it was a bare LF.
func TrimEOL(b []byte) (line []byte, bareLF bool) {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return b, false
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1], false
	}
	return b, true
}

// MaxReserve caps the room Reserve sets aside on a peer's word.
const MaxReserve = 4 << 20

// Reserve returns buf with room for n bytes in all (at most limit and
// MaxReserve): for data whose length the peer announced (an IMAP
// literal, SMTP's SIZE, POP3's "+OK n octets"), so that it is not grown
// and copied again and again. The announcement is the peer's word, hence
// the caps; AppendBounded still grows the buffer past it.
func Reserve(buf []byte, n, limit int) []byte {
	n = min(n, limit, MaxReserve)
	if n <= cap(buf) {
		return buf
	}
	return append(make([]byte, 0, n), buf...)
}

// AppendBounded appends b to buf, growing geometrically but never to more
// than limit bytes of capacity; it reports how much of b fitted (what
// does not fit is dropped).
func AppendBounded(buf, b []byte, limit int) ([]byte, int) {
	room := limit - len(buf)
	if room <= 0 {
		return buf, 0
	}
	if len(b) > room {
		b = b[:room]
	}
	need := len(buf) + len(b)
	if need > cap(buf) {
		nc := 2*cap(buf) + len(b)
		if nc < 512 {
			nc = 512
		}
		if nc > limit {
			nc = limit
		}
		if nc < need {
			nc = need
		}
		nb := make([]byte, len(buf), nc)
		copy(nb, buf)
		buf = nb
	}
	return append(buf, b...), len(b)
}

// MaxPooled caps the capacity of a message buffer kept for reuse.
const MaxPooled = 256 << 10

// messageBuffers holds the buffers of restored messages whose length
// nobody announced (most mail fits in MaxPooled).
var messageBuffers = bufpool.New(MaxPooled)

// TakeBuffer returns an empty buffer for a message of unannounced length:
// a released one if there is one whose capacity is at most limit, else
// nil (AppendBounded grows it as usual).
func TakeBuffer(limit int) []byte { return messageBuffers.TakeAtMost(limit) }

// ReleaseBuffer hands buf over for reuse by TakeBuffer. The caller must
// not touch buf (or anything sliced from it) again: only for a message
// that is restored, whose saved artifact and decoded form are copies.
func ReleaseBuffer(buf []byte) { messageBuffers.Release(buf) }
