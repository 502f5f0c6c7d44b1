package imap

import (
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// authExchange is one AUTHENTICATE command and its challenge/response
// rounds (RFC 9051 6.2.2): the client's responses are base64 lines after
// "+" continuations, or an initial response on the command line itself
// (SASL-IR, RFC 4959).
type authExchange struct {
	mailproto.SASL // mechanism, responses and what they gave away
	challenges     int
	done           bool
}

// authCommand starts an exchange for "tag AUTHENTICATE mechanism
// [initial-response]".
func (p *conn) authCommand(h *command) {
	a := &authExchange{SASL: mailproto.SASL{Mech: strings.ToUpper(h.astring(0))}}
	h.auth = a
	p.auth = a
	p.sess.authMech = a.Mech
	p.sess.authTries++
	if len(h.args) > 1 {
		p.saslResponse(a, []byte(h.astring(1)))
	}
}

// saslResponse decodes one client response of the exchange.
func (p *conn) saslResponse(a *authExchange, line []byte) {
	if !a.Response(line, p.opts.RecordPasswords) {
		p.sess.anoms.Add("AUTH response that is not base64")
	}
}

// authDone handles the tagged response of an AUTHENTICATE exchange.
func (p *conn) authDone(h *command, ok bool, ts time.Time) {
	a := h.auth
	if p.auth == a {
		p.auth = nil
	}
	if a == nil {
		return
	}
	a.done = true
	h.user, h.pass = a.User, a.Pass
	p.logon(h, a.Mech, ok, ts)
}
