package mailproto

import (
	"encoding/base64"
	"fmt"
	"testing"
)

// FuzzLineReader: any stream, cut anywhere, gives the same lines and
// overflows as the stream in one piece, and never a line over the cap.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"EHLO a\r\nQUIT\r\n", "a\nb", "\r\n\n\r", "+OK\r\n.\r\n"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		whole := readAll([][]byte{data})
		var pieces [][]byte
		step := int(cut)%17 + 1
		for d := data; len(d) > 0; {
			n := min(step, len(d))
			pieces = append(pieces, d[:n])
			d = d[n:]
		}
		if got := readAll(pieces); fmt.Sprint(got) != fmt.Sprint(whole) {
			t.Fatalf("pieces of %d: %q; whole: %q", step, got, whole)
		}
		for _, l := range whole {
			if len(l) > MaxLine+1 {
				t.Fatalf("line of %d bytes; want at most %d", len(l), MaxLine+1)
			}
		}
	})
}

// FuzzDecodeSASL: no response, decoded or raw, makes a mechanism panic.
func FuzzDecodeSASL(f *testing.F) {
	f.Add("NTLM", 1, base64.StdEncoding.EncodeToString(ntlmAuthenticate("CORP", "alice", true)))
	f.Add("PLAIN", 0, "AGFsaWNlAHNlY3JldA==")
	f.Add("LOGIN", 0, "ab")
	f.Add("DIGEST-MD5", 1, base64.StdEncoding.EncodeToString([]byte(`username="x`)))
	f.Add("XOAUTH2", 0, "*")
	f.Fuzz(func(t *testing.T, mech string, n int, line string) {
		for _, m := range []string{mech, "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "DIGEST-MD5", "NTLM"} {
			st := DecodeSASL(m, n, []byte(line))
			if len(st.User) > maxCredential || len(st.Pass) > maxCredential {
				t.Fatalf("%s: user %d, pass %d bytes; want at most %d", m, len(st.User), len(st.Pass), maxCredential)
			}
			if dec, ok := DecodeBase64([]byte(line)); ok {
				saslCredentials(m, n, dec)
				NTLMUser(dec)
			}
		}
		NTLMUser([]byte(line))
	})
}
