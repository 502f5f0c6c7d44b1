//go:build linux

package capture

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
)

// LiveConfig configures capture on an interface.
type LiveConfig struct {
	Interface string
	// BlockSize and NumBlocks size the TPACKET_V3 ring (defaults 1 MiB ×
	// 64 = 64 MiB): a larger ring rides out longer bursts before the
	// kernel drops.
	BlockSize int
	NumBlocks int
	// PollTimeout bounds how long Next waits for a packet before it
	// returns ErrTimeout (default 100 ms).
	PollTimeout time.Duration
	// NoPromiscuous leaves the interface's promiscuous mode alone. A
	// mirror port receives frames addressed to other hosts, so the
	// default is to switch it on.
	NoPromiscuous bool
}

const (
	defaultBlockSize   = 1 << 20
	defaultNumBlocks   = 64
	defaultPollTimeout = 100 * time.Millisecond
	frameSize          = 1 << 16 // whole jumbo frames, no truncation
)

type liveSource struct {
	name    string
	tp      *afpacket.TPacket
	lt      layers.LinkType
	packets atomic.Uint64
	bytes   atomic.Uint64
	mu      sync.Mutex // guards closed
	closed  bool
}

// OpenLive starts capturing on an interface with AF_PACKET (TPACKET_V3).
// It needs CAP_NET_RAW.
func OpenLive(cfg LiveConfig) (Source, error) {
	if cfg.Interface == "" {
		return nil, errors.New("capture: live: no interface given")
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = defaultBlockSize
	}
	if cfg.NumBlocks <= 0 {
		cfg.NumBlocks = defaultNumBlocks
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = defaultPollTimeout
	}
	name := "iface:" + cfg.Interface
	lt, err := interfaceLinkType(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture: %s: %w", name, err)
	}
	fs := frameSize
	if cfg.BlockSize%fs != 0 || cfg.BlockSize < fs {
		return nil, fmt.Errorf("capture: %s: block size %d must be a multiple of %d", name, cfg.BlockSize, fs)
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.OptFrameSize(fs),
		afpacket.OptBlockSize(cfg.BlockSize),
		afpacket.OptNumBlocks(cfg.NumBlocks),
		afpacket.OptPollTimeout(cfg.PollTimeout),
		afpacket.OptBlockTimeout(10*time.Millisecond),
		afpacket.TPacketVersion3,
	)
	if err != nil {
		return nil, fmt.Errorf("capture: %s: af_packet: %w", name, err)
	}
	if !cfg.NoPromiscuous {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: %s: promiscuous mode: %w", name, err)
		}
	}
	return &liveSource{name: name, tp: tp, lt: lt}, nil
}

// interfaceLinkType decides the link type of the frames AF_PACKET
// (SOCK_RAW) delivers on an interface: Ethernet headers on Ethernet-like
// and loopback interfaces, bare IP on interfaces without a link layer
// (tun, sit). It asks the kernel through netlink, in the calling thread's
// network namespace (/sys would show the namespace it was mounted in).
func interfaceLinkType(name string) (layers.LinkType, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return 0, err
	}
	switch {
	case ifc.Flags&net.FlagLoopback != 0, len(ifc.HardwareAddr) == 6:
		return layers.LinkTypeEthernet, nil
	case len(ifc.HardwareAddr) == 0:
		return layers.LinkTypeRaw, nil
	}
	return 0, fmt.Errorf("interface with %d-byte hardware addresses: %w", len(ifc.HardwareAddr), ErrLinkType)
}

func (s *liveSource) Name() string { return s.name }
func (s *liveSource) Live() bool   { return true }

func (s *liveSource) Next(p *Packet) error {
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return ErrTimeout
		}
		return fmt.Errorf("capture: %s: %w", s.name, err)
	}
	s.packets.Add(1)
	s.bytes.Add(uint64(len(data)))
	p.Data, p.Timestamp, p.Length, p.LinkType = data, ci.Timestamp, ci.Length, s.lt
	return nil
}

func (s *liveSource) Stats() Stats {
	st := Stats{Packets: s.packets.Load(), Bytes: s.bytes.Load()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return st
	}
	if _, v3, err := s.tp.SocketStats(); err == nil {
		st.KernelPackets = uint64(v3.Packets())
		st.KernelDrops = uint64(v3.Drops())
		st.KernelQueueFreezes = uint64(v3.QueueFreezes())
	}
	return st
}

func (s *liveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.tp.Close()
	}
	return nil
}
