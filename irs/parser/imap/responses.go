package imap

import (
	"bytes"
	"math"
	"strings"
	"time"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// capture kinds: where a literal's bytes go.
const (
	capSkip    = iota // counted only
	capSmall          // kept up to maxSmallLit (a login name, a mailbox)
	capMessage        // an APPENDed message, up to the artifact limit
	capBody           // a FETCHed message or part, up to the artifact limit
)

// capture is one literal being read.
type capture struct {
	kind  int
	buf   []byte
	limit int
	n     int64 // bytes seen, kept or not
	gap   bool
	lit8  bool
	start time.Time
	last  time.Time
	item  bodyItem // capBody: which part of the message
}

func (c *capture) write(b []byte) {
	c.n += int64(len(b))
	if c.kind != capSkip {
		c.buf, _ = mailproto.AppendBounded(c.buf, b, c.limit)
	}
}

func (c *capture) truncated() bool { return c.kind != capSkip && c.n > int64(len(c.buf)) }

func (c *capture) size() int { return cap(c.buf) }

// response is one server response being read.
type response struct {
	untagged bool
	tag      string
	kind     string // OK, NO, BAD, PREAUTH, BYE, CAPABILITY, FETCH, EXISTS...
	num      int    // the message number of FETCH, EXISTS, EXPUNGE
	skel     []byte // its text after "* " or the tag, literals as \x00, bounded
	skelOver bool
	parts    []*part
	ts       time.Time
}

func (r *response) addSkel(b []byte) {
	if len(r.skel)+len(b) > maxSkel {
		r.skelOver = true
	}
	r.skel, _ = mailproto.AppendBounded(r.skel, b, maxSkel)
}

func (r *response) size() int {
	n := cap(r.skel)
	for _, pt := range r.parts {
		n += pt.mem()
	}
	return n
}

// responseStart reports whether a line read at an unknown position
// certainly starts a response: "* " and a response name, a tagged status,
// or a continuation.
func responseStart(b []byte) bool {
	if len(b) > longLine {
		return false
	}
	if bytes.HasPrefix(b, []byte("* ")) {
		w := firstWord(b[2:])
		if n, ok := mailproto.Atoi(w); ok && n >= 0 {
			w = firstWord(b[2+len(w)+min(1, len(b)-2-len(w)):])
		}
		switch strings.ToUpper(string(w)) {
		case "OK", "NO", "BAD", "BYE", "PREAUTH", "CAPABILITY", "FETCH", "EXISTS", "RECENT", "EXPUNGE", "FLAGS",
			"LIST", "LSUB", "STATUS", "SEARCH", "ESEARCH", "ENABLED", "NAMESPACE", "ID", "VANISHED", "QUOTA", "QUOTAROOT", "SORT", "THREAD":
			return true
		}
		return false
	}
	if _, rest, ok := splitTag(b); ok {
		switch strings.ToUpper(string(firstWord(rest))) {
		case "OK", "NO", "BAD":
			return true
		}
	}
	return false
}

func firstWord(b []byte) []byte {
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i]
	}
	return b
}

// serverPiece handles one line piece from the server.
func (p *conn) serverPiece(pc *piece, ts time.Time) {
	p.lineChecks(pc, "server")
	if r := p.resp; r != nil {
		p.responsePiece(r, pc.text, pc, ts)
		return
	}
	text := pc.text
	if p.sResync {
		if !responseStart(text) {
			p.sSkipped += pc.raw
			p.sr.cancelLiteral()
			return
		}
		p.sResync = false
	}
	switch {
	case len(text) >= 1 && text[0] == '+' && (len(text) == 1 || text[1] == ' '):
		p.sr.cancelLiteral()
		p.continuation(text[min(2, len(text)):])
		return
	case bytes.HasPrefix(text, []byte("* ")):
		r := &response{untagged: true, ts: ts}
		rest := text[2:]
		w := firstWord(rest)
		if n, ok := mailproto.Atoi(w); ok {
			r.num = n
			rest = rest[min(len(w)+1, len(rest)):]
			w = firstWord(rest)
		}
		r.kind = strings.ToUpper(mailproto.Clean(w, 32))
		p.resp = r
		p.responsePiece(r, text[2:], pc, ts)
	default:
		tag, rest, ok := splitTag(text)
		st := strings.ToUpper(string(firstWord(rest)))
		if !ok || st != "OK" && st != "NO" && st != "BAD" {
			p.sr.cancelLiteral()
			if !p.unsure {
				p.sess.anoms.Addf("server line that is not a response: %s", mailproto.Quote(text, 40))
			}
			p.sResync = true
			p.sSkipped += pc.raw
			return
		}
		r := &response{tag: mailproto.Clean(tag, 64), kind: st, ts: ts}
		p.resp = r
		p.responsePiece(r, rest, pc, ts)
	}
}

// responsePiece adds a piece of text to the response being read; a
// literal marker starts a literal, anything else ends the response.
func (p *conn) responsePiece(r *response, text []byte, pc *piece, ts time.Time) {
	r.addSkel(text)
	if !pc.lit {
		p.resp = nil
		p.finishResponse(r, ts)
		return
	}
	r.addSkel([]byte{0})
	c := &capture{kind: capSkip, lit8: pc.lit8, start: ts, last: ts}
	if r.untagged && r.kind == "FETCH" {
		name, ok := scanFetch(r.skel, nil)
		if r.skelOver {
			// The item list is longer than the text kept (a huge
			// BODYSTRUCTURE): the item is read from this line alone.
			name, ok = lastItem(text), true
			p.sess.anoms.Addf("FETCH response longer than %d bytes before a literal: its item was read from the line alone", maxSkel)
		}
		if ok {
			if it, body := parseBodyItem(name); body {
				c.kind, c.limit, c.item = capBody, p.limit(), it
				c.buf = mailproto.Reserve(c.buf, int(min(pc.litN, math.MaxInt32)), c.limit)
			}
		}
	}
	p.slit = c
	if pc.litN == 0 {
		p.serverLiteral(nil, true, ts)
	}
}

// serverLiteral takes the bytes of the server literal being read.
func (p *conn) serverLiteral(b []byte, end bool, ts time.Time) {
	c := p.slit
	if c == nil {
		return
	}
	c.write(b)
	c.last = ts
	if !end {
		return
	}
	p.slit = nil
	if c.kind == capBody && p.resp != nil {
		p.restorePart(p.resp, c, false)
	}
}

// abandonResponse settles the response being read when its end is lost:
// a body literal is restored as far as it came.
func (p *conn) abandonResponse(ts time.Time) {
	r := p.resp
	if r == nil {
		return
	}
	p.resp = nil
	if c := p.slit; c != nil {
		p.slit = nil
		if c.kind == capBody {
			p.restorePart(r, c, true)
		}
	}
	if r.untagged && r.kind == "FETCH" {
		p.fetchDone(r, ts)
	}
}

// continuation handles a "+" line: an AUTHENTICATE challenge, the start
// of IDLE, or the go-ahead for a synchronising literal.
func (p *conn) continuation(text []byte) {
	switch {
	case p.auth != nil && !p.auth.done:
		p.auth.challenges++
	case p.idle != nil && !p.idling:
		p.idling = true
	case p.syncWait != nil:
	default:
		p.sess.continuations++
	}
}

// finishResponse handles a complete response.
func (p *conn) finishResponse(r *response, ts time.Time) {
	p.sess.responses++
	if !r.untagged {
		p.tagged(r, ts)
		return
	}
	text := r.skel
	switch r.kind {
	case "OK", "NO", "BAD", "PREAUTH", "BYE":
		rest := bytes.TrimSpace(text[min(len(r.kind), len(text)):])
		code, _ := respCode(rest)
		if ascii.HasPrefixFold(code, "CAPABILITY ") {
			p.setCapabilities(code[len("CAPABILITY "):])
		}
		if !p.sess.greetingSeen && p.sess.commands == 0 && (r.kind == "OK" || r.kind == "PREAUTH" || r.kind == "BYE") {
			p.sess.greetingSeen = true
			p.sess.greeting = "* " + mailproto.Clean(text, maxText)
			switch r.kind {
			case "PREAUTH":
				p.sess.preauth = true
				p.sess.authResult = "preauth"
			case "BYE":
				p.sess.anoms.Add("the server refused the connection in its greeting")
			}
			return
		}
		if r.kind == "BYE" {
			p.sess.bye = mailproto.Clean(rest, maxText)
		}
		if r.kind == "NO" || r.kind == "BAD" {
			p.sess.untaggedErrors++
		}
	case "CAPABILITY":
		p.setCapabilities(string(bytes.TrimSpace(text[min(len("CAPABILITY"), len(text)):])))
	case "ENABLED":
		for _, w := range bytes.Fields(text[min(len("ENABLED"), len(text)):]) {
			if len(p.sess.enabled) < maxList {
				p.sess.enabled = append(p.sess.enabled, strings.ToUpper(mailproto.Clean(w, 64)))
			}
		}
	case "FETCH":
		p.fetchDone(r, ts)
	case "EXISTS":
		p.sess.exists = r.num
	}
}

// setCapabilities records a capability list.
func (p *conn) setCapabilities(list string) {
	p.sess.capa = p.sess.capa[:0]
	for _, w := range strings.Fields(list) {
		if len(p.sess.capa) < maxList {
			p.sess.capa = append(p.sess.capa, mailproto.Clean([]byte(w), 64))
		}
	}
}

// respCode splits "[CODE args] text".
func respCode(b []byte) (code string, text []byte) {
	if len(b) == 0 || b[0] != '[' {
		return "", b
	}
	i := bytes.IndexByte(b, ']')
	if i < 0 {
		return "", b
	}
	return mailproto.Clean(b[1:i], maxText), bytes.TrimSpace(b[i+1:])
}

// tagged completes the command a tagged response answers.
func (p *conn) tagged(r *response, ts time.Time) {
	if !p.sess.greetingSeen {
		p.sess.greetingSeen = true
		p.sess.anoms.Add("no server greeting seen")
	}
	h := p.pending[r.tag]
	if h == nil && p.cmd != nil && p.cmd.tag == r.tag && p.syncWait == p.cmd {
		// The server refused a synchronising literal: the client does
		// not send it, and the command ends here.
		h = p.cmd
		p.cr.cancelLiteral()
		p.cmd, p.clit, p.syncWait = nil, nil, nil
		h.refused = true
		h.endToken()
		p.dispatch(h, ts)
	}
	if h == nil {
		p.sess.unmatched++
		if !p.unsure {
			p.sess.anoms.Addf("tagged response without a command awaiting it: %s %s", r.tag, mailproto.Quote(r.skel, 40))
		}
		return
	}
	p.unqueue(h)
	rest := bytes.TrimSpace(r.skel[min(len(r.kind), len(r.skel)):])
	code, text := respCode(rest)
	h.status, h.code, h.reply = r.kind, code, mailproto.Clean(text, maxText)
	if h.logIdx >= 0 {
		e := &p.sess.log[h.logIdx]
		e.Status, e.Reply = h.status, mailproto.Clean(rest, maxText)
	}
	if p.sess.statusCount == nil {
		p.sess.statusCount = map[string]int{}
	}
	p.sess.statusCount[h.status]++
	if ascii.HasPrefixFold(code, "CAPABILITY ") {
		p.setCapabilities(code[len("CAPABILITY "):])
	}
	ok := h.status == "OK"
	switch h.kind {
	case kLogin:
		p.logon(h, "LOGIN", ok, ts)
	case kAuthenticate:
		p.authDone(h, ok, ts)
	case kSelect, kExamine:
		if ok && h.mailbox != "" {
			p.sess.selected = h.mailbox
			p.sess.addMailbox(h.mailbox)
		}
	case kStartTLS:
		p.startTLSResponse(h, ok, ts)
	case kCompress:
		p.compressResponse(h, ok, ts)
	case kAppend:
		if ok && h.mailbox != "" {
			p.sess.addMailbox(h.mailbox)
		}
		p.emitUploads(h, ts)
	case kIdle:
		if p.idle == h {
			p.idle, p.idling = nil, false
		}
	}
}

// startTLSResponse: OK hands the connection to TLS; NO or BAD keeps
// plaintext.
func (p *conn) startTLSResponse(h *command, ok bool, ts time.Time) {
	holding := p.cst == csHold && p.holdFor == h
	if ok {
		p.sess.starttls = "accepted"
		if holding && len(p.hold) > 0 {
			// A TLS record first is the handshake captured ahead of
			// the response, not injected plaintext.
			if !mailproto.TLSRecordStart(p.hold) {
				p.sess.anoms.Addf("STARTTLS command injection: the client sent %d bytes after STARTTLS before the server's response: %s", len(p.hold), mailproto.Quote(p.hold, 60))
			}
			p.goTLS()
			return
		}
		p.hold, p.holdFor = nil, nil
		p.cst = csAfterTLS
		return
	}
	p.sess.starttls = "refused: " + h.status + " " + h.reply
	if holding {
		if len(p.hold) > 0 {
			p.sess.anoms.Addf("commands pipelined after STARTTLS (%d bytes)", len(p.hold))
		}
		p.cst = csCommand
		p.releaseHold(ts)
	}
}

// compressResponse: OK starts DEFLATE in both directions (RFC 4978): the
// server's bytes after this response's line end, the client's after its
// COMPRESS command, held until now.
func (p *conn) compressResponse(h *command, ok bool, ts time.Time) {
	holding := p.cst == csHold && p.holdFor == h
	if !ok {
		p.sess.compress = "refused: " + h.status + " " + h.reply
		if holding {
			p.cst = csCommand
			p.releaseHold(ts)
		}
		return
	}
	mech := strings.ToUpper(h.astring(0))
	if mech != "DEFLATE" {
		p.sess.compress = strings.ToLower(mech)
		p.sess.anoms.Addf("COMPRESS %s accepted: an unknown compression, the rest of the connection is not parsed", mailproto.Clean([]byte(mech), 32))
		p.cst = csIgnore
		p.sDead = true
		return
	}
	if p.sz != nil || p.cz != nil {
		p.sess.anoms.Add("COMPRESS accepted a second time: the streams are already compressed")
		if holding {
			p.cst = csCommand
			p.releaseHold(ts)
		}
		return
	}
	p.sess.compress = "deflate"
	p.sz = newInflater()
	p.cz = newInflater()
	if holding {
		p.cst = csCommand
		p.releaseHold(ts)
	}
}
