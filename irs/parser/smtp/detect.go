package smtp

import (
	"bytes"

	"github.com/sdnli/sdnli/irs/parser"
)

// detectLine is how much of the first line IsRelative looks at.
const detectLine = 512

// smtpPorts are the usual SMTP ports: a hint for ambiguous content only.
func smtpPort(p uint16) bool { return p == 25 || p == 465 || p == 587 || p == 2525 }

// shape is what the first line of a direction looks like.
type shape uint8

const (
	shapeNone        shape = iota // nothing SMTP-like
	shapeForeign                  // another protocol, recognised: not SMTP
	shapeNeedMore                 // too short to tell
	shapeServer                   // an SMTP server's greeting or reply
	shapeServerVague              // a 3-digit reply that FTP could send as well
	shapeClient                   // an SMTP command
	shapeClientVague              // a command that other protocols share
	shapeText                     // printable text: perhaps message data mid-session
)

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
	sh := classify(data)
	asServer := func() parser.Verdict {
		if dir == parser.ServerToClient {
			return parser.Yes
		}
		return parser.YesReversed
	}
	asClient := func() parser.Verdict {
		if dir == parser.ClientToServer {
			return parser.Yes
		}
		return parser.YesReversed
	}
	switch sh {
	case shapeNeedMore:
		return parser.NeedMore
	case shapeServer:
		return asServer()
	case shapeClient:
		return asClient()
	case shapeServerVague:
		if hint {
			return asServer()
		}
		// A 220 greeting without "SMTP" in it: the client's first
		// command will tell (EHLO: SMTP; USER, FEAT: FTP).
		return parser.NeedMore
	case shapeClientVague:
		if hint {
			return asClient()
		}
		return parser.NeedMore
	case shapeNone, shapeText:
		if hint {
			// On an SMTP port, unrecognised bytes (message data of a
			// capture that began mid-session, a client that talks
			// before the greeting) leave the decision to the other
			// direction.
			return parser.NeedMore
		}
	}
	return parser.No
}

// classify looks at the first line of data.
func classify(data []byte) shape {
	line := data
	complete := false
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, complete = line[:i], true
	}
	if len(line) > detectLine {
		line = line[:detectLine]
		complete = true
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if foreign(data) {
		return shapeForeign
	}
	if s := serverShape(line, complete); s != shapeNone {
		return s
	}
	if s := clientShape(line, complete); s != shapeNone {
		return s
	}
	if !printable(line) {
		return shapeNone
	}
	if !complete {
		return shapeNeedMore
	}
	return shapeText
}

// foreign recognises the protocols most often met on the same ports or
// in the same detection round, so that they are turned down at once.
func foreign(d []byte) bool {
	switch {
	case len(d) >= 2 && d[0] == 0x16 && d[1] == 0x03, // TLS handshake
		len(d) >= 1 && d[0] == 0x80, // SSLv2 hello
		hasPrefixFold(d, "SSH-"),
		hasPrefixFold(d, "HTTP/"),
		hasPrefixFold(d, "+OK"), hasPrefixFold(d, "-ERR"), // POP3
		hasPrefixFold(d, "* OK"), hasPrefixFold(d, "* PREAUTH"), hasPrefixFold(d, "* BYE"): // IMAP
		return true
	}
	for _, m := range httpMethods {
		if hasPrefixFold(d, m) {
			return true
		}
	}
	return false
}

var httpMethods = []string{"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "PRI * "}

// serverShape classifies a reply-shaped line: "NNN", "NNN text", "NNN-text".
func serverShape(line []byte, complete bool) shape {
	if len(line) < 3 {
		if complete || !digitsPrefix(line) {
			return shapeNone
		}
		return shapeNeedMore
	}
	if line[0] < '1' || line[0] > '5' || !isDigit(line[1]) || !isDigit(line[2]) {
		return shapeNone
	}
	if len(line) > 3 && line[3] != ' ' && line[3] != '-' {
		return shapeNone
	}
	code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	text := line[3:]
	if len(text) > 0 {
		text = text[1:]
	}
	if containsFold(text, "FTP") {
		return shapeForeign
	}
	if !smtpCode(code) {
		// 1xx, 125, 150, 200, 226, 227, 230, 257, 331...: FTP, not SMTP.
		return shapeForeign
	}
	switch {
	case code == 354:
		return shapeServer
	case (code == 334 || code == 235) && !containsFold(text, "ADAT"): // FTP security exchange: RFC 2228
		return shapeServer
	case enhancedCode(text):
		return shapeServer
	case containsFold(text, "SMTP") || containsFold(text, "Postfix") || containsFold(text, "Exim") ||
		containsFold(text, "Sendmail"):
		return shapeServer
	}
	if !complete {
		return shapeNeedMore
	}
	return shapeServerVague
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
	for i < len(text) && isDigit(text[i]) && n < 3 {
		i++
		n++
	}
	if n == 0 || i >= len(text) || text[i] != '.' {
		return false
	}
	i++
	n = 0
	for i < len(text) && isDigit(text[i]) && n < 3 {
		i++
		n++
	}
	return n > 0 && (i == len(text) || text[i] == ' ')
}

// Commands as the detector sees them: prefixes, and whole lines.
var (
	clientStrong      = []string{"EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:", "BDAT "}
	clientStrongWords = []string{"DATA", "STARTTLS", "EHLO", "HELO"}
	clientVague       = []string{"AUTH LOGIN", "AUTH PLAIN", "AUTH CRAM-MD5", "AUTH XOAUTH2", "AUTH NTLM", "VRFY ", "EXPN "}
	clientVagueWords  = []string{"QUIT", "RSET", "NOOP", "HELP"}
)

// Commands of the protocols that share SMTP's shape (FTP, POP3).
var clientForeign = []string{"USER ", "PASS ", "AUTH TLS", "AUTH SSL", "FEAT", "SYST", "PASV", "EPSV", "PORT ", "EPRT ", "TYPE ", "CWD ", "PWD", "LIST", "RETR ", "STOR ", "CAPA", "STLS", "APOP ", "UIDL", "STAT"}

func clientShape(line []byte, complete bool) shape {
	for _, k := range clientForeign {
		if hasPrefixFold(line, k) {
			return shapeForeign
		}
	}
	for _, k := range clientStrong {
		if hasPrefixFold(line, k) {
			return shapeClient
		}
	}
	for _, k := range clientVague {
		if hasPrefixFold(line, k) {
			return shapeClientVague
		}
	}
	if complete {
		for _, k := range clientStrongWords {
			if len(line) == len(k) && hasPrefixFold(line, k) {
				return shapeClient
			}
		}
		for _, k := range clientVagueWords {
			if len(line) == len(k) && hasPrefixFold(line, k) {
				return shapeClientVague
			}
		}
		return shapeNone
	}
	for _, list := range [][]string{clientStrong, clientVague, clientStrongWords, clientVagueWords} {
		for _, k := range list {
			if len(line) <= len(k) && hasPrefixFold([]byte(k), string(line)) {
				return shapeNeedMore
			}
		}
	}
	return shapeNone
}

func digitsPrefix(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if upper(b[i]) != upper(p[i]) {
			return false
		}
	}
	return true
}

func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if hasPrefixFold(b[i:], s) {
			return true
		}
	}
	return false
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
