package mail

import (
	"encoding/base64"
	"math/rand"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
)

// FuzzPlainDecoder builds MIME messages from the fuzzer's bytes (nested
// multiparts, transfer encodings, line ends, boundaries that are
// prefixes of one another, damage at chosen places) and checks that the
// plain decoder, where it takes one, gives enmime's result. FuzzRestore
// mutates raw bytes; this target reaches the deeper structures that
// byte mutations rarely keep intact.
func FuzzPlainDecoder(f *testing.F) {
	f.Add([]byte("\x01\x02hello world\x00\x03caf\xe9 =3D\x10"))
	f.Add([]byte("\x12\x31\x07--b\r\nbody\x22\x99\x01"))
	f.Add([]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4"))
	f.Fuzz(func(t *testing.T, seed []byte) {
		restoreBothWays(t, buildMessage(&byteSource{b: seed}), parser.DefaultOptions().MaxArtifactBytes)
	})
}

// byteSource hands out the fuzzer's bytes as choices (zero when used up).
type byteSource struct {
	b []byte
}

func (s *byteSource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) pick(options ...string) string {
	return options[int(s.next())%len(options)]
}

// text is up to n of the fuzzer's bytes, taken as they are.
func (s *byteSource) text(n int) string {
	k := min(int(s.next())%(n+1), len(s.b))
	out := string(s.b[:k])
	s.b = s.b[k:]
	return out
}

func buildMessage(s *byteSource) []byte {
	eol := s.pick("\r\n", "\r\n", "\n")
	var b strings.Builder
	b.WriteString("From: " + s.pick("a@example.com", "=?utf-8?Q?J=C3=B6rg?= <j@example.com>", "=?iso-8859-2?Q?x?= <x@example.com>") + eol)
	b.WriteString("Subject: " + s.pick("hi", "=?UTF-8?B?w6k=?=", "a"+eol+" folded", "=?gb2312?B?suLK1A==?=", "=?koi8-r?Q?=D4=C5?=", "=?Shift_JIS?B?g2WDWINn?=", "=?iso-8859-15?Q?=A4?=") + eol)
	writePart(&b, s, eol, 0, "")
	return []byte(b.String())
}

// writePart writes a header (its Content-* fields) and a body: a leaf or
// a multipart of up to three parts, at most three levels deep.
func writePart(b *strings.Builder, s *byteSource, eol string, depth int, outer string) {
	if depth < 3 && s.next()%3 == 0 {
		// A boundary sometimes the outer one with something appended.
		boundary := s.pick("b", "b2", "=_x", "----=_Part_1")
		if outer != "" && s.next()%4 == 0 {
			boundary = outer + s.pick("x", "-", "_")
		}
		b.WriteString("Content-Type: " + s.pick("multipart/mixed", "multipart/alternative", "Multipart/Related") + "; boundary=\"" + boundary + "\"" + eol + eol)
		if s.next()%2 == 0 {
			b.WriteString("preamble " + s.text(8) + eol)
		}
		for n := 1 + int(s.next())%3; n > 0; n-- {
			b.WriteString("--" + boundary + s.pick(eol, eol, eol, " "+eol, "x"+eol) + "")
			writePart(b, s, eol, depth+1, boundary)
			b.WriteString(eol)
		}
		b.WriteString("--" + boundary + "--" + s.pick(eol, "", "-"+eol, eol+"epilogue "+s.text(6)+eol))
		return
	}
	ctype := s.pick("text/plain; charset=utf-8", "text/html", "application/pdf; name=\"a.pdf\"", "image/png; name==?utf-8?Q?b=C3=A9.png?=", "", "text/plain; charset")
	if ctype != "" {
		b.WriteString("Content-Type: " + ctype + eol)
	}
	if d := s.pick("", "", "attachment", "attachment; filename=\"c.bin\"", "inline; filename*=utf-8''d%C3%A9.txt"); d != "" {
		b.WriteString("Content-Disposition: " + d + eol)
	}
	content := s.text(40)
	switch cte := s.pick("", "7bit", "base64", "quoted-printable", "x-unknown", "BASE64"); strings.ToLower(cte) {
	case "base64":
		enc := base64.StdEncoding.EncodeToString([]byte(content))
		if s.next()%4 == 0 && len(enc) > 2 {
			enc = enc[:len(enc)/2] + s.pick("!", " ", "=", eol, "\xc1") + enc[len(enc)/2:]
		}
		b.WriteString("Content-Transfer-Encoding: " + cte + eol + eol + enc)
	case "quoted-printable":
		var q strings.Builder
		w := quotedprintable.NewWriter(&q)
		w.Write([]byte(content))
		w.Close()
		enc := q.String()
		if s.next()%4 == 0 {
			enc += s.pick("=", "=Z", "= ", "\xe9", "=a9")
		}
		b.WriteString("Content-Transfer-Encoding: " + cte + eol + eol + enc)
	default:
		if cte != "" {
			b.WriteString("Content-Transfer-Encoding: " + cte + eol)
		}
		b.WriteString(s.pick(eol, eol, "") + content)
	}
}

// TestFuzzPlainDecoderReach: the messages FuzzPlainDecoder builds go both
// ways, the plain decoder's and enmime's (otherwise it would test
// nothing), and each is decoded alike both ways.
func TestFuzzPlainDecoderReach(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	plain, n := 0, 500
	for i := 0; i < n; i++ {
		seed := make([]byte, 200)
		r.Read(seed)
		raw := buildMessage(&byteSource{b: seed})
		if _, ok := plainDecode(raw); ok {
			plain++
		}
		restoreBothWays(t, raw, parser.DefaultOptions().MaxArtifactBytes)
	}
	if plain < n/10 || plain > n*9/10 {
		t.Errorf("the plain decoder took %d of %d built messages, want between a tenth and nine tenths", plain, n)
	}
}
