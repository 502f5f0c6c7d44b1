package imap

import (
	"bytes"
	"math"
	"strings"
	"time"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// cmdKind is what a command is, as far as the parser cares.
type cmdKind uint8

const (
	kOther cmdKind = iota
	kLogin
	kAuthenticate
	kStartTLS
	kCompress
	kSelect
	kExamine
	kFetch // FETCH and UID FETCH
	kAppend
	kIdle
	kLogout
	kEnable
	kUnknown
)

// knownCommands are the IMAP commands of RFC 3501, RFC 9051 and the
// common extensions; others are recorded as unknown.
var knownCommands = map[string]cmdKind{
	"LOGIN": kLogin, "AUTHENTICATE": kAuthenticate, "STARTTLS": kStartTLS, "COMPRESS": kCompress,
	"SELECT": kSelect, "EXAMINE": kExamine, "FETCH": kFetch, "UID FETCH": kFetch, "APPEND": kAppend,
	"IDLE": kIdle, "LOGOUT": kLogout, "ENABLE": kEnable,
	"CAPABILITY": kOther, "NOOP": kOther, "CREATE": kOther, "DELETE": kOther, "RENAME": kOther,
	"SUBSCRIBE": kOther, "UNSUBSCRIBE": kOther, "LIST": kOther, "LSUB": kOther, "XLIST": kOther, "STATUS": kOther,
	"CHECK": kOther, "CLOSE": kOther, "UNSELECT": kOther, "EXPUNGE": kOther, "SEARCH": kOther, "STORE": kOther,
	"COPY": kOther, "MOVE": kOther, "NAMESPACE": kOther, "ID": kOther, "SORT": kOther, "THREAD": kOther,
	"GETQUOTA": kOther, "GETQUOTAROOT": kOther, "SETQUOTA": kOther, "GETACL": kOther, "SETACL": kOther,
	"DELETEACL": kOther, "MYRIGHTS": kOther, "LISTRIGHTS": kOther, "GETMETADATA": kOther, "SETMETADATA": kOther,
	"NOTIFY": kOther, "REPLACE": kOther, "UNAUTHENTICATE": kOther, "ESEARCH": kOther,
	"UID SEARCH": kOther, "UID STORE": kOther, "UID COPY": kOther, "UID MOVE": kOther, "UID EXPUNGE": kOther,
	"UID SORT": kOther, "UID THREAD": kOther, "UID REPLACE": kOther,
}

// command is one client command: its arguments as read, and once seen,
// its tagged response.
type command struct {
	tag, name string
	kind      cmdKind
	ts        time.Time
	skel      []byte // the arguments' text, literals as \x00, bounded
	skelOver  bool
	tok       tokenizer
	args      []arg
	argsOver  int
	lits      int // literals seen
	uploads   []*upload
	logIdx    int
	user      string
	pass      string
	auth      *authExchange
	mailbox   string
	peek      bool
	flags     string
	date      string
	cut       bool // its end was lost (gap, end of the connection)
	refused   bool // the server refused its synchronising literal
	status    string
	reply     string
	code      string
}

// argKind: a word, a quoted string, a list or bracketed item (kept as
// written), or a literal.
type argKind uint8

const (
	argText argKind = iota
	argLit
)

type arg struct {
	kind argKind
	text string
	lit  *capture
}

// tokenizer splits a command's arguments at the spaces that are not
// inside a quoted string, a list or brackets.
type tokenizer struct {
	depth, brack int
	quote, esc   bool
	cur          []byte
	inTok        bool
}

func (h *command) size() int {
	n := cap(h.skel) + cap(h.tok.cur)
	for _, a := range h.args {
		n += len(a.text)
		if a.lit != nil {
			n += a.lit.size()
		}
	}
	return n
}

// owns reports whether c is one of h's literals (counted in h.size).
func (h *command) owns(c *capture) bool {
	for _, a := range h.args {
		if a.lit == c {
			return true
		}
	}
	return false
}

func (h *command) addSkel(b []byte) {
	if len(h.skel)+len(b) > maxSkel {
		h.skelOver = true
	}
	h.skel, _ = mailproto.AppendBounded(h.skel, b, maxSkel)
}

// feedArgs tokenizes a piece of the command's arguments.
func (h *command) feedArgs(b []byte) {
	t := &h.tok
	for _, ch := range b {
		if t.quote {
			t.add(ch)
			switch {
			case t.esc:
				t.esc = false
			case ch == '\\':
				t.esc = true
			case ch == '"':
				t.quote = false
			}
			continue
		}
		switch ch {
		case ' ':
			if t.depth == 0 && t.brack == 0 {
				h.endToken()
				continue
			}
		case '"':
			t.quote = true
		case '(':
			t.depth++
		case ')':
			if t.depth > 0 {
				t.depth--
			}
		case '[':
			t.brack++
		case ']':
			if t.brack > 0 {
				t.brack--
			}
		}
		t.add(ch)
	}
}

func (t *tokenizer) add(c byte) {
	t.inTok = true
	if len(t.cur) < maxText {
		t.cur = append(t.cur, c)
	}
}

// endToken closes the current top-level argument.
func (h *command) endToken() {
	t := &h.tok
	if !t.inTok {
		return
	}
	if len(h.args) < maxArgs {
		h.args = append(h.args, arg{kind: argText, text: string(t.cur)})
	} else {
		h.argsOver++
	}
	t.cur, t.inTok, t.quote, t.esc = t.cur[:0], false, false, false
}

// addLiteral records a literal among the arguments (or inside the list
// being read).
func (h *command) addLiteral(c *capture) {
	h.lits++
	if h.tok.depth > 0 || h.tok.brack > 0 {
		h.tok.add(0)
		return
	}
	h.endToken()
	if len(h.args) < maxArgs {
		h.args = append(h.args, arg{kind: argLit, lit: c})
	} else {
		h.argsOver++
	}
}

// astring returns argument i as a string: a literal's bytes, a quoted
// string without its quotes, or the word.
func (h *command) astring(i int) string {
	if i >= len(h.args) {
		return ""
	}
	a := h.args[i]
	if a.kind == argLit {
		if a.lit == nil {
			return ""
		}
		return mailproto.Clean(a.lit.buf, maxText)
	}
	return unquote(a.text)
}

// unquote removes the quotes and escapes of a quoted string.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return mailproto.Clean([]byte(s), maxText)
	}
	var b []byte
	esc := false
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if !esc && c == '\\' {
			esc = true
			continue
		}
		esc = false
		b = append(b, c)
	}
	return mailproto.Clean(b, maxText)
}

// logArgs renders the arguments for the command log, literals as
// {literal}.
func (h *command) logArgs() string {
	return strings.TrimSpace(mailproto.Clean(bytes.ReplaceAll(h.skel, []byte{0}, []byte("{literal}")), maxText))
}

// splitTag splits "tag rest": a tag is one or more ASTRING-CHAR other than
// "+" (RFC 9051 9), so not "*" or "+".
func splitTag(b []byte) (tag, rest []byte, ok bool) {
	i := bytes.IndexByte(b, ' ')
	if i <= 0 || i > 64 {
		return nil, nil, false
	}
	if !tagChars(b[:i]) {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// tagChars reports whether b is made of tag characters only.
func tagChars(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' || c == '"' || c == '\\' || c == '+' {
			return false
		}
	}
	return true
}

// commandName reads the command name (with UID's sub-command) and returns
// the rest.
func commandName(b []byte) (string, []byte) {
	word := func(b []byte) ([]byte, []byte) {
		if i := bytes.IndexByte(b, ' '); i >= 0 {
			return b[:i], b[i+1:]
		}
		return b, nil
	}
	w, rest := word(b)
	name := strings.ToUpper(mailproto.Clean(w, 32))
	if name == "UID" {
		var sub []byte
		sub, rest = word(rest)
		name += " " + strings.ToUpper(mailproto.Clean(sub, 32))
	}
	return name, rest
}

// certainCommand reports whether a line read at an unknown position is
// certainly an IMAP command: a tag and a known command name.
func certainCommand(line []byte) bool {
	tag, rest, ok := splitTag(line)
	if !ok || len(tag) == 0 || len(line) > longLine {
		return false
	}
	name, _ := commandName(rest)
	_, known := knownCommands[name]
	return known
}

// clientPiece handles one line piece from the client.
func (p *conn) clientPiece(pc *piece, ts time.Time) {
	p.lineChecks(pc, "client")
	if h := p.cmd; h != nil {
		p.commandPiece(h, pc.text, pc, ts)
		return
	}
	text := pc.text
	if p.cst == csResync {
		if !certainCommand(text) {
			p.cSkipped += pc.raw
			p.cr.cancelLiteral()
			return
		}
		p.cst = csCommand
	}
	if a := p.auth; a != nil && !a.done && mailproto.SASLShaped(text) {
		p.cr.cancelLiteral()
		p.saslResponse(a, text)
		return
	}
	if p.idle != nil && ascii.EqualFold(bytes.TrimSpace(text), "DONE") {
		p.cr.cancelLiteral()
		p.idling = false
		p.sess.idleDone++
		return
	}
	tag, rest, ok := splitTag(text)
	if !ok {
		p.cr.cancelLiteral()
		if len(bytes.TrimSpace(text)) == 0 {
			p.sess.anoms.Add("empty client line")
			return
		}
		p.sess.anoms.Addf("client line that is not a command: %s", mailproto.Quote(text, 40))
		return
	}
	name, rest := commandName(rest)
	h := &command{tag: mailproto.Clean(tag, 64), name: name, ts: ts, logIdx: -1}
	if k, known := knownCommands[name]; known {
		h.kind = k
	} else {
		h.kind = kUnknown
	}
	p.cmd = h
	p.commandPiece(h, rest, pc, ts)
}

// lineChecks reports line-level oddities: bare LF, over-long lines, NUL.
func (p *conn) lineChecks(pc *piece, side string) {
	if pc.bareLF {
		p.sess.anoms.Addf("%s lines end with a bare LF instead of CRLF", side)
	}
	if pc.over {
		p.sess.anoms.Addf("%s line longer than %d bytes: only its start was read", side, maxLine)
	} else if pc.raw > longLine {
		p.sess.anoms.Addf("%s line longer than %d octets", side, longLine)
	}
	if bytes.IndexByte(pc.text, 0) >= 0 {
		p.sess.anoms.Addf("NUL byte in a %s line", side)
	}
	if pc.badLit {
		p.sess.anoms.Addf("%s literal of an impossible size: the line is read without it", side)
	}
}

// commandPiece adds a piece of text to the command being read; a literal
// marker starts a literal, anything else ends the command.
func (p *conn) commandPiece(h *command, text []byte, pc *piece, ts time.Time) {
	h.addSkel(text)
	h.feedArgs(text)
	if !pc.lit {
		p.cmd = nil
		h.endToken()
		p.dispatch(h, ts)
		return
	}
	c := &capture{kind: capSmall, limit: maxSmallLit, lit8: pc.lit8, start: ts}
	switch {
	case h.kind == kAppend && h.tok.depth == 0 && len(h.args) >= 1:
		// After the mailbox: a message (MULTIAPPEND: one of several).
		c.kind, c.limit = capMessage, p.limit()
		c.buf = mailproto.Reserve(c.buf, int(min(pc.litN, math.MaxInt32)), c.limit)
	case h.lits >= maxArgs:
		c.kind = capSkip
	}
	h.addLiteral(c)
	h.addSkel([]byte{0})
	p.clit = c
	if !pc.nonSync && pc.litN > 0 {
		p.syncWait = h
	}
	if pc.litN == 0 {
		p.clientLiteral(nil, true, ts)
	}
}

// clientLiteral takes the bytes of the client literal being read.
func (p *conn) clientLiteral(b []byte, end bool, ts time.Time) {
	p.syncWait = nil
	c := p.clit
	if c == nil {
		return
	}
	c.write(b)
	c.last = ts
	if !end {
		return
	}
	p.clit = nil
	if c.kind == capMessage && p.cmd != nil {
		p.restoreUpload(p.cmd, c, false)
	}
}

// dispatch handles a complete command.
func (p *conn) dispatch(h *command, ts time.Time) {
	p.sess.commands++
	logArg := h.logArgs()
	switch h.kind {
	case kLogin:
		h.user = h.astring(0)
		if p.opts.RecordPasswords {
			h.pass = h.astring(1)
		}
		p.sess.userTried = h.user
		logArg = h.user + " ********"
	case kAuthenticate:
		p.authCommand(h)
		logArg = h.auth.Mech
		if len(h.args) > 1 {
			logArg += " ********"
		}
	case kStartTLS, kCompress:
		// Client bytes before the response are held: after OK they are
		// a TLS handshake or compressed; anything else after STARTTLS
		// is injected.
		p.cst = csHold
		p.holdFor = h
		p.holdPlain = p.cz != nil
	case kSelect, kExamine:
		h.mailbox = decodeMailbox(h.astring(0))
	case kFetch:
		up := strings.ToUpper(string(h.skel))
		h.peek = strings.Contains(up, "BODY.PEEK[") || strings.Contains(up, "BINARY.PEEK[")
	case kAppend:
		h.mailbox = decodeMailbox(h.astring(0))
		for _, a := range h.args[min(1, len(h.args)):] {
			switch {
			case a.kind == argText && strings.HasPrefix(a.text, "("):
				h.flags = mailproto.Clean([]byte(a.text), maxText)
			case a.kind == argText && strings.HasPrefix(a.text, "\""):
				h.date = unquote(a.text)
			}
		}
		if h.lits == 0 {
			p.sess.anoms.Add("APPEND without a message literal")
		}
	case kIdle:
		p.idle = h
		p.idling = false
		p.sess.idles++
	case kLogout:
		p.sess.logout = true
	case kEnable:
		for i := range h.args {
			if len(p.sess.enableAsked) < maxList {
				p.sess.enableAsked = append(p.sess.enableAsked, strings.ToUpper(h.astring(i)))
			}
		}
	case kUnknown:
		p.sess.unknown.Add(h.name, !verbShaped(h.name))
	}
	if h.refused {
		logArg += " (literal refused)"
	}
	p.push(h, logArg)
}

// verbShaped: letters (and a few marks) only, so that stray bytes are not
// recorded as a command name.
func verbShaped(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == ' ') {
			return false
		}
	}
	return true
}

// push queues a command for its tagged response and logs it.
func (p *conn) push(h *command, logArg string) {
	if old, dup := p.pending[h.tag]; dup {
		p.sess.anoms.Addf("tag %q reused while a command with it awaits its response", h.tag)
		p.lost(old, h.ts)
	}
	if len(p.order) >= maxPending {
		p.sess.anoms.Addf("more than %d commands without a response: the oldest is settled as unanswered", maxPending)
		p.lost(p.order[0], h.ts)
	}
	if len(p.sess.log) < maxLog {
		h.logIdx = len(p.sess.log)
		p.sess.log = append(p.sess.log, LogEntry{Tag: h.tag, Command: h.name, Args: logArg})
	} else {
		p.sess.logDropped++
	}
	p.pending[h.tag] = h
	p.order = append(p.order, h)
}

// unqueue removes a command from the pending set.
func (p *conn) unqueue(h *command) {
	if p.pending[h.tag] == h {
		delete(p.pending, h.tag)
	}
	for i, x := range p.order {
		if x == h {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
}

// abandonCommand settles the command being read when its end is lost (a
// gap, the end of the connection): a message literal is restored as far
// as it came, and the command is queued as it is.
func (p *conn) abandonCommand(ts time.Time) {
	h := p.cmd
	if h == nil {
		return
	}
	p.cmd, p.syncWait = nil, nil
	if c := p.clit; c != nil {
		p.clit = nil
		if c.kind == capMessage {
			p.restoreUpload(h, c, true)
		}
	}
	h.endToken()
	p.dispatch(h, ts)
	p.cutCommand(h)
}

// cutCommand marks a command whose end was lost.
func (p *conn) cutCommand(h *command) {
	h.cut = true
	if h.logIdx >= 0 {
		p.sess.log[h.logIdx].Args += " (cut)"
	}
}

// lost settles a command whose tagged response will not be seen.
func (p *conn) lost(h *command, ts time.Time) {
	p.unqueue(h)
	if h.logIdx >= 0 && p.sess.log[h.logIdx].Status == "" {
		p.sess.log[h.logIdx].Status = "none"
	}
	switch h.kind {
	case kStartTLS, kCompress:
		if p.cst == csHold && p.holdFor == h {
			p.resolveHold(ts)
		}
	case kLogin, kAuthenticate:
		if p.auth != nil && p.auth == h.auth {
			p.auth = nil
		}
		if p.sess.authResult == "" {
			p.sess.authResult = "unknown"
		}
	case kAppend:
		p.emitUploads(h, ts)
	case kIdle:
		if p.idle == h {
			p.idle, p.idling = nil, false
		}
	}
}

// upload is an APPENDed message, restored when its literal ended.
type upload struct {
	msg     *mail.Message
	size    int64
	trunc   bool
	gap     bool
	endLost bool
	lit8    bool
	err     error
	first   time.Time
	last    time.Time
}

func (u *upload) mem() int {
	if u.msg == nil {
		return 0
	}
	return len(u.msg.Text)
}

// restoreUpload restores an APPENDed message as soon as its literal ends
// (or is cut); only the decoded form waits for the tagged response.
func (p *conn) restoreUpload(h *command, c *capture, cut bool) {
	u := &upload{size: c.n, trunc: c.truncated(), gap: c.gap, endLost: cut, lit8: c.lit8, first: c.start, last: c.last}
	u.msg, u.err = mail.Restore(p.env, c.buf)
	c.buf = nil
	if len(h.uploads) >= maxUploads {
		// MULTIAPPEND of many messages: emit this one now.
		p.emitUpload(h, u, h.ts)
		return
	}
	h.uploads = append(h.uploads, u)
}
