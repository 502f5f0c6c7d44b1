package pop3

import (
	"strconv"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

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
	return p.user
}

// logon emits logon or logon-failure for USER/PASS, APOP or AUTH.
func (p *conn) logon(h *command, mech string, ok bool, reply string, ts time.Time) {
	typ := TypeLogonFailure
	p.sess.authResult = "failure"
	if ok {
		typ = TypeLogon
		p.sess.authResult = "success"
		p.sess.authUser = h.user
	}
	if p.sess.authMech == "" || h.kind != kAuth {
		p.sess.authMech = mech
	}
	ev := p.newEvent(typ, h.ts, ts)
	mailproto.PutLogon(ev, "AUTH", mech, h.user, h.pass, h.auth != nil && h.auth.Canceled)
	s := mailproto.SummaryOf(ev)
	s.Set("status", statusWord(ok))
	s.Str("reply", reply)
	var set mail.AddressSet
	set.Add(event.RoleUser, h.user)
	ev.Addresses = set.List()
	p.env.Emit(ev)
}

// finishDownload restores the message of a RETR (email-download) or the
// part of a TOP (email-partial-download) and emits its event.
func (p *conn) finishDownload(ts time.Time, endLost bool) {
	d := p.dl
	p.dl = nil
	if d == nil {
		return
	}
	h := d.cmd
	raw := d.dec.Bytes()
	var anoms parser.Anomalies
	typ := TypeDownload
	if h.kind == kTOP {
		typ = TypePartialDownload
		p.sess.tops++
	} else {
		p.sess.retrieved++
	}
	ev := p.newEvent(typ, h.ts, d.last)
	s := mailproto.SummaryOf(ev)
	s.Set("command", h.verb)
	if h.msg >= 0 {
		s.Set("message", h.msg)
		if u, ok := p.sess.uid(h.msg); ok {
			s.Set("uid", u)
		}
	}
	s.Str("reply", d.reply)
	if d.octets >= 0 {
		s.Set("announced_octets", d.octets)
	}
	s.Set("size", d.dec.Size())
	if d.dec.Truncated {
		s.Set("truncated", true)
		anoms.Addf("message larger than the %d-byte artifact limit: only the first %d bytes were kept", p.limit(), p.limit())
	}
	if d.gap || endLost || d.partial || d.dec.Truncated {
		s.Set("partial", true)
	}
	if d.gap {
		anoms.Add("bytes of the message were lost in a gap")
	}
	if endLost {
		anoms.Add("the end of the message (the \".\" line) was not seen")
	}
	if d.dec.NUL {
		anoms.Add("NUL bytes in the message")
	}
	if d.dec.LongLine {
		anoms.Add("message line longer than 1000 octets")
	}
	if d.dec.LooseEnds > 0 {
		anoms.Addf("%d \".\" line(s) not delimited by CRLF inside the message", d.dec.LooseEnds)
	}
	if user := p.currentUser(); user != "" {
		s.Set("user", user)
	}
	var m *mail.Message
	if typ == TypeDownload {
		var err error
		m, err = mail.Restore(p.env, raw)
		if err != nil {
			anoms.Add(err.Error())
		}
	} else {
		part := "HEADER"
		name, ctype := "part-HEADER.txt", "text/rfc822-headers"
		if h.lines > 0 {
			part = "HEADER+" + strconv.Itoa(h.lines) + " lines"
			name, ctype = "part-TOP-"+strconv.Itoa(h.lines)+".txt", "text/plain"
		}
		s.Set("part", part)
		if h.lines >= 0 {
			s.Set("lines", h.lines)
		}
		m = mail.DecodeHeader(raw)
		a, err := p.env.SaveArtifact(event.KindFile, name, ctype, raw)
		if err != nil {
			anoms.Addf("pop3: save %s of message %d: %v", name, h.msg, err)
		} else {
			ev.Artifacts = append(ev.Artifacts, a)
			s.Set("sha256", a.SHA256)
		}
	}
	// A TOP part has no eml or attachments: only its header goes in.
	m.PutEvent(ev)
	for _, a := range m.Anomalies {
		anoms.Add(a)
	}
	var set mail.AddressSet
	set.AddMessage(m)
	set.Add(event.RoleUser, p.currentUser())
	ev.Addresses = set.List()
	ev.Anomalies = anoms.Out()
	p.env.Emit(ev)
	// Restored and saved: the bytes are not read again.
	d.dec.Release()
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
	s.Flag("apop_offered", ss.apopStamp)
	s.List("capabilities", ss.capa)
	s.List("sasl_mechanisms", ss.saslMechs)
	user := p.currentUser()
	s.Str("user", user)
	s.Str("auth_mechanism", ss.authMech)
	s.Str("auth_result", ss.authResult)
	if ss.authTries > 1 {
		s.Set("auth_attempts", ss.authTries)
	}
	s.Str("stls", ss.stls)
	s.Flag("plaintext_after_stls", ss.plainAfterTLS)
	s.Flag("utf8", ss.utf8)
	s.Str("stat", ss.stat)
	s.Count("listed", ss.listed)
	s.Set("retrieved", ss.retrieved)
	s.Count("top", ss.tops)
	if ss.deletedN > 0 {
		s.Set("deleted", append([]int(nil), ss.deleted...))
		s.Set("deleted_count", ss.deletedN)
	}
	s.Set("command_count", ss.commands)
	s.Set("responses", ss.responses)
	if len(ss.log) > 0 {
		s.Set("commands", LogList(append([]LogEntry(nil), ss.log...)))
	}
	s.Count("commands_not_logged", ss.logDropped)
	s.Flag("pipelining", ss.pipelined)
	if ss.quit {
		s.Set("quit", true)
		s.Str("quit_reply", ss.quitReply)
	}
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
	if ss.stls == "accepted" {
		ev.Subject += " (STLS)"
	}
	var set mail.AddressSet
	set.Add(event.RoleUser, user)
	if ss.userTried != user {
		set.Add(event.RoleUser, ss.userTried)
	}
	ev.Addresses = set.List()
	ev.Anomalies = ss.anoms.Out()
	p.env.Emit(ev)
}
