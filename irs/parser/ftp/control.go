package ftp

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// lineReader cuts a stream into lines, capping each.
type lineReader struct {
	buf  []byte
	over bool // the current line passed maxLine; the rest is dropped
	skip bool // after a gap: drop bytes up to the next line end
}

func (r *lineReader) feed(p []byte, fn func(line []byte, over bool)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			r.add(p)
			return
		}
		r.add(p[:i])
		p = p[i+1:]
		if r.skip {
			r.skip, r.over, r.buf = false, false, r.buf[:0]
			continue
		}
		fn(bytes.TrimRight(r.buf, "\r"), r.over)
		r.buf, r.over = r.buf[:0], false
	}
}

func (r *lineReader) add(p []byte) {
	if r.skip {
		return
	}
	room := maxLine - len(r.buf)
	if len(p) > room {
		p = p[:room]
		r.over = true
	}
	r.buf = append(r.buf, p...)
}

// stripTelnet removes Telnet IAC sequences (clients send IAC IP IAC DM
// before ABOR).
func stripTelnet(line []byte) []byte {
	if bytes.IndexByte(line, 0xff) < 0 {
		return line
	}
	out := make([]byte, 0, len(line))
	for i := 0; i < len(line); i++ {
		if line[i] != 0xff {
			out = append(out, line[i])
			continue
		}
		if i+1 < len(line) && line[i+1] == 0xff {
			out = append(out, 0xff)
			i++
			continue
		}
		if i+1 < len(line) && line[i+1] >= 0xfb && line[i+1] <= 0xfe {
			i++ // WILL/WONT/DO/DONT take an option byte
		}
		i++
	}
	return out
}

// command is one client command and the replies it got.
type command struct {
	verb, arg string
	ts        time.Time
	interim   []int
	code      int
	text      string
	x         *transfer // the transfer this command started, if any
	e         *expect   // the expectation a PORT/EPRT registered
}

// control parses one control connection.
type control struct {
	c      *parser.Conn
	env    parser.Env
	tab    *table
	lines  [2]lineReader
	reply  *replyAcc // multi-line reply being read
	queue  []*command
	queue0 [2]*command // queue's first array
	log    []event.Fields
	nCmds  int
	banner string

	user, pass string
	loggedIn   bool
	// pairMirror: the host pair's TCP mirror was requested (see
	// requestPairMirror).
	pairMirror bool
	logons     int
	failures   int
	tls        bool
	stopped    bool
	ended      bool

	cur   *expect     // announced data connection not yet used
	xfers []*transfer // transfers of this session
	rest  int64

	start, last time.Time
	anoms       parser.Anomalies
	files       []string
}

// popQueue removes the oldest waiting command, moving the rest down so
// that one array serves the whole session (at most maxPending wait).
func (k *control) popQueue() *command {
	cmd := k.queue[0]
	k.queue = slices.Delete(k.queue, 0, 1) // clears the slot it frees
	return cmd
}

// replyAcc accumulates a multi-line reply.
type replyAcc struct {
	code  string
	num   int // code as a number
	text  strings.Builder
	lines int
}

func newControl(c *parser.Conn, env parser.Env, tab *table) *control {
	k := &control{c: c, env: env, tab: tab, start: c.Start}
	k.queue = k.queue0[:0]
	return k
}

func (k *control) IsContinue() bool { return !k.stopped && !k.ended }

func (k *control) ProcessPacket(dir parser.Direction, p []byte, ts time.Time) {
	if k.stopped || k.ended || dir > parser.ServerToClient {
		return
	}
	k.requestPairMirror()
	k.last = ts
	if dir == parser.ClientToServer {
		k.lines[dir].feed(p, func(line []byte, over bool) {
			if !k.stopped {
				k.clientLine(line, over, ts)
			}
		})
		return
	}
	k.lines[dir].feed(p, func(line []byte, over bool) {
		if !k.stopped {
			k.serverLine(line, over, ts)
		}
	})
}

func (k *control) Gap(dir parser.Direction, n int, ts time.Time) {
	if k.stopped || k.ended || dir > parser.ServerToClient {
		return
	}
	k.anoms.Addf("%d bytes missing from the %s stream (capture gap); commands and replies may be mispaired", n, dir)
	r := &k.lines[dir]
	r.buf, r.over, r.skip = r.buf[:0], false, true
	if dir == parser.ServerToClient {
		k.reply = nil
	}
}

// clientLine handles one command.
func (k *control) clientLine(raw []byte, over bool, ts time.Time) {
	line := strings.TrimSpace(string(stripTelnet(raw)))
	if line == "" {
		return
	}
	if over {
		k.anoms.Addf("command line over %d bytes, cut", maxLine)
	}
	if line[0] == 0x16 {
		// a TLS handshake after AUTH: the channel is encrypted from here
		k.tls, k.stopped = true, true
		return
	}
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	arg = strings.TrimSpace(arg)
	cmd := &command{verb: verb, arg: arg, ts: ts}
	k.nCmds++
	if len(k.queue) >= maxPending {
		old := k.popQueue()
		k.anoms.Addf("no reply to %s before %d further commands", old.verb, maxPending)
		k.finishCommand(old, ts)
	}
	k.queue = append(k.queue, cmd)
	switch verb {
	case "USER":
		k.user, k.pass = arg, ""
	case "PASS":
		k.pass = arg
	case "PORT", "EPRT":
		var ep netip.AddrPort
		var err error
		if verb == "PORT" {
			ep, err = parsePort(arg)
		} else {
			ep, err = parseEPRT(arg)
		}
		if err != nil {
			k.anoms.Addf("%v", err)
			return
		}
		cmd.e = k.announce(verb, ep, nil, k.c.Server.Addr(), ts)
	case "REST":
		k.rest, _ = strconv.ParseInt(arg, 10, 64)
	case "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD":
		if k.cur == nil {
			return
		}
		x := k.cur.x
		k.cur = nil
		x.mu.Lock()
		x.verb, x.arg, x.bound = verb, arg, true
		x.user = k.user
		x.rest, k.rest = k.rest, 0
		var ev *event.Event
		if x.readyLocked() {
			ev = x.eventLocked()
		}
		x.mu.Unlock()
		cmd.x = x
		if ev != nil {
			k.env.Emit(ev)
		}
	}
}

// announce records an expected data connection and asks for its mirror.
func (k *control) announce(mode string, ep netip.AddrPort, alias []netip.AddrPort, peer netip.Addr, ts time.Time) *expect {
	if k.cur != nil {
		// announced but never used: replaced
		k.tab.remove(k.cur)
	}
	x := &transfer{mode: mode, endpoint: ep, ctlClient: k.c.Client, ctlServer: k.c.Server, user: k.user}
	e := &expect{keys: append([]netip.AddrPort{ep}, alias...), peer: peer, created: ts, x: x}
	k.tab.add(e)
	k.cur = e
	k.xfers = append(k.xfers, x)
	if len(k.xfers) > maxXfers {
		// let the oldest transfer go: its data parser may report it alone
		k.release(k.xfers[0])
		k.xfers[0] = nil
		k.xfers = k.xfers[1:]
	}
	k.env.RequestMirror(parser.MirrorRequest{Protocol: protocol, Transport: parser.TCP,
		A: netip.AddrPortFrom(peer, 0), B: ep, IdleTimeout: mirrorIdle,
		Reason: mirrorReason("ftp-data ", mode, ep)})
	return e
}

// requestPairMirror asks, once per control connection, for every TCP
// connection between its two hosts to be mirrored while the session
// lasts. A mirror requested only when a PASV/EPSV/PORT reply is seen comes
// too late for the data connection the client opens a moment later (its
// SYN travels faster than the copy of the reply, the IRS and the
// controller's flow mods); data connections almost always join the same
// two hosts, so mirroring the pair from the start catches them. The
// per-transfer requests stay for the other cases (a data address that
// differs from the control connection's).
func (k *control) requestPairMirror() {
	if k.pairMirror {
		return
	}
	k.pairMirror = true
	k.env.RequestMirror(parser.MirrorRequest{Protocol: protocol, Transport: parser.TCP,
		A: netip.AddrPortFrom(k.c.Client.Addr(), 0), B: netip.AddrPortFrom(k.c.Server.Addr(), 0),
		IdleTimeout: mirrorIdle, Reason: pairReason(k.c.Client.Addr(), k.c.Server.Addr())})
}

// mirrorReason is prefix, mode, a space and ep, in one allocation.
func mirrorReason(prefix, mode string, ep netip.AddrPort) string {
	var buf [96]byte
	b := append(append(append(buf[:0], prefix...), mode...), ' ')
	return string(ep.AppendTo(b))
}

// pairReason is the reason given for a host pair's mirror, in one
// allocation.
func pairReason(a, b netip.Addr) string {
	var buf [128]byte
	t := append(buf[:0], "ftp-control host pair "...)
	t = append(a.AppendTo(t), ' ')
	return string(b.AppendTo(t))
}

// serverLine handles one reply line.
// The line is read as bytes: only the text a command keeps becomes a
// string (a multi-line reply's lines go straight into its text).
func (k *control) serverLine(line []byte, over bool, ts time.Time) {
	if over {
		k.anoms.Addf("reply line over %d bytes, cut", maxLine)
	}
	if r := k.reply; r != nil {
		r.lines++
		if len(line) >= 4 && string(line[:3]) == r.code && line[3] == ' ' {
			k.reply = nil
			k.addText(r, line[4:])
			k.finalReply(r.num, r.text.String(), ts)
			return
		}
		if r.lines > maxReplyLines {
			k.anoms.Addf("multi-line %s reply over %d lines, cut", r.code, maxReplyLines)
			k.reply = nil
			k.finalReply(r.num, r.text.String(), ts)
			return
		}
		if len(line) >= 4 && string(line[:3]) == r.code && line[3] == '-' {
			line = line[4:]
		}
		k.addText(r, line)
		return
	}
	if len(line) < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		k.anoms.Addf("server line is not an FTP reply: %q", clip(string(line), 60))
		return
	}
	var text []byte
	if len(line) > 4 {
		text = line[4:]
	}
	if len(line) > 3 && line[3] == '-' {
		r := &replyAcc{code: string(line[:3]), num: replyCode(line), lines: 1}
		k.addText(r, text)
		k.reply = r
		return
	}
	k.finalReply(replyCode(line), string(bytes.TrimSpace(text)), ts)
}

// replyCode is the code of a reply line that starts with three digits.
func replyCode(line []byte) int {
	return int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
}

func (k *control) addText(r *replyAcc, b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || r.text.Len() >= maxReplyText {
		return
	}
	if r.text.Len() > 0 {
		r.text.WriteString(" | ")
	}
	r.text.Write(b[:min(len(b), max(maxReplyText-r.text.Len(), 0))])
}

// finalReply pairs a complete reply with the oldest waiting command.
func (k *control) finalReply(code int, text string, ts time.Time) {
	if len(k.queue) == 0 {
		if k.nCmds == 0 && k.banner == "" && (code == 220 || code == 120 || code == 421) {
			k.banner = text
			k.logCmd("<greeting>", "", nil, code, text)
			return
		}
		if !k.c.MidStream || k.nCmds > 0 {
			k.anoms.Addf("reply %d without a command: %q", code, clip(text, 60))
		}
		return
	}
	cmd := k.queue[0]
	if code < 200 {
		cmd.interim = append(cmd.interim, code)
		if cmd.x != nil && code == 150 {
			k.noteSize(cmd.x, text)
		}
		return
	}
	k.popQueue()
	cmd.code, cmd.text = code, text
	k.onReply(cmd, ts)
	k.finishCommand(cmd, ts)
}

// noteSize keeps the size a 150 reply announces ("(1234 bytes)").
func (k *control) noteSize(x *transfer, text string) {
	i := strings.LastIndex(text, " bytes)")
	if i < 0 {
		return
	}
	j := strings.LastIndexByte(text[:i], '(')
	if j < 0 {
		return
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text[j+1:i]), 10, 64)
	if err != nil || n < 0 {
		return
	}
	x.mu.Lock()
	x.announced = n
	x.mu.Unlock()
}

// onReply acts on a command's final reply.
func (k *control) onReply(cmd *command, ts time.Time) {
	ok := cmd.code >= 200 && cmd.code < 400
	switch cmd.verb {
	case "USER", "PASS":
		if cmd.code == 230 || cmd.code == 232 || (cmd.verb == "PASS" && cmd.code == 202) {
			k.loggedIn = true
			k.logons++
			k.logon(TypeLogon, cmd, ts)
		} else if cmd.code >= 400 {
			k.failures++
			k.logon(TypeLogonFailure, cmd, ts)
		}
	case "PASV":
		if cmd.code != 227 {
			return
		}
		ep, err := parsePASV(cmd.text)
		if err != nil {
			k.anoms.Addf("%v", err)
			return
		}
		var alias []netip.AddrPort
		if srv := k.c.Server.Addr(); ep.Addr() != srv {
			// behind NAT the announced address differs from the one we see
			alias = append(alias, netip.AddrPortFrom(srv, ep.Port()))
		}
		k.announce("PASV", ep, alias, k.c.Client.Addr(), ts)
	case "EPSV":
		if cmd.code != 229 {
			return
		}
		port, err := parseEPSV(cmd.text)
		if err != nil {
			k.anoms.Addf("%v", err)
			return
		}
		k.announce("EPSV", netip.AddrPortFrom(k.c.Server.Addr(), port), nil, k.c.Client.Addr(), ts)
	case "PORT", "EPRT":
		if !ok && cmd.e != nil {
			k.tab.remove(cmd.e)
			if k.cur == cmd.e {
				k.cur = nil
			}
		}
	case "AUTH":
		a := strings.ToUpper(cmd.arg)
		if cmd.code == 234 && (a == "TLS" || a == "SSL" || a == "TLS-C" || a == "TLS-P") {
			k.tls, k.stopped = true, true
		}
	}
	if x := cmd.x; x != nil {
		x.mu.Lock()
		x.reply, x.replyText = cmd.code, cmd.text
		var ev *event.Event
		if x.readyLocked() {
			ev = x.eventLocked()
		}
		x.mu.Unlock()
		if ev != nil {
			k.env.Emit(ev)
		}
		if cmd.code >= 400 {
			// refused: no data connection will come for it
			k.tab.removeTransfer(x)
		} else if n := parser.SafeFileName(cmd.arg); n != "" && cmd.verb != "LIST" && cmd.verb != "NLST" && cmd.verb != "MLSD" && len(k.files) < maxLog {
			k.files = append(k.files, cmd.verb+" "+cmd.arg)
		}
	}
}

// logon emits a logon or logon-failure event.
func (k *control) logon(typ string, cmd *command, ts time.Time) {
	ev := &event.Event{Type: typ, Start: cmd.ts, End: ts, Subject: k.user,
		Summary: event.Fields{{Key: "user", Value: k.user}, {Key: "reply_code", Value: codeValue(cmd.code)}, {Key: "reply", Value: cmd.text}}}
	if k.env.Options().RecordPasswords && k.pass != "" {
		ev.Summary.Set("password", k.pass)
	}
	if k.user != "" {
		ev.Addresses = []event.Address{{Address: k.user, Role: event.RoleUser}}
	}
	if k.banner != "" {
		ev.Summary.Set("banner", k.banner)
	}
	k.emit(ev)
}

func (k *control) finishCommand(cmd *command, ts time.Time) {
	arg := cmd.arg
	if cmd.verb == "PASS" && !k.env.Options().RecordPasswords && arg != "" {
		arg = "********"
	}
	k.logCmd(cmd.verb, arg, cmd.interim, cmd.code, cmd.text)
}

func (k *control) logCmd(verb, arg string, interim []int, code int, text string) {
	if len(k.log) >= maxLog {
		return
	}
	e := make(event.Fields, 0, 5) // room for every field
	e.Set("command", verbValue(verb))
	if arg != "" {
		e.Set("arg", clip(arg, 256))
	}
	if len(interim) > 0 {
		e.Set("interim", interim)
	}
	if code != 0 {
		e.Set("reply_code", codeValue(code))
		e.Set("reply", clip(text, 256))
	}
	k.log = append(k.log, e)
}

// verbValues are the commands of RFC 959 and its extensions as summary
// values, boxed once: every command logged names one (boxing a string
// allocates).
var verbValues = func() map[string]any {
	m := map[string]any{}
	for _, v := range []string{"<greeting>", "USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "QUIT", "REIN",
		"PORT", "PASV", "TYPE", "STRU", "MODE", "RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO",
		"ABOR", "DELE", "RMD", "MKD", "PWD", "LIST", "NLST", "SITE", "SYST", "STAT", "HELP", "NOOP", "FEAT",
		"OPTS", "AUTH", "PBSZ", "PROT", "CCC", "EPSV", "EPRT", "LPRT", "LPSV", "MDTM", "SIZE", "MLSD", "MLST",
		"LANG", "CLNT", "HOST", "XPWD", "XCWD", "XMKD", "XRMD", "XCUP"} {
		m[v] = v
	}
	return m
}()

// verbValue is a command as a summary value.
func verbValue(v string) any {
	if x, ok := verbValues[v]; ok {
		return x
	}
	return v
}

// codeValues are the reply codes as summary values, boxed once (an int
// of 256 or more allocates when boxed).
var codeValues = func() (t [1000]any) {
	for i := range t {
		t[i] = i
	}
	return
}()

// codeValue is a reply code as a summary value.
func codeValue(c int) any {
	if c >= 0 && c < len(codeValues) {
		return codeValues[c]
	}
	return c
}

func (k *control) emit(ev *event.Event) {
	ev.Protocol = protocol
	ev.Transport = "tcp"
	ev.Client, ev.Server = k.c.Client, k.c.Server
	k.env.Emit(ev)
}

// EndProcess reports the session and hands finished transfers their
// command.
func (k *control) EndProcess(reason parser.EndReason, ts time.Time) {
	if k.ended {
		return
	}
	k.ended = true
	if r := k.reply; r != nil {
		k.anoms.Addf("connection ended inside a multi-line %s reply", r.code)
		k.reply = nil
	}
	for _, cmd := range k.queue {
		k.finishCommand(cmd, ts)
	}
	k.queue = nil
	if k.last.IsZero() {
		k.last = ts
	}
	for _, x := range k.xfers {
		k.release(x)
	}
	k.xfers = nil
	s := event.Fields{{Key: "commands", Value: k.log}, {Key: "command_count", Value: k.nCmds}, {Key: "logged_in", Value: k.loggedIn},
		{Key: "end_reason", Value: reason.String()}}
	if k.nCmds > maxLog {
		s.Set("commands_truncated", true)
	}
	if k.banner != "" {
		s.Set("banner", k.banner)
	}
	if k.user != "" {
		s.Set("user", k.user)
	}
	if k.failures > 0 {
		s.Set("logon_failures", k.failures)
	}
	if k.tls {
		s.Set("auth_tls", true)
	}
	if len(k.files) > 0 {
		s.Set("files", k.files)
	}
	ev := &event.Event{Type: TypeSession, Start: k.start, End: ts, Subject: k.user, Summary: s, Anomalies: k.anoms.Out()}
	if ev.Subject == "" {
		ev.Subject = k.banner
	}
	if k.user != "" {
		ev.Addresses = []event.Address{{Address: k.user, Role: event.RoleUser}}
	}
	k.emit(ev)
}

// release tells a transfer that the control side has said all it will,
// emitting the event if the data side is done.
func (k *control) release(x *transfer) {
	x.mu.Lock()
	x.ctlEnded = true
	var ev *event.Event
	if x.readyLocked() {
		ev = x.eventLocked()
	}
	x.mu.Unlock()
	if ev != nil {
		k.env.Emit(ev)
	}
}

// removeTransfer drops the expectation of a transfer that was refused.
func (t *table) removeTransfer(x *transfer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, e := range t.m {
		if e.x == x {
			delete(t.m, k)
		}
	}
}

func clip(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) <= n {
		return s
	}
	return s[:n]
}
