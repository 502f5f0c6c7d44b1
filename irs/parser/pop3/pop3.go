// Package pop3 parses POP3 sessions (RFC 1939 with the extensions of
// RFC 2449 CAPA and PIPELINING, RFC 2595 STLS, RFC 5034 AUTH and RFC 6856
// UTF8) from the reassembled client and server streams of one TCP
// connection.
//
// It emits one "email-download" event per message retrieved with RETR,
// restored byte-exact (what the server sent, dot-unstuffed, line ends
// kept) as an eml artifact with its attachments through irs/mail; one
// "email-partial-download" per TOP, whose bytes are kept as a file
// artifact; "logon" or "logon-failure" for each USER/PASS, APOP or AUTH
// exchange; and one "logoff" event that closes the connection with the
// session summary (greeting, capabilities, commands with their status,
// STLS, messages listed, retrieved and deleted). README.md lists every
// field.
//
// Commands and responses are matched in order through a queue of
// commands awaiting their response (RFC 2449 pipelining); the command
// says whether its response is one line or several (CAPA, LIST, UIDL,
// RETR, TOP). The parser is written for hostile input: every buffer is
// capped, bytes sent after STLS before its response are flagged as
// command injection, gaps and captures that begin mid-session are
// resynchronised at the next line that is certainly a command or a
// status line, and the same streams give the same events however they
// are cut into segments.
package pop3

import (
	"github.com/sdnli/sdnli/irs/parser"
)

// Name is the protocol's short name.
const Name = "pop3"

// Event types (ETSI TS 102 232-2 email vocabulary).
const (
	TypeDownload        = "email-download"
	TypePartialDownload = "email-partial-download"
	TypeLogon           = "logon"
	TypeLogonFailure    = "logon-failure"
	TypeLogoff          = "logoff"
)

func init() { parser.Register(Detector{}) }

// Detector recognises POP3 by content; it is stateless and safe for
// concurrent use.
type Detector struct{}

// Name returns "pop3".
func (Detector) Name() string { return Name }

// Transports returns TCP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// New returns the parser for one connection.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser { return newConn(c, env) }
