// Package imap parses IMAP sessions (IMAP4rev1, RFC 3501, and IMAP4rev2,
// RFC 9051, with LITERAL+/LITERAL-, SASL-IR, STARTTLS, IDLE, UIDPLUS,
// ENABLE, BINARY, MULTIAPPEND and COMPRESS=DEFLATE) from the reassembled
// client and server streams of one TCP connection.
//
// It emits one "email-download" event per whole message a FETCH response
// carries (BODY[], BODY.PEEK[] and RFC822), restored byte-exact as an eml
// artifact with its attachments through irs/mail; one
// "email-partial-download" per header, text, MIME part or byte range
// fetched, whose bytes are kept as a file artifact; one "email-upload"
// per message APPENDed; "logon" or "logon-failure" for each LOGIN or
// AUTHENTICATE; and one "logoff" event that closes the connection with
// the session summary (greeting, capabilities, every command with its
// tagged status, mailboxes, STARTTLS, COMPRESS, duration). README.md
// lists every field.
//
// IMAP lines carry literals ({n}, {n+}, ~{n}): n octets that belong to
// the line, then the line goes on. Each direction is read as line pieces
// and literals by a streamReader, so a literal may be cut anywhere; a
// FETCH response's literal is matched to the item it is the value of
// (BODY[HEADER] {303}) by walking the response's item list. Commands
// are matched to their tagged responses by tag, FETCH responses to the
// latest FETCH command pending. A synchronising literal the server
// refuses (a tagged NO before the client sent it) is taken back.
//
// The parser is written for hostile input: every buffer is capped,
// literals are captured only up to the artifact limit, bytes sent after
// STARTTLS before its response are flagged as command injection,
// COMPRESS=DEFLATE streams are decompressed with bounded memory and
// output, gaps and captures that begin mid-session (even inside a
// literal) are resynchronised at the next line that is certainly a
// command or a response, and the same streams give the same events
// however they are cut into segments.
package imap

import (
	"github.com/sdnli/sdnli/irs/parser"
)

// Name is the protocol's short name.
const Name = "imap"

// Event types (ETSI TS 102 232-2 email vocabulary).
const (
	TypeDownload        = "email-download"
	TypePartialDownload = "email-partial-download"
	TypeUpload          = "email-upload"
	TypeLogon           = "logon"
	TypeLogonFailure    = "logon-failure"
	TypeLogoff          = "logoff"
)

func init() { parser.Register(Detector{}) }

// Detector recognises IMAP by content; it is stateless and safe for
// concurrent use.
type Detector struct{}

// Name returns "imap".
func (Detector) Name() string { return Name }

// Transports returns TCP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// New returns the parser for one connection.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser { return newConn(c, env) }
