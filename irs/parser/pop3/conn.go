package pop3

import (
	"time"

	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// Bounds on what one connection may make the parser hold.
const (
	maxLine    = mailproto.MaxLine // a command or response line without its end
	maxHold    = 64 << 10          // client bytes held until the STLS response
	maxPending = 4096              // commands awaiting their response
	maxText    = 512               // bytes kept of one argument or response text
	maxList    = 64                // capabilities and similar lists
	maxUIDs    = 4096              // UIDL entries remembered
	maxLog     = 256               // commands in the session log
	maxDeleted = 256               // DELE message numbers listed
	textLine   = 1000              // a text line over this (CRLF included) is reported
)

// clientState says how the next client bytes are read.
type clientState uint8

const (
	csCommand  clientState = iota // command lines (or SASL responses during AUTH)
	csHold                        // after STLS: held until the response decides
	csResync                      // unknown position: lines until one is certainly a command
	csAfterTLS                    // STLS accepted: the next bytes say TLS or plaintext
	csIgnore                      // not POP3 any more (TLS without STLS)
	csTLS                         // after STLS: encrypted
)

// serverState says how the next server bytes are read.
type serverState uint8

const (
	ssStatus  serverState = iota // a status line: +OK, -ERR or a "+" continuation
	ssList                       // the lines of a multi-line response up to "."
	ssMessage                    // RETR or TOP content, dot-stuffed, up to "."
	ssResync                     // unknown position: lines until a status line
)

// conn is the parser of one connection.
type conn struct {
	c    *parser.Conn
	env  parser.Env
	opts parser.Options

	cst     clientState
	cline   mailproto.LineReader
	hold    []byte
	holdFor *command

	sst   serverState
	sline mailproto.LineReader
	list  *command  // the command whose multi-line response is being read
	dl    *download // the message being received
	// resyncBytes counts server bytes skipped while resynchronising.
	resyncBytes int

	queue []*command
	auth  *authExchange
	sess  session
	// user is the name given by the last USER command.
	user string
	// unsure: responses may answer commands that were not seen (capture
	// began mid-session, client gap).
	unsure bool

	done, ended    bool
	mailproto.Span // first and last byte seen
}

func newConn(c *parser.Conn, env parser.Env) *conn {
	if c == nil {
		c = &parser.Conn{Transport: parser.TCP}
	}
	p := &conn{c: c, env: env, opts: env.Options(), Span: mailproto.Span{First: c.Start}}
	if c.MidStream {
		p.cst = csResync
		p.sst = ssResync
		p.sess.midstream = true
		p.sess.greetingSeen = true
		p.unsure = true
	}
	return p
}

// ProcessPacket consumes stream bytes in one direction.
func (p *conn) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if p.done || p.ended || len(data) == 0 {
		return
	}
	p.Touch(ts)
	if dir == parser.ClientToServer {
		p.client(data, ts)
	} else {
		p.server(data, ts)
	}
}

// IsContinue is false once the session went over to TLS.
func (p *conn) IsContinue() bool { return !p.done && !p.ended }

// limit is the cap on one message's bytes.
func (p *conn) limit() int { return mailproto.ArtifactLimit(p.opts) }

// client reads client bytes according to the client state.
func (p *conn) client(data []byte, ts time.Time) {
	for len(data) > 0 && !p.done {
		before := p.cst
		var n int
		switch p.cst {
		case csCommand, csResync:
			n = p.clientLines(data, ts)
		case csHold:
			n = p.holdBytes(data, ts)
		case csAfterTLS:
			p.afterTLS(data)
		default: // csIgnore, csTLS
			n = len(data)
		}
		if n == 0 && p.cst == before {
			p.sess.anoms.Add("internal: client bytes dropped without progress")
			return
		}
		data = data[n:]
	}
}

// clientLines reads command lines.
func (p *conn) clientLines(data []byte, ts time.Time) int {
	if p.cline.AtStart() && (data[0] == 0x16 || data[0] == 0x80) && p.cst == csCommand {
		// A TLS ClientHello where a command belongs: a client that
		// expected implicit TLS (port 995) against a plaintext server.
		p.sess.anoms.Add("TLS handshake from the client where a POP3 command was expected: the rest of the client stream is not parsed")
		p.cst = csIgnore
		return 0
	}
	line, n, over := p.cline.Next(data)
	if over {
		p.sess.anoms.Addf("client line longer than %d bytes without a line end: skipped to the next line end", maxLine)
	}
	if line != nil {
		p.commandLine(line, ts)
	}
	return n
}

// holdBytes keeps client bytes until the STLS response; past the cap it
// decides without it.
func (p *conn) holdBytes(data []byte, ts time.Time) int {
	room := maxHold - len(p.hold)
	if len(data) < room {
		p.hold, _ = mailproto.AppendBounded(p.hold, data, maxHold)
		return len(data)
	}
	p.hold, _ = mailproto.AppendBounded(p.hold, data[:room], maxHold)
	p.sess.anoms.Addf("no response to STLS within %d bytes of client data: reading on without it", maxHold)
	p.resolveHold(ts)
	return room
}

// releaseHold re-reads the held bytes in the current client state.
func (p *conn) releaseHold(ts time.Time) {
	held := p.hold
	p.hold = nil
	p.holdFor = nil
	if len(held) > 0 {
		p.client(held, ts)
	}
}

// resolveHold decides how held bytes are read when the STLS response is
// missing (lost in a gap, not captured, or the cap was hit): a TLS record
// says TLS began, anything else is read as commands.
func (p *conn) resolveHold(ts time.Time) {
	if p.cst != csHold {
		return
	}
	if mailproto.TLSRecordStart(p.hold) {
		p.sess.stls = "assumed"
		p.goTLS()
		return
	}
	p.cst = csCommand
	p.releaseHold(ts)
}

// afterTLS decides, from the first client bytes after an accepted STLS,
// whether the session went over to TLS or goes on in plaintext.
func (p *conn) afterTLS(data []byte) {
	p.reportInjection()
	if mailproto.TLSRecordStart(data) {
		p.goTLS()
		return
	}
	p.sess.plainAfterTLS = true
	p.sess.anoms.Add("plaintext after STLS was accepted: the capture holds the session decrypted, or the client did not start TLS; parsing goes on")
	p.cst = csCommand
}

// reportInjection reports server bytes sent between the STLS response and
// the client's handshake.
func (p *conn) reportInjection() {
	p.sess.injected.Report(&p.sess.anoms, "STLS")
}

// goTLS hands the connection over to TLS: nothing more can be parsed.
func (p *conn) goTLS() {
	p.cst = csTLS
	p.done = true
	p.hold = nil
	p.holdFor = nil
}

// server reads server bytes according to the server state.
func (p *conn) server(data []byte, ts time.Time) {
	for len(data) > 0 && !p.done {
		if p.cst == csAfterTLS && p.sline.AtStart() {
			if mailproto.TLSRecordStart(data) && !p.sess.injected.Seen() {
				// The server's side of the handshake (the client's not
				// seen).
				p.goTLS()
				return
			}
			// A server speaks after STLS only inside TLS: plaintext here
			// is a response injection (a decrypted capture's next
			// response comes only after a client command).
			p.sess.injected.Add(data)
			return
		}
		if p.sst == ssMessage && p.dl != nil {
			n, end := p.dl.dec.Feed(data)
			p.dl.last = ts
			data = data[n:]
			if end {
				p.finishDownload(ts, false)
				p.sst = ssStatus
			}
			continue
		}
		line, n, over := p.sline.Next(data)
		data = data[n:]
		if over {
			p.sess.anoms.Addf("server line longer than %d bytes without a line end: skipped", maxLine)
		}
		if line != nil {
			p.serverLine(line, ts)
		}
	}
}

// Gap reports missing bytes in one direction.
func (p *conn) Gap(dir parser.Direction, n int, ts time.Time) {
	if p.done || p.ended {
		return
	}
	p.Touch(ts)
	p.sess.gaps++
	what := mailproto.GapSize(n)
	if dir == parser.ClientToServer {
		p.sess.anoms.Addf("gap of %s bytes in the client stream: resynchronising", what)
		p.unsure = true
		if p.cst == csHold {
			p.resolveHold(ts)
		}
		if p.cst == csCommand || p.cst == csResync {
			p.cline.Reset()
			p.cst = csResync
			if p.auth != nil {
				p.auth.gap = true
			}
		}
		return
	}
	p.sess.anoms.Addf("gap of %s bytes in the server stream: resynchronising", what)
	switch p.sst {
	case ssMessage:
		// The message goes on after the hole: keep it, marked.
		if p.dl != nil {
			p.dl.gap = true
			p.dl.dec.StartMidLine()
			return
		}
		p.sst = ssResync
	default:
		p.sline.Reset()
		p.list = nil
		p.sst = ssResync
		p.unsure = true
		q := p.queue
		p.queue = nil
		for _, h := range q {
			p.lost(h, ts)
		}
	}
}

// EndProcess flushes: a message whose end was not seen is emitted as it
// is, commands without a response are settled, then the session event.
func (p *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if p.ended {
		return
	}
	p.ended = true
	if p.Last.IsZero() {
		p.Last = ts
	}
	if p.cst == csHold && len(p.hold) > 0 {
		p.sess.anoms.Add("connection ended before the response to STLS")
	}
	p.reportInjection()
	if p.dl != nil {
		p.finishDownload(p.Last, true)
	}
	for len(p.queue) > 0 {
		h := p.queue[0]
		p.queue = p.queue[1:]
		p.lost(h, p.Last)
	}
	if p.sess.clientSkipped > 0 {
		p.sess.anoms.Addf("%d bytes of client data skipped while resynchronising", p.sess.clientSkipped)
	}
	if p.resyncBytes > 0 {
		p.sess.anoms.Addf("%d bytes of server data skipped while resynchronising", p.resyncBytes)
	}
	p.emitSession(reason)
	p.release()
}

// release frees buffers once the connection is over.
func (p *conn) release() {
	p.cline.Release()
	p.sline.Release()
	p.hold = nil
	p.dl = nil
	p.list = nil
	p.queue = nil
	p.sess.capa, p.sess.uids, p.sess.uidText, p.sess.uidHeld, p.sess.log = nil, nil, nil, 0, nil
	p.sess.injected = mailproto.Injection{}
}

// memoryBound is the most buffered() may report for a message cap of
// limit bytes: two line buffers, the hold buffer, one multi-line list (at
// most maxList lines of maxText), the UIDL map, the injection quote and
// one message being received.
func memoryBound(limit int) int {
	return 2*(maxLine+1) + maxHold + maxList*maxText + maxUIDs*(maxText+16) + mailproto.MaxInjected + limit
}

// buffered reports the bytes the parser holds (for tests of its bounds).
func (p *conn) buffered() int {
	n := p.cline.Buffered() + p.sline.Buffered() + cap(p.hold) + p.sess.injected.Buffered()
	for _, c := range p.sess.capa {
		n += len(c)
	}
	n += p.sess.uidBuffered()
	if p.dl != nil {
		n += p.dl.dec.Buffered()
	}
	return n
}

// download is a RETR or TOP response being received.
type download struct {
	cmd     *command
	dec     *mail.DotDecoder
	reply   string
	octets  int // announced in "+OK n octets"; -1 if not
	first   time.Time
	last    time.Time
	gap     bool
	partial bool // its start was not seen
}
