// Package smtp parses SMTP sessions (RFC 5321 with ESMTP: PIPELINING,
// CHUNKING/BDAT, SIZE, 8BITMIME, SMTPUTF8, AUTH, STARTTLS) from the
// reassembled client and server streams of one TCP connection.
//
// It emits one "email-send" event per message, with the envelope, every
// recipient's reply, the decoded headers and the message restored as an
// eml artifact with its attachments (through irs/mail); "logon" or
// "logon-failure" for each AUTH exchange; and one "logoff" event that
// closes the connection with the session summary (greeting, HELO/EHLO,
// extensions, STARTTLS, commands, anomalies). README.md lists every field.
//
// The parser is written for hostile input: every buffer is capped, data is
// ended only at <CRLF>.<CRLF> and loose dot lines are flagged as possible
// SMTP smuggling, bytes pipelined after STARTTLS are flagged as command
// injection, gaps and captures that begin mid-session are resynchronised
// at the next line that parses as a command or a reply, and the same
// stream gives the same events however it is cut into segments.
//
// Client commands and server replies are matched in order through a
// queue of commands awaiting their reply (RFC 2920 pipelining). Bytes the
// client sends while a reply still decides how they are to be read (after
// DATA, AUTH or STARTTLS) are held, bounded, until that reply arrives.
package smtp

import (
	"github.com/sdnli/sdnli/irs/parser"
)

// Name is the protocol's short name.
const Name = "smtp"

// Event types (ETSI TS 102 232-2 email vocabulary).
const (
	TypeSend         = "email-send"
	TypeLogon        = "logon"
	TypeLogonFailure = "logon-failure"
	TypeLogoff       = "logoff"
)

func init() { parser.Register(Detector{}) }

// Detector recognises SMTP by content; it is stateless and safe for
// concurrent use.
type Detector struct{}

// Name returns "smtp".
func (Detector) Name() string { return Name }

// Transports returns TCP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// New returns the parser for one connection.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser { return newConn(c, env) }
