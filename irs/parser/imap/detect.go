package imap

import (
	"bytes"
	"strings"

	"github.com/sdnli/sdnli/irs/parser"
)

// detectLine is how much of the first line IsRelative looks at.
const detectLine = 512

// imapPort: the usual IMAP ports, a hint for ambiguous content only (993
// is IMAP over TLS, whose plaintext never shows; a hint all the same).
func imapPort(p uint16) bool { return p == 143 || p == 993 }

// shape is what the first line of a direction looks like.
type shape uint8

const (
	shapeNone        shape = iota // nothing IMAP-like
	shapeForeign                  // another protocol, recognised: not IMAP
	shapeNeedMore                 // too short to tell
	shapeServer                   // an untagged or tagged response
	shapeServerVague              // a continuation ("+ "), which others send too
	shapeClient                   // a tagged command
	shapeClientVague              // "DONE" (the end of IDLE)
)

// IsRelative recognises IMAP from the first bytes of one direction: an
// untagged response ("* OK", "* PREAUTH", "* CAPABILITY", "* 3 FETCH"),
// a tagged status or a tagged command, in the direction where it belongs
// (Yes) or in the other one (YesReversed: a capture that began
// mid-session guessed the sides wrong). SMTP, FTP and POP3 lines, HTTP,
// TLS and SSH are turned down on their first bytes; the ports 143 and
// 993 only decide the vague cases.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) == 0 {
		return parser.NeedMore
	}
	hint := c != nil && (imapPort(c.Server.Port()) || imapPort(c.Client.Port()))
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
			// Literal data of a capture that began mid-session: the
			// other direction decides.
			return parser.NeedMore
		}
	}
	return parser.No
}

// untaggedWords are the response names after "* " (and "* n ").
var untaggedWords = []string{"OK", "NO", "BAD", "BYE", "PREAUTH", "CAPABILITY", "FLAGS", "LIST", "LSUB", "STATUS", "SEARCH",
	"ESEARCH", "ENABLED", "NAMESPACE", "ID", "QUOTA", "QUOTAROOT", "SORT", "THREAD"}

// numberedWords follow "* n ".
var numberedWords = []string{"FETCH", "EXISTS", "RECENT", "EXPUNGE"}

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
	switch {
	case len(line) == 0:
		if complete {
			return shapeNone
		}
		return shapeNeedMore
	case line[0] == '*':
		return untaggedShape(line, complete)
	case line[0] == '+':
		if len(line) == 1 && !complete {
			return shapeNeedMore
		}
		if len(line) == 1 || line[1] == ' ' {
			return shapeServerVague
		}
		return shapeNone
	}
	if complete && equalFold(line, "DONE") {
		return shapeClientVague
	}
	return taggedShape(line, complete)
}

// untaggedShape classifies "* WORD ..." and "* n WORD ...".
func untaggedShape(line []byte, complete bool) shape {
	if len(line) < 2 {
		if complete {
			return shapeNone
		}
		return shapeNeedMore
	}
	if line[1] != ' ' {
		return shapeNone
	}
	rest := line[2:]
	words := untaggedWords
	if len(rest) > 0 && isDigit(rest[0]) {
		i := 0
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == len(rest) && !complete {
			return shapeNeedMore
		}
		if i >= len(rest) || rest[i] != ' ' {
			return shapeNone
		}
		rest, words = rest[i+1:], numberedWords
	}
	return wordShape(rest, words, complete, shapeServer)
}

// wordShape: rest starts with one of words (then a space, or the end of
// a complete line) → yes; rest is a prefix of one of them → NeedMore.
func wordShape(rest []byte, words []string, complete bool, yes shape) shape {
	w := rest
	if i := bytes.IndexByte(w, ' '); i >= 0 {
		w = w[:i]
		complete = true
	}
	for _, k := range words {
		if equalFold(w, k) && (complete || len(w) < len(rest)) {
			return yes
		}
		if !complete && len(w) <= len(k) && hasPrefixFold([]byte(k), string(w)) {
			return shapeNeedMore
		}
	}
	return shapeNone
}

// clientWords are the command names a client line may carry after its
// tag (UID's sub-commands follow "UID ").
var clientWords = func() []string {
	var l []string
	for k := range knownCommands {
		if !strings.HasPrefix(k, "UID ") {
			l = append(l, k)
		}
	}
	return append(l, "UID")
}()

// taggedShape classifies "tag COMMAND ..." (a client) and "tag OK|NO|BAD
// ..." (a server).
func taggedShape(line []byte, complete bool) shape {
	i := bytes.IndexByte(line, ' ')
	if i < 0 {
		if !complete && len(line) <= 64 && tagChars(line) {
			return shapeNeedMore
		}
		return shapeNone
	}
	if _, _, ok := splitTag(line); !ok {
		return shapeNone
	}
	rest := line[i+1:]
	if s := wordShape(rest, []string{"OK", "NO", "BAD"}, complete, shapeServer); s != shapeNone {
		return s
	}
	return wordShape(rest, clientWords, complete, shapeClient)
}

// foreign recognises the protocols met on the same ports or in the same
// detection round, so that they are turned down at once.
func foreign(d []byte) bool {
	switch {
	case len(d) >= 2 && d[0] == 0x16 && d[1] == 0x03, // TLS handshake
		d[0] == 0x80, // SSLv2 hello
		len(d) >= 2 && d[0] == '*' && isDigit(d[1]), // Redis RESP array
		hasPrefixFold(d, "SSH-"), hasPrefixFold(d, "HTTP/"),
		hasPrefixFold(d, "+OK"), hasPrefixFold(d, "-ERR"): // POP3
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
	return false
}

// foreignCommands start lines of HTTP, SMTP, FTP and POP3 clients.
var foreignCommands = []string{"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "PRI * ",
	"EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:", "USER ", "PASS ", "CAPA\r", "CAPA\n", "STLS", "APOP ", "UIDL", "FEAT", "SYST", "AUTH "}
