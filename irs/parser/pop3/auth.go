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
	mech       string
	start      time.Time
	responses  int
	challenges int
	user       string
	pass       string // kept only with Options().RecordPasswords
	canceled   bool
	done       bool
	gap        bool
	cmd        *command
}

// authCommand starts an exchange for "AUTH mechanism [initial-response]".
func (p *conn) authCommand(h *command, fields [][]byte, ts time.Time) {
	a := &authExchange{mech: strings.ToUpper(mailproto.Clean(fields[0], 40)), start: ts, cmd: h}
	h.auth = a
	p.auth = a
	p.sess.authMech = a.mech
	p.sess.authTries++
	if len(fields) > 1 {
		p.saslResponse(a, fields[1])
	}
}

// saslShaped reports whether a line can be a SASL response: base64, "*"
// or "=".
func saslShaped(l []byte) bool {
	if len(l) == 0 || len(l) > maxLine {
		return false
	}
	if string(l) == "*" || string(l) == "=" {
		return true
	}
	return mailproto.Base64Shaped(l)
}

// saslResponse decodes one client response of the exchange.
func (p *conn) saslResponse(a *authExchange, line []byte) {
	st := mailproto.DecodeSASL(a.mech, a.responses, line)
	a.responses++
	switch {
	case st.Canceled:
		a.canceled = true
		return
	case st.Invalid:
		p.sess.anoms.Add("AUTH response that is not base64")
		return
	}
	if st.User != "" && a.user == "" {
		a.user = st.User
	}
	if st.Pass != "" && p.opts.RecordPasswords {
		a.pass = st.Pass
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
	h.user, h.pass = a.user, a.pass
	p.logon(h, a.mech, ok, txt, ts)
}
