package imap

import (
	"time"
	"unicode/utf16"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// LogEntry is one command of the session log in the logoff event's
// "commands": its tag and name, its arguments (credentials masked,
// literals as {literal}), and the tagged response's status (OK, NO, BAD,
// or "none" when it was not seen) with its text.
type LogEntry struct {
	Tag     string `json:"tag"`
	Command string `json:"command"`
	Args    string `json:"args,omitempty"`
	Status  string `json:"status,omitempty"`
	Reply   string `json:"reply,omitempty"`
}

// session is what the logoff event reports.
type session struct {
	greetingSeen   bool
	greeting       string
	preauth        bool
	capa           []string
	enableAsked    []string
	enabled        []string
	authMech       string
	authUser       string
	authResult     string
	authTries      int
	userTried      string
	starttls       string
	plainAfterTLS  bool
	compress       string
	selected       string
	mailboxes      []string
	exists         int
	downloads      int
	partials       int
	uploads        int
	idles          int
	idleDone       int
	commands       int
	responses      int
	continuations  int
	untaggedErrors int
	statusCount    map[string]int
	logout         bool
	bye            string
	midstream      bool
	gaps           int
	unmatched      int
	unknown        mailproto.Unknown
	log            []LogEntry
	logDropped     int
	anoms          parser.Anomalies
	injected       mailproto.Injection
}

func (s *session) addMailbox(m string) {
	for _, x := range s.mailboxes {
		if x == m {
			return
		}
	}
	if len(s.mailboxes) < maxList {
		s.mailboxes = append(s.mailboxes, m)
	}
}

// newEvent starts an event of this connection.
func (p *conn) newEvent(typ string, start, end time.Time) *event.Event {
	return mailproto.NewEvent(Name, typ, p.c, p.First, start, end)
}

// currentUser is the mailbox owner as far as known: the authenticated
// user, else the last name given.
func (p *conn) currentUser() string {
	if p.sess.authUser != "" {
		return p.sess.authUser
	}
	return p.sess.userTried
}

// logon emits logon or logon-failure for LOGIN or AUTHENTICATE.
func (p *conn) logon(h *command, mech string, ok bool, ts time.Time) {
	typ := TypeLogonFailure
	p.sess.authResult = "failure"
	if ok {
		typ = TypeLogon
		p.sess.authResult = "success"
		p.sess.authUser = h.user
	}
	if h.kind == kLogin {
		p.sess.authMech = mech
	}
	if h.user != "" {
		p.sess.userTried = h.user
	}
	ev := p.newEvent(typ, h.ts, ts)
	mailproto.PutLogon(ev, "AUTHENTICATE", mech, h.user, h.pass, h.auth != nil && h.auth.Canceled)
	s := mailproto.SummaryOf(ev)
	s.Set("tag", h.tag)
	s.Set("status", h.status)
	s.Str("reply", h.reply)
	s.Str("code", h.code)
	if h.cut {
		ev.Anomalies = append(ev.Anomalies, "the command was cut by a gap or the end of the capture: its arguments may be incomplete")
	}
	var set mail.AddressSet
	set.Add(event.RoleUser, h.user)
	ev.Addresses = set.List()
	p.env.Emit(ev)
}

// emitPart emits the email-download (a whole message) or
// email-partial-download event of one FETCHed part.
func (p *conn) emitPart(r *response, pt *part, attrs fetchAttrs) {
	typ := TypePartialDownload
	if pt.item.whole() {
		typ = TypeDownload
		p.sess.downloads++
	} else {
		p.sess.partials++
	}
	h := p.fetchCommand()
	start := pt.first
	if h != nil {
		start = h.ts
	}
	ev := p.newEvent(typ, start, pt.last)
	s := mailproto.SummaryOf(ev)
	var anoms parser.Anomalies
	if h != nil {
		s.Set("command", h.name)
		s.Set("tag", h.tag)
		s.Flag("peek", h.peek)
	} else {
		anoms.Add("FETCH response without a FETCH command seen")
	}
	s.Set("item", pt.item.name)
	if !pt.item.whole() {
		s.Set("section", pt.item.section)
		if pt.item.origin >= 0 {
			s.Set("origin", pt.item.origin)
		}
	}
	if pt.lit8 || pt.item.binary {
		s.Set("binary", true)
	}
	s.Str("mailbox", p.sess.selected)
	s.Count("message", r.num)
	s.Str("uid", attrs.uid)
	s.Str("flags", attrs.flags)
	s.Str("internaldate", attrs.internalDate)
	s.Str("rfc822_size", attrs.size)
	s.Str("modseq", attrs.modseq)
	s.Set("size", pt.size)
	if pt.trunc {
		s.Set("truncated", true)
		anoms.Addf("message larger than the %d-byte artifact limit: only the first %d bytes were kept", p.limit(), p.limit())
	}
	if pt.gap || pt.endLost || pt.trunc {
		s.Set("partial", true)
	}
	if pt.gap {
		anoms.Add("bytes of the literal were lost in a gap")
	}
	if pt.endLost {
		anoms.Add("the end of the literal was not seen")
	}
	if pt.err != nil {
		anoms.Add(pt.err.Error())
	}
	if user := p.currentUser(); user != "" {
		s.Set("user", user)
	}
	if pt.art.SHA256 != "" {
		ev.Artifacts = append(ev.Artifacts, pt.art)
		s.Set("sha256", pt.art.SHA256)
	}
	var set mail.AddressSet
	if m := pt.msg; m != nil {
		ev.Subject = m.Subject
		m.PutSummary(s.Fields)
		for _, a := range m.Anomalies {
			anoms.Add(a)
		}
		if typ == TypeDownload {
			ev.Artifacts = append(ev.Artifacts, m.Attachments...)
		}
		set.AddMessage(m)
	}
	set.Add(event.RoleUser, p.currentUser())
	ev.Addresses = set.List()
	ev.Anomalies = anoms.Out()
	p.env.Emit(ev)
}

// emitUploads emits the email-upload events of an APPEND once its tagged
// response came (or will not come).
func (p *conn) emitUploads(h *command, ts time.Time) {
	for _, u := range h.uploads {
		p.emitUpload(h, u, ts)
	}
	h.uploads = nil
}

func (p *conn) emitUpload(h *command, u *upload, ts time.Time) {
	p.sess.uploads++
	ev := p.newEvent(TypeUpload, h.ts, ts)
	s := mailproto.SummaryOf(ev)
	var anoms parser.Anomalies
	s.Set("command", h.name)
	s.Set("tag", h.tag)
	s.Str("mailbox", h.mailbox)
	s.Str("flags", h.flags)
	s.Str("internaldate", h.date)
	if h.status != "" {
		s.Set("status", h.status)
		s.Set("accepted", h.status == "OK")
		s.Str("reply", h.reply)
		s.Str("code", h.code)
	} else {
		anoms.Add("no response to the APPEND was seen")
	}
	s.Flag("binary", u.lit8)
	s.Set("size", u.size)
	if u.trunc {
		s.Set("truncated", true)
		anoms.Addf("message larger than the %d-byte artifact limit: only the first %d bytes were kept", p.limit(), p.limit())
	}
	if u.gap || u.endLost || u.trunc {
		s.Set("partial", true)
	}
	if u.gap {
		anoms.Add("bytes of the message were lost in a gap")
	}
	if u.endLost {
		anoms.Add("the end of the message was not seen")
	}
	if u.err != nil {
		anoms.Add(u.err.Error())
	}
	if user := p.currentUser(); user != "" {
		s.Set("user", user)
	}
	var set mail.AddressSet
	if m := u.msg; m != nil {
		m.PutEvent(ev)
		for _, a := range m.Anomalies {
			anoms.Add(a)
		}
		set.AddMessage(m)
	}
	set.Add(event.RoleUser, p.currentUser())
	ev.Addresses = set.List()
	ev.Anomalies = anoms.Out()
	p.env.Emit(ev)
}

// emitSession emits the logoff event that closes the connection.
func (p *conn) emitSession(reason parser.EndReason) {
	ss := &p.sess
	if ss.commands == 0 && ss.responses == 0 && ss.anoms.Len() == 0 {
		return
	}
	ev := p.newEvent(TypeLogoff, p.First, p.Last)
	s := mailproto.SummaryOf(ev)
	s.Str("greeting", ss.greeting)
	s.Flag("preauth", ss.preauth)
	s.List("capabilities", ss.capa)
	s.List("enable", ss.enableAsked)
	s.List("enabled", ss.enabled)
	user := p.currentUser()
	s.Str("user", user)
	s.Str("auth_mechanism", ss.authMech)
	s.Str("auth_result", ss.authResult)
	if ss.authTries > 1 {
		s.Set("auth_attempts", ss.authTries)
	}
	s.Str("starttls", ss.starttls)
	s.Flag("plaintext_after_starttls", ss.plainAfterTLS)
	s.Str("compress", ss.compress)
	s.List("mailboxes", ss.mailboxes)
	s.Set("downloads", ss.downloads)
	s.Count("partial_downloads", ss.partials)
	s.Count("uploads", ss.uploads)
	s.Count("idle", ss.idles)
	s.Set("command_count", ss.commands)
	s.Set("responses", ss.responses)
	if len(ss.statusCount) > 0 {
		m := map[string]int{}
		for k, v := range ss.statusCount {
			m[k] = v
		}
		s.Set("status_counts", m)
	}
	if len(ss.log) > 0 {
		s.Set("commands", LogList(append([]LogEntry(nil), ss.log...)))
	}
	s.Count("commands_not_logged", ss.logDropped)
	s.Flag("logout", ss.logout)
	s.Str("bye", ss.bye)
	ss.unknown.Put(s)
	s.Flag("midstream", ss.midstream)
	s.Count("responses_to_unseen_commands", ss.unmatched)
	s.Count("gaps", ss.gaps)
	s.Set("duration_ms", p.Last.Sub(p.First).Milliseconds())
	s.Set("end_reason", reason.String())

	ev.Subject = user
	if ev.Subject == "" {
		ev.Subject = ss.greeting
	}
	if ss.starttls == "accepted" {
		ev.Subject += " (STARTTLS)"
	}
	var set mail.AddressSet
	set.Add(event.RoleUser, user)
	set.Add(event.RoleUser, ss.userTried)
	ev.Addresses = set.List()
	ev.Anomalies = ss.anoms.Out()
	p.env.Emit(ev)
}

// decodeMailbox turns a mailbox name in IMAP's modified UTF-7 (RFC 3501
// 5.1.3: "&" starts base64 of UTF-16, "&-" is "&") into UTF-8; a name
// that is not valid modified UTF-7 (IMAP4rev2 and UTF8=ACCEPT send UTF-8)
// is kept as it is.
func decodeMailbox(s string) string {
	if !containsByte(s, '&') {
		return s
	}
	var out []rune
	for i := 0; i < len(s); {
		c := s[i]
		if c != '&' {
			if c >= 0x80 {
				return s
			}
			out = append(out, rune(c))
			i++
			continue
		}
		j := i + 1
		for j < len(s) && s[j] != '-' {
			j++
		}
		if j >= len(s) {
			return s
		}
		if j == i+1 {
			out = append(out, '&')
			i = j + 1
			continue
		}
		u, ok := mutf7(s[i+1 : j])
		if !ok {
			return s
		}
		out = append(out, utf16.Decode(u)...)
		i = j + 1
	}
	return mailproto.Clean([]byte(string(out)), maxText)
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// mutf7 decodes the modified base64 (",", not "/") of UTF-16 code units.
func mutf7(b string) ([]uint16, bool) {
	var bits, n uint32
	var out []uint16
	for i := 0; i < len(b); i++ {
		c := b[i]
		var v uint32
		switch {
		case c >= 'A' && c <= 'Z':
			v = uint32(c - 'A')
		case c >= 'a' && c <= 'z':
			v = uint32(c-'a') + 26
		case c >= '0' && c <= '9':
			v = uint32(c-'0') + 52
		case c == '+':
			v = 62
		case c == ',':
			v = 63
		default:
			return nil, false
		}
		bits = bits<<6 | v
		n += 6
		if n >= 16 {
			n -= 16
			out = append(out, uint16(bits>>n))
			bits &= 1<<n - 1
		}
	}
	return out, len(out) > 0
}
