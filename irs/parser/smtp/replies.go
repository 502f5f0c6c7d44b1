package smtp

import (
	"strconv"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// reply is one complete (possibly multi-line) server reply.
type reply struct {
	code  int
	lines []string // the text of each line after "NNN-" / "NNN ", cleaned
	n     int      // lines received, kept or not
}

// String renders the reply as "250 text" with multi-line text joined.
func (r *reply) String() string {
	if r == nil {
		return ""
	}
	// One allocation: room for the code, the lines and their spaces
	// (or the cut and its " ...").
	n := 24
	for _, l := range r.lines {
		n += len(l) + 1
	}
	var b strings.Builder
	b.Grow(min(n, maxReplyText+32))
	b.WriteString(strconv.Itoa(r.code))
	for i, l := range r.lines {
		if b.Len()+len(l) > maxReplyText {
			b.WriteString(" ...")
			break
		}
		if i == 0 || l != "" {
			b.WriteByte(' ')
		}
		b.WriteString(l)
	}
	return b.String()
}

// text is the reply without its code.
func (r *reply) text() string {
	s := r.String()
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return ""
}

func (r *reply) ok() bool { return r != nil && r.code >= 200 && r.code < 300 }

// replyAcc gathers the lines of a multi-line reply.
type replyAcc struct {
	open bool
	r    reply
}

func (a *replyAcc) reset() { *a = replyAcc{} }

func (a *replyAcc) size() int {
	n := 0
	for _, l := range a.r.lines {
		n += len(l)
	}
	return n
}

// server reads reply lines.
func (p *conn) server(data []byte, ts time.Time) {
	for len(data) > 0 && !p.done {
		if p.cst == csAfterTLS && p.sline.AtStart() {
			if mailproto.TLSRecordStart(data) && !p.sess.injected.Seen() {
				// The server's side of a handshake (the client's was
				// not seen).
				p.goTLS()
				return
			}
			// A server speaks after STARTTLS only inside TLS: plaintext
			// here is a response injection (a decrypted capture's next
			// reply comes only after a client command).
			p.sess.injected.Add(data)
			return
		}
		line, n, over := p.sline.Next(data)
		data = data[n:]
		if over {
			p.sess.anoms.Addf("server line longer than %d bytes without a line end: skipped", maxLine)
			p.rep.reset()
		}
		if line != nil {
			p.serverLine(line, ts)
		}
	}
}

// parseReplyLine splits "NNN[ -]text".
func parseReplyLine(l []byte) (code int, more bool, text []byte, ok bool) {
	if len(l) < 3 || !mailproto.IsDigit(l[0]) || !mailproto.IsDigit(l[1]) || !mailproto.IsDigit(l[2]) {
		return 0, false, nil, false
	}
	code = int(l[0]-'0')*100 + int(l[1]-'0')*10 + int(l[2]-'0')
	switch {
	case len(l) == 3:
		return code, false, nil, true
	case l[3] == ' ':
		return code, false, l[4:], true
	case l[3] == '-':
		return code, true, l[4:], true
	}
	return 0, false, nil, false
}

func (p *conn) serverLine(raw []byte, ts time.Time) {
	line, bare := mailproto.TrimEOL(raw)
	if bare {
		p.sess.anoms.Add("server replies end with a bare LF instead of CRLF")
	}
	if len(raw) > rfcLine {
		p.sess.anoms.Add("server reply line longer than 1000 octets")
	}
	code, more, text, ok := parseReplyLine(line)
	if !ok {
		if p.sResync {
			return
		}
		p.sess.anoms.Addf("server line that is not a reply: %s", mailproto.Quote(line, 40))
		return
	}
	p.sResync = false
	if p.rep.open && code != p.rep.r.code {
		p.sess.anoms.Addf("multi-line reply changes its code from %d to %d", p.rep.r.code, code)
		r := p.rep.r
		p.rep.reset()
		p.onReply(&r, ts)
		if p.done {
			return
		}
	}
	p.rep.r.code = code
	p.rep.r.n++
	if len(p.rep.r.lines) < maxReplyLines {
		p.rep.r.lines = append(p.rep.r.lines, mailproto.Clean(text, maxText))
	}
	if more {
		p.rep.open = true
		return
	}
	r := p.rep.r
	p.rep.reset()
	p.onReply(&r, ts)
}

// onReply matches a complete reply with the oldest command awaiting one.
func (p *conn) onReply(r *reply, ts time.Time) {
	p.sess.replies++
	if r.code < 200 || r.code > 599 || r.code/10%10 > 5 {
		// RFC 5321 4.2: first digit 2-5, second 0-5.
		p.sess.anoms.Addf("invalid reply code %d", r.code)
	}
	if p.tentative != nil {
		// More replies than commands: the server read commands in what
		// the client sent as data. A server closing the connection
		// (421, 221) proves nothing.
		p.settleTentative(len(p.queue) == 0 && r.code != 421 && r.code != 221, ts)
	}
	first := !p.sess.replySeen
	p.sess.replySeen = true
	if first && (r.code == 220 || r.code == 554 || r.code == 421) &&
		(len(p.queue) == 0 || p.queue[0].kind != pStartTLS) && (!p.sess.midstream || p.sess.commands == 0) {
		p.sess.greeting = r.String()
		if len(p.queue) > 0 {
			p.sess.anoms.Add("client sent commands before the server's greeting")
		}
		return
	}
	if len(p.queue) == 0 && (p.cst == csData || p.cst == csResync && p.msg != nil && p.tx != nil && p.tx.msg == p.msg) {
		p.replyDuringData(r, ts)
		if len(p.queue) == 0 {
			return
		}
	}
	if len(p.queue) == 0 {
		if p.sess.midstream && p.sess.commands == 0 {
			p.sess.unmatched++
			return
		}
		p.sess.anoms.Addf("reply without a command awaiting it: %s", mailproto.CleanString(r.String(), 80))
		return
	}
	h := p.queue[0]
	if h.kind == pAuth && r.code == 334 {
		p.authChallenge(h, r, ts)
		return
	}
	if reason := misfit(h, r, p.unsure); reason != "" {
		// A reply that cannot answer the oldest command: it answers a
		// command that was not seen (lost in a gap, sent before the
		// capture began). Matching it anyway would shift every later
		// reply onto the wrong command.
		if p.unsure {
			p.sess.unmatched++
		} else {
			p.sess.anoms.Addf("reply %d %s: taken as the reply to a command not seen", r.code, reason)
		}
		return
	}
	p.pop()
	if len(p.queue) == 0 {
		p.unsure = false
	}
	switch h.kind {
	case pHelo:
		first := *r
		if len(first.lines) > 1 {
			first.lines = first.lines[:1]
		}
		p.sess.heloReply = first.String()
		if r.ok() && (h.verb == "EHLO" || h.verb == "LHLO") {
			p.sess.extensions = p.sess.extensions[:0]
			for i, l := range r.lines {
				if i == 0 || l == "" {
					continue
				}
				if len(p.sess.extensions) < maxList {
					p.sess.extensions = append(p.sess.extensions, l)
				}
			}
		}
	case pMail:
		h.tx.mailReply = r
	case pRcpt:
		if h.rcpt != nil {
			h.rcpt.reply = r
		}
	case pData:
		p.dataReply(h, r, ts)
	case pEOD:
		if h.tx != nil && h.tx.smuggle != nil && !h.tx.emitted {
			p.holdTentative(h.tx, r, ts)
			return
		}
		p.finish(h.tx, r, ts)
	case pBDAT:
		if h.tx != nil {
			if !r.ok() {
				h.tx.anoms.Addf("BDAT chunk %d rejected: %s", h.chunk, mailproto.CleanString(r.String(), 120))
			}
			if h.last {
				p.finish(h.tx, r, ts)
			}
		}
	case pAuth:
		p.authDone(h, r, ts)
	case pStartTLS:
		p.startTLSReply(r, ts)
	case pQuit:
		p.sess.quitReply = r.String()
	case pRset:
	default:
		if r.code == 500 || r.code == 502 {
			p.sess.rejected++
		}
	}
}

// dataReply handles the reply to DATA: 354 opens the message data.
func (p *conn) dataReply(h *pending, r *reply, ts time.Time) {
	if h.tx != nil {
		h.tx.dataReply = r
	}
	holding := p.cst == csHold && p.holdFor == h
	if r.code == 354 {
		if holding {
			p.startData(h.tx, ts)
			p.releaseHold(ts)
		} else if p.cst == csCommand && p.tx == h.tx {
			p.startData(h.tx, ts)
		}
		return
	}
	if holding {
		if len(p.hold) > 0 {
			if h.tx != nil {
				h.tx.anoms.Addf("DATA refused (%d) but the client sent %d more bytes: read as commands", r.code, len(p.hold))
			}
		}
		p.cst = csCommand
		p.releaseHold(ts)
		return
	}
	if p.cst == csData && p.tx == h.tx && h.tx != nil {
		h.tx.anoms.Addf("DATA refused (%d) after the client data was already read as a message", r.code)
	}
}

// replyDuringData handles a reply that arrives while the client is still
// sending message data and no command awaits a reply. If a loose dot line
// was seen, the server ended the data there (SMTP smuggling): the message
// is cut there and what followed is read as commands. After a gap, the
// end of the data was lost. Otherwise the server interrupted the data.
func (p *conn) replyDuringData(r *reply, ts time.Time) {
	m := p.msg
	tx := p.tx
	if at, raw, ok := m.dec.LooseEnd(); ok && p.cst == csData {
		tx.anoms.Add(smuggledEnd)
		m.dec.CutAt(at)
		rest := append([]byte(nil), raw...)
		p.endData(ts, true)
		p.client(rest, ts)
		return
	}
	if p.cst == csResync {
		m.endLost = true
		m.ended = true
		p.msg = nil
		p.seal(ts)
		return
	}
	if tx.interrupt == nil {
		rr := *r
		tx.interrupt = &rr
	}
	tx.anoms.Addf("server replied while message data was still being sent: %s", mailproto.CleanString(r.String(), 120))
}

// startTLSReply: 220 hands the connection to TLS; anything else keeps
// it in plaintext.
func (p *conn) startTLSReply(r *reply, ts time.Time) {
	holding := p.cst == csHold && p.holdFor != nil && p.holdFor.kind == pStartTLS
	held := 0
	if holding {
		held = len(p.hold)
	}
	if r.code == 220 {
		p.sess.starttls = "accepted"
		// A TLS record first is the handshake captured ahead of the
		// reply, not injected plaintext.
		if held > 0 && mailproto.TLSRecordStart(p.hold) {
			p.goTLS()
			return
		}
		if held > 0 {
			// The server discards what was sent before its reply; the
			// session goes on in TLS.
			p.sess.anoms.Addf("STARTTLS command injection: the client sent %d bytes after STARTTLS before the server's reply: %s", held, mailproto.Quote(p.hold, 60))
			p.goTLS()
			return
		}
		p.hold = nil
		p.holdFor = nil
		p.cst = csAfterTLS
		return
	}
	p.sess.starttls = "refused: " + mailproto.CleanString(r.String(), 120)
	if held > 0 {
		p.sess.anoms.Addf("commands pipelined after STARTTLS (%d bytes): %s", held, mailproto.Quote(p.hold, 60))
	}
	if holding {
		p.cst = csCommand
		p.releaseHold(ts)
	}
}

// lostReply settles a command whose reply will not be seen (server gap,
// connection end, queue overflow).
func (p *conn) lostReply(h *pending, ts time.Time) {
	holding := p.cst == csHold && p.holdFor == h
	switch h.kind {
	case pEOD:
		p.finish(h.tx, nil, ts)
	case pBDAT:
		if h.last {
			p.finish(h.tx, nil, ts)
		}
	case pAuth:
		if h.auth != nil && !h.auth.done {
			h.auth.done = true
			p.sess.authResult = "unknown"
		}
	}
	if holding {
		p.resolveHold(ts)
	}
}

// misfit says why reply r cannot answer command h ("" if it can). When
// unsure (mid-session capture, client gap), enhanced status codes also
// tell MAIL and RCPT replies apart (X.1.0 originator, X.1.5 destination).
func misfit(h *pending, r *reply, unsure bool) string {
	c := r.code
	switch h.kind {
	case pData:
		if c/100 == 2 || c == 334 || c == 221 {
			return "does not fit DATA"
		}
	case pEOD, pBDAT:
		if c/100 == 3 {
			return "does not fit the end of a message"
		}
	case pStartTLS:
		if c/100 == 3 || c == 250 {
			return "does not fit STARTTLS"
		}
	case pAuth:
		if c == 354 {
			return "does not fit AUTH"
		}
	default:
		if c == 354 || c == 334 {
			return "does not fit " + h.verb
		}
	}
	if unsure && len(r.lines) > 0 {
		t := r.lines[0]
		switch {
		case h.kind == pRcpt && strings.HasPrefix(t, "2.1.0 "):
			return "is a MAIL reply"
		case h.kind == pMail && strings.HasPrefix(t, "2.1.5 "):
			return "is a RCPT reply"
		}
	}
	return ""
}

// smuggleCand is a message with a loose dot line whose end the server may
// have placed there (SMTP smuggling).
type smuggleCand struct {
	at   int
	rest []byte
}

// holdTentative keeps a message with a loose dot line after its reply:
// whether the server ended it at the loose line shows in the next reply.
func (p *conn) holdTentative(tx *transaction, r *reply, ts time.Time) {
	for i, t := range p.awaiting {
		if t == tx {
			p.awaiting = append(p.awaiting[:i], p.awaiting[i+1:]...)
			break
		}
	}
	if p.tentative != nil {
		p.settleTentative(false, ts)
	}
	rr := *r
	tx.final = &rr
	tx.end = ts
	p.tentative = tx
}

// settleTentative decides a held message. split: a reply came with no
// command awaiting it, so the server read the data up to the loose dot
// line only and then the rest as commands: the message is cut there and
// the rest is read as client commands. Otherwise the message stands whole.
func (p *conn) settleTentative(split bool, ts time.Time) {
	tx := p.tentative
	p.tentative = nil
	if p.candidate == tx {
		p.candidate = nil
	}
	c := tx.smuggle
	tx.smuggle = nil
	if split && c != nil && tx.msg != nil && tx.msg.dec != nil {
		tx.anoms.Add(smuggledEnd)
		tx.msg.dec.CutAt(c.at)
		p.finish(tx, tx.final, tx.end)
		p.client(c.rest, ts)
		return
	}
	p.finish(tx, tx.final, tx.end)
}

// smuggledEnd explains a message cut where the server, not the RFC, put
// its end.
const smuggledEnd = "the server's replies show it ended the data at a dot line not delimited by CRLF: the message ends there and what followed was read as commands (SMTP smuggling, or a client that ends lines with a bare LF)"
