// Package mailproto holds the protocol machinery that the SMTP, POP3 and
// IMAP parsers share: line framing with a cap on line length, bounded
// buffers, a bounded list of anomalies, text cleaning for event fields,
// SASL response decoding (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER,
// DIGEST-MD5, NTLM), STARTTLS response injection, unknown commands, the
// detection verdict and the fields their events have in common.
//
// Message restore (MIME, dot-stuffing, addresses) lives in irs/mail; this
// package is about the conversation around the message. Each parser keeps
// only its own protocol's grammar and state. It is written by hand because
// what it does is specific to reading both directions of intercepted
// traffic with caps on hostile input; the one library piece it needs,
// base64, comes from the standard library.
package mailproto

const (
	// MaxLine caps a command or response line without its end; a longer
	// line is skipped to its LF and reported as an overflow.
	MaxLine = 64 << 10
	// MaxSASL caps one SASL response before it is decoded.
	MaxSASL = 4096
	// maxCredential caps a user name or password taken from a SASL
	// response.
	maxCredential = 256
)
