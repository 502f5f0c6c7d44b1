// Package capture provides the packet sources of the IRS: live capture on
// a network interface (AF_PACKET with TPACKET_V3, through
// github.com/gopacket/gopacket/afpacket, pure Go) and capture files (pcap
// and pcapng through github.com/gopacket/gopacket/pcapgo, plain or
// gzip-compressed, recognised by their magic bytes).
//
// A Source hands out one packet at a time into a caller-owned Packet,
// without allocating: the packet bytes stay valid only until the next
// call. That is what lets the IRS read at millions of packets per second.
// A plain pcap file is mapped into memory (on Linux) and its packets are
// slices of the mapping, not even copied once (see mapped.go for what
// happens when such a file shrinks or grows while it is read).
package capture

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Packet is one captured frame.
type Packet struct {
	// Data is the frame as captured, starting with the link-layer header
	// named by LinkType. It is only valid until the next call to Next.
	Data      []byte
	Timestamp time.Time
	// Length is the frame's length on the wire; len(Data) is less when
	// the capture cut it (snap length).
	Length   int
	LinkType layers.LinkType
}

// ErrTimeout is returned by a live Source's Next when no packet arrived
// within its poll timeout. It is not a failure: the caller gets the chance
// to do housekeeping (idle timeouts, cancellation) and calls Next again.
var ErrTimeout = errors.New("capture: no packet before the poll timeout")

// Source is a stream of packets. Next returns io.EOF at the end of a
// file; any other error names the source (and for files the packet number
// and offset at fault). A Source is used by one goroutine, except Stats,
// which may be called from any goroutine.
type Source interface {
	// Next reads the next packet into p.
	Next(p *Packet) error
	// Name is the file name or "iface:NAME", for logs and errors.
	Name() string
	// Live reports whether packets come from an interface (timeouts then
	// follow the clock, not packet timestamps).
	Live() bool
	// Stats returns the counters so far (a file source publishes them
	// every few dozen packets, and at the end of the file).
	Stats() Stats
	// Close releases the file or socket.
	Close() error
}

// Stats counts what a Source delivered and, for live capture, what the
// kernel dropped before the IRS could read it.
type Stats struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// KernelPackets and KernelDrops are the socket's counters (live only).
	KernelPackets uint64 `json:"kernel_packets,omitempty"`
	KernelDrops   uint64 `json:"kernel_drops"`
	// KernelQueueFreezes counts TPACKET_V3 ring freezes (live only).
	KernelQueueFreezes uint64 `json:"kernel_queue_freezes,omitempty"`
}

// SupportedLinkTypes are the link types the IRS decodes. Package decode
// handles each of them.
var SupportedLinkTypes = []layers.LinkType{
	layers.LinkTypeEthernet,
	layers.LinkTypeLinuxSLL,
	layers.LinkTypeLinuxSLL2,
	layers.LinkTypeRaw,
	layers.LinkTypeIPv4,
	layers.LinkTypeIPv6,
	layers.LinkTypeNull,
	layers.LinkTypeLoop,
}

// Supported reports whether lt is one of SupportedLinkTypes.
func Supported(lt layers.LinkType) bool {
	for _, s := range SupportedLinkTypes {
		if s == lt {
			return true
		}
	}
	return false
}

// ErrLinkType is wrapped by errors about a link type the IRS cannot decode.
var ErrLinkType = errors.New("unsupported link type")

func linkTypeError(name string, lt layers.LinkType) error {
	return fmt.Errorf("capture: %s: %w %d (%s)", name, ErrLinkType, uint16(lt), lt)
}
