package smtp

import (
	"fmt"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// RcptStatus is one envelope recipient with the server's answer, as
// reported in an email-send event's "rcpt_to".
type RcptStatus struct {
	Address  string            `json:"address"`
	Code     int               `json:"code,omitempty"` // 0: reply not seen
	Reply    string            `json:"reply,omitempty"`
	Accepted bool              `json:"accepted"`
	Params   map[string]string `json:"params,omitempty"`
}

// newEvent starts an event of this connection.
func (p *conn) newEvent(typ string, start, end time.Time) *event.Event {
	return mailproto.NewEvent(Name, typ, p.c, p.First, start, end)
}

// emitMessage restores a message and emits its email-send event.
func (p *conn) emitMessage(tx *transaction) {
	m := tx.msg
	p.sess.messages++
	start := tx.start
	if start.IsZero() {
		start = m.firstTS
	}
	end := tx.end
	if end.IsZero() {
		end = m.lastTS
	}
	ev := p.newEvent(TypeSend, start, end)
	s := mailproto.SummaryOf(ev)

	p.restore(tx)
	restored, err := tx.restored, tx.restoreErr

	if tx.mailSeen {
		s.Set("mail_from", tx.mailFrom)
		if len(tx.mailParams) > 0 {
			s.Set("mail_params", tx.mailParams)
		}
		if tx.mailReply != nil {
			s.Set("mail_reply", tx.mailReply.String())
		}
	}
	rcpts := make([]RcptStatus, 0, len(tx.rcpts))
	addrs := make([]string, 0, len(tx.rcpts))
	for _, r := range tx.rcpts {
		st := RcptStatus{Address: r.addr, Params: r.params}
		if r.reply != nil {
			st.Code = r.reply.code
			st.Reply = r.reply.text()
			st.Accepted = r.reply.ok()
		}
		rcpts = append(rcpts, st)
		addrs = append(addrs, r.addr)
	}
	if len(rcpts) > 0 {
		s.Set("rcpt_to", RcptList(rcpts))
	}
	s.Count("rcpt_not_recorded", tx.rcptDropped)
	s.Str("helo", p.sess.helo)
	s.Str("auth_user", p.sess.authUser)
	s.Set("transfer", m.via)
	if m.via == viaBDAT {
		s.Set("bdat_chunks", tx.chunks)
	}
	if tx.dataReply != nil && tx.dataReply.code != 354 {
		s.Set("data_reply", tx.dataReply.String())
	}
	s.Flag("pipelined", tx.pipelined)
	s.Set("size", m.total())
	s.Flag("truncated", m.truncated())
	partial := tx.partial || m.partial || m.gap || m.endLost || m.truncated()
	s.Flag("partial", partial)
	s.Str("aborted", tx.abortedReason)
	if tx.final != nil {
		s.Set("reply_code", tx.final.code)
		s.Set("reply", tx.final.text())
		s.Set("accepted", tx.final.ok())
	}

	var anoms parser.Anomalies
	for _, a := range tx.anoms.Out() {
		anoms.Add(a)
	}
	if m.partial {
		anoms.Add("the start of the message data was not seen: message restored from the middle")
	}
	if m.gap {
		anoms.Add("bytes of the message data were lost in a gap")
	}
	if m.endLost {
		anoms.Add("the end of the message data was not seen")
	}
	if m.truncated() {
		anoms.Addf("message larger than the %d-byte artifact limit: only the first %d bytes were kept", p.limit(), p.limit())
	}
	if m.nul {
		anoms.Add("NUL bytes in the message data")
	}
	if m.long {
		anoms.Add("message line longer than 1000 octets")
	}
	if err != nil {
		anoms.Add(err.Error())
	}

	var set mail.AddressSet
	set.Add(event.RoleMail, tx.mailFrom)
	for _, a := range addrs {
		set.Add(event.RoleRcpt, a)
	}
	if restored != nil {
		set.AddMessage(restored)
		restored.PutEvent(ev)
		for _, a := range restored.Anomalies {
			anoms.Add(a)
		}
	}
	set.Add(event.RoleUser, p.sess.authUser)
	ev.Addresses = set.List()
	ev.Anomalies = anoms.Out()
	tx.restored = nil
	p.env.Emit(ev)
}

// emitSession emits the logoff event that closes the connection.
func (p *conn) emitSession(reason parser.EndReason) {
	ss := &p.sess
	if ss.commands == 0 && ss.replies == 0 && ss.messages == 0 && ss.anoms.Len() == 0 {
		return
	}
	ev := p.newEvent(TypeLogoff, p.First, p.Last)
	s := mailproto.SummaryOf(ev)
	s.Str("greeting", ss.greeting)
	s.Str("helo", ss.helo)
	s.Str("helo_command", ss.heloVerb)
	s.Str("helo_reply", ss.heloReply)
	s.List("extensions", ss.extensions)
	s.Str("auth_mechanism", ss.authMech)
	s.Str("auth_user", ss.authUser)
	s.Str("auth_result", ss.authResult)
	if ss.authTries > 1 {
		s.Set("auth_attempts", ss.authTries)
	}
	s.Str("starttls", ss.starttls)
	s.Flag("plaintext_after_starttls", ss.plainAfterTLS)
	s.Set("messages", ss.messages)
	s.Set("commands", ss.commands)
	s.Set("replies", ss.replies)
	s.Flag("pipelining", ss.pipelined)
	if ss.quit {
		s.Set("quit", true)
		s.Str("quit_reply", ss.quitReply)
	}
	ss.unknown.Put(s)
	s.Count("rejected_commands", ss.rejected)
	s.List("vrfy_expn", ss.vrfy)
	if len(ss.aborted) > 0 {
		s.Set("aborted_transactions", abortedList(append([]abortedTx(nil), ss.aborted...)))
		s.Set("aborted_count", ss.abortedN)
	}
	s.Flag("midstream", ss.midstream)
	s.Count("replies_to_unseen_commands", ss.unmatched)
	s.Count("gaps", ss.gaps)
	s.Set("end_reason", reason.String())

	ev.Subject = ss.helo
	if ev.Subject == "" {
		ev.Subject = ss.greeting
	}
	if ss.starttls == "accepted" {
		ev.Subject = fmt.Sprintf("%s (STARTTLS)", ev.Subject)
	}
	var set mail.AddressSet
	set.Add(event.RoleUser, ss.authUser)
	for _, a := range ss.aborted {
		set.Add(event.RoleMail, a.MailFrom)
		for _, r := range a.RcptTo {
			set.Add(event.RoleRcpt, r)
		}
	}
	ev.Addresses = set.List()
	ev.Anomalies = ss.anoms.Out()
	p.env.Emit(ev)
}
