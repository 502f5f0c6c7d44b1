package imap

import (
	"time"

	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// Bounds on what one connection may make the parser hold.
const (
	maxLine     = mailproto.MaxLine // a line piece without its end
	maxHold     = 64 << 10          // client bytes held until the STARTTLS or COMPRESS response
	maxSkel     = 16 << 10          // the text of one command or response, literals left out
	maxSmallLit = 1 << 10           // bytes kept of a literal that is not a message (a login name, a mailbox)
	maxArgs     = 64                // arguments kept of one command
	maxPending  = 4096              // commands awaiting their tagged response
	maxParts    = 16                // message parts of one FETCH response held until its end
	maxUploads  = 16                // APPENDed messages awaiting their tagged response
	maxText     = 512               // bytes kept of one argument or response text
	maxList     = 64                // capabilities, mailboxes and similar lists
	maxLog      = 256               // commands in the session log
	// longLine: IMAP has no line limit; RFC 7162 3.2.1 asks clients and
	// servers to accept lines of 8192 octets. Longer ones are reported.
	longLine = 8192
)

// clientState says how the next client bytes are read.
type clientState uint8

const (
	csCommand  clientState = iota // commands, their literals, SASL responses, DONE
	csHold                        // after STARTTLS or COMPRESS: held until the response
	csResync                      // unknown position: lines until one is certainly a command
	csAfterTLS                    // STARTTLS accepted: the next bytes say TLS or plaintext
	csIgnore                      // not IMAP any more (TLS without STARTTLS, a dead DEFLATE stream)
	csTLS                         // after STARTTLS: encrypted
)

// conn is the parser of one connection.
type conn struct {
	c    *parser.Conn
	env  parser.Env
	opts parser.Options

	// client side
	cst     clientState
	cr      streamReader
	cz      *inflater
	hold    []byte
	holdFor *command
	// holdPlain: the held bytes were read through the decompressor
	// already (a STARTTLS sent in a compressed stream).
	holdPlain bool
	cmd       *command // the command being read (its pieces and literals)
	clit      *capture // where the current client literal goes
	// syncWait: cmd announced a synchronising literal that has not begun;
	// a tagged response for it now refuses the literal.
	syncWait *command
	cSkipped int // client bytes skipped while resynchronising

	// server side
	sResync  bool
	sr       streamReader
	sz       *inflater
	resp     *response // the response being read
	slit     *capture
	sSkipped int  // server bytes skipped while resynchronising
	sDead    bool // the server's DEFLATE stream is dead: nothing more is read

	pending map[string]*command
	order   []*command // pending commands in the order sent
	auth    *authExchange
	idle    *command
	idling  bool
	sess    session
	// unsure: responses may answer commands that were not seen (capture
	// began mid-session, gap).
	unsure bool

	done, ended    bool
	mailproto.Span // first and last byte seen
}

func newConn(c *parser.Conn, env parser.Env) *conn {
	if c == nil {
		c = &parser.Conn{Transport: parser.TCP}
	}
	p := &conn{c: c, env: env, opts: env.Options(), Span: mailproto.Span{First: c.Start}, pending: map[string]*command{}}
	if c.MidStream {
		p.cst = csResync
		p.sResync = true
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

// client reads client bytes: through the decompressor once COMPRESS is
// active.
func (p *conn) client(data []byte, ts time.Time) {
	if p.cz != nil {
		if err := p.cz.feed(data, func(b []byte) { p.clientStream(b, ts, true) }); err != nil {
			p.deadStream("client", err)
		}
		return
	}
	p.clientStream(data, ts, false)
}

// clientStream reads plain client bytes according to the client state.
func (p *conn) clientStream(data []byte, ts time.Time, inflated bool) {
	for len(data) > 0 && !p.done {
		if !inflated && p.cz != nil {
			// COMPRESS began: the rest is compressed.
			p.client(data, ts)
			return
		}
		var n int
		switch p.cst {
		case csHold:
			n = p.holdBytes(data, ts)
		case csAfterTLS:
			p.afterTLS(data)
			continue
		case csIgnore, csTLS:
			return
		default:
			n = p.clientUnit(data, ts)
		}
		data = data[n:]
	}
}

// clientUnit reads one piece or literal chunk from the client.
func (p *conn) clientUnit(data []byte, ts time.Time) int {
	if p.cst == csCommand && p.cmd == nil && p.cr.atLineStart() && (data[0] == 0x16 || data[0] == 0x80) {
		// A TLS ClientHello where a command belongs: a client that
		// expected implicit TLS (port 993) against a plaintext server.
		p.sess.anoms.Add("TLS handshake from the client where an IMAP command was expected: the rest of the client stream is not parsed")
		p.cst = csIgnore
		return len(data)
	}
	n, kind, pc, lit, end := p.cr.next(data)
	switch kind {
	case unitPiece:
		p.clientPiece(&pc, ts)
	case unitLiteral:
		p.clientLiteral(lit, end, ts)
	}
	return n
}

// holdBytes keeps client bytes until the response that decides how they
// are read; past the cap it decides without it.
func (p *conn) holdBytes(data []byte, ts time.Time) int {
	room := maxHold - len(p.hold)
	if len(data) < room {
		p.hold, _ = mailproto.AppendBounded(p.hold, data, maxHold)
		return len(data)
	}
	p.hold, _ = mailproto.AppendBounded(p.hold, data[:room], maxHold)
	verb := "a command"
	if p.holdFor != nil {
		verb = p.holdFor.name
	}
	p.sess.anoms.Addf("no response to %s within %d bytes of client data: reading on without it", verb, maxHold)
	p.resolveHold(ts)
	return room
}

// releaseHold re-reads the held bytes in the current client state:
// through the decompressor if they were held before it, as they are if
// they came out of it.
func (p *conn) releaseHold(ts time.Time) {
	held, plain := p.hold, p.holdPlain
	p.hold, p.holdFor, p.holdPlain = nil, nil, false
	if len(held) == 0 {
		return
	}
	if plain {
		p.clientStream(held, ts, true)
		return
	}
	p.client(held, ts)
}

// resolveHold decides how held bytes are read when the response is
// missing: a TLS record after STARTTLS says TLS began; anything else is
// read as commands (after COMPRESS a client that did not wait would have
// sent plain commands).
func (p *conn) resolveHold(ts time.Time) {
	if p.cst != csHold {
		return
	}
	if p.holdFor != nil && p.holdFor.kind == kStartTLS && mailproto.TLSRecordStart(p.hold) {
		p.sess.starttls = "assumed"
		p.goTLS()
		return
	}
	p.cst = csCommand
	p.releaseHold(ts)
}

// afterTLS decides, from the first client bytes after an accepted
// STARTTLS, whether the session went over to TLS or goes on in plaintext.
func (p *conn) afterTLS(data []byte) {
	p.reportInjection()
	if mailproto.TLSRecordStart(data) {
		p.goTLS()
		return
	}
	p.sess.plainAfterTLS = true
	p.sess.anoms.Add("plaintext after STARTTLS was accepted: the capture holds the session decrypted, or the client did not start TLS; parsing goes on")
	p.cst = csCommand
}

// reportInjection reports server bytes sent between the STARTTLS
// response and the client's handshake.
func (p *conn) reportInjection() {
	p.sess.injected.Report(&p.sess.anoms, "STARTTLS")
}

// goTLS hands the connection over to TLS: nothing more can be parsed.
func (p *conn) goTLS() {
	p.cst = csTLS
	p.done = true
	p.hold, p.holdFor = nil, nil
}

// deadStream: a direction's DEFLATE stream cannot be decompressed on.
func (p *conn) deadStream(dir string, err error) {
	p.sess.anoms.Add(inflateErr(dir, err))
	if dir == "client" {
		p.cst = csIgnore
		return
	}
	p.sResync = true
	p.sz.close()
	p.sz = nil
	p.sDead = true
}

// server reads server bytes: through the decompressor once COMPRESS is
// active.
func (p *conn) server(data []byte, ts time.Time) {
	if p.sDead {
		return
	}
	if p.sz != nil {
		if err := p.sz.feed(data, func(b []byte) { p.serverStream(b, ts, true) }); err != nil {
			p.deadStream("server", err)
		}
		return
	}
	p.serverStream(data, ts, false)
}

// serverStream reads plain server bytes.
func (p *conn) serverStream(data []byte, ts time.Time, inflated bool) {
	for len(data) > 0 && !p.done && !p.sDead {
		if !inflated && p.sz != nil {
			// COMPRESS began after the tagged OK: the rest is compressed.
			p.server(data, ts)
			return
		}
		if p.cst == csAfterTLS && p.sr.atLineStart() {
			if mailproto.TLSRecordStart(data) && !p.sess.injected.Seen() {
				// The server's side of the handshake (the client's not
				// seen).
				p.goTLS()
				return
			}
			// A server speaks after STARTTLS only inside TLS: plaintext
			// here is a response injection.
			p.sess.injected.Add(data)
			return
		}
		n, kind, pc, lit, end := p.sr.next(data)
		switch kind {
		case unitPiece:
			p.serverPiece(&pc, ts)
		case unitLiteral:
			p.serverLiteral(lit, end, ts)
		}
		data = data[n:]
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
	p.unsure = true
	if dir == parser.ClientToServer {
		if p.cz != nil {
			// A hole in a DEFLATE stream: nothing after it decodes.
			p.sess.anoms.Addf("gap of %s bytes in the compressed client stream: the rest of it is not parsed", what)
			p.cz.close()
			p.cst = csIgnore
			return
		}
		if p.cst == csHold {
			p.resolveHold(ts)
		}
		if p.clit != nil && p.cr.skip(n) {
			p.clit.gap = true
			p.sess.anoms.Addf("gap of %s bytes in the client stream, inside a literal: the literal goes on", what)
			return
		}
		p.sess.anoms.Addf("gap of %s bytes in the client stream: resynchronising", what)
		if line := p.cr.partial(); p.cmd == nil && p.cst == csCommand && certainCommand(line) {
			// A command cut by the gap: what was seen of it is recorded.
			pc := piece{text: append([]byte(nil), line...), raw: len(line)}
			p.cr.reset()
			p.clientPiece(&pc, ts)
			if p.cmd != nil {
				p.abandonCommand(ts)
			} else if n := len(p.order); n > 0 {
				p.cutCommand(p.order[n-1])
			}
		}
		p.cr.reset()
		p.abandonCommand(ts)
		if p.cst == csCommand {
			p.cst = csResync
		}
		return
	}
	if p.sz != nil {
		p.sess.anoms.Addf("gap of %s bytes in the compressed server stream: the rest of it is not parsed", what)
		p.sz.close()
		p.sz = nil
		p.sDead = true
		return
	}
	if p.slit != nil && p.sr.skip(n) {
		p.slit.gap = true
		p.sess.anoms.Addf("gap of %s bytes in the server stream, inside a literal: the literal goes on", what)
		return
	}
	p.sess.anoms.Addf("gap of %s bytes in the server stream: resynchronising", what)
	p.sr.reset()
	p.abandonResponse(ts)
	p.sResync = true
}

// EndProcess flushes: literals and responses cut by the end are emitted
// as they are, commands without a response are settled, then the session
// event.
func (p *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if p.ended {
		return
	}
	p.ended = true
	if p.Last.IsZero() {
		p.Last = ts
	}
	if p.cst == csHold && len(p.hold) > 0 && p.holdFor != nil {
		p.sess.anoms.Addf("connection ended before the response to %s", p.holdFor.name)
	}
	p.reportInjection()
	p.abandonResponse(p.Last)
	p.abandonCommand(p.Last)
	for _, h := range append([]*command(nil), p.order...) {
		p.lost(h, p.Last)
	}
	if p.cSkipped > 0 {
		p.sess.anoms.Addf("%d bytes of client data skipped while resynchronising", p.cSkipped)
	}
	if p.sSkipped > 0 {
		p.sess.anoms.Addf("%d bytes of server data skipped while resynchronising", p.sSkipped)
	}
	p.emitSession(reason)
	p.release()
}

// release frees buffers and stops the decompressors once the connection
// is over.
func (p *conn) release() {
	p.cr.release()
	p.sr.release()
	p.cz.close()
	p.sz.close()
	p.cz, p.sz = nil, nil
	p.hold, p.holdFor = nil, nil
	p.cmd, p.clit, p.resp, p.slit, p.syncWait = nil, nil, nil, nil, nil
	p.pending, p.order = nil, nil
	p.sess.log, p.sess.capa = nil, nil
	p.sess.injected = mailproto.Injection{}
}

// memoryBound is the most buffered() may report for a message cap of
// limit bytes: two readers with their line buffers, the hold buffer, the
// text of one command and one response, a client literal and a server
// literal being captured (each at most one message), the decoded form of
// the parts of one FETCH response and of the uploads awaiting their
// response, the arguments kept of one command, the two decompressors and
// the injection quote.
func memoryBound(limit int) int {
	return 2*(maxLine+2*maxMarker) + maxHold + 2*maxSkel + 2*limit + (maxParts+maxUploads)*(mail.MaxText+partOverhead) +
		maxArgs*maxSmallLit + 2*inflaterSize + mailproto.MaxInjected
}

// partOverhead is what a restored part keeps besides its text: header
// values, addresses, artifact descriptions (bounded by irs/mail).
const partOverhead = 64 << 10

// buffered reports the bytes the parser holds (for tests of its bounds).
func (p *conn) buffered() int {
	n := p.cr.size() + p.sr.size() + cap(p.hold) + p.sess.injected.Buffered() + p.cz.size() + p.sz.size()
	if p.cmd != nil {
		n += p.cmd.size()
	}
	if p.resp != nil {
		n += p.resp.size()
	}
	if p.clit != nil && (p.cmd == nil || !p.cmd.owns(p.clit)) {
		n += p.clit.size()
	}
	if p.slit != nil {
		n += p.slit.size()
	}
	for _, h := range p.order {
		for _, u := range h.uploads {
			n += u.mem()
		}
	}
	return n
}
