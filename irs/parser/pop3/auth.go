package pop3

import (
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// authExchange is one AUTH command and its challenge/response rounds
// (RFC 5034): the client's responses are base64 lines after "+"
// continuations, or an initial response on the AUTH line itself.
type authExchange struct {
	mailproto.SASL // mechanism, responses and what they gave away
	start          time.Time
	challenges     int
	done           bool
	gap            bool
	cmd            *command
}

// authCommand starts an exchange for "AUTH mechanism [initial-response]".
func (p *conn) authCommand(h *command, fields [][]byte, ts time.Time) {
	a := &authExchange{SASL: mailproto.SASL{Mech: strings.ToUpper(mailproto.Clean(fields[0], 40))}, start: ts, cmd: h}
	h.auth = a
	p.auth = a
	p.sess.authMech = a.Mech
	p.sess.authTries++
	if len(fields) > 1 {
		p.saslResponse(a, fields[1])
	}
}

// saslResponse decodes one client response of the exchange.
func (p *conn) saslResponse(a *authExchange, line []byte) {
	if !a.Response(line, p.opts.RecordPasswords) {
		p.sess.anoms.Add("AUTH response that is not base64")
	}
}

// authDone handles the final response of an AUTH exchange.
func (p *conn) authDone(h *command, ok bool, txt string, ts time.Time) {
	a := h.auth
	if p.auth == a {
		p.auth = nil
	}
	if a == nil {
		return
	}
	a.done = true
	h.user, h.pass = a.User, a.Pass
	p.logon(h, a.Mech, ok, txt, ts)
}
