package mailproto

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// DecodeBase64 decodes a SASL response (at most MaxSASL bytes of it),
// with or without padding.
func DecodeBase64(line []byte) ([]byte, bool) {
	if len(line) > MaxSASL {
		line = line[:MaxSASL]
	}
	// Sized for the raw (unpadded) reading: the padded DecodedLen is too
	// small for a short invalid response ("ab"), which base64 then writes
	// past.
	dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(line))+3)
	k, err := base64.StdEncoding.Decode(dec, line)
	if err != nil {
		// Some clients leave out the padding.
		k, err = base64.RawStdEncoding.Decode(dec, bytes.TrimRight(line, "="))
	}
	if err != nil {
		return nil, false
	}
	return dec[:k], true
}

// SASLShaped reports whether a line can be a SASL response: base64, "*"
// (cancel) or "=" (empty), at most MaxLine bytes.
func SASLShaped(l []byte) bool {
	if len(l) == 0 || len(l) > MaxLine {
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

// SASL is what the client's responses of one SASL exchange (SMTP AUTH,
// POP3 AUTH, IMAP AUTHENTICATE) gave away so far.
type SASL struct {
	Mech      string // the mechanism, upper case
	Responses int    // client responses seen, the initial one included
	User      string // the first user name seen, cleaned
	Pass      string // the password or token, only when asked to keep it
	Canceled  bool   // the client sent "*"
}

// Response takes in one client response as sent on the wire; keepPass
// says whether a password may be kept. It reports false for a response
// that is not base64, which the caller records as an anomaly.
func (s *SASL) Response(line []byte, keepPass bool) bool {
	st := DecodeSASL(s.Mech, s.Responses, line)
	s.Responses++
	switch {
	case st.Canceled:
		s.Canceled = true
		return true
	case st.Invalid:
		return false
	}
	if st.User != "" && s.User == "" {
		s.User = st.User
	}
	if st.Pass != "" && keepPass {
		s.Pass = st.Pass
	}
	return true
}

// SASLStep is what one client response of a SASL exchange gave away.
type SASLStep struct {
	User     string // the login name, cleaned; "" if this step has none
	Pass     string // the password or token, cleaned; "" if none
	Canceled bool   // the client sent "*"
	Invalid  bool   // the response is not base64
}

// DecodeSASL decodes the n-th (from 0) client response of an exchange
// for mechanism mech (upper case), as sent on the wire: base64, "=" for
// an empty response, "*" to cancel.
func DecodeSASL(mech string, n int, line []byte) SASLStep {
	line = bytes.TrimSpace(line)
	if string(line) == "*" {
		return SASLStep{Canceled: true}
	}
	if string(line) == "=" {
		line = nil
	}
	dec, ok := DecodeBase64(line)
	if !ok {
		return SASLStep{Invalid: true}
	}
	user, pass := saslCredentials(mech, n, dec)
	var st SASLStep
	if user != "" {
		st.User = Clean([]byte(user), maxCredential)
	}
	if pass != "" {
		st.Pass = Clean([]byte(pass), maxCredential)
	}
	return st
}

// saslCredentials takes the user name and password out of one decoded
// response.
func saslCredentials(mech string, n int, dec []byte) (user, pass string) {
	switch mech {
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
		// The user name, then the password (whether or not the first
		// came as an initial response).
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
		user = NTLMUser(dec)
	}
	return user, pass
}

// NTLMUser reads DOMAIN\user from an NTLM AUTHENTICATE (type 3) message;
// "" for any other message or a malformed one.
func NTLMUser(b []byte) string {
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
