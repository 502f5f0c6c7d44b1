// Package ssh profiles SSH sessions (RFC 4253) from the reassembled client
// and server streams of one TCP connection, on any port.
//
// In clear it reads the version exchange (protocol, software, comments of
// both sides) and the binary packets up to each side's SSH_MSG_NEWKEYS:
// both KEXINIT messages (cookie and every name-list), from which it
// derives the algorithms negotiated in each direction (RFC 4253 §7.1), the
// HASSH and HASSH-server fingerprints, and per direction the cipher block
// size, MAC length, whether the packet length travels in clear (ETM MACs,
// AES-GCM) or encrypted, and the smallest packet that cipher can produce.
//
// After NEWKEYS nothing is readable; only the size and time of each piece
// of stream the IRS hands over remain. The engine calls ProcessPacket once
// per reassembled chunk, which is one TCP segment unless segments arrived
// out of order, so call sizes stand for TCP payload sizes. From them the
// parser infers the authentication outcome (the one-byte
// SSH_MSG_USERAUTH_SUCCESS gives the cipher's smallest packet) and
// classifies the session: interactive shell, file copy up or down (scp,
// sftp), X11 forwarding, port forwarding, nested SSH. It keeps only
// bounded statistics, never the encrypted bytes.
//
// Events: one "ssh-session" per connection at EndProcess, and one
// "ssh-activity" per detected activity with its time span. README.md
// lists every field and the limits of the classification.
package ssh

import "github.com/sdnli/sdnli/irs/parser"

// Name is the protocol's short name.
const Name = "ssh"

// Event types.
const (
	TypeSession  = "ssh-session"
	TypeActivity = "ssh-activity"
)

func init() { parser.Register(Detector{}) }

// Detector recognises SSH by its version banner; it is stateless and safe
// for concurrent use.
type Detector struct{}

// Name returns "ssh".
func (Detector) Name() string { return Name }

// Transports returns TCP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// New returns the parser for one connection.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser { return newConn(c, env) }
