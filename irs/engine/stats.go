package engine

import (
	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/decode"
	"github.com/sdnli/sdnli/irs/store"
)

// Stats are the engine's counters, for logs and the IRS status endpoint
// (JSON). They are updated every few thousand packets, every second of
// traffic time and at the end of each Run.
type Stats struct {
	Packets uint64 `json:"packets"` // frames read
	Bytes   uint64 `json:"bytes"`
	// FlowPackets are the packets that reached a flow.
	FlowPackets uint64 `json:"flow_packets"`
	// Ignored counts frames the IRS does not track (not IP, other IP
	// protocols, expired or evicted fragments), by reason.
	Ignored map[string]uint64 `json:"ignored"`
	// DecodeErrors counts malformed frames by reason.
	DecodeErrors map[string]uint64 `json:"decode_errors"`
	Fragments    uint64            `json:"ip_fragments"`
	Reassembled  uint64            `json:"ip_datagrams_reassembled"`
	Truncated    uint64            `json:"truncated_packets"` // decoded but cut by the snap length

	FlowsActive  int    `json:"flows_active"`
	FlowsCreated uint64 `json:"flows_created"`
	FlowsClosed  uint64 `json:"flows_closed"`  // FIN/RST
	FlowsExpired uint64 `json:"flows_expired"` // idle timeout
	FlowsEvicted uint64 `json:"flows_evicted"` // flow cap reached

	TCPGaps      uint64 `json:"tcp_gaps"`
	TCPGapBytes  uint64 `json:"tcp_gap_bytes"`
	TCPBadHeader uint64 `json:"tcp_bad_header"`
	TCPStrayRST  uint64 `json:"tcp_stray_rst"`

	// Connections counts connections claimed, by protocol.
	Connections map[string]uint64 `json:"connections"`
	// NoParser counts connections no detector claimed.
	NoParser uint64 `json:"connections_no_parser"`
	// DetectGaveUp counts connections dropped from detection because the
	// detection buffer filled without a verdict.
	DetectGaveUp uint64 `json:"detect_gave_up"`
	// DetectBudget counts connections given up because the worker's
	// detection buffers hit Config.MaxBufferTotal (included in
	// DetectGaveUp).
	DetectBudget uint64 `json:"detect_budget_exceeded"`
	// Buffered are the bytes held for connections still detecting.
	Buffered int `json:"buffered_bytes"`
	// DetectOverflowBytes are bytes beyond the detection cap (not kept).
	DetectOverflowBytes uint64 `json:"detect_overflow_bytes"`
	// RawPackets were written to session pcaps.
	RawPackets uint64 `json:"raw_packets"`
	// RawDroppedPackets/Bytes did not fit in a connection's pre-claim
	// buffer and are missing from its session pcap.
	RawDroppedPackets uint64 `json:"raw_dropped_packets"`
	RawDroppedBytes   uint64 `json:"raw_dropped_bytes"`
	RawLinkMismatch   uint64 `json:"raw_link_type_mismatch"`
	RawWriteErrors    uint64 `json:"raw_write_errors"`
	SessionReopens    uint64 `json:"session_file_reopens"`

	ParserPanics uint64 `json:"parser_panics"`
	Events       uint64 `json:"events"`

	Source capture.Stats `json:"source"`
	Store  *store.Stats  `json:"store,omitempty"`
}

// Stats returns the counters. Safe to call from any goroutine.
func (e *Engine) Stats() Stats {
	var s Stats
	e.pubMu.Lock()
	dc := e.pubDecode
	s.Packets, s.Bytes = e.pubPackets, e.pubBytes
	e.pubMu.Unlock()
	s.Ignored, s.DecodeErrors = map[string]uint64{}, map[string]uint64{}
	for i, n := range dc.ByReason {
		r := decode.Reason(i)
		if n == 0 || r == decode.ReasonNone {
			continue
		}
		if r.Malformed() {
			s.DecodeErrors[r.String()] = n
		} else {
			s.Ignored[r.String()] = n
		}
	}
	s.Fragments, s.Reassembled, s.Truncated = dc.Fragments, dc.Reassembled, dc.Truncated
	s.Connections = map[string]uint64{}
	for _, w := range e.workers {
		w.pubMu.Lock()
		p := &w.pub
		s.FlowPackets += p.flowPackets
		s.FlowsActive += p.flowsActive
		s.FlowsCreated += p.flowsCreated
		s.FlowsClosed += p.flowsClosed
		s.FlowsExpired += p.flowsExpired
		s.FlowsEvicted += p.flowsEvicted
		s.TCPGaps += p.tcpGaps
		s.TCPGapBytes += p.tcpGapBytes
		s.TCPBadHeader += p.tcpBadHeader
		s.TCPStrayRST += p.tcpStrayRST
		s.NoParser += p.noParser
		s.DetectGaveUp += p.detectGaveUp
		s.DetectOverflowBytes += p.detectOverflow
		s.DetectBudget += p.detectBudget
		s.Buffered += p.buffered
		s.RawPackets += p.rawWritten
		s.RawDroppedPackets += p.rawDropped
		s.RawDroppedBytes += p.rawDroppedBytes
		s.RawLinkMismatch += p.rawLinkMismatch
		s.RawWriteErrors += p.rawWriteErrors
		s.SessionReopens += p.sessionReopens
		s.ParserPanics += p.parserPanics
		for k, v := range p.connsByProto {
			s.Connections[k] += v
		}
		w.pubMu.Unlock()
	}
	s.Events = e.events.Load()
	e.srcMu.Lock()
	s.Source = e.srcDone
	if e.src != nil {
		st := e.src.Stats()
		s.Source.Packets += st.Packets
		s.Source.Bytes += st.Bytes
		s.Source.KernelPackets += st.KernelPackets
		s.Source.KernelDrops += st.KernelDrops
		s.Source.KernelQueueFreezes += st.KernelQueueFreezes
	}
	e.srcMu.Unlock()
	if e.cfg.Store != nil {
		st := e.cfg.Store.Stats()
		s.Store = &st
	}
	return s
}
