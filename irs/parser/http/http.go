// Package http parses cleartext HTTP/1.0 and HTTP/1.1 (and recognises
// cleartext HTTP/2 started with prior knowledge) for the IRS.
//
// Each request is paired with its response (keep-alive and pipelining
// included) and reported as one "http-request" event; request and
// response bodies are restored as files after chunked transfer coding and
// gzip, deflate or brotli content coding are undone. CONNECT tunnels and
// protocol upgrades (websocket, h2c) are recorded and then parsing stops.
//
// The parser is written by hand rather than on net/http: net/http wants a
// well-formed byte stream it can block on, while the IRS feeds hostile,
// gapped, mid-stream captures in arbitrary pieces and must stay bounded
// and never fail as a whole. Header blocks are capped (maxHeaderBytes),
// bodies are capped at Options().MaxArtifactBytes, and any state is
// resumable at every byte, so the same stream cut differently yields the
// same events.
package http

import (
	"bytes"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Event types.
const (
	TypeRequest = "http-request"  // one request/response pair
	TypeHTTP2   = "http2-session" // cleartext HTTP/2 connection summary
	TypeAnomaly = "http-anomaly"  // stream trouble no request could carry
)

// Limits on hostile input.
const (
	maxHeaderBytes  = 64 << 10 // one header block (request/status line included)
	maxHeaderFields = 256      // header fields kept per message
	maxLineProbe    = 8 << 10  // how far a request/status line is searched for
	maxPending      = 128      // requests waiting for a response
	maxChunkLine    = 4 << 10  // one chunk-size line
	maxTrailerBytes = 64 << 10 // trailer block of a chunked body
)

const protocol = "http"

func init() { parser.Register(Detector{}) }

// Detector recognises HTTP by its request or status line.
type Detector struct{}

// Name returns "http".
func (Detector) Name() string { return protocol }

// Transports returns TCP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// sstpMethod starts SSTP's tunnel request, left to irs/parser/sstp.
const sstpMethod = "SSTP_DUPLEX_POST "

// IsRelative claims a stream that starts with an HTTP/1.x request line,
// a status line, or the HTTP/2 client preface. For a capture that began
// mid-connection it also accepts such a line at any line start in the
// first bytes, so a connection joined between two requests is still
// parsed. Ports play no part.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	want := func(isClient bool) parser.Verdict {
		if isClient == (dir == parser.ClientToServer) {
			return parser.Yes
		}
		return parser.YesReversed
	}
	// SSTP opens its VPN tunnel with an HTTP-like request; irs/parser/sstp
	// owns it.
	if m := matchPrefix(data, sstpMethod); m != no {
		if m == more {
			return parser.NeedMore
		}
		return parser.No
	}
	if m := matchPrefix(data, h2Preface); m != no {
		if m == more {
			return parser.NeedMore
		}
		return want(true)
	}
	rq := matchRequestLine(data)
	st := matchStatusLine(data)
	switch {
	case rq == yes:
		return want(true)
	case st == yes:
		return want(false)
	case rq == more || st == more:
		return parser.NeedMore
	}
	if c != nil && c.MidStream {
		for i := 0; i < len(data) && i < maxLineProbe; {
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			rest := data[i:]
			if matchRequestLine(rest) == yes {
				return want(true)
			}
			if matchStatusLine(rest) == yes {
				return want(false)
			}
		}
		if len(data) < maxLineProbe {
			return parser.NeedMore
		}
	}
	return parser.No
}

// New returns the parser for one connection.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return newConn(c, env)
}

// match is the outcome of a prefix test on possibly incomplete data.
type match uint8

const (
	no   match = iota // cannot be
	more              // consistent so far, need more bytes
	yes               // matches
)

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

func matchPrefix(data []byte, p string) match {
	n := min(len(data), len(p))
	if string(data[:n]) != p[:n] {
		return no
	}
	if n < len(p) {
		return more
	}
	return yes
}

// matchRequestLine tests for "METHOD SP target SP HTTP/d.d" at the start
// of data. The method must be upper case (every registered method is),
// which keeps binary protocols out.
func matchRequestLine(data []byte) match {
	i := 0
	for ; i < len(data) && i < 24; i++ {
		b := data[i]
		if b == ' ' {
			break
		}
		if !(b >= 'A' && b <= 'Z') && b != '-' && b != '_' {
			return no
		}
	}
	if i == len(data) {
		return more
	}
	if i == 0 || i >= 24 || data[i] != ' ' {
		return no
	}
	i++
	start := i
	for ; i < len(data); i++ {
		b := data[i]
		if b == ' ' {
			break
		}
		if b < 0x21 || b == 0x7f {
			return no
		}
		if i-start > maxLineProbe {
			return no
		}
	}
	if i == len(data) {
		return more
	}
	if i == start {
		return no
	}
	return matchVersion(data[i+1:])
}

// matchVersion tests for "HTTP/d.d".
func matchVersion(data []byte) match {
	if m := matchPrefix(data, "HTTP/"); m != yes {
		return m
	}
	rest := data[5:]
	if len(rest) < 3 {
		for k, b := range rest {
			if (k != 1 && !isDigit(b)) || (k == 1 && b != '.') {
				return no
			}
		}
		return more
	}
	if isDigit(rest[0]) && rest[1] == '.' && isDigit(rest[2]) {
		return yes
	}
	return no
}

// matchStatusLine tests for "HTTP/d.d SP ddd" at the start of data.
func matchStatusLine(data []byte) match {
	if m := matchVersion(data); m != yes {
		return m
	}
	rest := data[8:]
	for k := 0; k < 4; k++ {
		if k == len(rest) {
			return more
		}
		b := rest[k]
		if (k == 0 && b != ' ') || (k > 0 && !isDigit(b)) {
			return no
		}
	}
	return yes
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// conn is the per-connection parser.
type conn struct {
	c       *parser.Conn
	env     parser.Env
	maxBody int
	half    [2]half // allocated with the connection
	queue   []*txn  // requests in order, waiting to be reported
	queue0  [2]*txn // queue's first array
	stopped bool    // IsContinue false: tunnel, upgrade or TLS
	h2      *h2conn
	ended   bool
}

func newConn(c *parser.Conn, env parser.Env) *conn {
	max := env.Options().MaxArtifactBytes
	if max <= 0 {
		max = parser.DefaultOptions().MaxArtifactBytes
	}
	k := &conn{c: c, env: env, maxBody: max}
	k.queue = k.queue0[:0]
	for d := range k.half {
		k.half[d] = half{k: k, dir: parser.Direction(d)}
		if c.MidStream {
			k.half[d].state = stResync
		}
	}
	return k
}

// IsContinue is false once the connection left HTTP/1 (a CONNECT tunnel,
// an upgrade) or the parser gave up on it.
func (k *conn) IsContinue() bool { return !k.stopped }

// ProcessPacket consumes stream bytes in one direction.
func (k *conn) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if k.stopped || k.ended || dir > parser.ServerToClient {
		return
	}
	if k.h2 != nil {
		k.h2.process(dir, data, ts)
		return
	}
	k.half[dir].feed(data, ts)
}

// Gap notes missing stream bytes.
func (k *conn) Gap(dir parser.Direction, n int, ts time.Time) {
	if k.stopped || k.ended || dir > parser.ServerToClient {
		return
	}
	if k.h2 != nil {
		k.h2.gap(dir, n, ts)
		return
	}
	k.half[dir].gap(n, ts)
}

// EndProcess finishes open messages and reports every pending request.
func (k *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if k.ended {
		return
	}
	if k.h2 != nil {
		k.h2.end(reason, ts)
	} else {
		for d := range k.half {
			k.half[d].finish(ts)
		}
		for _, t := range k.queue {
			k.emitTxn(t)
		}
		k.queue = nil
	}
	k.ended = true
	var anoms []string
	var at time.Time
	for d := range k.half {
		h := &k.half[d]
		if h.anoms.Len() > 0 && (at.IsZero() || h.anomAt.Before(at)) {
			at = h.anomAt
		}
		anoms = append(anoms, h.anoms.Take()...)
	}
	if len(anoms) > 0 {
		k.emit(&event.Event{Type: TypeAnomaly, Start: at, End: ts,
			Summary: event.Fields{{Key: "end_reason", Value: reason.String()}}, Anomalies: anoms})
	}
}

// emit fills in the connection fields and hands the event on.
func (k *conn) emit(ev *event.Event) {
	ev.Protocol = protocol
	ev.Transport = "tcp"
	ev.Client = k.c.Client
	ev.Server = k.c.Server
	k.env.Emit(ev)
}
