package imap

import (
	"bytes"
	"strings"
	"time"
)

// authExchange is one AUTHENTICATE command and its challenge/response
// rounds (RFC 9051 6.2.2): the client's responses are base64 lines after
// "+" continuations, or an initial response on the command line itself
// (SASL-IR, RFC 4959).
type authExchange struct {
	mech       string
	responses  int
	challenges int
	user       string
	pass       string // kept only with Options().RecordPasswords
	canceled   bool
	done       bool
}

// authCommand starts an exchange for "tag AUTHENTICATE mechanism
// [initial-response]".
func (p *conn) authCommand(h *command) {
	a := &authExchange{mech: strings.ToUpper(h.astring(0))}
	h.auth = a
	p.auth = a
	p.sess.authMech = a.mech
	p.sess.authTries++
	if len(h.args) > 1 {
		p.saslResponse(a, []byte(h.astring(1)))
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
	for _, c := range l {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// saslResponse decodes one client response of the exchange.
func (p *conn) saslResponse(a *authExchange, line []byte) {
	line = bytes.TrimSpace(line)
	n := a.responses
	a.responses++
	if string(line) == "*" {
		a.canceled = true
		return
	}
	if string(line) == "=" {
		line = nil
	}
	dec, ok := b64decode(line)
	if !ok {
		p.sess.anoms.add("AUTH response that is not base64")
		return
	}
	user, pass := "", ""
	switch a.mech {
	case "PLAIN":
		// authzid NUL authcid NUL passwd
		parts := bytes.SplitN(dec, []byte{0}, 3)
		if len(parts) == 3 {
			user, pass = string(parts[1]), string(parts[2])
			if user == "" {
				user = string(parts[0])
			}
		}
	case "LOGIN":
		// The user name, then the password.
		if n == 0 {
			user = string(dec)
		} else if n == 1 {
			pass = string(dec)
		}
	case "CRAM-MD5":
		s := string(dec)
		if i := strings.LastIndexByte(s, ' '); i > 0 {
			user = s[:i]
		}
	case "XOAUTH2":
		for _, kv := range strings.Split(string(dec), "\x01") {
			if v, ok := strings.CutPrefix(kv, "user="); ok {
				user = v
			} else if v, ok := strings.CutPrefix(kv, "auth="); ok {
				pass = v
			}
		}
	case "OAUTHBEARER":
		for _, kv := range strings.FieldsFunc(string(dec), func(r rune) bool { return r == ',' || r == '\x01' }) {
			if v, ok := strings.CutPrefix(kv, "a="); ok {
				user = v
			} else if v, ok := strings.CutPrefix(kv, "auth="); ok {
				pass = v
			}
		}
	case "DIGEST-MD5":
		s := string(dec)
		if i := strings.Index(s, `username="`); i >= 0 {
			rest := s[i+len(`username="`):]
			if j := strings.IndexByte(rest, '"'); j >= 0 {
				user = rest[:j]
			}
		}
	}
	if user != "" && a.user == "" {
		a.user = clean([]byte(user), 256)
	}
	if pass != "" && p.opts.RecordPasswords {
		a.pass = clean([]byte(pass), 256)
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
	h.user, h.pass = a.user, a.pass
	p.logon(h, a.mech, ok, ts)
}
