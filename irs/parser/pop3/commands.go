package pop3

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// cmdKind is what a command awaiting its response was.
type cmdKind uint8

const (
	kOther    cmdKind = iota
	kUser             // USER name
	kPass             // PASS secret
	kAPOP             // APOP name digest
	kAuth             // AUTH mechanism [initial-response]
	kAuthList         // AUTH without a mechanism: the server lists them
	kSTLS
	kCAPA
	kSTAT
	kLIST
	kUIDL
	kRETR
	kTOP
	kDELE
	kQUIT
	kUTF8
)

// command is one client command and, once seen, its response.
type command struct {
	kind   cmdKind
	verb   string
	hasArg bool
	msg    int // message number (RETR, TOP, DELE, LIST n, UIDL n)
	lines  int // TOP
	user   string
	pass   string // kept only with Options().RecordPasswords
	auth   *authExchange
	ts     time.Time
	logIdx int // index in the session log; -1 when not logged
}

// LogEntry is one command of the session log in the logoff event's
// "commands": the command, its argument (credentials masked), and the
// response's status ("+OK", "-ERR", or "none" when it was not seen) and
// text.
type LogEntry struct {
	Command string `json:"command"`
	Arg     string `json:"arg,omitempty"`
	Status  string `json:"status,omitempty"`
	Reply   string `json:"reply,omitempty"`
}

// session is what the logoff event reports.
type session struct {
	greetingSeen  bool
	greeting      string
	apopStamp     bool
	capa          []string
	saslMechs     []string
	authMech      string
	authUser      string
	authResult    string
	authTries     int
	userTried     string
	stls          string
	plainAfterTLS bool
	utf8          bool
	stat          string
	listed        int
	uids          []uidSpan // UIDL: message number n's UID at n-1, where it is in uidText
	uidText       [][]byte  // the UIDs of uids, cleaned, one after another in chunks of up to uidChunk
	uidHeld       int       // the capacity of uidText's chunks
	uidLive       int       // bytes of uidText in uids
	uidDead       int       // bytes of uidText no longer in uids (overwritten)
	retrieved     int
	tops          int
	deleted       []int
	deletedN      int
	commands      int
	responses     int
	pipelined     bool
	quit          bool
	quitReply     string
	midstream     bool
	gaps          int
	unmatched     int
	unknown       mailproto.Unknown
	log           []LogEntry
	logDropped    int
	anoms         parser.Anomalies
	injected      mailproto.Injection
	clientSkipped int
}

// commandLine handles one line from the client.
func (p *conn) commandLine(raw []byte, ts time.Time) {
	line, bare := mailproto.TrimEOL(raw)
	if bare {
		p.sess.anoms.Add("client commands end with a bare LF instead of CRLF")
	}
	if bytes.IndexByte(line, 0) >= 0 {
		p.sess.anoms.Add("NUL byte in a client command")
	}
	if a := p.auth; a != nil && !a.done && p.cst == csCommand && mailproto.SASLShaped(line) && !knownVerb(line) {
		p.saslResponse(a, line)
		return
	}
	if len(raw) > textLine {
		p.sess.anoms.Addf("client line longer than %d octets", textLine)
	}
	if p.cst == csResync {
		if !certainCommand(line) {
			p.sess.clientSkipped += len(raw)
			return
		}
		p.cst = csCommand
		if p.sess.clientSkipped > 0 {
			p.sess.anoms.Addf("%d bytes of client data skipped while resynchronising", p.sess.clientSkipped)
			p.sess.clientSkipped = 0
		}
	}
	if len(bytes.TrimSpace(line)) == 0 {
		p.sess.anoms.Add("empty client line")
		return
	}
	verb, arg := splitCommand(line)
	h := &command{verb: verb, ts: ts, logIdx: -1, hasArg: len(arg) > 0}
	logArg := mailproto.Clean(arg, maxText)
	p.sess.commands++
	var fieldBuf [4][]byte
	fields := mailproto.AppendFields(fieldBuf[:0], arg)
	num := func(i int) int {
		if i < len(fields) {
			if n, ok := mailproto.Atoi(fields[i]); ok {
				return n
			}
		}
		return -1
	}
	switch verb {
	case "USER":
		h.kind = kUser
		p.user = mailproto.Clean(arg, maxText)
		h.user = p.user
		p.sess.userTried = p.user
	case "PASS":
		h.kind = kPass
		h.user = p.user
		if p.opts.RecordPasswords {
			h.pass = mailproto.Clean(arg, maxText)
		}
		logArg = "********"
	case "APOP":
		h.kind = kAPOP
		if len(fields) > 0 {
			h.user = mailproto.Clean(fields[0], maxText)
			p.user = h.user
			p.sess.userTried = h.user
			logArg = h.user + " ********"
		}
	case "AUTH":
		if len(fields) == 0 {
			h.kind = kAuthList
			break
		}
		h.kind = kAuth
		p.authCommand(h, fields, ts)
		logArg = h.auth.Mech
		if len(fields) > 1 {
			logArg += " ********"
		}
	case "STLS":
		h.kind = kSTLS
	case "CAPA":
		h.kind = kCAPA
	case "STAT":
		h.kind = kSTAT
	case "LIST":
		h.kind, h.msg = kLIST, num(0)
	case "UIDL":
		h.kind, h.msg = kUIDL, num(0)
	case "RETR":
		h.kind, h.msg = kRETR, num(0)
	case "TOP":
		h.kind, h.msg, h.lines = kTOP, num(0), num(1)
	case "DELE":
		h.kind, h.msg = kDELE, num(0)
	case "QUIT":
		h.kind = kQUIT
		p.sess.quit = true
	case "UTF8":
		h.kind = kUTF8
	case "NOOP", "RSET", "LAST", "RPOP", "XTND", "LANG", "XCLIENT", "XOAUTH2":
	default:
		p.sess.unknown.Add(verb, !verbShaped(verb))
	}
	p.push(h, logArg)
	if h.kind == kSTLS {
		// Bytes the client sends before the response are held: after
		// +OK they must be a TLS handshake, anything else is injected.
		p.cst = csHold
		p.holdFor = h
	}
}

// splitCommand returns the upper-cased verb and the argument.
func splitCommand(line []byte) (string, []byte) {
	line = bytes.TrimLeft(line, " \t")
	verb, arg := line, []byte(nil)
	if i := bytes.IndexAny(line, " \t"); i >= 0 {
		verb, arg = line[:i], bytes.TrimSpace(line[i+1:])
	}
	if len(verb) > 16 {
		verb = verb[:16]
	}
	return strings.ToUpper(mailproto.Clean(verb, 16)), arg
}

// knownVerb reports whether a line starts with a POP3 command (so that it
// is not taken as a SASL response).
func knownVerb(line []byte) bool {
	v, _ := splitCommand(line)
	switch v {
	case "USER", "PASS", "APOP", "AUTH", "STLS", "CAPA", "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "NOOP", "RSET", "QUIT", "UTF8", "LAST":
		return true
	}
	return false
}

// certainCommand reports whether a line read at an unknown position is
// certainly a POP3 command: a known verb with the arguments it takes.
func certainCommand(line []byte) bool {
	if len(line) > 255 {
		return false
	}
	v, arg := splitCommand(line)
	var fieldBuf [4][]byte
	f := mailproto.AppendFields(fieldBuf[:0], arg)
	numeric := func() bool {
		for _, x := range f {
			if _, ok := mailproto.Atoi(x); !ok {
				return false
			}
		}
		return true
	}
	switch v {
	case "STLS", "CAPA", "STAT", "NOOP", "RSET", "QUIT", "UTF8":
		return len(f) == 0
	case "LIST", "UIDL":
		return len(f) <= 1 && numeric()
	case "RETR", "DELE":
		return len(f) == 1 && numeric()
	case "TOP":
		return len(f) == 2 && numeric()
	case "USER", "PASS", "AUTH":
		return len(f) >= 1 && len(f) <= 2
	case "APOP":
		return len(f) == 2
	}
	return false
}

// verbShaped: letters only, so that stray base64 or binary is not
// recorded as a command name.
func verbShaped(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// push queues a command for its response and logs it.
func (p *conn) push(h *command, logArg string) {
	if len(p.queue) > 0 {
		p.sess.pipelined = true
	}
	if len(p.queue) >= maxPending {
		old := p.queue[0]
		p.queue = p.queue[1:]
		p.sess.anoms.Addf("more than %d commands without a response: the oldest is settled as unanswered", maxPending)
		p.lost(old, h.ts)
	}
	if len(p.sess.log) < maxLog {
		h.logIdx = len(p.sess.log)
		p.sess.log = append(p.sess.log, LogEntry{Command: h.verb, Arg: logArg})
	} else {
		p.sess.logDropped++
	}
	p.queue = append(p.queue, h)
}

// status kinds of a server line.
const (
	stNone = iota
	stOK
	stErr
	stCont // "+" continuation (an AUTH challenge)
)

// statusOf classifies a server line and returns its text.
func statusOf(line []byte) (int, []byte) {
	switch {
	case ascii.HasPrefixFold(line, "+OK") && (len(line) == 3 || line[3] == ' '):
		return stOK, bytes.TrimSpace(line[3:])
	case ascii.HasPrefixFold(line, "-ERR") && (len(line) == 4 || line[4] == ' '):
		return stErr, bytes.TrimSpace(line[4:])
	case len(line) >= 1 && line[0] == '+' && (len(line) == 1 || line[1] == ' '):
		return stCont, bytes.TrimSpace(line[1:])
	}
	return stNone, nil
}

// serverLine handles one line from the server.
func (p *conn) serverLine(raw []byte, ts time.Time) {
	line, bare := mailproto.TrimEOL(raw)
	if bare {
		p.sess.anoms.Add("server lines end with a bare LF instead of CRLF")
	}
	if p.sst == ssList {
		p.listLine(line, ts)
		return
	}
	st, text := statusOf(line)
	if st == stNone {
		if p.sst == ssResync {
			p.resyncBytes += len(raw)
			return
		}
		// A multi-line answer the parser did not expect (an unknown
		// command's), or garbage: skip to the next status line.
		p.sess.anoms.Addf("server line that is not a response: %s", mailproto.Quote(line, 40))
		p.sst = ssResync
		return
	}
	if len(raw) > textLine {
		p.sess.anoms.Addf("server line longer than %d octets", textLine)
	}
	p.sst = ssStatus
	if st == stCont {
		p.continuation(text)
		return
	}
	p.response(st == stOK, text, ts)
}

// greetingText reports whether a status line reads like a greeting.
func greetingText(t []byte) bool {
	return ascii.ContainsFold(t, "ready") || ascii.ContainsFold(t, "POP") || ascii.ContainsFold(t, "hello") || ascii.ContainsFold(t, "welcome") ||
		bytes.IndexByte(t, '<') >= 0 && bytes.IndexByte(t, '@') > 0
}

// response handles a +OK or -ERR line.
func (p *conn) response(ok bool, text []byte, ts time.Time) {
	p.sess.responses++
	txt := mailproto.Clean(text, maxText)
	if !p.sess.greetingSeen {
		if len(p.queue) == 0 || greetingText(text) {
			p.sess.greetingSeen = true
			p.sess.greeting = statusWord(ok) + " " + txt
			p.sess.apopStamp = bytes.IndexByte(text, '<') >= 0 && bytes.IndexByte(text, '@') > 0
			if !ok {
				p.sess.anoms.Add("the server refused the connection in its greeting")
			}
			if len(p.queue) > 0 {
				p.sess.anoms.Add("client sent commands before the server's greeting")
			}
			return
		}
		p.sess.greetingSeen = true
		p.sess.anoms.Add("no server greeting seen: the first response answers a command")
	}
	if len(p.queue) == 0 {
		p.sess.unmatched++
		if !p.unsure {
			p.sess.anoms.Addf("response without a command awaiting it: %s %s", statusWord(ok), mailproto.Quote(text, 40))
		}
		return
	}
	h := p.queue[0]
	p.queue = p.queue[1:]
	if h.logIdx >= 0 {
		p.sess.log[h.logIdx].Status = statusWord(ok)
		p.sess.log[h.logIdx].Reply = txt
	}
	switch h.kind {
	case kUser:
		if !ok {
			p.logon(h, "USER", false, txt, ts)
		}
	case kPass:
		p.logon(h, "USER", ok, txt, ts)
	case kAPOP:
		p.logon(h, "APOP", ok, txt, ts)
	case kAuth:
		p.authDone(h, ok, txt, ts)
	case kSTLS:
		p.stlsResponse(h, ok, txt, ts)
	case kSTAT:
		if ok {
			p.sess.stat = txt
		}
	case kDELE:
		if ok {
			p.sess.deletedN++
			if len(p.sess.deleted) < maxDeleted {
				p.sess.deleted = append(p.sess.deleted, h.msg)
			}
		}
	case kUIDL:
		if ok && h.hasArg {
			p.uidLine(text)
		}
	case kQUIT:
		p.sess.quitReply = statusWord(ok) + " " + txt
	case kUTF8:
		p.sess.utf8 = ok
	case kRETR, kTOP:
		if ok {
			p.dl = &download{cmd: h, dec: mail.NewDotDecoder(p.limit(), 0), reply: txt, octets: octets(text), first: ts, last: ts}
			p.dl.dec.Expect(p.dl.octets)
			p.sst = ssMessage
			return
		}
	}
	if ok && (h.kind == kCAPA || h.kind == kAuthList || (h.kind == kLIST || h.kind == kUIDL) && !h.hasArg) {
		p.list = h
		p.sst = ssList
	}
}

func statusWord(ok bool) string {
	if ok {
		return "+OK"
	}
	return "-ERR"
}

// octets reads the size announced in "+OK 1234 octets" (or "+OK 1234").
func octets(t []byte) int {
	var fieldBuf [4][]byte
	f := mailproto.AppendFields(fieldBuf[:0], t)
	if len(f) == 0 {
		return -1
	}
	n, ok := mailproto.Atoi(f[0])
	if !ok {
		return -1
	}
	return n
}

// continuation handles a "+" line: an AUTH challenge.
func (p *conn) continuation(text []byte) {
	if a := p.auth; a != nil && !a.done && len(p.queue) > 0 && p.queue[0] == a.cmd {
		a.challenges++
		return
	}
	if !p.unsure {
		p.sess.anoms.Addf("continuation line without an AUTH exchange: + %s", mailproto.Quote(text, 40))
	}
}

// listLine handles one line of a multi-line response.
func (p *conn) listLine(line []byte, ts time.Time) {
	if len(line) == 1 && line[0] == '.' {
		p.list = nil
		p.sst = ssStatus
		return
	}
	if len(line) > 0 && line[0] == '.' {
		line = line[1:]
	}
	h := p.list
	if h == nil {
		return
	}
	switch h.kind {
	case kCAPA:
		if len(p.sess.capa) < maxList {
			p.sess.capa = append(p.sess.capa, mailproto.Clean(line, maxText))
		}
	case kAuthList:
		if len(p.sess.saslMechs) < maxList {
			p.sess.saslMechs = append(p.sess.saslMechs, mailproto.Clean(line, 64))
		}
	case kLIST:
		p.sess.listed++
	case kUIDL:
		p.uidLine(line)
	}
}

// uidLine remembers "n unique-id" from UIDL.
func (p *conn) uidLine(b []byte) {
	var fieldBuf [4][]byte
	f := mailproto.AppendFields(fieldBuf[:0], b)
	if len(f) < 2 {
		return
	}
	n, ok := mailproto.Atoi(f[0])
	// Message numbers run from 1 to the mailbox's count: the first
	// maxUIDs are remembered, in a table indexed by number.
	if !ok || n < 1 || n > maxUIDs {
		return
	}
	ss := &p.sess
	if n > cap(ss.uids) { // doubled, up to maxUIDs: the bound Buffered counts on
		grown := make([]uidSpan, n, min(max(2*cap(ss.uids), n, 64), maxUIDs))
		ss.uids = grown[:copy(grown, ss.uids)]
	}
	if n > len(ss.uids) {
		ss.uids = ss.uids[:n] // past len: never written, zero
	}
	old := ss.uids[n-1]
	seen := old.listed
	// The UIDs of a listing go into a few chunks, not a string each: a
	// mailbox lists thousands, a session downloads a few.
	var buf [maxUID * utf8.UTFMax]byte
	uid := mailproto.AppendClean(buf[:0], f[1], maxUID)
	if seen {
		if bytes.Equal(uid, ss.uidBytes(old)) {
			return // listed again, unchanged
		}
		ss.uidDead += int(old.end - old.off)
		ss.uidLive -= int(old.end - old.off)
	}
	ss.uids[n-1] = ss.keepUID(uid)
	if ss.uidDead > uidChunk && ss.uidDead > ss.uidLive {
		ss.compactUIDs()
	}
}

const (
	// maxUID: RFC 1939 allows at most 70 characters.
	maxUID = 70
	// uidChunk is the largest chunk of session.uidText.
	uidChunk = 4096
)

// uidSpan is where a UID is in session.uidText, if one was listed.
type uidSpan struct {
	chunk, off, end int32
	listed          bool
}

// keepUID copies uid into uidText and says where.
func (ss *session) keepUID(uid []byte) uidSpan {
	last := len(ss.uidText) - 1
	if last < 0 || len(ss.uidText[last])+len(uid) > cap(ss.uidText[last]) {
		// Chunks grow from a small one: most sessions list a few.
		size := 256
		if last >= 0 {
			size = min(2*cap(ss.uidText[last]), uidChunk)
		}
		ss.uidText = append(ss.uidText, make([]byte, 0, max(size, len(uid))))
		ss.uidHeld += cap(ss.uidText[last+1])
		last++
	}
	c := ss.uidText[last]
	s := uidSpan{chunk: int32(last), off: int32(len(c)), end: int32(len(c) + len(uid)), listed: true}
	ss.uidText[last] = append(c, uid...)
	ss.uidLive += len(uid)
	return s
}

func (ss *session) uidBytes(s uidSpan) []byte { return ss.uidText[s.chunk][s.off:s.end] }

// uid returns the UID UIDL gave message n.
func (ss *session) uid(n int) (string, bool) {
	if n < 1 || n > len(ss.uids) || !ss.uids[n-1].listed {
		return "", false
	}
	return string(ss.uidBytes(ss.uids[n-1])), true
}

// compactUIDs drops the overwritten UIDs from uidText (a server listing
// changed UIDs again and again).
func (ss *session) compactUIDs() {
	old := ss.uidText
	ss.uidText, ss.uidHeld, ss.uidLive, ss.uidDead = nil, 0, 0, 0
	for i, s := range ss.uids {
		if s.listed {
			ss.uids[i] = ss.keepUID(old[s.chunk][s.off:s.end])
		}
	}
}

// uidBuffered is the memory the UIDL table holds.
func (ss *session) uidBuffered() int { return ss.uidHeld + 16*cap(ss.uids) }

// stlsResponse: +OK hands the connection to TLS; -ERR keeps plaintext.
func (p *conn) stlsResponse(h *command, ok bool, txt string, ts time.Time) {
	holding := p.cst == csHold && p.holdFor == h
	if ok {
		p.sess.stls = "accepted"
		if holding && len(p.hold) > 0 {
			// A TLS record first is the handshake captured ahead of
			// the response, not injected plaintext.
			if !mailproto.TLSRecordStart(p.hold) {
				p.sess.anoms.Addf("STLS command injection: the client sent %d bytes after STLS before the server's response: %s", len(p.hold), mailproto.Quote(p.hold, 60))
			}
			p.goTLS()
			return
		}
		p.hold, p.holdFor = nil, nil
		p.cst = csAfterTLS
		return
	}
	p.sess.stls = "refused: " + txt
	if holding {
		if len(p.hold) > 0 {
			p.sess.anoms.Addf("commands pipelined after STLS (%d bytes)", len(p.hold))
		}
		p.cst = csCommand
		p.releaseHold(ts)
	}
}

// lost settles a command whose response will not be seen.
func (p *conn) lost(h *command, ts time.Time) {
	if h.logIdx >= 0 && p.sess.log[h.logIdx].Status == "" {
		p.sess.log[h.logIdx].Status = "none"
	}
	switch h.kind {
	case kSTLS:
		if p.cst == csHold && p.holdFor == h {
			p.resolveHold(ts)
		}
	case kAuth:
		if p.auth == h.auth {
			p.auth = nil
		}
		if p.sess.authResult == "" {
			p.sess.authResult = "unknown"
		}
	case kPass, kAPOP:
		if p.sess.authResult == "" {
			p.sess.authResult = "unknown"
		}
	}
}
