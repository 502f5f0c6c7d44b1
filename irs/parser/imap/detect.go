package imap

import (
	"bytes"
	"strings"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/mailproto"
)

// detectLine is how much of the first line IsRelative looks at.
const detectLine = 512

// imapPort: the usual IMAP ports, a hint for ambiguous content only (993
// is IMAP over TLS, whose plaintext never shows; a hint all the same).
func imapPort(p uint16) bool { return p == 143 || p == 993 }

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
	return mailproto.Verdict(classify(data), hint, dir)
}

// untaggedWords are the response names after "* " (and "* n ").
var untaggedWords = []string{"OK", "NO", "BAD", "BYE", "PREAUTH", "CAPABILITY", "FLAGS", "LIST", "LSUB", "STATUS", "SEARCH",
	"ESEARCH", "ENABLED", "NAMESPACE", "ID", "QUOTA", "QUOTAROOT", "SORT", "THREAD"}

// numberedWords follow "* n ".
var numberedWords = []string{"FETCH", "EXISTS", "RECENT", "EXPUNGE"}

// classify looks at the first line of data. The shapes mean here:
//
//   - ShapeNone: nothing IMAP-like
//   - ShapeForeign: another protocol, recognised: not IMAP
//   - ShapeNeedMore: too short to tell
//   - ShapeServer: an untagged or tagged response
//   - ShapeServerVague: a continuation ("+ "), which others send too
//   - ShapeClient: a tagged command
//   - ShapeClientVague: "DONE" (the end of IDLE)
func classify(data []byte) mailproto.Shape {
	if foreign(data) {
		return mailproto.ShapeForeign
	}
	line, complete := mailproto.FirstLine(data, detectLine)
	switch {
	case len(line) == 0:
		if complete {
			return mailproto.ShapeNone
		}
		return mailproto.ShapeNeedMore
	case line[0] == '*':
		return untaggedShape(line, complete)
	case line[0] == '+':
		if len(line) == 1 && !complete {
			return mailproto.ShapeNeedMore
		}
		if len(line) == 1 || line[1] == ' ' {
			return mailproto.ShapeServerVague
		}
		return mailproto.ShapeNone
	}
	if complete && ascii.EqualFold(line, "DONE") {
		return mailproto.ShapeClientVague
	}
	return taggedShape(line, complete)
}

// untaggedShape classifies "* WORD ..." and "* n WORD ...".
func untaggedShape(line []byte, complete bool) mailproto.Shape {
	if len(line) < 2 {
		if complete {
			return mailproto.ShapeNone
		}
		return mailproto.ShapeNeedMore
	}
	if line[1] != ' ' {
		return mailproto.ShapeNone
	}
	rest := line[2:]
	words := untaggedWords
	if len(rest) > 0 && mailproto.IsDigit(rest[0]) {
		i := 0
		for i < len(rest) && mailproto.IsDigit(rest[i]) {
			i++
		}
		if i == len(rest) && !complete {
			return mailproto.ShapeNeedMore
		}
		if i >= len(rest) || rest[i] != ' ' {
			return mailproto.ShapeNone
		}
		rest, words = rest[i+1:], numberedWords
	}
	return wordShape(rest, words, complete, mailproto.ShapeServer)
}

// wordShape: rest starts with one of words (then a space, or the end of
// a complete line) → yes; rest is a prefix of one of them → NeedMore.
func wordShape(rest []byte, words []string, complete bool, yes mailproto.Shape) mailproto.Shape {
	w := rest
	if i := bytes.IndexByte(w, ' '); i >= 0 {
		w = w[:i]
		complete = true
	}
	for _, k := range words {
		if ascii.EqualFold(w, k) && (complete || len(w) < len(rest)) {
			return yes
		}
		if !complete && len(w) <= len(k) && ascii.HasPrefixFold(k, w) {
			return mailproto.ShapeNeedMore
		}
	}
	return mailproto.ShapeNone
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
func taggedShape(line []byte, complete bool) mailproto.Shape {
	i := bytes.IndexByte(line, ' ')
	if i < 0 {
		if !complete && len(line) <= 64 && tagChars(line) {
			return mailproto.ShapeNeedMore
		}
		return mailproto.ShapeNone
	}
	if _, _, ok := splitTag(line); !ok {
		return mailproto.ShapeNone
	}
	rest := line[i+1:]
	if s := wordShape(rest, []string{"OK", "NO", "BAD"}, complete, mailproto.ShapeServer); s != mailproto.ShapeNone {
		return s
	}
	return wordShape(rest, clientWords, complete, mailproto.ShapeClient)
}

// foreign recognises the protocols met on the same ports or in the same
// detection round, so that they are turned down at once.
func foreign(d []byte) bool {
	switch {
	case len(d) >= 2 && d[0] == 0x16 && d[1] == 0x03, // TLS handshake
		d[0] == 0x80, // SSLv2 hello
		len(d) >= 2 && d[0] == '*' && mailproto.IsDigit(d[1]), // Redis RESP array
		ascii.HasPrefixFold(d, "SSH-"), ascii.HasPrefixFold(d, "HTTP/"),
		ascii.HasPrefixFold(d, "+OK"), ascii.HasPrefixFold(d, "-ERR"): // POP3
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
	return false
}

// foreignCommands start lines of HTTP, SMTP, FTP and POP3 clients.
var foreignCommands = []string{"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "PRI * ",
	"EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:", "USER ", "PASS ", "CAPA\r", "CAPA\n", "STLS", "APOP ", "UIDL", "FEAT", "SYST", "AUTH "}
