package smtp

import (
	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// detectLine is how much of the first line IsRelative looks at.
const detectLine = 512

// smtpPorts are the usual SMTP ports: a hint for ambiguous content only.
func smtpPort(p uint16) bool { return p == 25 || p == 465 || p == 587 || p == 2525 }

// IsRelative recognises SMTP from the first bytes of one direction:
// a server greeting or reply, or a client command, in the direction where
// it belongs (Yes) or in the other one (YesReversed: the capture began
// mid-session and guessed the sides wrong). Ports are only a hint for
// replies and commands that FTP or POP3 share.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) == 0 {
		return parser.NeedMore
	}
	hint := c != nil && (smtpPort(c.Server.Port()) || smtpPort(c.Client.Port()))
	return mailproto.Verdict(classify(data), hint, dir)
}

// classify looks at the first line of data. The shapes mean here:
//
//   - ShapeNone: nothing SMTP-like
//   - ShapeForeign: another protocol, recognised: not SMTP
//   - ShapeNeedMore: too short to tell
//   - ShapeServer: an SMTP server's greeting or reply
//   - ShapeServerVague: a 3-digit reply that FTP could send as well (a 220
//     greeting without "SMTP": the client's first command tells, EHLO for
//     SMTP, USER or FEAT for FTP)
//   - ShapeClient: an SMTP command
//   - ShapeClientVague: a command that other protocols share
//   - ShapeText: printable text: perhaps message data mid-session
func classify(data []byte) mailproto.Shape {
	line, complete := mailproto.FirstLine(data, detectLine)
	if foreign(data) {
		return mailproto.ShapeForeign
	}
	if s := serverShape(line, complete); s != mailproto.ShapeNone {
		return s
	}
	if s := clientShape(line, complete); s != mailproto.ShapeNone {
		return s
	}
	if !printable(line) {
		return mailproto.ShapeNone
	}
	if !complete {
		return mailproto.ShapeNeedMore
	}
	return mailproto.ShapeText
}

// foreign recognises the protocols most often met on the same ports or
// in the same detection round, so that they are turned down at once.
func foreign(d []byte) bool {
	switch {
	case len(d) >= 2 && d[0] == 0x16 && d[1] == 0x03, // TLS handshake
		len(d) >= 1 && d[0] == 0x80, // SSLv2 hello
		ascii.HasPrefixFold(d, "SSH-"),
		ascii.HasPrefixFold(d, "HTTP/"),
		ascii.HasPrefixFold(d, "+OK"), ascii.HasPrefixFold(d, "-ERR"), // POP3
		ascii.HasPrefixFold(d, "* OK"), ascii.HasPrefixFold(d, "* PREAUTH"), ascii.HasPrefixFold(d, "* BYE"): // IMAP
		return true
	}
	for _, m := range httpMethods {
		if ascii.HasPrefixFold(d, m) {
			return true
		}
	}
	return false
}

var httpMethods = []string{"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "PRI * "}

// serverShape classifies a reply-shaped line: "NNN", "NNN text", "NNN-text".
func serverShape(line []byte, complete bool) mailproto.Shape {
	if len(line) < 3 {
		if complete || !digitsPrefix(line) {
			return mailproto.ShapeNone
		}
		return mailproto.ShapeNeedMore
	}
	if line[0] < '1' || line[0] > '5' || !mailproto.IsDigit(line[1]) || !mailproto.IsDigit(line[2]) {
		return mailproto.ShapeNone
	}
	if len(line) > 3 && line[3] != ' ' && line[3] != '-' {
		return mailproto.ShapeNone
	}
	code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	text := line[3:]
	if len(text) > 0 {
		text = text[1:]
	}
	if ascii.ContainsFold(text, "FTP") {
		return mailproto.ShapeForeign
	}
	if !smtpCode(code) {
		// 1xx, 125, 150, 200, 226, 227, 230, 257, 331...: FTP, not SMTP.
		return mailproto.ShapeForeign
	}
	switch {
	case code == 354:
		return mailproto.ShapeServer
	case (code == 334 || code == 235) && !ascii.ContainsFold(text, "ADAT"): // FTP security exchange: RFC 2228
		return mailproto.ShapeServer
	case enhancedCode(text):
		return mailproto.ShapeServer
	case ascii.ContainsFold(text, "SMTP") || ascii.ContainsFold(text, "Postfix") || ascii.ContainsFold(text, "Exim") ||
		ascii.ContainsFold(text, "Sendmail"):
		return mailproto.ShapeServer
	}
	if !complete {
		return mailproto.ShapeNeedMore
	}
	return mailproto.ShapeServerVague
}

// smtpCode reports whether RFC 5321 (with AUTH, RFC 4954) uses code.
func smtpCode(c int) bool {
	switch c {
	case 211, 214, 220, 221, 235, 250, 251, 252, 334, 354,
		421, 432, 450, 451, 452, 454, 455,
		500, 501, 502, 503, 504, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555:
		return true
	}
	return false
}

// enhancedCode reports whether text starts with an RFC 3463 enhanced
// status code (2.1.0, 5.7.1...), which FTP never sends.
func enhancedCode(text []byte) bool {
	if len(text) < 5 || text[0] != '2' && text[0] != '4' && text[0] != '5' || text[1] != '.' {
		return false
	}
	i := 2
	n := 0
	for i < len(text) && mailproto.IsDigit(text[i]) && n < 3 {
		i++
		n++
	}
	if n == 0 || i >= len(text) || text[i] != '.' {
		return false
	}
	i++
	n = 0
	for i < len(text) && mailproto.IsDigit(text[i]) && n < 3 {
		i++
		n++
	}
	return n > 0 && (i == len(text) || text[i] == ' ')
}

// Commands as the detector sees them: prefixes, and whole lines.
var clientCommands = mailproto.Commands{
	Strong:      []string{"EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:", "BDAT "},
	StrongWords: []string{"DATA", "STARTTLS", "EHLO", "HELO"},
	Vague:       []string{"AUTH LOGIN", "AUTH PLAIN", "AUTH CRAM-MD5", "AUTH XOAUTH2", "AUTH NTLM", "VRFY ", "EXPN "},
	VagueWords:  []string{"QUIT", "RSET", "NOOP", "HELP"},
}

// Commands of the protocols that share SMTP's shape (FTP, POP3).
var clientForeign = []string{"USER ", "PASS ", "AUTH TLS", "AUTH SSL", "FEAT", "SYST", "PASV", "EPSV", "PORT ", "EPRT ", "TYPE ", "CWD ", "PWD", "LIST", "RETR ", "STOR ", "CAPA", "STLS", "APOP ", "UIDL", "STAT"}

func clientShape(line []byte, complete bool) mailproto.Shape {
	for _, k := range clientForeign {
		if ascii.HasPrefixFold(line, k) {
			return mailproto.ShapeForeign
		}
	}
	return clientCommands.Shape(line, complete)
}

func digitsPrefix(b []byte) bool {
	for _, c := range b {
		if !mailproto.IsDigit(c) {
			return false
		}
	}
	return true
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}
