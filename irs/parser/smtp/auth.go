package smtp

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/mail"
)

// maxSASL caps one decoded SASL response.
const maxSASL = 4096

// authExchange is one AUTH command and its challenge/response rounds.
type authExchange struct {
	mech      string
	start     time.Time
	responses int
	user      string
	pass      string // kept only when Options().RecordPasswords
	canceled  bool
	done      bool
	pend      *pending
}

// authCommand handles "AUTH mechanism [initial-response]".
func (p *conn) authCommand(arg []byte, ts time.Time) {
	f := bytes.Fields(arg)
	mech := ""
	if len(f) > 0 {
		mech = strings.ToUpper(clean(f[0], 40))
	}
	a := &authExchange{mech: mech, start: ts}
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
	line, _ := trimEOL(raw)
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
	// Sized for the raw (unpadded) reading: the padded DecodedLen is too
	// small for a short invalid response ("ab"), which base64 then writes
	// past.
	dec := make([]byte, base64.RawStdEncoding.DecodedLen(min(len(line), maxSASL))+3)
	k, err := base64.StdEncoding.Decode(dec, line[:min(len(line), maxSASL)])
	if err != nil {
		// Some clients leave out the padding.
		k, err = base64.RawStdEncoding.Decode(dec, bytes.TrimRight(line[:min(len(line), maxSASL)], "="))
	}
	if err != nil {
		p.sess.anoms.add("AUTH response that is not base64")
		return
	}
	dec = dec[:k]
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
		// Responses: user name, then password (whether or not the
		// first came as an initial response).
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
	case "NTLM":
		user = ntlmUser(dec)
	}
	if user != "" && a.user == "" {
		a.user = clean([]byte(user), 256)
	}
	if pass != "" && p.opts.RecordPasswords {
		a.pass = clean([]byte(pass), 256)
	}
}

// ntlmUser reads DOMAIN\user from an NTLM AUTHENTICATE (type 3) message.
func ntlmUser(b []byte) string {
	if len(b) < 52 || !bytes.HasPrefix(b, []byte("NTLMSSP\x00")) || binary.LittleEndian.Uint32(b[8:]) != 3 {
		return ""
	}
	field := func(off int) []byte {
		l := int(binary.LittleEndian.Uint16(b[off:]))
		o := int(binary.LittleEndian.Uint32(b[off+4:]))
		if o < 0 || l > 512 || o+l > len(b) {
			return nil
		}
		return b[o : o+l]
	}
	flags := uint32(1) // without the flags field, assume Unicode
	if len(b) >= 64 {
		flags = binary.LittleEndian.Uint32(b[60:])
	}
	str := func(v []byte) string {
		if flags&1 == 0 {
			return string(v)
		}
		u := make([]uint16, len(v)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(v[2*i:])
		}
		return string(utf16.Decode(u))
	}
	dom, usr := str(field(28)), str(field(36))
	if usr == "" {
		return ""
	}
	if dom != "" {
		return dom + `\` + usr
	}
	return usr
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
	if len(l) < 4 {
		return false
	}
	for _, c := range l {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	// A short run of upper-case letters is a command (QUIT, STARTTLS),
	// not a response.
	if len(l) <= 8 && verbShaped(string(l)) {
		return false
	}
	return true
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
		p.sess.authUser = a.user
	}
	ev := p.newEvent(typ, a.start, ts)
	ev.Subject = a.user
	if ev.Subject == "" {
		ev.Subject = "AUTH " + a.mech
	}
	ev.Summary["mechanism"] = a.mech
	if a.user != "" {
		ev.Summary["user"] = a.user
	}
	if a.pass != "" {
		ev.Summary["password"] = a.pass
	}
	if a.canceled {
		ev.Summary["canceled"] = true
	}
	ev.Summary["reply_code"] = r.code
	ev.Summary["reply"] = r.text()
	if p.sess.helo != "" {
		ev.Summary["helo"] = p.sess.helo
	}
	var set mail.AddressSet
	set.Add(event.RoleUser, a.user)
	ev.Addresses = set.List()
	p.env.Emit(ev)
}
