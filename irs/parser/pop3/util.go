package pop3

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// lineReader cuts a stream into lines ending in LF, with a cap on how long
// a line may grow before it is given up (skipped to its end). A whole line
// in one piece of input is returned without a copy; otherwise it is
// assembled in a buffer that the next call reuses. The result does not
// depend on how the stream is cut.
type lineReader struct {
	buf     []byte
	ready   bool // buf holds the line returned last time
	discard bool // skipping an over-long line up to its LF
}

// next returns the next complete line (LF included) from data, or nil when
// data ends inside a line, and how many bytes it consumed; overflow
// reports a line that exceeded maxLine and was dropped.
func (r *lineReader) next(data []byte) (line []byte, n int, overflow bool) {
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
		if len(r.buf)+len(data) > maxLine {
			r.buf = r.buf[:0]
			r.discard = true
			return nil, len(data), true
		}
		r.buf = appendBounded(r.buf, data, maxLine+1)
		return nil, len(data), false
	}
	if len(r.buf)+i+1 > maxLine+1 {
		r.buf = r.buf[:0]
		return nil, i + 1, true
	}
	if len(r.buf) == 0 {
		return data[:i+1], i + 1, false
	}
	r.buf = appendBounded(r.buf, data[:i+1], maxLine+1)
	r.ready = true
	return r.buf, i + 1, false
}

// atStart reports whether the next byte begins a line.
func (r *lineReader) atStart() bool { return (r.ready || len(r.buf) == 0) && !r.discard }

// reset drops a partial line (after a gap).
func (r *lineReader) reset() {
	r.buf = r.buf[:0]
	r.ready = false
	r.discard = false
}

// release frees the buffer of a reader that will not be used again.
func (r *lineReader) release() { *r = lineReader{} }

// trimEOL strips the line end and says whether it was a bare LF.
func trimEOL(b []byte) (line []byte, bareLF bool) {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return b, false
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1], false
	}
	return b, true
}

// clean makes traffic bytes safe to record: valid UTF-8, control
// characters replaced, at most max bytes.
func clean(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	ok := utf8.Valid(b)
	if ok {
		for _, c := range b {
			if c < 0x20 && c != '\t' || c == 0x7f {
				ok = false
				break
			}
		}
	}
	if ok {
		return string(b)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == utf8.RuneError && n <= 1:
			s.WriteByte('?')
		case r < 0x20 && r != '\t' || r == 0x7f:
			s.WriteByte('.')
		default:
			s.WriteRune(r)
		}
	}
	return s.String()
}

// quote renders traffic bytes for an anomaly text.
func quote(b []byte, max int) string {
	cut := len(b) > max
	if cut {
		b = b[:max]
	}
	s := fmt.Sprintf("%q", b)
	if cut {
		s += "..."
	}
	return s
}

// anomalies is a bounded, de-duplicated list of findings.
type anomalies struct {
	list    []string
	dropped int
}

func (a *anomalies) add(s string) {
	for _, x := range a.list {
		if x == s {
			return
		}
	}
	if len(a.list) >= maxAnomalies {
		a.dropped++
		return
	}
	a.list = append(a.list, s)
}

func (a *anomalies) addf(format string, args ...any) { a.add(fmt.Sprintf(format, args...)) }

// out returns the list for an event, noting how many were left out.
func (a *anomalies) out() []string {
	if len(a.list) == 0 && a.dropped == 0 {
		return nil
	}
	l := append([]string(nil), a.list...)
	if a.dropped > 0 {
		l = append(l, fmt.Sprintf("%d more anomalies not listed", a.dropped))
	}
	return l
}

// appendBounded appends b to buf, growing geometrically but never to more
// than limit bytes of capacity; what does not fit is dropped.
func appendBounded(buf, b []byte, limit int) []byte {
	room := limit - len(buf)
	if room <= 0 {
		return buf
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
	return append(buf, b...)
}

// b64decode decodes a SASL response, with or without padding.
func b64decode(line []byte) ([]byte, bool) {
	if len(line) > maxSASL {
		line = line[:maxSASL]
	}
	// Sized for the raw (unpadded) reading: the padded DecodedLen is too
	// small for a short invalid response ("ab"), which base64 then writes
	// past.
	dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(line))+3)
	k, err := base64.StdEncoding.Decode(dec, line)
	if err != nil {
		k, err = base64.RawStdEncoding.Decode(dec, bytes.TrimRight(line, "="))
	}
	if err != nil {
		return nil, false
	}
	return dec[:k], true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if upper(b[i]) != upper(p[i]) {
			return false
		}
	}
	return true
}

func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if hasPrefixFold(b[i:], s) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi parses a small decimal number; ok is false for anything else.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// tlsRecordStart reports whether data begins like a TLS record (handshake,
// alert, change cipher spec, application data) or an SSLv2 hello.
func tlsRecordStart(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	if data[0] == 0x80 {
		return true
	}
	return data[0] >= 0x14 && data[0] <= 0x17 && (len(data) < 2 || data[1] == 0x03)
}
