package smtp

import (
	"bytes"
	"strconv"
	"time"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// pendingKind is what a command awaiting its reply was.
type pendingKind uint8

const (
	pOther pendingKind = iota
	pHelo
	pMail
	pRcpt
	pData
	pEOD // the end of DATA content: its reply accepts or refuses the message
	pBDAT
	pAuth
	pStartTLS
	pQuit
	pRset
)

// pending is a command awaiting its reply.
type pending struct {
	kind  pendingKind
	verb  string
	tx    *transaction
	rcpt  *rcpt
	auth  *authExchange
	chunk int
	last  bool // BDAT ... LAST
}

// session is what the logoff event reports.
type session struct {
	greeting   string
	helo       string
	heloVerb   string
	heloReply  string
	extensions []string
	authMech   string
	authUser   string
	authResult string
	authTries  int
	starttls   string
	// plainAfterTLS: the session went on in plaintext after STARTTLS.
	plainAfterTLS bool
	injected      mailproto.Injection
	commands      int
	replies       int
	unmatched     int // replies to commands not seen (mid-session capture)
	rejected      int // 500/502 replies to other commands
	messages      int
	pipelined     bool
	quit          bool
	quitReply     string
	midstream     bool
	gaps          int
	replySeen     bool
	unknown       mailproto.Unknown
	vrfy          []string
	aborted       []abortedTx
	abortedN      int
	anoms         parser.Anomalies
}

type abortedTx struct {
	MailFrom string   `json:"mail_from"`
	RcptTo   []string `json:"rcpt_to,omitempty"`
	Reason   string   `json:"reason"`
}

// transaction is one MAIL ... message exchange.
type transaction struct {
	start, end    time.Time
	mailFrom      string
	mailSeen      bool
	mailParams    map[string]string
	mailReply     *reply
	rcpts         []*rcpt
	rcptDropped   int
	dataReply     *reply
	msg           *message
	chunks        int
	final         *reply
	interrupt     *reply // a reply that came while data was still being sent
	smuggle       *smuggleCand
	restored      *mail.Message // decoded once the message ended
	restoreErr    error
	partial       bool // the envelope's start was not seen
	pipelined     bool
	emitted       bool
	abortedReason string
	anoms         parser.Anomalies
}

type rcpt struct {
	addr   string
	params map[string]string
	reply  *reply
}

func (p *conn) push(h *pending) {
	if len(p.queue) > 0 {
		p.sess.pipelined = true
		if h.tx != nil {
			h.tx.pipelined = true
		}
	}
	if len(p.queue) >= maxPending {
		p.sess.anoms.Addf("more than %d commands awaiting replies: the oldest are taken as unanswered", maxPending)
		p.lostReply(p.pop(), p.Last)
	}
	p.queue = append(p.queue, h)
}

func (p *conn) pop() *pending {
	h := p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	if len(p.queue) == 0 {
		p.queue = nil
	}
	return h
}

// command handles one client command line.
func (p *conn) command(raw []byte, ts time.Time) {
	line, bare := mailproto.TrimEOL(raw)
	if bare {
		p.sess.anoms.Add("client commands end with a bare LF instead of CRLF")
	}
	if len(raw) > rfcLine {
		p.sess.anoms.Add("client command line longer than 1000 octets")
	}
	if bytes.IndexByte(line, 0) >= 0 {
		p.sess.anoms.Add("NUL byte in a client command")
	}
	if p.auth != nil && !p.auth.done && saslShaped(line) {
		// An AUTH exchange whose replies were not seen: its responses.
		p.authResponse(p.auth, line)
		return
	}
	p.sess.commands++
	verb, arg := splitVerb(line)
	switch verb {
	case "EHLO", "HELO", "LHLO":
		p.helo(verb, arg, ts)
	case "MAIL":
		p.mailFrom(arg, ts)
	case "RCPT":
		p.rcptTo(arg, ts)
	case "DATA":
		tx := p.tx
		if tx == nil {
			tx = p.openTx(ts, true)
		}
		h := &pending{kind: pData, verb: "DATA", tx: tx}
		p.push(h)
		p.cst = csHold
		p.holdFor = h
	case "BDAT":
		p.bdat(arg, ts)
	case "RSET":
		if p.tx != nil {
			p.abandon(p.tx, "RSET")
			p.tx = nil
		}
		p.push(&pending{kind: pRset, verb: verb})
	case "QUIT":
		p.sess.quit = true
		if p.tx != nil {
			p.abandon(p.tx, "QUIT")
			p.tx = nil
		}
		p.push(&pending{kind: pQuit, verb: verb})
	case "STARTTLS":
		h := &pending{kind: pStartTLS, verb: verb}
		p.push(h)
		p.cst = csHold
		p.holdFor = h
	case "AUTH":
		p.authCommand(arg, ts)
	case "VRFY", "EXPN":
		if len(p.sess.vrfy) < maxList {
			p.sess.vrfy = append(p.sess.vrfy, verb+" "+mailproto.Clean(arg, maxText))
		}
		p.push(&pending{kind: pOther, verb: verb})
	case "NOOP", "HELP", "ETRN", "TURN", "ATRN", "XCLIENT", "XFORWARD", "SEND", "SOML", "SAML", "VERB", "ONEX", "XEXCH50", "X-EXPS", "X-LINK2STATE":
		p.push(&pending{kind: pOther, verb: verb})
	default:
		p.sess.unknown.Add(verb, !verbShaped(verb))
		p.push(&pending{kind: pOther, verb: "unknown command"})
	}
}

// splitVerb returns the upper-cased command verb and its argument.
func splitVerb(line []byte) (string, []byte) {
	i := bytes.IndexByte(line, ' ')
	v, arg := line, []byte(nil)
	if i >= 0 {
		v, arg = line[:i], bytes.TrimLeft(line[i+1:], " ")
	}
	if len(v) > 16 || len(v) == 0 {
		return "", arg
	}
	var b [16]byte
	for j, c := range v {
		b[j] = ascii.Upper(c)
	}
	return string(b[:len(v)]), arg
}

// verbShaped: letters (and a few marks) only, so that stray base64 or
// binary is not recorded as a command name.
func verbShaped(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p *conn) helo(verb string, arg []byte, ts time.Time) {
	name := arg
	if i := bytes.IndexByte(name, ' '); i >= 0 {
		name = name[:i]
	}
	p.sess.helo = mailproto.Clean(name, 255)
	p.sess.heloVerb = verb
	if p.tx != nil {
		p.abandon(p.tx, verb)
		p.tx = nil
	}
	p.push(&pending{kind: pHelo, verb: verb})
}

// openTx starts a transaction; partial says its MAIL command was not seen.
func (p *conn) openTx(ts time.Time, partial bool) *transaction {
	if p.tx != nil {
		p.abandon(p.tx, "new transaction")
	}
	tx := &transaction{start: ts, partial: partial}
	if partial {
		tx.anoms.Add("the start of the transaction was not seen")
	}
	p.tx = tx
	return tx
}

func (p *conn) mailFrom(arg []byte, ts time.Time) {
	path, params, ok := parsePath(arg, "FROM:")
	tx := p.openTx(ts, false)
	tx.mailSeen = true
	tx.mailFrom = path
	tx.mailParams = params
	if !ok {
		tx.anoms.Addf("malformed MAIL command: %s", mailproto.Quote(arg, 60))
	}
	p.push(&pending{kind: pMail, verb: "MAIL", tx: tx})
}

func (p *conn) rcptTo(arg []byte, ts time.Time) {
	path, params, ok := parsePath(arg, "TO:")
	tx := p.tx
	if tx == nil {
		tx = p.openTx(ts, true)
	}
	if !ok {
		tx.anoms.Addf("malformed RCPT command: %s", mailproto.Quote(arg, 60))
	}
	var r *rcpt
	if len(tx.rcpts) < maxRcpts {
		r = &rcpt{addr: path, params: params}
		tx.rcpts = append(tx.rcpts, r)
	} else {
		tx.rcptDropped++
	}
	p.push(&pending{kind: pRcpt, verb: "RCPT", tx: tx, rcpt: r})
}

// parsePath reads "FROM:<path> PARAM=value ..." (tolerating a space after
// the colon and a missing pair of brackets).
func parsePath(arg []byte, key string) (string, map[string]string, bool) {
	ok := ascii.HasPrefixFold(arg, key)
	if ok {
		arg = arg[len(key):]
	} else if i := bytes.IndexByte(arg, ':'); i >= 0 && i < 8 {
		arg = arg[i+1:]
	}
	arg = bytes.TrimLeft(arg, " ")
	var path, rest []byte
	if len(arg) > 0 && arg[0] == '<' {
		end := closingBracket(arg)
		if end < 0 {
			path, rest, ok = arg[1:], nil, false
		} else {
			path, rest = arg[1:end], arg[end+1:]
		}
	} else {
		i := bytes.IndexByte(arg, ' ')
		if i < 0 {
			i = len(arg)
		}
		path, rest = arg[:i], arg[i:]
		ok = false
	}
	var params map[string]string
	for _, f := range bytes.Fields(rest) {
		if params == nil {
			params = map[string]string{}
		}
		if len(params) >= maxParams {
			break
		}
		k, v, _ := bytes.Cut(f, []byte("="))
		var kb [32]byte
		if len(k) > len(kb) {
			k = k[:len(kb)]
		}
		for i, c := range k {
			kb[i] = ascii.Upper(c)
		}
		params[mailproto.Clean(kb[:len(k)], 32)] = mailproto.Clean(v, 128)
	}
	return mailproto.Clean(path, maxText), params, ok
}

// closingBracket finds the '>' that closes the path, skipping quoted parts.
func closingBracket(b []byte) int {
	inQuote, esc := false, false
	for i := 1; i < len(b); i++ {
		c := b[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == '>' && !inQuote:
			return i
		}
	}
	return -1
}

func (p *conn) bdat(arg []byte, ts time.Time) {
	f := bytes.Fields(arg)
	var size int64 = -1
	last := false
	if len(f) >= 1 && len(f) <= 2 && len(f[0]) <= 15 {
		if n, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil && n >= 0 {
			size = n
		}
		if len(f) == 2 {
			if string(bytes.ToUpper(f[1])) == "LAST" {
				last = true
			} else {
				size = -1
			}
		}
	}
	if size < 0 {
		p.sess.anoms.Addf("malformed BDAT command: %s", mailproto.Quote(arg, 60))
		p.push(&pending{kind: pOther, verb: "BDAT"})
		return
	}
	tx := p.tx
	if tx == nil {
		tx = p.openTx(ts, true)
	}
	m := tx.msg
	if m == nil || m.sealed {
		m = &message{via: viaBDAT, firstTS: ts}
		tx.msg = m
	} else if m.via != viaBDAT {
		tx.anoms.Add("BDAT after DATA in the same transaction")
	}
	m.chunks++
	tx.chunks++
	p.push(&pending{kind: pBDAT, verb: "BDAT", tx: tx, chunk: m.chunks, last: last})
	p.bdatMsg = m
	p.bdatLast = last
	p.bdatLeft = size
	p.cst = csBDAT
	if size == 0 {
		p.chunkDone(ts)
	}
}

// seal ends the open transaction's message: it now waits for its final
// reply (to the end of DATA, or to BDAT LAST).
func (p *conn) seal(ts time.Time) {
	tx := p.tx
	if tx == nil || tx.msg == nil {
		return
	}
	p.tx = nil
	m := tx.msg
	m.sealed = true
	m.ended = true
	if m.dec != nil && m.dec.LooseEnds > 0 {
		tx.anoms.Addf("possible SMTP smuggling: %d dot line(s) not delimited by CRLF inside the message data", m.dec.LooseEnds)
		if at, rest, ok := m.dec.LooseEnd(); ok && len(rest) > 0 {
			// Only one such message keeps its content until its reply.
			if old := p.candidate; old != nil && old != p.tentative && old.smuggle != nil && !old.emitted {
				old.smuggle = nil
				p.restore(old)
			}
			tx.smuggle = &smuggleCand{at: at, rest: append([]byte(nil), rest...)}
			p.candidate = tx
		}
	}
	if m.via == viaData {
		p.push(&pending{kind: pEOD, verb: "end of data", tx: tx})
	}
	p.awaiting = append(p.awaiting, tx)
	if len(p.awaiting) > maxAwaiting {
		old := p.awaiting[0]
		old.anoms.Add("final reply not seen before later messages ended: reported without it")
		p.finish(old, nil, ts)
	}
	if tx.smuggle == nil {
		// Restore now: only the decoded message waits for the reply,
		// not its bytes.
		p.restore(tx)
	}
}

// restore saves and decodes a transaction's message and frees its bytes.
func (p *conn) restore(tx *transaction) {
	m := tx.msg
	if m == nil || tx.restored != nil {
		return
	}
	tx.restored, tx.restoreErr = mail.Restore(p.env, m.bytes())
	m.free()
}

// finish emits a message with its final reply (nil: not seen).
func (p *conn) finish(tx *transaction, r *reply, ts time.Time) {
	if tx == nil {
		return
	}
	for i, t := range p.awaiting {
		if t == tx {
			p.awaiting = append(p.awaiting[:i], p.awaiting[i+1:]...)
			break
		}
	}
	if tx.emitted {
		return
	}
	tx.emitted = true
	if p.tx == tx {
		p.tx = nil
	}
	if tx.msg != nil && !tx.msg.sealed {
		tx.msg.sealed = true
		if !tx.msg.ended {
			tx.anoms.Add("final reply came before the message data ended")
		}
	}
	tx.final = r
	if r == nil {
		if tx.interrupt != nil {
			tx.final = tx.interrupt
		} else {
			tx.anoms.Add("no reply to the end of the message was seen")
		}
	}
	tx.end = ts
	if tx.msg == nil {
		p.abandon(tx, "no message")
		return
	}
	p.emitMessage(tx)
}

// abandon records a transaction that ends without a message; one with
// message content (BDAT chunks without LAST) is emitted as a message.
func (p *conn) abandon(tx *transaction, reason string) {
	if tx == nil || tx.emitted {
		return
	}
	if tx.msg != nil && tx.msg.total() > 0 {
		tx.abortedReason = reason
		tx.msg.sealed = true
		tx.anoms.Addf("message abandoned (%s) before its end", reason)
		tx.emitted = true
		tx.end = tx.msg.lastTS
		if tx.end.IsZero() {
			tx.end = tx.start
		}
		p.emitMessage(tx)
		return
	}
	tx.emitted = true
	if !tx.mailSeen && len(tx.rcpts) == 0 {
		return
	}
	p.sess.abortedN++
	if len(p.sess.aborted) >= maxAborted {
		return
	}
	a := abortedTx{MailFrom: tx.mailFrom, Reason: reason}
	for _, r := range tx.rcpts {
		if len(a.RcptTo) >= maxList {
			break
		}
		a.RcptTo = append(a.RcptTo, r.addr)
	}
	p.sess.aborted = append(p.sess.aborted, a)
}

// resyncCommand reports whether a line, met while resynchronising, is
// certainly an SMTP command (strict forms only: message text rarely
// matches them).
func resyncCommand(raw []byte) bool {
	line, _ := mailproto.TrimEOL(raw)
	switch {
	case ascii.HasPrefixFold(line, "MAIL FROM:"), ascii.HasPrefixFold(line, "RCPT TO:"):
		return bytes.IndexByte(line, '<') > 0 || bytes.IndexByte(line, '@') > 0
	case ascii.HasPrefixFold(line, "EHLO "), ascii.HasPrefixFold(line, "HELO "), ascii.HasPrefixFold(line, "LHLO "):
		return len(bytes.Fields(line)) == 2
	case ascii.HasPrefixFold(line, "AUTH "):
		f := bytes.Fields(line)
		return len(f) >= 2 && len(f) <= 3 && verbShaped(string(bytes.ToUpper(f[1])))
	case ascii.HasPrefixFold(line, "BDAT "):
		f := bytes.Fields(line)
		if len(f) < 2 || len(f) > 3 {
			return false
		}
		_, err := strconv.ParseUint(string(f[1]), 10, 63)
		return err == nil && (len(f) == 2 || string(f[2]) == "LAST")
	}
	switch string(line) {
	case "DATA", "RSET", "QUIT", "NOOP", "STARTTLS", "HELP":
		return true
	}
	return false
}
