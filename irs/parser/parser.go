// Package parser defines the protocol parser lifecycle of the IRS and the
// registry that protocols join.
//
// The lifecycle keeps the four steps of the original sdnli thesis design:
//
//   - IsRelative: is this connection mine? Decided by content, with the
//     port only as a hint (an SMTP server on port 2525 is still SMTP).
//   - ProcessPacket: consume data. For TCP this is reassembled stream
//     bytes, in order, per direction; for UDP, GRE and ICMP one datagram.
//   - IsContinue: is the conversation still going?
//   - EndProcess: flush, emit the final events, write artifacts.
//
// There are two levels, as in the thesis: a Detector per protocol (one
// instance, shared, safe for concurrent use) decides IsRelative and spawns
// one Parser per connection (owned by a single worker goroutine, never
// called concurrently).
//
// A protocol lives in its own folder under irs/parser/ and registers its
// Detector from init(); the registration line in irs/parser/all is the one
// line a new protocol adds.
//
// Beside the lifecycle, the package holds what every parser writes the
// same way: Anomalies (a bounded, de-duplicated list for an event),
// SafeFileName (a name from the wire made safe to store a file under) and
// the summary fields the VPN and tunnel parsers share.
package parser

import (
	"net/netip"
	"time"

	"github.com/sdnli/sdnli/irs/event"
)

// Direction of data within a connection.
type Direction uint8

const (
	ClientToServer Direction = iota
	ServerToClient
)

func (d Direction) String() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return 1 - d }

// Transport is the layer a parser reads.
type Transport uint8

const (
	TCP Transport = iota + 1
	UDP
	GRE
	ICMP
	ESP
	// IPinIP is IP-in-IP: IPv4 or IPv6 inside IPv4 or IPv6 (IP protocols
	// 4 and 41: IPIP, 6in4); parsers get the inner packet.
	IPinIP
)

func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case GRE:
		return "gre"
	case ICMP:
		return "icmp"
	case ESP:
		return "esp"
	case IPinIP:
		return "ip-in-ip"
	}
	return "other"
}

// Conn describes one connection (or, for datagram transports, one flow)
// as the flow table sees it.
type Conn struct {
	ID        uint64 // unique within this IRS process
	Transport Transport
	Client    netip.AddrPort // the side that opened the connection, as far as known
	Server    netip.AddrPort
	Start     time.Time // first packet
	// MidStream is true when the capture began after the connection was
	// set up (no SYN seen): who is client and server is then a guess from
	// the ports, which a Detector may correct with ReverseYes.
	MidStream bool
}

// Verdict is a Detector's answer to IsRelative.
type Verdict uint8

const (
	// NeedMore: not enough data yet to decide; ask again with more.
	NeedMore Verdict = iota
	// No: not this protocol.
	No
	// Yes: this protocol, directions as given.
	Yes
	// YesReversed: this protocol, but the side called client is really
	// the server (a capture that started mid-connection guessed wrong).
	YesReversed
)

// Detector is the per-protocol half of the lifecycle.
type Detector interface {
	// Name is the protocol's short name ("smtp"), used in events, the
	// mirror policy and the on/off switches.
	Name() string
	// Transports lists what the detector reads.
	Transports() []Transport
	// IsRelative decides whether the connection speaks this protocol.
	// data holds the first bytes (TCP) or the first datagram (UDP...)
	// seen in direction dir; for TCP it grows between calls until the
	// detector answers something other than NeedMore or a cap is hit.
	// It must be cheap and must not keep data.
	IsRelative(c *Conn, dir Direction, data []byte) Verdict
	// New creates the command parser for one connection.
	New(c *Conn, env Env) Parser
}

// Parser is the per-connection half of the lifecycle.
type Parser interface {
	// ProcessPacket consumes the next bytes in one direction (TCP: stream
	// bytes in order; datagram transports: one payload). data is only
	// valid during the call.
	ProcessPacket(dir Direction, data []byte, ts time.Time)
	// Gap reports that n bytes (n < 0: an unknown number) are missing
	// from the stream in direction dir before the next ProcessPacket.
	Gap(dir Direction, n int, ts time.Time)
	// IsContinue reports whether the parser wants more data. Once false,
	// the IRS calls EndProcess and stops feeding it (e.g. after STARTTLS).
	IsContinue() bool
	// EndProcess flushes: emit final events, write artifacts. Called
	// exactly once, with why the connection ended.
	EndProcess(reason EndReason, ts time.Time)
}

// EndReason says why a connection ended.
type EndReason uint8

const (
	EndClosed   EndReason = iota + 1 // FIN or RST seen
	EndIdle                          // idle timeout
	EndShutdown                      // IRS stopping or capture file finished
	EndEvicted                       // flow table full: evicted
	EndDone                          // the parser itself said IsContinue() == false
)

func (r EndReason) String() string {
	switch r {
	case EndClosed:
		return "closed"
	case EndIdle:
		return "idle-timeout"
	case EndShutdown:
		return "shutdown"
	case EndEvicted:
		return "evicted"
	case EndDone:
		return "parser-done"
	}
	return "unknown"
}

// Env is what a parser may use of the IRS.
type Env interface {
	// Emit hands an event to the sink. The IRS fills in UID, Node,
	// Protocol, Transport, Client, Server and RawRef where left empty.
	Emit(ev *event.Event)
	// SaveArtifact stores a restored file on the IRS and returns its
	// description (size, SHA-256, MD5, path). kind is one of event.Kind*.
	// data is not kept after it returns: the parser may reuse it.
	SaveArtifact(kind, name, contentType string, data []byte) (event.Artifact, error)
	// Options are the operator's settings.
	Options() Options
	// RequestMirror asks the controller to mirror a connection this
	// parser learnt about (an FTP data connection, a PPTP GRE call).
	// It is best effort: errors are logged by the IRS.
	RequestMirror(req MirrorRequest)
}

// Options are operator settings parsers obey.
type Options struct {
	// RecordPasswords: store cleartext passwords seen in logins. Off by
	// default: most warrants do not cover credentials.
	RecordPasswords bool
	// MaxArtifactBytes caps one restored file (message, attachment, ...).
	MaxArtifactBytes int
}

// DefaultOptions are the defaults, in one place.
func DefaultOptions() Options {
	return Options{MaxArtifactBytes: 64 << 20}
}

// MirrorRequest names a connection that should be mirrored for a while.
type MirrorRequest struct {
	Protocol    string         // the protocol asking ("ftp")
	Transport   Transport      // TCP, GRE...
	A, B        netip.AddrPort // the two ends; a port of 0 is a wildcard
	IdleTimeout time.Duration
	Reason      string // "ftp-data PASV 227", "pptp call 1234"
}
