package pop3

import (
	"bytes"

	"github.com/sdnli/sdnli/irs/parser"
)

// detectLine is how much of the first line IsRelative looks at.
const detectLine = 512

// pop3Port: the usual POP3 ports, a hint for ambiguous content only (995
// is POP3 over TLS, whose plaintext never shows; a hint all the same).
func pop3Port(p uint16) bool { return p == 110 || p == 995 }

// shape is what the first line of a direction looks like.
type shape uint8

const (
	shapeNone        shape = iota // nothing POP3-like
	shapeForeign                  // another protocol, recognised: not POP3
	shapeNeedMore                 // too short to tell
	shapeServer                   // a POP3 greeting or status line
	shapeServerVague              // "+OK" or "-ERR" without a telling text (Redis answers so too)
	shapeClient                   // a POP3-only command
	shapeClientVague              // a command FTP or SMTP share (USER, PASS, LIST, QUIT...)
)

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
	as := func(server bool) parser.Verdict {
		if server == (dir == parser.ServerToClient) {
			return parser.Yes
		}
		return parser.YesReversed
	}
	switch classify(data) {
	case shapeNeedMore:
		return parser.NeedMore
	case shapeServer:
		return as(true)
	case shapeClient:
		return as(false)
	case shapeServerVague:
		if hint {
			return as(true)
		}
		return parser.NeedMore
	case shapeClientVague:
		if hint {
			return as(false)
		}
		return parser.NeedMore
	case shapeNone:
		if hint {
			// Message data of a capture that began mid-session: the
			// other direction decides.
			return parser.NeedMore
		}
	}
	return parser.No
}

// classify looks at the first line of data.
func classify(data []byte) shape {
	if foreign(data) {
		return shapeForeign
	}
	line := data
	complete := false
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, complete = line[:i], true
	}
	if len(line) > detectLine {
		line, complete = line[:detectLine], true
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if s := serverShape(line, complete); s != shapeNone {
		return s
	}
	return clientShape(line, complete)
}

// foreign recognises the protocols met on the same ports or in the same
// detection round, so that they are turned down at once.
func foreign(d []byte) bool {
	switch {
	case len(d) >= 2 && d[0] == 0x16 && d[1] == 0x03, // TLS handshake
		d[0] == 0x80, // SSLv2 hello
		d[0] == '*' || d[0] == '$' || d[0] == ':', // IMAP untagged, Redis RESP
		hasPrefixFold(d, "SSH-"), hasPrefixFold(d, "HTTP/"):
		return true
	}
	// A three-digit reply: SMTP or FTP.
	if len(d) >= 4 && isDigit(d[0]) && isDigit(d[1]) && isDigit(d[2]) && (d[3] == ' ' || d[3] == '-' || d[3] == '\r') {
		return true
	}
	for _, m := range foreignCommands {
		if hasPrefixFold(d, m) {
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
		if hasPrefixFold(rest, k) {
			return true
		}
	}
	return false
}

// serverShape classifies "+OK ...", "-ERR ...".
func serverShape(line []byte, complete bool) shape {
	var text []byte
	switch {
	case hasPrefixFold(line, "+OK"):
		text = line[3:]
	case hasPrefixFold(line, "-ERR"):
		text = line[4:]
	default:
		if !complete && len(line) < 4 && (hasPrefixFold([]byte("+OK"), string(line)) || hasPrefixFold([]byte("-ERR"), string(line))) {
			return shapeNeedMore
		}
		return shapeNone
	}
	if len(text) > 0 && text[0] != ' ' {
		return shapeNone
	}
	if !complete {
		return shapeNeedMore
	}
	if line[0] == '+' && (containsFold(text, "POP") || containsFold(text, "ready") || containsFold(text, "dovecot") ||
		bytes.IndexByte(text, '<') >= 0 && bytes.IndexByte(text, '@') > 0 || containsFold(text, "octets") ||
		containsFold(text, "messages") || containsFold(text, "capabilit")) {
		return shapeServer
	}
	return shapeServerVague
}

// Client commands as the detector sees them.
var (
	clientStrong      = []string{"APOP ", "TOP ", "UIDL ", "AUTH XOAUTH2", "AUTH OAUTHBEARER"}
	clientStrongWords = []string{"CAPA", "STLS", "UIDL", "UTF8"}
	clientVague       = []string{"USER ", "PASS ", "RETR ", "DELE ", "LIST ", "AUTH "}
	clientVagueWords  = []string{"STAT", "LIST", "QUIT", "NOOP", "RSET", "AUTH"}
)

func clientShape(line []byte, complete bool) shape {
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
