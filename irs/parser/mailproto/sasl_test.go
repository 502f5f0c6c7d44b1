package mailproto

import (
	"encoding/base64"
	"strings"
	"testing"
)

func b64(s string) []byte { return []byte(base64.StdEncoding.EncodeToString([]byte(s))) }

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{"padded", "YWxpY2U=", "alice", true},
		{"unpadded", "YWxpY2U", "alice", true},
		{"empty", "", "", true},
		{"short invalid", "ab", "i", true}, // the raw reading of "ab"
		{"not base64", "a b!", "", false},
		{"one char", "a", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DecodeBase64([]byte(tc.in))
			if string(got) != tc.want || ok != tc.ok {
				t.Errorf("DecodeBase64(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
	// Only MaxSASL bytes are decoded.
	long := b64(strings.Repeat("u", 2*MaxSASL))
	got, ok := DecodeBase64(long)
	if !ok || len(got) != MaxSASL/4*3 {
		t.Errorf("DecodeBase64(%d bytes) = %d bytes, %v; want %d, true", len(long), len(got), ok, MaxSASL/4*3)
	}
}

// ntlmAuthenticate builds an NTLM AUTHENTICATE (type 3) message with the
// given domain and user, in UTF-16LE when unicode is set.
func ntlmAuthenticate(domain, user string, unicode bool) []byte {
	enc := func(s string) []byte {
		if !unicode {
			return []byte(s)
		}
		var b []byte
		for _, r := range s {
			b = append(b, byte(r), 0)
		}
		return b
	}
	msg := make([]byte, 64)
	copy(msg, "NTLMSSP\x00")
	msg[8] = 3
	put := func(off int, data []byte) {
		o := len(msg)
		msg = append(msg, data...)
		msg[off], msg[off+1] = byte(len(data)), 0
		msg[off+2], msg[off+3] = byte(len(data)), 0
		msg[off+4], msg[off+5] = byte(o), byte(o>>8)
	}
	put(28, enc(domain))
	put(36, enc(user))
	if unicode {
		msg[60] = 1
	}
	return msg
}

// TestNTLMUser decodes the user of an NTLM AUTHENTICATE message.
func TestNTLMUser(t *testing.T) {
	uni := ntlmAuthenticate("CORP", "alice", true)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"unicode", uni, `CORP\alice`},
		{"OEM", ntlmAuthenticate("CORP", "bob", false), `CORP\bob`},
		{"no domain", ntlmAuthenticate("", "carol", true), "carol"},
		{"no user", ntlmAuthenticate("CORP", "", true), ""},
		{"truncated", uni[:40], ""},
		{"negotiate message", append(append([]byte("NTLMSSP\x00"), 1, 0, 0, 0), make([]byte, 60)...), ""},
		{"not NTLM", make([]byte, 80), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NTLMUser(tc.in); got != tc.want {
				t.Errorf("NTLMUser = %q; want %q", got, tc.want)
			}
		})
	}
	// A field pointing past the end is ignored, not read.
	bad := append([]byte(nil), uni...)
	bad[40] = 0xff
	if got := NTLMUser(bad); got != "" {
		t.Errorf("NTLMUser(user offset past the end) = %q; want empty", got)
	}
}

func TestDecodeSASL(t *testing.T) {
	tests := []struct {
		name string
		mech string
		n    int
		line []byte
		want SASLStep
	}{
		{"PLAIN", "PLAIN", 0, b64("\x00alice\x00secret"), SASLStep{User: "alice", Pass: "secret"}},
		{"PLAIN authzid only", "PLAIN", 0, b64("admin\x00\x00pw"), SASLStep{User: "admin", Pass: "pw"}},
		{"PLAIN malformed", "PLAIN", 0, b64("alice"), SASLStep{}},
		{"LOGIN user", "LOGIN", 0, b64("alice"), SASLStep{User: "alice"}},
		{"LOGIN password", "LOGIN", 1, b64("secret"), SASLStep{Pass: "secret"}},
		{"LOGIN third", "LOGIN", 2, b64("more"), SASLStep{}},
		{"CRAM-MD5", "CRAM-MD5", 0, b64("alice 3f8e0c5a"), SASLStep{User: "alice"}},
		{"CRAM-MD5 user with space", "CRAM-MD5", 0, b64("a b 3f8e"), SASLStep{User: "a b"}},
		{"XOAUTH2", "XOAUTH2", 0, b64("user=alice@example.org\x01auth=Bearer tok\x01\x01"), SASLStep{User: "alice@example.org", Pass: "Bearer tok"}},
		{"OAUTHBEARER", "OAUTHBEARER", 0, b64("n,a=alice@example.org,\x01host=mx\x01auth=Bearer tok\x01\x01"), SASLStep{User: "alice@example.org", Pass: "Bearer tok"}},
		{"DIGEST-MD5", "DIGEST-MD5", 1, b64(`charset=utf-8,username="alice",realm="x",nonce="n"`), SASLStep{User: "alice"}},
		{"NTLM", "NTLM", 1, []byte(base64.StdEncoding.EncodeToString(ntlmAuthenticate("CORP", "alice", true))), SASLStep{User: `CORP\alice`}},
		{"unknown mechanism", "GSSAPI", 0, b64("alice"), SASLStep{}},
		{"unpadded, spaces", "LOGIN", 0, append([]byte(" "), append([]byte(strings.TrimRight(string(b64("alice")), "=")), ' ')...), SASLStep{User: "alice"}},
		{"cancel", "LOGIN", 0, []byte("*"), SASLStep{Canceled: true}},
		{"empty response", "PLAIN", 0, []byte("="), SASLStep{}},
		{"not base64", "LOGIN", 0, []byte("EHLO x"), SASLStep{Invalid: true}},
		{"control characters cleaned", "LOGIN", 0, b64("al\x07ice"), SASLStep{User: "al.ice"}},
		{"user capped", "LOGIN", 0, b64(strings.Repeat("u", 300)), SASLStep{User: strings.Repeat("u", maxCredential)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecodeSASL(tc.mech, tc.n, tc.line); got != tc.want {
				t.Errorf("DecodeSASL(%s, %d, %q) = %+v; want %+v", tc.mech, tc.n, tc.line, got, tc.want)
			}
		})
	}
}

func TestSASLResponse(t *testing.T) {
	tests := []struct {
		name     string
		mech     string
		lines    []string
		keepPass bool
		want     SASL
		invalid  int
	}{
		{"LOGIN", "LOGIN", []string{string(b64("alice")), string(b64("secret"))}, false,
			SASL{Mech: "LOGIN", Responses: 2, User: "alice"}, 0},
		{"LOGIN, passwords kept", "LOGIN", []string{string(b64("alice")), string(b64("secret"))}, true,
			SASL{Mech: "LOGIN", Responses: 2, User: "alice", Pass: "secret"}, 0},
		{"first user kept", "PLAIN", []string{string(b64("\x00alice\x00a")), string(b64("\x00bob\x00b"))}, true,
			SASL{Mech: "PLAIN", Responses: 2, User: "alice", Pass: "b"}, 0},
		{"canceled", "LOGIN", []string{string(b64("alice")), "*"}, false,
			SASL{Mech: "LOGIN", Responses: 2, User: "alice", Canceled: true}, 0},
		{"not base64 counted", "LOGIN", []string{"!!", string(b64("pw"))}, true,
			SASL{Mech: "LOGIN", Responses: 2, Pass: "pw"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := SASL{Mech: tc.mech}
			invalid := 0
			for _, l := range tc.lines {
				if !s.Response([]byte(l), tc.keepPass) {
					invalid++
				}
			}
			if s != tc.want || invalid != tc.invalid {
				t.Errorf("got %+v with %d invalid; want %+v with %d", s, invalid, tc.want, tc.invalid)
			}
		})
	}
}

func TestSASLShaped(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"YWxpY2U=", true},
		{"*", true},
		{"=", true},
		{"ab+/", true},
		{"QUIT", true}, // the alphabet alone cannot tell; protocols add their rules
		{"", false},
		{"EHLO x", false},
		{"a-b", false},
		{strings.Repeat("A", MaxLine+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.in[:min(len(tc.in), 16)], func(t *testing.T) {
			if got := SASLShaped([]byte(tc.in)); got != tc.want {
				t.Errorf("SASLShaped(%.20q) = %v; want %v", tc.in, got, tc.want)
			}
		})
	}
}
