package engine

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/sdnli/sdnli/irs/decode"
	"github.com/sdnli/sdnli/irs/parser"
)

var randRead = rand.Read

// asmContext carries the capture info into the assembler. One per worker,
// reused: its timestamp is the worker's clock at the current packet.
type asmContext struct{ ci gopacket.CaptureInfo }

func (c *asmContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// factory hands the assembler the stream the worker prepared for the
// connection it is feeding.
type factory struct{ w *worker }

func (f factory) New(_, _ gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	if f.w.cur == nil || f.w.cur.V.stream == nil {
		// Cannot happen: the worker only assembles a flow with a stream.
		return &tcpStream{w: f.w}
	}
	return f.w.cur.V.stream
}

// tcpStream connects one reassembled TCP connection to its flow. The
// assembler's key for it carries the connection's ID (see netFlow), so a
// stream never outlives its connection in a way that matters: when the
// flow lets go of it (e == nil) it is an orphan, ignored until the pool
// reclaims it.
type tcpStream struct {
	w    *worker
	e    *entry
	gen  uint64
	keys [2]gopacket.Flow // netFlow for packets from endpoint A, from B
	// reassembly's client-to-server direction is the direction of the
	// first packet it saw; c2sIsClient maps it to the connection's.
	c2sIsClient bool
	dirSet      bool
	// ended records the directions that reached their FIN or RST.
	ended [2]bool
}

// netFlow returns the network-layer flow the assembler keys the stream
// by: not the addresses (the flow table already told connections apart)
// but the connection ID, so that a reused 4-tuple never meets the old
// connection's state in the pool.
func (s *tcpStream) netFlow(srcIsA bool) gopacket.Flow {
	if s.keys[0] == (gopacket.Flow{}) {
		var a, b [16]byte
		binary.BigEndian.PutUint64(a[:8], s.gen)
		binary.BigEndian.PutUint64(b[:8], s.gen)
		b[8] = 1
		s.keys[0] = gopacket.NewFlow(layers.EndpointIPv6, a[:], b[:])
		s.keys[1] = s.keys[0].Reverse()
	}
	if srcIsA {
		return s.keys[0]
	}
	return s.keys[1]
}

func (s *tcpStream) mapDir(d reassembly.TCPFlowDirection) parser.Direction {
	if (d == reassembly.TCPDirClientToServer) == s.c2sIsClient {
		return parser.ClientToServer
	}
	return parser.ServerToClient
}

// Accept takes every segment of a live stream; a half that starts
// without a SYN (capture began mid-connection) starts at its first
// segment rather than waiting forever.
func (s *tcpStream) Accept(t *layers.TCP, _ gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	if s.e == nil {
		return true
	}
	if !s.dirSet {
		s.dirSet = true
		s.c2sIsClient = (dir == reassembly.TCPDirClientToServer) == (s.w.curDir == parser.ClientToServer)
	}
	if nextSeq == -1 && !t.SYN {
		*start = true
	}
	return true
}

// ReassembledSG delivers in-order bytes (and gaps) to the connection.
func (s *tcpStream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	e := s.e
	if e == nil {
		return
	}
	w := s.w
	d, _, end, skip := sg.Info()
	dir := s.mapDir(d)
	ts := w.curTS
	if w.cur != e {
		// Pushed by a flush (shutdown, or data that waited past a gap
		// too long), not by a packet of this connection: stamped with
		// the connection's last packet, as its end is, rather than with
		// the worker's clock, which another connection's packet set.
		ts = e.V.lastTS
	}
	if skip > 0 {
		w.gap(e, dir, skip, ts)
	}
	if n, _ := sg.Lengths(); n > 0 && s.e != nil {
		w.deliver(e, dir, sg.Fetch(n), ts)
	}
	if end {
		s.ended[dir] = true
		if w.cur == e && w.curFlags&decode.FlagRST != 0 {
			w.rstAccepted = true
		}
	}
}

// ReassemblyComplete: both directions ended (FIN or RST reached in
// order), or the pool is being flushed at shutdown.
func (s *tcpStream) ReassemblyComplete(_ reassembly.AssemblerContext) bool {
	if e := s.e; e != nil && e.V.stream == s {
		reason := parser.EndClosed
		if !(s.ended[0] && s.ended[1]) {
			reason = parser.EndShutdown
		}
		s.w.closeConn(e, reason)
	}
	return true
}
