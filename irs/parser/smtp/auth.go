package smtp

import (
	"bytes"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// authExchange is one AUTH command and its challenge/response rounds.
type authExchange struct {
	mailproto.SASL // mechanism, responses and what they gave away
	start          time.Time
	done           bool
	pend           *pending
}

// authCommand handles "AUTH mechanism [initial-response]".
func (p *conn) authCommand(arg []byte, ts time.Time) {
	f := bytes.Fields(arg)
	mech := ""
	if len(f) > 0 {
		mech = strings.ToUpper(mailproto.Clean(f[0], 40))
	}
	a := &authExchange{SASL: mailproto.SASL{Mech: mech}, start: ts}
	p.auth = a
	p.sess.authMech = mech
	p.sess.authTries++
	h := &pending{kind: pAuth, verb: "AUTH", auth: a}
	a.pend = h
	if len(f) > 1 {
		p.authResponse(a, f[1])
	}
	p.push(h)
	p.cst = csHold
	p.holdFor = h
}

// authChallenge: a 334 asks the client for the next response line.
func (p *conn) authChallenge(h *pending, r *reply, ts time.Time) {
	if p.cst == csHold && p.holdFor == h {
		p.cst = csAuth
		p.releaseHold(ts)
	}
}

// saslLine reads the client's answer to a 334 challenge.
func (p *conn) saslLine(raw []byte, ts time.Time) {
	line, _ := mailproto.TrimEOL(raw)
	a := p.auth
	if a == nil || a.done {
		p.cst = csCommand
		p.command(raw, ts)
		return
	}
	p.authResponse(a, line)
	p.cst = csHold
	p.holdFor = a.pend
}

// authResponse decodes one client response of the exchange.
func (p *conn) authResponse(a *authExchange, line []byte) {
	if !a.Response(line, p.opts.RecordPasswords) {
		p.sess.anoms.Add("AUTH response that is not base64")
	}
}

// saslShaped reports whether a line can be a SASL response: base64, "*"
// or "=". SMTP commands share the base64 alphabet, so a line shorter
// than four bytes, or a short run of upper-case letters (QUIT,
// STARTTLS), is taken as a command, not a response.
func saslShaped(l []byte) bool {
	if !mailproto.SASLShaped(l) {
		return false
	}
	if string(l) == "*" || string(l) == "=" {
		return true
	}
	return len(l) >= 4 && !(len(l) <= 8 && verbShaped(string(l)))
}

// authDone handles the final reply of an AUTH exchange.
func (p *conn) authDone(h *pending, r *reply, ts time.Time) {
	a := h.auth
	if p.auth == a {
		p.auth = nil
	}
	if p.cst == csHold && p.holdFor == h {
		p.cst = csCommand
		defer p.releaseHold(ts)
	} else if p.cst == csAuth {
		p.cst = csCommand
	}
	if a == nil {
		return
	}
	a.done = true
	typ := TypeLogonFailure
	p.sess.authResult = "failure"
	if r.ok() {
		typ = TypeLogon
		p.sess.authResult = "success"
		p.sess.authUser = a.User
	}
	ev := p.newEvent(typ, a.start, ts)
	mailproto.PutLogon(ev, "AUTH", a.Mech, a.User, a.Pass, a.Canceled)
	ev.Summary.Set("reply_code", r.code)
	ev.Summary.Set("reply", r.text())
	if p.sess.helo != "" {
		ev.Summary.Set("helo", p.sess.helo)
	}
	var set mail.AddressSet
	set.Add(event.RoleUser, a.User)
	ev.Addresses = set.List()
	p.env.Emit(ev)
}
