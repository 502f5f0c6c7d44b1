package mail

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// crlf joins lines with CRLF, as a message travels.
func crlf(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// b64 wraps base64 at 76 columns like mail clients do.
func b64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out []string
	for len(s) > 76 {
		out = append(out, s[:76])
		s = s[76:]
	}
	return strings.Join(append(out, s), "\r\n")
}

func TestRestoreEncodedWords(t *testing.T) {
	tests := []struct {
		name, subject, want string
	}{
		{"utf-8 Q", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=", "Grüße aus München"},
		{"utf-8 B", "=?utf-8?B?0J/RgNC40LLQtdGC?=", "Привет"},
		{"gb2312 B", "=?gb2312?B?dGVzdCCy4srU?=", "test 测试"},
		{"iso-8859-1 Q", "=?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème"},
		{"mixed words", "Re: =?utf-8?Q?caf=C3=A9?= =?utf-8?Q?_ol=C3=A9?= ok", "Re: café olé ok"},
		{"plain", "Hello world", "Hello world"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := parsertest.NewEnv()
			raw := crlf(
				"From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.com>",
				"To: =?gb2312?B?1cXI/Q==?= <zhang@example.cn>, bob@example.com",
				"Subject: "+tc.subject,
				"Date: Mon, 5 Oct 2009 11:36:07 +0530",
				"Message-ID: <abc.123@example.com>",
				"",
				"hello")
			m, err := Restore(env, raw)
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if m.Subject != tc.want {
				t.Errorf("Subject = %q; want %q", m.Subject, tc.want)
			}
			if len(m.From) != 1 || m.From[0].Name != "André" || m.From[0].Address != "andre@example.com" {
				t.Errorf("From = %+v; want André <andre@example.com>", m.From)
			}
			if len(m.To) != 2 || m.To[0].Name != "张三" || m.To[1].Address != "bob@example.com" {
				t.Errorf("To = %+v; want 张三 <zhang@example.cn>, bob@example.com", m.To)
			}
			if m.MessageID != "abc.123@example.com" {
				t.Errorf("MessageID = %q; want abc.123@example.com", m.MessageID)
			}
			if m.Date != "Mon, 5 Oct 2009 11:36:07 +0530" || m.Time.IsZero() || m.Time.Hour() != 6 {
				t.Errorf("Date = %q, Time = %v; want the header and 06:06:07 UTC", m.Date, m.Time)
			}
			if m.Text != "hello\r\n" && m.Text != "hello\n" && m.Text != "hello" {
				t.Errorf("Text = %q; want hello", m.Text)
			}
		})
	}
}

func TestRestoreEMLByteExact(t *testing.T) {
	env := parsertest.NewEnv()
	raw := crlf("Subject: x", "From: a@example.com", "", "line one", "line\ttwo  ", "") // trailing spaces, empty last line
	raw = append(raw, []byte("bare lf\nend")...)
	m, err := Restore(env, raw)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if m.EML.Kind != event.KindEML || m.EML.SHA256 != sha(raw) || m.EML.Size != int64(len(raw)) || m.EML.MD5 != md5hex(raw) {
		t.Errorf("EML = %+v; want kind eml sha %s size %d", m.EML, sha(raw), len(raw))
	}
	if got := env.Files[m.EML.SHA256]; !bytes.Equal(got, raw) {
		t.Errorf("stored eml differs from the raw message")
	}
}

func TestRestoreAttachments(t *testing.T) {
	pdf := bytes.Repeat([]byte("%PDF-1.4 binary \x00\x01\x02\xff"), 300)
	img := []byte("\x89PNG\r\n\x1a\nimage-bytes")
	note := []byte("Notes in a named text file.\r\n")
	raw := crlf(
		"From: Alice <alice@example.com>",
		"To: bob@example.com",
		"Subject: files",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="outer"`,
		"",
		"preamble",
		"--outer",
		`Content-Type: multipart/alternative; boundary="alt"`,
		"",
		"--alt",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"Hallo, sch=C3=B6ne Gr=C3=BC=C3=9Fe.",
		"--alt",
		"Content-Type: text/html; charset=utf-8",
		"",
		"<p>Hallo</p>",
		"--alt--",
		"--outer",
		`Content-Type: multipart/related; boundary="rel"`,
		"",
		"--rel",
		"Content-Type: image/png",
		"Content-Transfer-Encoding: base64",
		`Content-Disposition: inline; filename="logo.png"`,
		"Content-ID: <logo@x>",
		"",
		b64(img),
		"--rel--",
		"--outer",
		"Content-Type: application/pdf",
		"Content-Transfer-Encoding: base64",
		`Content-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf`,
		"",
		b64(pdf),
		"--outer",
		`Content-Type: text/plain; name="notes.txt"`,
		"Content-Disposition: attachment;",
		` filename*0="very-long-file-name-";`,
		` filename*1="continued.txt"`,
		"",
		string(bytes.TrimSuffix(note, []byte("\r\n"))),
		"--outer",
		"Content-Type: application/octet-stream",
		"Content-Disposition: attachment;",
		` filename*0*=iso-8859-1''caf%E9%20;`,
		` filename*1*=cr%E8me.bin`,
		"Content-Transfer-Encoding: base64",
		"",
		b64([]byte{1, 2, 3}),
		"--outer--",
		"epilogue")
	env := parsertest.NewEnv()
	m, err := Restore(env, raw)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	want := []struct {
		name, ctype string
		data        []byte
	}{
		{"logo.png", "image/png", img},
		{"报告.pdf", "application/pdf", pdf},
		{"very-long-file-name-continued.txt", "text/plain", []byte("Notes in a named text file.")},
		{"café crème.bin", "application/octet-stream", []byte{1, 2, 3}},
	}
	if len(m.Attachments) != len(want) {
		t.Fatalf("got %d attachments %+v; want %d", len(m.Attachments), m.Attachments, len(want))
	}
	for i, w := range want {
		a := m.Attachments[i]
		if a.Name != w.name || a.ContentType != w.ctype || a.Kind != event.KindAttachment {
			t.Errorf("attachment %d = %q %q %q; want %q %q attachment", i, a.Name, a.ContentType, a.Kind, w.name, w.ctype)
		}
		if a.SHA256 != sha(w.data) || a.MD5 != md5hex(w.data) || a.Size != int64(len(w.data)) {
			t.Errorf("attachment %d (%s): sha %s md5 %s size %d; want %s %s %d", i, w.name, a.SHA256, a.MD5, a.Size, sha(w.data), md5hex(w.data), len(w.data))
		}
		if a.Parent != m.EML.SHA256 || a.Parent == "" {
			t.Errorf("attachment %d parent %q; want eml %q", i, a.Parent, m.EML.SHA256)
		}
	}
	if m.Text != "Hallo, schöne Grüße." && !strings.HasPrefix(m.Text, "Hallo, schöne Grüße.") {
		t.Errorf("Text = %q; want the decoded plain part", m.Text)
	}
	if len(m.Anomalies) != 0 {
		t.Errorf("anomalies on a well-formed message: %q", m.Anomalies)
	}
}

func TestRestoreBrokenMIME(t *testing.T) {
	attach := []byte("attachment survives")
	tests := []struct {
		name        string
		raw         []byte
		attachments int
		anomaly     string // a substring one anomaly must contain
	}{
		{"missing closing boundary", crlf(
			"Subject: broken",
			`Content-Type: multipart/mixed; boundary="b"`,
			"",
			"--b",
			"Content-Type: text/plain",
			"",
			"text",
			"--b",
			`Content-Disposition: attachment; filename="a.txt"`,
			"Content-Transfer-Encoding: base64",
			"",
			b64(attach)), 1, "Boundary"},
		{"multipart without boundary", crlf(
			"Subject: broken",
			"Content-Type: multipart/mixed",
			"",
			"just text"), 0, ""},
		{"bad base64", crlf(
			"Subject: broken",
			`Content-Type: multipart/mixed; boundary="b"`,
			"",
			"--b",
			`Content-Type: application/octet-stream; name="x.bin"`,
			"Content-Transfer-Encoding: base64",
			"",
			"!!!not*base64???",
			"--b--"), 1, "Base64"},
		{"bad quoted-printable", crlf(
			"Subject: broken",
			"Content-Type: text/plain; charset=utf-8",
			"Content-Transfer-Encoding: quoted-printable",
			"",
			"bad =ZZ escape =",
			"end"), 0, ""},
		{"unknown charset", crlf(
			"Subject: =?x-unknown?Q?abc?=",
			"Content-Type: text/plain; charset=x-nonsense",
			"",
			"body"), 0, ""},
		{"no header separator", []byte("this is not a message at all\x00\xff\xfe"), 0, ""},
		{"binary garbage", bytes.Repeat([]byte{0xff, 0x00, '\n', '-', '-'}, 500), 0, ""},
		{"header only", []byte("Subject: only\r\n"), 0, ""},
		{"empty", nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := parsertest.NewEnv()
			m, err := Restore(env, tc.raw)
			if err != nil {
				t.Fatalf("Restore: %v; want no error for broken MIME", err)
			}
			if m.EML.SHA256 != sha(tc.raw) {
				t.Errorf("eml sha %s; want %s", m.EML.SHA256, sha(tc.raw))
			}
			if len(m.Attachments) != tc.attachments {
				t.Errorf("%d attachments; want %d", len(m.Attachments), tc.attachments)
			}
			if tc.anomaly != "" && !strings.Contains(strings.Join(m.Anomalies, "|"), tc.anomaly) {
				t.Errorf("anomalies %q; want one containing %q", m.Anomalies, tc.anomaly)
			}
		})
	}
}

func TestRestoreDeepNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: deep\r\nFrom: a@example.com\r\n")
	const depth = 300
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"deep.txt\"\r\n\r\ndeep\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	env := parsertest.NewEnv()
	m, err := Restore(env, []byte(b.String()))
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if m.Subject != "deep" || len(m.From) != 1 {
		t.Errorf("headers not decoded: subject %q from %v", m.Subject, m.From)
	}
	if len(m.Attachments) != 0 {
		t.Errorf("%d attachments from an over-nested message; want 0 (not decoded)", len(m.Attachments))
	}
	if !strings.Contains(strings.Join(m.Anomalies, "|"), "decoding limits") {
		t.Errorf("anomalies %q; want the decoding-limit anomaly", m.Anomalies)
	}
}

func TestRestoreModeratelyNested(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: nested\r\n")
	const depth = 20
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"deep.txt\"\r\n\r\ndeep\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	m, err := Restore(parsertest.NewEnv(), []byte(b.String()))
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "deep.txt" || m.Attachments[0].SHA256 != sha([]byte("deep")) {
		t.Errorf("attachments %+v; want deep.txt with content \"deep\"", m.Attachments)
	}
}

func TestRestoreHTMLOnly(t *testing.T) {
	raw := crlf("Subject: h", "Content-Type: text/html; charset=utf-8", "", "<html><body><p>Hello <b>there</b></p><script>x()</script></body></html>")
	m, _ := Restore(parsertest.NewEnv(), raw)
	if !strings.Contains(m.Text, "Hello") || strings.Contains(m.Text, "<b>") {
		t.Errorf("Text = %q; want HTML converted to text", m.Text)
	}
}

func TestRestoreTextCap(t *testing.T) {
	body := strings.Repeat("é", MaxText) // 2 bytes each: twice the cap
	raw := crlf("Subject: big", "Content-Type: text/plain; charset=utf-8", "", body)
	m, _ := Restore(parsertest.NewEnv(), raw)
	if !m.TextTruncated || len(m.Text) > MaxText || !strings.HasPrefix(body, m.Text) {
		t.Errorf("text len %d truncated %v; want <= %d, truncated, a prefix of valid UTF-8", len(m.Text), m.TextTruncated, MaxText)
	}
}

func TestRestoreTruncatesToArtifactLimit(t *testing.T) {
	env := parsertest.NewEnv()
	env.Opts.MaxArtifactBytes = 100
	raw := crlf("Subject: long", "", strings.Repeat("x", 500))
	m, err := Restore(env, raw)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if !m.Truncated || m.Size != len(raw) || m.EML.Size != 100 || m.EML.SHA256 != sha(raw[:100]) {
		t.Errorf("truncated %v size %d eml %d; want true %d 100", m.Truncated, m.Size, m.EML.Size, len(raw))
	}
}

// failEnv fails every SaveArtifact.
type failEnv struct{ *parsertest.Env }

func (failEnv) SaveArtifact(kind, name, ct string, data []byte) (event.Artifact, error) {
	return event.Artifact{}, errors.New("disk full")
}

func TestRestoreSaveError(t *testing.T) {
	raw := crlf("Subject: s", `Content-Type: multipart/mixed; boundary="b"`, "", "--b", `Content-Disposition: attachment; filename="f"`, "", "x", "--b--")
	var env parser.Env = failEnv{parsertest.NewEnv()}
	m, err := Restore(env, raw)
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "save eml") {
		t.Errorf("err = %v; want the eml save failure", err)
	}
	if m == nil || m.Subject != "s" {
		t.Errorf("message %+v; want headers decoded despite the save error", m)
	}
}

func TestRestoreURLs(t *testing.T) {
	raw := crlf(
		"Subject: links",
		`Content-Type: multipart/alternative; boundary="a"`,
		"",
		"--a",
		"Content-Type: text/plain",
		"",
		"See https://example.com/a?b=1, and http://example.org/x. Again https://example.com/a?b=1",
		"--a",
		"Content-Type: text/html",
		"",
		`<a href="https://phish.example.net/login">click</a>`,
		"--a--")
	m, _ := Restore(parsertest.NewEnv(), raw)
	want := []string{"https://example.com/a?b=1", "http://example.org/x", "https://phish.example.net/login"}
	if strings.Join(m.URLs, " ") != strings.Join(want, " ") {
		t.Errorf("URLs = %q; want %q", m.URLs, want)
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		name, in string
		attr     bool
		want     string
	}{
		{"text", "go to https://a.example/x?y=1 now", false, "https://a.example/x?y=1"},
		{"upper case scheme", "HTTPS://A.example/", false, "HTTPS://A.example/"},
		{"in parentheses", "(see http://b.example/p)", false, "http://b.example/p"},
		{"word before scheme", "xhttp://c.example/", false, ""},
		{"no host", "http:// nothing", false, ""},
		{"other scheme", "ftp://d.example/", false, ""},
		{"href", `<a href = 'http://e.example/'>`, true, "http://e.example/"},
		{"src unquoted", `<img src=https://f.example/i.png>`, true, "https://f.example/i.png"},
		{"namespace skipped", `<html xmlns="http://www.w3.org/1999/xhtml">`, true, ""},
		{"data-href counts", `<a data-href="http://g.example/">`, true, "http://g.example/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			links(tc.in, tc.attr, 10, func(u string) { got = append(got, u) })
			if strings.Join(got, " ") != tc.want {
				t.Errorf("links(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRestoreMidLineDelimiter: a delimiter inside a line, which decoders
// read differently (enmime ends the part there and drops the rest of the
// line and the next), is reported; one at a line start is not.
func TestRestoreMidLineDelimiter(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		flagged bool
	}{
		{"inside a line", "hello world --XYZ this is still part one", true},
		{"only at line starts", "hello world, nothing odd", false},
		{"similar but other boundary", "see --XY and -XYZ here", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := crlf(
				"From: a@example.org",
				"Subject: x",
				"MIME-Version: 1.0",
				`Content-Type: multipart/mixed; boundary="XYZ"`,
				"",
				"--XYZ",
				"Content-Type: text/plain",
				"",
				tt.text,
				"line two",
				"--XYZ",
				`Content-Disposition: attachment; filename="a.bin"`,
				"",
				"AAAA",
				"--XYZ--")
			m, err := Restore(parsertest.NewEnv(), raw)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range m.Anomalies {
				if strings.Contains(a, `"--XYZ" appears inside a line (1 time)`) {
					found = true
				}
			}
			if found != tt.flagged {
				t.Errorf("mid-line delimiter reported = %v, want %v (anomalies %q)", found, tt.flagged, m.Anomalies)
			}
		})
	}
}
