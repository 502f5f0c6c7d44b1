package mail_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/mail"
)

// plainCase is a message for the plain decoder's tests: whether the
// plain decoder must take it (true) or leave it to enmime (false). Both
// kinds go through the differential test (TestDecodingShortcuts), which
// holds the plain decoder's result to enmime's.
type plainCase struct {
	name  string
	plain bool
	raw   string
}

// mp is a multipart/mixed message with boundary "b" and the given body.
func mp(body string) string {
	return "From: a@example.com\r\nTo: b@example.org\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" + body
}

// part is one part of mp's body: its header lines, a blank line, its
// content and the line break before the next delimiter.
func part(content string, header ...string) string {
	return "--b\r\n" + strings.Join(header, "\r\n") + "\r\n\r\n" + content + "\r\n"
}

func plainCases() []plainCase {
	text := "Content-Type: text/plain; charset=utf-8"
	att := "Content-Type: application/octet-stream; name=\"a.bin\""
	b64 := "Content-Transfer-Encoding: base64"
	qp := "Content-Transfer-Encoding: quoted-printable"
	return []plainCase{
		// Taken: what clean mail looks like.
		{"single part", true, "From: A <a@example.com>\r\nSubject: hi\r\n\r\nhello\r\n"},
		{"no content type", true, "Subject: x\r\n\r\nbody"},
		{"empty body", true, "Subject: x\r\n\r\n"},
		{"folded header", true, "Subject: a\r\n  long\r\n\tsubject \r\n \r\nTo: b@example.org,\r\n c@example.org\r\n\r\nx"},
		{"utf-8 and latin-1 words", true, "Subject: =?utf-8?B?w6nDqA==?= =?ISO-8859-1?Q?caf=E9?=\r\nFrom: =?utf-8?Q?J=C3=B6rg?= <j@example.com>\r\n\r\nx"},
		{"lf line ends", true, "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nline\n--b--\n"},
		{"base64 attachment", true, mp(part("text", text) + part("QUJD\r\nREVG\r\nRw==", att, "Content-Disposition: attachment; filename=\"a.bin\"", b64) + "--b--\r\n")},
		{"base64 odd padding", true, mp(part("QU=JD RE\tVGRw", att, b64) + "--b--")},
		{"quoted-printable", true, mp(part("caf=C3=A9 =3D ok  \r\nsoft=\r\nbreak=\nlf\r\ntrail\t\r\nlow=c3=a9", text, qp) + "--b--\r\n")},
		{"nested", true, mp("--b\r\nContent-Type: multipart/alternative; boundary=\"in\"\r\n\r\n" +
			"--in\r\n" + text + "\r\n\r\nplain\r\n--in\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--in--\r\nepilogue\r\n" +
			part("x", att) + "--b--\r\n")},
		{"preamble and epilogue", true, mp("This is a multi-part message.\r\n\r\n" + part("x", text) + "--b--\r\nafter --b inside\r\n")},
		{"blank lines before delimiter", true, mp(part("x\r\n\r\n", text) + "--b--")},
		{"encoded file name", true, mp(part("x", "Content-Type: application/pdf", "Content-Disposition: attachment; filename=\"=?utf-8?Q?r=C3=A9sum=C3=A9.pdf?=\"") + "--b--")},
		{"rfc 2231 file name", true, mp(part("x", "Content-Type: application/pdf", "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf") + "--b--")},
		{"8-bit body", true, mp(part("caf\xe9", "Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit") + "--b--")},
		{"multipart without boundary", true, "Content-Type: multipart/mixed\r\n\r\n--b\r\nx\r\n"},
		// Left to enmime: what it repairs, reports or reads its own way.
		{"gb2312 word", true, "Subject: =?gb2312?B?suLK1A==?=\r\nFrom: =?GB2312?B?suLK1A==?= <a@example.com>\r\n\r\nx"},
		{"other common charsets", true, "Subject: =?big5?B?tPq41Q==?= =?Shift_JIS?B?g2WDWINn?= =?koi8-r?B?1MXT1A==?= =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?= =?euc-kr?B?xde9usau?= =?windows-1251?B?8uXx8g==?= =?iso-8859-2?Q?=B9?=\r\n\r\nx"},
		{"gb2312 file name", true, mp(part("x", "Content-Type: application/pdf", "Content-Disposition: attachment; filename=\"=?gb2312?B?suLK1C5wZGY=?=\"") + "--b--")},
		{"rare charset word", false, "Subject: =?iso-8859-15?Q?=A4?=\r\n\r\nx"},
		{"unknown charset word", false, "Subject: =?x-unknown?Q?a?=\r\n\r\nx"},
		{"header ending with the data", true, "Subject: x\r\nTo: b@example.org"},
		{"part with an empty body", true, mp("--b\r\n" + text + "\r\n\r\n--b\r\n" + text + "\r\n--b--")},
		{"continuation first", false, " Subject: x\r\n\r\nx"},
		{"line without colon", false, "From a@example.com\r\nSubject: x\r\n\r\nx"},
		{"space before colon", false, "Subject : x\r\n\r\nx"},
		{"8-bit field name", false, "Subj\xe9ct: x\r\n\r\nx"},
		{"bare carriage return", false, "Subject: a\rb\r\n\r\nx"},
		{"delimiter inside a line", false, mp(part("see --b here", text) + "--b--")},
		{"delimiter with trailing space", false, mp("--b \r\n" + text + "\r\n\r\nx\r\n--b--")},
		{"longer final delimiter", true, mp(part("x", text) + "--b---\r\n")},
		{"delimiter with more on its line", false, mp(part("x", text) + "--b-x\r\nContent-Type: text/plain\r\n\r\ny\r\n--b--")},
		{"no final delimiter", false, mp(part("x", text))},
		{"carriage return before delimiter", false, mp(part("x\r", text) + "--b--")},
		{"part without content type", false, mp(part("x", "Content-Disposition: inline") + "--b--")},
		{"part without header", false, mp("--b\r\n\r\nx\r\n--b--")},
		{"empty part", false, mp("--b\r\n--b--")},
		{"no parts", false, mp("--b--\r\n")},
		{"invalid parameter", false, "Content-Type: text/plain; charset\r\n\r\nx"},
		{"unknown transfer encoding", false, "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n"},
		{"base64 stray byte", false, mp(part("QUJD!REVG", att, b64) + "--b--")},
		{"base64 8-bit byte", false, mp(part("QUJD\xc1", att, b64) + "--b--")},
		{"base64 one char left", false, mp(part("QUJDR", att, b64) + "--b--")},
		{"quoted-printable bad escape", false, mp(part("a=ZZ", text, qp) + "--b--")},
		{"quoted-printable 8-bit", false, mp(part("caf\xe9", text, qp) + "--b--")},
		{"quoted-printable = at end", false, "Content-Transfer-Encoding: quoted-printable\r\n\r\nabc="},
		{"quoted-printable space after =", false, mp(part("a= \r\nb", text, qp) + "--b--")},
		{"quoted-printable long line", false, mp(part(strings.Repeat("x", 1200), text, qp) + "--b--")},
		{"boundary on a leaf type", false, mp("--b\r\nContent-Type: application/pdf; boundary=\"in\"\r\n\r\nno inner delimiter\r\n--b--")},
	}
}

// TestPlainDecoderTakesCleanMail: the plain decoder decodes clean mail
// itself (or the speed-up would be lost without a test failing) and
// leaves everything else to enmime; the differential test checks that
// both give the same message.
func TestPlainDecoderTakesCleanMail(t *testing.T) {
	for _, c := range plainCases() {
		if got := mail.PlainDecodes([]byte(c.raw)); got != c.plain {
			t.Errorf("%s: plain decoder took it: %v, want %v", c.name, got, c.plain)
		}
	}
	for name, raw := range map[string][]byte{"plainMessage": plainMessage(), "multipartMessage": multipartMessage(),
		"multipartMessage with LF": bytes.ReplaceAll(multipartMessage(), []byte("\r\n"), []byte("\n"))} {
		if !mail.PlainDecodes(raw) {
			t.Errorf("%s: left to enmime, want the plain decoder", name)
		}
	}
	// Most captured mail is clean: a check that the rules are not so
	// strict that the plain decoder is rarely used.
	msgs := corpus(t)
	plain := 0
	for _, m := range msgs {
		if mail.PlainDecodes(m.raw) {
			plain++
		}
	}
	if plain*4 < len(msgs)*3 {
		t.Errorf("plain decoder took %d of %d captured messages, want at least three quarters", plain, len(msgs))
	}
	t.Logf("plain decoder: %d of %d captured messages", plain, len(msgs))
}
