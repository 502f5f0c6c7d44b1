package smtp

import (
	"bytes"
	"time"

	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// Bounds on what one connection may make the parser hold.
const (
	maxLine       = mailproto.MaxLine // a command or reply line without its end
	maxHold       = 64 << 10          // client bytes held until a reply decides
	maxSmuggleRaw = 64 << 10          // raw bytes kept after a loose dot line
	maxPending    = 4096              // commands awaiting their reply
	maxRcpts      = 1000              // recipients recorded per transaction
	maxAwaiting   = 16                // ended messages waiting for their final reply
	maxReplyLines = 64                // lines kept of one multi-line reply
	maxText       = 512               // bytes kept of one argument or reply line
	maxReplyText  = 1024              // bytes kept of one (multi-line) reply
	maxList       = 64                // extensions and similar lists
	maxAborted    = 16                // abandoned transactions recorded
	maxParams     = 16                // MAIL/RCPT parameters recorded
	rfcLine       = 1000              // RFC 5321 4.5.3.1.6 text line limit
	resyncProbe   = 1000              // longest line still tested as a command when resynchronising
)

// clientState says how the next client bytes are read.
type clientState uint8

const (
	csCommand clientState = iota // command lines
	csHold                       // held until a reply (DATA, AUTH, STARTTLS) decides
	csAuth                       // the next line answers a 334 challenge
	csData                       // DATA content, dot-stuffed
	csBDAT                       // the octets of a BDAT chunk
	csResync                     // unknown position: lines tested as commands, else message data
	csIgnore                     // not SMTP any more (a TLS handshake without STARTTLS)
	csTLS                        // after STARTTLS: encrypted
	// csAfterTLS: STARTTLS was accepted; the client's next bytes say
	// whether TLS follows (a handshake record) or the capture holds the
	// session in plaintext (decrypted by a TLS-terminating proxy, or a
	// client that never started TLS).
	csAfterTLS
)

// conn is the parser of one connection.
type conn struct {
	c    *parser.Conn
	env  parser.Env
	opts parser.Options

	// client side
	cst      clientState
	cline    mailproto.LineReader
	hold     []byte
	holdFor  *pending
	msg      *message // message being received (or resync candidate)
	bdatLeft int64
	bdatLast bool
	bdatMsg  *message
	rsProbe  []byte
	rsLong   bool

	// server side
	sline   mailproto.LineReader
	sResync bool
	rep     replyAcc

	queue    []*pending
	sess     session
	tx       *transaction   // the open transaction
	awaiting []*transaction // messages ended, final reply not yet seen
	auth     *authExchange

	// tentative: a message with a loose dot line, answered, held until the
	// next reply shows where the server ended it.
	tentative *transaction
	// candidate: the one ended message whose content is kept, with a
	// loose dot line, until its reply.
	candidate *transaction
	// unsure: replies may answer commands that were not seen (capture
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
		p.sResync = true
		p.sess.midstream = true
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

// client reads client bytes according to the client state.
func (p *conn) client(data []byte, ts time.Time) {
	for len(data) > 0 && !p.done {
		before := p.cst
		var n int
		switch p.cst {
		case csCommand, csAuth:
			n = p.clientLines(data, ts)
		case csHold:
			n = p.holdBytes(data, ts)
		case csData:
			n = p.dataBytes(data, ts)
		case csBDAT:
			n = p.bdatBytes(data, ts)
		case csResync:
			n = p.resyncBytes(data, ts)
		case csAfterTLS:
			p.afterTLS(data)
		default: // csIgnore, csTLS
			n = len(data)
		}
		if n == 0 && p.cst == before {
			// No progress and no change of state cannot happen; if it
			// did, dropping the rest keeps the parser from spinning.
			p.sess.anoms.Add("internal: client bytes dropped without progress")
			return
		}
		data = data[n:]
	}
}

// clientLines reads command lines, or a SASL response in csAuth.
func (p *conn) clientLines(data []byte, ts time.Time) int {
	if p.cline.AtStart() && (data[0] == 0x16 || data[0] == 0x80) {
		// A TLS ClientHello where a command belongs: a client that
		// expected implicit TLS (port 465) against a plaintext server,
		// or TLS after a STARTTLS whose reply was not seen.
		p.sess.anoms.Add("TLS handshake from the client where an SMTP command was expected: the rest of the client stream is not parsed")
		p.cst = csIgnore
		return 0
	}
	line, n, over := p.cline.Next(data)
	if over {
		p.sess.anoms.Addf("client line longer than %d bytes without a line end: skipped to the next line end", maxLine)
	}
	if line != nil {
		if p.cst == csAuth {
			p.saslLine(line, ts)
		} else {
			p.command(line, ts)
		}
	}
	return n
}

// holdBytes keeps client bytes until the reply that decides how they
// are read; past the cap, it decides without the reply.
func (p *conn) holdBytes(data []byte, ts time.Time) int {
	room := maxHold - len(p.hold)
	if len(data) < room {
		p.hold, _ = mailproto.AppendBounded(p.hold, data, maxHold)
		return len(data)
	}
	p.hold, _ = mailproto.AppendBounded(p.hold, data[:room], maxHold)
	verb := "a command"
	if p.holdFor != nil {
		verb = p.holdFor.verb
	}
	p.sess.anoms.Addf("no reply to %s within %d bytes of client data: reading on without it", verb, maxHold)
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

// resolveHold decides how held bytes are read when the reply that should
// decide it is missing (lost in a gap, not captured, or the cap was hit).
func (p *conn) resolveHold(ts time.Time) {
	if p.cst != csHold {
		return
	}
	h := p.holdFor
	switch {
	case h == nil:
		p.cst = csCommand
	case h.kind == pData:
		// Most DATA commands are accepted: read on as message data.
		p.startData(h.tx, ts)
	case h.kind == pStartTLS && len(p.hold) > 0 && p.hold[0] == 0x16:
		p.sess.starttls = "assumed"
		p.goTLS()
		return
	default:
		// AUTH keeps its exchange open: held lines that look like SASL
		// responses are still read as such (see command).
		p.cst = csCommand
	}
	p.releaseHold(ts)
}

// dataBytes feeds DATA content to the message's dot decoder.
func (p *conn) dataBytes(data []byte, ts time.Time) int {
	n, done := p.msg.dec.Feed(data)
	p.msg.lastTS = ts
	if done {
		p.endData(ts, true)
	}
	return n
}

// bdatBytes consumes the octets of the current BDAT chunk.
func (p *conn) bdatBytes(data []byte, ts time.Time) int {
	k := int64(len(data))
	if k > p.bdatLeft {
		k = p.bdatLeft
	}
	if m := p.bdatMsg; m != nil && !m.sealed {
		m.appendRaw(data[:k], p.limit())
		m.lastTS = ts
	}
	p.bdatLeft -= k
	if p.bdatLeft == 0 {
		p.chunkDone(ts)
	}
	return int(k)
}

// chunkDone ends the current BDAT chunk.
func (p *conn) chunkDone(ts time.Time) {
	p.cst = csCommand
	m := p.bdatMsg
	p.bdatMsg = nil
	if p.bdatLast && m != nil && !m.sealed && p.tx != nil && p.tx.msg == m {
		m.ended = true
		p.seal(ts)
	}
}

// resyncBytes reads client bytes after a gap or from a capture that began
// mid-session: a line that parses as a command resynchronises; anything
// else is taken as message data (the stream may be inside DATA), and a
// "." line ends that message.
func (p *conn) resyncBytes(data []byte, ts time.Time) int {
	i := bytes.IndexByte(data, '\n')
	if p.rsLong {
		end := len(data)
		if i >= 0 {
			end = i + 1
			p.rsLong = false
		}
		p.resyncFeed(data[:end], ts)
		return end
	}
	if i < 0 {
		if len(p.rsProbe)+len(data) > resyncProbe {
			// Too long for a command: message data up to the line end.
			probe := p.rsProbe
			p.rsProbe = p.rsProbe[:0]
			p.rsLong = true
			p.resyncFeed(probe, ts)
			p.resyncFeed(data, ts)
			return len(data)
		}
		p.rsProbe, _ = mailproto.AppendBounded(p.rsProbe, data, resyncProbe+1)
		return len(data)
	}
	line := data[:i+1]
	if len(p.rsProbe) > 0 {
		if len(p.rsProbe)+len(line) > resyncProbe+1 {
			// Too long for a command.
			p.resyncFeed(p.rsProbe, ts)
			p.rsProbe = p.rsProbe[:0]
			p.resyncFeed(line, ts)
			return i + 1
		}
		p.rsProbe, _ = mailproto.AppendBounded(p.rsProbe, line, resyncProbe+1)
		line = p.rsProbe
	}
	if len(line) <= resyncProbe+1 && resyncCommand(line) {
		p.leaveResync(ts)
		p.command(line, ts)
	} else {
		p.resyncFeed(line, ts)
	}
	p.rsProbe = p.rsProbe[:0]
	return i + 1
}

// resyncFeed gives bytes read while resynchronising to the candidate
// message; a "." line ends it.
func (p *conn) resyncFeed(b []byte, ts time.Time) {
	if len(b) == 0 || p.cst != csResync {
		return
	}
	if p.msg == nil {
		p.msg = newDataMessage(p.limit())
		p.msg.partial = true
		p.msg.dec.StartMidLine()
		p.msg.firstTS = ts
	}
	n, done := p.msg.dec.Feed(b)
	p.msg.lastTS = ts
	if done {
		p.endData(ts, false)
		p.rsProbe = p.rsProbe[:0]
		p.rsLong = false
		if n < len(b) {
			p.client(b[n:], ts)
		}
	}
}

// leaveResync goes back to reading commands; a message in progress ends
// unseen (its end was lost) and unrecognised bytes are reported.
func (p *conn) leaveResync(ts time.Time) {
	m := p.msg
	p.cst = csCommand
	p.rsProbe = p.rsProbe[:0]
	p.rsLong = false
	if m == nil {
		return
	}
	if p.tx != nil && p.tx.msg == m {
		// The data of a transaction was cut by a gap: its end was lost.
		m.endLost = true
		p.msg = nil
		m.ended = true
		p.seal(ts)
		return
	}
	p.msg = nil
	if n := m.dec.Size(); n > 0 {
		p.sess.anoms.Addf("%d bytes of client data that are neither commands nor a complete message were skipped while resynchronising", n)
	}
}

// startData begins message data for tx after a 354 (or when assumed).
func (p *conn) startData(tx *transaction, ts time.Time) {
	if tx == nil {
		tx = p.openTx(ts, true)
	}
	m := newDataMessage(p.limit())
	m.firstTS = ts
	if n, ok := mailproto.Atoi([]byte(tx.mailParams["SIZE"])); ok {
		m.dec.Expect(n)
	}
	if tx.msg != nil && tx.msg.via == viaBDAT {
		tx.anoms.Add("DATA after BDAT in the same transaction")
	}
	tx.msg = m
	p.tx = tx
	p.msg = m
	p.cst = csData
}

// endData closes the message being received: the dot line was seen, or
// a resync candidate ended with one.
func (p *conn) endData(ts time.Time, fromData bool) {
	m := p.msg
	p.msg = nil
	p.cst = csCommand
	if m == nil {
		return
	}
	m.ended = true
	switch {
	case p.tx != nil && p.tx.msg == m:
	case p.tx != nil && p.tx.msg == nil:
		// The DATA command was lost (gap): the message belongs to the
		// open transaction.
		p.tx.msg = m
	default:
		// A message picked up without its envelope (mid-session).
		if !fromData && m.dec.Size() == 0 {
			return
		}
		tx := p.openTx(ts, true)
		tx.start = m.firstTS
		tx.msg = m
	}
	p.seal(ts)
}

// limit is the cap on one message's bytes.
func (p *conn) limit() int { return mailproto.ArtifactLimit(p.opts) }

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
		p.clientGap(n, ts)
	} else {
		p.sess.anoms.Addf("gap of %s bytes in the server stream: replies to pending commands lost, resynchronising", what)
		p.serverGap(ts)
	}
}

func (p *conn) clientGap(n int, ts time.Time) {
	switch p.cst {
	case csHold:
		// The reply will decide nothing sure any more.
		p.resolveHold(ts)
		if p.cst != csHold {
			p.clientGap(n, ts)
		}
	case csCommand, csAuth:
		p.cline.Reset()
		if p.cst == csAuth {
			p.auth = nil
		}
		p.cst = csResync
	case csData:
		p.msg.gap = true
		p.msg.dec.StartMidLine()
		p.cst = csResync
	case csBDAT:
		if m := p.bdatMsg; m != nil {
			m.gap = true
		}
		if n > 0 && int64(n) < p.bdatLeft {
			p.bdatLeft -= int64(n)
			return
		}
		p.bdatLeft = 0
		p.chunkDone(ts)
		p.cst = csResync
	case csResync:
		if p.msg != nil {
			p.msg.gap = true
			p.msg.dec.StartMidLine()
		}
		p.rsProbe = p.rsProbe[:0]
		p.rsLong = false
	}
}

func (p *conn) serverGap(ts time.Time) {
	p.sline.Reset()
	p.rep.reset()
	p.sResync = true
	q := p.queue
	p.queue = nil
	for _, h := range q {
		p.lostReply(h, ts)
	}
}

// EndProcess flushes: messages whose end or reply was not seen are
// emitted as they are, then the session event.
func (p *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if p.ended {
		return
	}
	p.ended = true
	if p.Last.IsZero() {
		p.Last = ts
	}
	p.reportInjection()
	if !p.done {
		if p.cst == csHold {
			h := p.holdFor
			if h != nil && len(p.hold) > 0 {
				p.sess.anoms.Addf("connection ended before the reply to %s", h.verb)
			}
			p.resolveHold(p.Last)
		}
		switch p.cst {
		case csData, csResync:
			if m := p.msg; m != nil && p.tx != nil && p.tx.msg == m {
				m.endLost = true
				m.ended = true
				p.msg = nil
				p.seal(p.Last)
			}
		case csBDAT:
			if m := p.bdatMsg; m != nil && p.tx != nil && p.tx.msg == m {
				m.endLost = true
			}
		}
	}
	if p.tx != nil && p.tx.msg != nil && !p.tx.msg.sealed {
		// BDAT chunks without LAST, or data cut by the end.
		p.tx.msg.endLost = true
		p.tx.msg.ended = true
		p.seal(p.Last)
	}
	for len(p.queue) > 0 {
		p.lostReply(p.pop(), p.Last)
	}
	if p.tentative != nil {
		p.settleTentative(false, p.Last)
	}
	for len(p.awaiting) > 0 {
		p.finish(p.awaiting[0], nil, p.Last)
	}
	if p.tx != nil {
		p.abandon(p.tx, "connection end")
		p.tx = nil
	}
	p.emitSession(reason)
	p.release()
}

// release frees buffers once the connection is over.
func (p *conn) release() {
	p.cline.Release()
	p.sline.Release()
	p.hold = nil
	p.msg = nil
	p.bdatMsg = nil
	p.rsProbe = nil
	p.rep = replyAcc{}
	p.sess.injected = mailproto.Injection{}
}

// afterTLS decides, from the first bytes after an accepted STARTTLS,
// whether the session went over to TLS or goes on in plaintext.
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

// reportInjection reports server bytes sent between the STARTTLS reply
// and the client's handshake.
func (p *conn) reportInjection() { p.sess.injected.Report(&p.sess.anoms, "STARTTLS") }

// goTLS hands the connection over to TLS: nothing more can be parsed.
func (p *conn) goTLS() {
	p.cst = csTLS
	p.done = true
	p.hold = nil
	p.holdFor = nil
}

// memoryBound is the most buffered() may report for a message cap of
// limit bytes: two line buffers, the hold buffer, the resync probe, one
// multi-line reply, the decoded text of the messages awaiting their reply,
// and the content of at most four messages at once (one being received,
// one open BDAT transaction cut by a gap, one ended with a loose dot line
// awaiting its reply and one held to settle a smuggling question), each
// with the raw bytes kept after a loose dot line.
func memoryBound(limit int) int {
	return 2*(maxLine+1) + maxHold + resyncProbe + 1 + maxReplyLines*maxText +
		maxAwaiting*mail.MaxText + 4*(limit+maxSmuggleRaw) + 2*maxSmuggleRaw + mailproto.MaxInjected
}

// buffered reports the bytes the parser holds (for tests of its bounds).
func (p *conn) buffered() int {
	n := p.cline.Buffered() + p.sline.Buffered() + cap(p.hold) + cap(p.rsProbe) + p.rep.size() + p.sess.injected.Buffered()
	seen := map[*message]bool{}
	add := func(m *message) {
		if m != nil && !seen[m] {
			seen[m] = true
			n += m.buffered()
		}
	}
	add(p.msg)
	add(p.bdatMsg)
	if p.tx != nil {
		add(p.tx.msg)
	}
	for _, t := range p.awaiting {
		add(t.msg)
		if t.smuggle != nil {
			n += len(t.smuggle.rest)
		}
		if t.restored != nil {
			n += len(t.restored.Text)
		}
	}
	if p.tentative != nil {
		add(p.tentative.msg)
		n += len(p.tentative.smuggle.rest)
	}
	return n
}

// message is one message's content as it is received.
type message struct {
	via     string // viaData or viaBDAT
	dec     *mail.DotDecoder
	buf     []byte // BDAT content
	size    int64  // bytes seen (BDAT; DATA once freed)
	trunc   bool   // content beyond the cap
	nul     bool   // NUL bytes in DATA content
	long    bool   // a DATA line over 1000 octets
	chunks  int
	partial bool // its start was not seen (mid-session capture)
	gap     bool // bytes of it were lost
	endLost bool // its end was not seen
	ended   bool
	sealed  bool
	firstTS time.Time
	lastTS  time.Time
}

const (
	viaData = "data"
	viaBDAT = "bdat"
)

func newDataMessage(limit int) *message {
	return &message{via: viaData, dec: mail.NewDotDecoder(limit, maxSmuggleRaw)}
}

func (m *message) appendRaw(b []byte, limit int) {
	m.size += int64(len(b))
	var n int
	m.buf, n = mailproto.AppendBounded(m.buf, b, limit)
	if n < len(b) {
		m.trunc = true
	}
}

func (m *message) bytes() []byte {
	if m.dec != nil {
		return m.dec.Bytes()
	}
	return m.buf
}

func (m *message) total() int64 {
	if m.dec != nil {
		return m.dec.Size()
	}
	return m.size
}

func (m *message) truncated() bool {
	if m.dec != nil {
		return m.dec.Truncated
	}
	return m.trunc
}

func (m *message) buffered() int {
	if m.dec != nil {
		return m.dec.Buffered()
	}
	return cap(m.buf)
}

// free drops the content once the message has been restored, keeping
// what the event reports about it.
func (m *message) free() {
	if m.dec != nil {
		m.size = m.dec.Size()
		m.trunc = m.dec.Truncated
		m.nul = m.dec.NUL
		m.long = m.dec.LongLine
		// Restored: the bytes are not read again.
		m.dec.Release()
		m.dec = nil
	}
	m.buf = nil
}
