package http

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
)

// state of one direction.
type state uint8

const (
	stHeader     state = iota // reading a header block
	stHeaderSkip              // header over the cap: skipping to its end
	stBodyLen                 // Content-Length body
	stChunkSize               // chunk-size line
	stChunkData               // chunk data
	stChunkEnd                // CRLF after chunk data
	stTrailer                 // trailer fields after the last chunk
	stUntilClose              // body delimited by connection close
	stResync                  // lost: looking for the next start line
)

func (s state) String() string {
	switch s {
	case stHeader, stHeaderSkip:
		return "header"
	case stBodyLen, stUntilClose:
		return "body"
	case stChunkSize, stChunkData, stChunkEnd, stTrailer:
		return "chunked body"
	}
	return "resynchronisation"
}

// half is one direction of a connection.
type half struct {
	k     *conn
	dir   parser.Direction
	state state
	buf   []byte // bytes not yet consumed (an incomplete line or header)

	hdrStarted bool      // first byte of the header block seen
	hdrTS      time.Time // when it was seen
	lineOK     bool      // start line checked
	scan       int       // header bytes already searched for the end
	saved      []byte    // header kept while skipping an oversized one

	msg  *message
	t    *txn
	left int64 // bytes left in the body or chunk
	trl  int   // trailer bytes seen

	prev     byte // resync: the byte before the next one (0 at a loss)
	messages int  // messages started in this direction

	anoms  parser.Anomalies // anomalies waiting for the next message
	anomAt time.Time
}

// anomaly records stream trouble; the next message in this direction
// carries it.
func (h *half) anomaly(ts time.Time, s string) {
	if h.anoms.Len() == 0 {
		h.anomAt = ts
	}
	h.anoms.Add(s)
}

func (h *half) name() string {
	if h.dir == parser.ClientToServer {
		return "client"
	}
	return "server"
}

// feed consumes bytes, keeping what cannot be parsed yet.
func (h *half) feed(data []byte, ts time.Time) {
	if len(h.buf) == 0 {
		n := h.run(data, ts)
		if n < len(data) {
			h.buf = append(h.buf[:0], data[n:]...)
		}
		return
	}
	h.buf = append(h.buf, data...)
	n := h.run(h.buf, ts)
	h.buf = h.buf[:copy(h.buf, h.buf[n:])]
}

// run parses p and returns how many bytes it consumed.
func (h *half) run(p []byte, ts time.Time) int {
	pos := 0
	for pos < len(p) && !h.k.stopped && h.k.h2 == nil {
		n, wait := h.step(p[pos:], ts)
		pos += n
		if wait {
			break
		}
	}
	if h.k.h2 != nil && pos < len(p) && !h.k.stopped {
		h.k.h2.process(h.dir, p[pos:], ts)
	}
	if h.k.h2 != nil || h.k.stopped {
		return len(p)
	}
	return pos
}

// step makes progress on p: it consumes bytes, changes state, or asks to
// wait for more data.
func (h *half) step(p []byte, ts time.Time) (n int, wait bool) {
	switch h.state {
	case stHeader:
		return h.stepHeader(p, ts)
	case stHeaderSkip:
		if end := findHeaderEnd(p, 0); end >= 0 {
			block := h.saved
			h.saved = nil
			h.startMessage(parseHeader(block, h.dir == parser.ClientToServer, true), ts)
			return end, false
		}
		if len(p) <= 3 {
			return 0, true
		}
		return len(p) - 3, true
	case stBodyLen:
		k := int(min(int64(len(p)), h.left))
		h.k.appendBody(h.msg, p[:k])
		h.left -= int64(k)
		if h.left == 0 {
			h.finishMsg(ts)
		}
		return k, false
	case stChunkSize:
		return h.stepChunkSize(p, ts)
	case stChunkData:
		k := int(min(int64(len(p)), h.left))
		h.k.appendBody(h.msg, p[:k])
		h.left -= int64(k)
		if h.left == 0 {
			h.state = stChunkEnd
		}
		return k, false
	case stChunkEnd:
		// CRLF (or a bare LF) after the chunk data
		if p[0] == '\r' {
			if len(p) < 2 {
				return 0, true
			}
			if p[1] == '\n' {
				h.state = stChunkSize
				return 2, false
			}
		} else if p[0] == '\n' {
			h.state = stChunkSize
			return 1, false
		}
		h.msg.anomalies.Add("chunk data not followed by CRLF")
		h.state = stChunkSize
		return 0, false
	case stTrailer:
		j := bytes.IndexByte(p, '\n')
		if j < 0 {
			if h.trl+len(p) > maxTrailerBytes {
				h.msg.anomalies.Addf("chunked trailer over %d bytes", maxTrailerBytes)
				h.finishMsg(ts)
				h.lose(ts, "")
				return len(p), false
			}
			return 0, true
		}
		h.trl += j + 1
		if len(bytes.TrimRight(p[:j], "\r")) == 0 {
			h.finishMsg(ts)
		}
		return j + 1, false
	case stUntilClose:
		h.k.appendBody(h.msg, p)
		return len(p), false
	case stResync:
		return h.stepResync(p)
	}
	return len(p), false
}

func (h *half) startLine(p []byte) match {
	if h.dir == parser.ClientToServer {
		return matchRequestLine(p)
	}
	return matchStatusLine(p)
}

func (h *half) stepHeader(p []byte, ts time.Time) (int, bool) {
	if !h.hdrStarted {
		i := 0
		for i < len(p) && (p[i] == '\r' || p[i] == '\n') {
			i++
		}
		if i == len(p) {
			return i, true
		}
		h.hdrStarted, h.hdrTS, h.lineOK, h.scan = true, ts, false, 0
		return i, false
	}
	if !h.lineOK {
		if h.dir == parser.ServerToClient && h.messages == 0 && h.k.half[0].messages == 0 && mayBeH2Settings(p) {
			// an HTTP/2 server speaks first; keep its bytes for the client preface
			if len(p) < maxLineProbe {
				return 0, true
			}
		}
		m := h.startLine(p)
		if m == yes {
			h.lineOK = true
		} else if m == no || len(p) > maxLineProbe {
			what := "an HTTP request line"
			if h.dir == parser.ServerToClient {
				what = "an HTTP status line"
			}
			h.anomaly(ts, fmt.Sprintf("%s sent data that is not %s; skipped to the next one", h.name(), what))
			h.hdrStarted = false
			h.state, h.prev = stResync, 0
			return 0, false
		} else {
			return 0, true
		}
	}
	end := findHeaderEnd(p, max(0, h.scan-3))
	isReq := h.dir == parser.ClientToServer
	switch {
	case end >= 0 && end <= maxHeaderBytes:
		h.startMessage(parseHeader(p[:end], isReq, false), ts)
		return end, false
	case end > maxHeaderBytes:
		h.startMessage(parseHeader(p[:maxHeaderBytes], isReq, true), ts)
		return end, false
	case len(p) > maxHeaderBytes:
		h.saved = append([]byte(nil), p[:maxHeaderBytes]...)
		h.state = stHeaderSkip
		return len(p) - 3, false
	}
	h.scan = len(p)
	return 0, true
}

// findHeaderEnd returns the offset just past the blank line ending a
// header block, searching from from, or -1.
func findHeaderEnd(p []byte, from int) int {
	for i := from; i < len(p); {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(p) && p[i] == '\n' {
			return i + 1
		}
		if i+1 < len(p) && p[i] == '\r' && p[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

func (h *half) stepChunkSize(p []byte, ts time.Time) (int, bool) {
	j := bytes.IndexByte(p, '\n')
	if j < 0 {
		if len(p) > maxChunkLine {
			h.msg.anomalies.Addf("chunk-size line over %d bytes", maxChunkLine)
			h.msg.incomplete = true
			h.finishMsg(ts)
			h.lose(ts, "")
			return 0, false
		}
		return 0, true
	}
	line := strings.TrimSpace(string(bytes.TrimRight(p[:j], "\r")))
	if line == "" && !h.msg.chunked {
		// tolerate an extra CRLF before the first chunk
		return j + 1, false
	}
	sz, _, _ := strings.Cut(line, ";")
	n, err := strconv.ParseInt(strings.TrimSpace(sz), 16, 64)
	if err != nil || n < 0 {
		h.msg.anomalies.Addf("invalid chunk size %q", truncate(line, 40))
		h.msg.incomplete = true
		h.finishMsg(ts)
		h.lose(ts, "")
		return j + 1, false
	}
	h.msg.chunked = true
	if n == 0 {
		h.state, h.trl = stTrailer, 0
		return j + 1, false
	}
	h.state, h.left = stChunkData, n
	return j + 1, false
}

func (h *half) stepResync(p []byte) (int, bool) {
	prev := h.prev
	for i := 0; i < len(p); i++ {
		if h.candidate(prev, p[i]) {
			switch h.startLine(p[i:]) {
			case yes:
				h.state, h.hdrStarted = stHeader, false
				return i, false
			case more:
				if len(p)-i <= maxLineProbe {
					if i > 0 {
						h.prev = p[i-1]
					}
					return i, true
				}
			}
		}
		prev = p[i]
	}
	h.prev = prev
	return len(p), false
}

// candidate reports whether b, after prev, may begin a start line: a
// method (upper-case letters) or "HTTP/" not glued to a preceding word.
func (h *half) candidate(prev, b byte) bool {
	if isUpper(prev) || prev == '-' || prev == '_' || prev == '/' {
		return false
	}
	if h.dir == parser.ClientToServer {
		return isUpper(b)
	}
	return b == 'H'
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// startMessage acts on a parsed header block.
func (h *half) startMessage(m *message, ts time.Time) {
	h.hdrStarted, h.lineOK, h.scan = false, false, 0
	h.msg, m.start, m.end = m, h.hdrTS, ts
	h.messages++
	h.state = stHeader
	k := h.k
	if m.isReq {
		if m.method == "PRI" && m.target == "*" && m.version == "HTTP/2.0" {
			h.msg = nil
			k.startH2(ts)
			return
		}
		t := &txn{req: m, notes: h.anoms.Take()}
		k.queue = append(k.queue, t)
		if len(k.queue) > maxPending {
			old := k.popQueue()
			old.note(fmt.Sprintf("no response seen before %d further requests", maxPending))
			k.emitTxn(old)
		}
		h.t = t
		fr, n := requestFraming(m)
		h.frame(fr, n, ts)
		return
	}
	t := k.pairResponse()
	if m.status >= 100 && m.status < 200 && m.status != 101 {
		// an interim response: the final one follows
		if t != nil {
			t.interim = append(t.interim, m.status)
		}
		h.msg = nil
		return
	}
	if t == nil {
		t = &txn{}
		t.note("response without a request (request not captured)")
		k.queue = append(k.queue, t)
	}
	t.resp = m
	t.notes = append(t.notes, h.anoms.Take()...)
	h.t = t
	fr, n := responseFraming(m, t.req)
	h.frame(fr, n, ts)
}

// frame sets the state for the body that follows a header.
func (h *half) frame(fr framing, n int64, ts time.Time) {
	switch fr {
	case frameLength:
		h.state, h.left = stBodyLen, n
		// sized from the header, but a lying header cannot reserve much
		h.msg.body = takeBody(int(min(n, int64(h.k.maxBody), 64<<10)))
	case frameChunked:
		h.state = stChunkSize
	case frameClose:
		h.state = stUntilClose
	case frameTunnel:
		h.t.tunnel = true
		h.finishMsg(ts)
		h.k.stopped = true
	case frameUpgrade:
		h.t.upgrade = h.msg.get("upgrade")
		if h.t.upgrade == "" && h.t.req != nil {
			h.t.upgrade = h.t.req.get("upgrade")
		}
		h.finishMsg(ts)
		h.k.stopped = true
	default:
		h.finishMsg(ts)
	}
}

// finishMsg completes the current message.
func (h *half) finishMsg(ts time.Time) {
	m, t := h.msg, h.t
	h.msg, h.t = nil, nil
	h.state, h.hdrStarted, h.lineOK, h.scan = stHeader, false, false, 0
	if m == nil || t == nil {
		return
	}
	m.end = ts
	h.k.saveBody(m, t)
	if m.isReq {
		t.reqDone = true
	} else {
		t.respDone = true
	}
	h.k.flush()
}

// lose drops to resynchronisation.
func (h *half) lose(ts time.Time, why string) {
	if why != "" {
		h.anomaly(ts, why)
	}
	h.state, h.prev = stResync, 0
	h.hdrStarted, h.lineOK, h.scan, h.saved = false, false, 0, nil
}

// gap handles n missing bytes (n < 0: unknown).
func (h *half) gap(n int, ts time.Time) {
	m := h.msg
	switch h.state {
	case stBodyLen, stChunkData:
		if n > 0 && int64(n) <= h.left {
			m.anomalies.Addf("%d bytes of the body missing (capture gap); filled with zeros", n)
			h.k.fillBody(m, int64(n))
			h.left -= int64(n)
			if h.left == 0 {
				if h.state == stBodyLen {
					h.finishMsg(ts)
				} else {
					h.state = stChunkEnd
				}
			}
			return
		}
	case stUntilClose:
		if n > 0 {
			m.anomalies.Addf("%d bytes of the body missing (capture gap); filled with zeros", n)
			h.k.fillBody(m, int64(n))
			return
		}
	case stResync:
		h.buf, h.prev = h.buf[:0], 0
		return
	}
	what := "unknown number of"
	if n >= 0 {
		what = strconv.Itoa(n)
	}
	if m != nil {
		m.anomalies.Addf("%s bytes missing from the %s stream inside the %s (capture gap); message cut short", what, h.name(), h.state)
		m.incomplete = true
		h.finishMsg(ts)
	} else if h.hdrStarted || len(h.buf) > 0 {
		h.anomaly(ts, fmt.Sprintf("%s bytes missing from the %s stream inside a header block (capture gap)", what, h.name()))
	} else {
		h.anomaly(ts, fmt.Sprintf("%s bytes missing from the %s stream between messages (capture gap)", what, h.name()))
	}
	h.buf = h.buf[:0]
	h.lose(ts, "")
}

// finish closes the direction at the end of the connection.
func (h *half) finish(ts time.Time) {
	m := h.msg
	switch h.state {
	case stUntilClose:
		h.finishMsg(ts)
	case stBodyLen, stChunkSize, stChunkData, stChunkEnd, stTrailer:
		if h.state == stBodyLen {
			m.anomalies.Addf("connection ended %d bytes before the end of the body", h.left)
		} else {
			m.anomalies.Add("connection ended inside a chunked body")
		}
		m.incomplete = true
		h.finishMsg(ts)
	case stHeader, stHeaderSkip:
		if len(bytes.TrimSpace(h.buf)) > 0 || h.state == stHeaderSkip {
			h.anomaly(ts, fmt.Sprintf("%s stream ended inside a header block", h.name()))
		}
	}
	h.buf = nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// mayBeH2Settings reports whether p can start an HTTP/2 SETTINGS frame
// (what a server sends first on a prior-knowledge connection).
func mayBeH2Settings(p []byte) bool {
	want := []byte{0, 0, 0, 4, 0, 0, 0, 0, 0}
	for i := 0; i < len(p) && i < 9; i++ {
		switch i {
		case 1, 2:
			continue // length
		case 4:
			if p[i]&^1 != 0 {
				return false
			}
			continue
		}
		if p[i] != want[i] {
			return false
		}
	}
	return true
}
