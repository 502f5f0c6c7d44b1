package pop3

import (
	"bytes"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// detectLine is how much of the first line IsRelative looks at.
const detectLine = 512

// pop3Port: the usual POP3 ports, a hint for ambiguous content only (995
// is POP3 over TLS, whose plaintext never shows; a hint all the same).
func pop3Port(p uint16) bool { return p == 110 || p == 995 }

// IsRelative recognises POP3 from the first bytes of one direction: a
// status line ("+OK", "-ERR") from the server or a POP3 command from the
// client, in the direction where it belongs (Yes) or in the other one
// (YesReversed: a capture that began mid-session guessed the sides
// wrong). Commands that FTP and SMTP share, and status lines without a
// telling text, are decided by the other direction or, on ports 110 and
// 995, taken as POP3. SMTP and FTP replies, IMAP, HTTP, TLS and SSH are
// turned down on their first bytes.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) == 0 {
		return parser.NeedMore
	}
	hint := c != nil && (pop3Port(c.Server.Port()) || pop3Port(c.Client.Port()))
	return mailproto.Verdict(classify(data), hint, dir)
}

// classify looks at the first line of data. The shapes mean here:
//
//   - ShapeNone: nothing POP3-like
//   - ShapeForeign: another protocol, recognised: not POP3
//   - ShapeNeedMore: too short to tell
//   - ShapeServer: a POP3 greeting or status line
//   - ShapeServerVague: "+OK" or "-ERR" without a telling text (Redis answers so too)
//   - ShapeClient: a POP3-only command
//   - ShapeClientVague: a command FTP or SMTP share (USER, PASS, LIST, QUIT...)
func classify(data []byte) mailproto.Shape {
	if foreign(data) {
		return mailproto.ShapeForeign
	}
	line, complete := mailproto.FirstLine(data, detectLine)
	if s := serverShape(line, complete); s != mailproto.ShapeNone {
		return s
	}
	return clientCommands.Shape(line, complete)
}

// foreign recognises the protocols met on the same ports or in the same
// detection round, so that they are turned down at once.
func foreign(d []byte) bool {
	switch {
	case len(d) >= 2 && d[0] == 0x16 && d[1] == 0x03, // TLS handshake
		d[0] == 0x80, // SSLv2 hello
		d[0] == '*' || d[0] == '$' || d[0] == ':', // IMAP untagged, Redis RESP
		ascii.HasPrefixFold(d, "SSH-"), ascii.HasPrefixFold(d, "HTTP/"):
		return true
	}
	// A three-digit reply: SMTP or FTP.
	if len(d) >= 4 && mailproto.IsDigit(d[0]) && mailproto.IsDigit(d[1]) && mailproto.IsDigit(d[2]) && (d[3] == ' ' || d[3] == '-' || d[3] == '\r') {
		return true
	}
	for _, m := range foreignCommands {
		if ascii.HasPrefixFold(d, m) {
			return true
		}
	}
	return imapTagged(d)
}

// foreignCommands start lines of HTTP and SMTP clients.
var foreignCommands = []string{"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "PRI * ",
	"EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:", "STARTTLS", "FEAT", "SYST", "PASV", "EPSV", "PORT ", "EPRT ", "AUTH TLS", "AUTH SSL"}

// imapTagged recognises an IMAP command line: a tag, a space and an IMAP
// command that POP3 does not have.
func imapTagged(d []byte) bool {
	i := bytes.IndexByte(d, ' ')
	if i <= 0 || i > 32 {
		return false
	}
	rest := d[i+1:]
	for _, k := range []string{"LOGIN ", "CAPABILITY", "AUTHENTICATE ", "SELECT ", "EXAMINE ", "LOGOUT", "STARTTLS", "FETCH ", "UID ", "LIST ", "LSUB ", "ID ", "ENABLE "} {
		if ascii.HasPrefixFold(rest, k) {
			return true
		}
	}
	return false
}

// serverShape classifies "+OK ...", "-ERR ...".
func serverShape(line []byte, complete bool) mailproto.Shape {
	var text []byte
	switch {
	case ascii.HasPrefixFold(line, "+OK"):
		text = line[3:]
	case ascii.HasPrefixFold(line, "-ERR"):
		text = line[4:]
	default:
		if !complete && len(line) < 4 && (ascii.HasPrefixFold("+OK", line) || ascii.HasPrefixFold("-ERR", line)) {
			return mailproto.ShapeNeedMore
		}
		return mailproto.ShapeNone
	}
	if len(text) > 0 && text[0] != ' ' {
		return mailproto.ShapeNone
	}
	if !complete {
		return mailproto.ShapeNeedMore
	}
	if line[0] == '+' && (ascii.ContainsFold(text, "POP") || ascii.ContainsFold(text, "ready") || ascii.ContainsFold(text, "dovecot") ||
		bytes.IndexByte(text, '<') >= 0 && bytes.IndexByte(text, '@') > 0 || ascii.ContainsFold(text, "octets") ||
		ascii.ContainsFold(text, "messages") || ascii.ContainsFold(text, "capabilit")) {
		return mailproto.ShapeServer
	}
	return mailproto.ShapeServerVague
}

// Client commands as the detector sees them.
var clientCommands = mailproto.Commands{
	Strong:      []string{"APOP ", "TOP ", "UIDL ", "AUTH XOAUTH2", "AUTH OAUTHBEARER"},
	StrongWords: []string{"CAPA", "STLS", "UIDL", "UTF8"},
	Vague:       []string{"USER ", "PASS ", "RETR ", "DELE ", "LIST ", "AUTH "},
	VagueWords:  []string{"STAT", "LIST", "QUIT", "NOOP", "RSET", "AUTH"},
}
