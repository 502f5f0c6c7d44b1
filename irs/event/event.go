// Package event defines what an IRS records: one Event per intercepted
// occurrence (a mail sent, a login, a session seen), with the addresses it
// names and the artifacts (restored files) it produced.
//
// Events are plain data. They are produced by protocol parsers, written to
// MySQL by the sink (or spooled to disk while MySQL is away), printed as
// JSON by `sdnli inspect`, and read back by the analyzer.
package event

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"time"
)

// Address roles used in event_addresses.
const (
	RoleFrom = "from"
	RoleTo   = "to"
	RoleCc   = "cc"
	RoleBcc  = "bcc"
	RoleRcpt = "rcpt" // envelope recipient (RCPT TO)
	RoleMail = "mail" // envelope sender (MAIL FROM)
	RoleUser = "user" // login user name
)

// Artifact kinds.
const (
	KindEML        = "eml"        // a restored email message, byte-exact
	KindAttachment = "attachment" // a MIME part with a file name
	KindFile       = "file"       // a file restored from HTTP, FTP, ...
	KindPcap       = "pcap"       // the session's packets
)

// Event is one intercepted occurrence.
type Event struct {
	// UID identifies the event across retries: the sink inserts it at most
	// once, so a spooled event replayed after an outage is never doubled.
	UID       string         `json:"uid"`
	Node      string         `json:"node"`      // IRS node name
	Protocol  string         `json:"protocol"`  // "smtp", "pop3", ...
	Type      string         `json:"type"`      // "email-send", "logon", ...
	Start     time.Time      `json:"start"`     // first packet of what the event covers
	End       time.Time      `json:"end"`       // last packet of what the event covers
	Transport string         `json:"transport"` // "tcp", "udp", ...
	Client    netip.AddrPort `json:"client"`
	Server    netip.AddrPort `json:"server"`
	// Subject is the one-line summary an analyst sees in a result list
	// (an email's decoded subject, an HTTP URL, a DNS name).
	Subject string `json:"subject,omitempty"`
	// Summary holds the protocol's own fields (sender, status codes,
	// negotiated algorithms...). Values must be JSON-encodable.
	Summary Fields `json:"summary,omitempty"`
	// Anomalies lists what the parser found odd (gaps, oversize lines,
	// protocol violations), in words an analyst can act on.
	Anomalies []string   `json:"anomalies,omitempty"`
	Addresses []Address  `json:"addresses,omitempty"`
	Artifacts []Artifact `json:"artifacts,omitempty"`
	// RawRef is the session pcap's path relative to the IRS data directory.
	RawRef string `json:"raw_ref,omitempty"`
}

// Address is an email address or user name named by an event.
type Address struct {
	Address string `json:"address"` // normalised: lower-case domain
	Role    string `json:"role"`
}

// Artifact is a file restored from the traffic and kept on the IRS.
type Artifact struct {
	Kind        string `json:"kind"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`           // hex
	MD5         string `json:"md5,omitempty"`    // hex, for comparison with other tools
	Path        string `json:"path,omitempty"`   // relative to the IRS data directory
	Parent      string `json:"parent,omitempty"` // SHA-256 of the artifact this one came from (attachment → eml)
}

// NewUID returns a random 128-bit identifier in hex.
func NewUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Sink receives events. Put must not block the capture path for long and
// must not lose an event: implementations buffer, batch and spool.
type Sink interface {
	Put(ev *Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ev *Event)

// Put calls f(ev).
func (f SinkFunc) Put(ev *Event) { f(ev) }
