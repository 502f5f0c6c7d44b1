package engine

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/sdnli/sdnli/irs/decode"
	"github.com/sdnli/sdnli/irs/flow"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

// Flow lists (classes with their own idle timeout).
const (
	listTCP       = iota // TCP fed to reassembly (detecting or parsing)
	listTCPUnfed         // TCP no longer reassembled (no parser, parser done)
	listTCPClosed        // TCP after FIN/RST
	listUDP
	listOther
	numLists
)

// Connection states.
const (
	stDetecting uint8 = iota // asking the detectors
	stParsing                // a parser owns it
	stIgnored                // no parser wants it
	stDone                   // the parser finished (IsContinue false) or was dropped
	stClosed                 // TCP: FIN/RST seen
)

type entry = flow.Entry[flowState]

// flowState is the engine's per-flow state, kept inline in the flow
// table's entries.
type flowState struct {
	conn      parser.Conn
	clientIsA bool
	state     uint8
	synSeen   bool
	synSeq    uint32
	fin       [2]bool // FIN seen per direction (flows not reassembled)
	lastTS    int64   // timestamp of the last packet (real, not the clock)
	lt        layers.LinkType

	proto   string
	p       parser.Parser
	env     *connEnv
	det     *detection
	stream  *tcpStream
	pending *rawBuf
	session *store.Session
}

// dir returns the direction of a packet whose source is endpoint A of
// the key (srcIsA) or not.
func (fs *flowState) dir(srcIsA bool) parser.Direction {
	if srcIsA == fs.clientIsA {
		return parser.ClientToServer
	}
	return parser.ServerToClient
}

// wstats are a worker's counters, updated without atomics and published
// under a lock every few thousand packets.
type wstats struct {
	flowPackets     uint64
	flowsCreated    uint64
	flowsEvicted    uint64
	flowsExpired    uint64
	flowsClosed     uint64
	tcpGaps         uint64
	tcpGapBytes     uint64
	tcpBadHeader    uint64
	tcpStrayRST     uint64
	detectGaveUp    uint64
	detectOverflow  uint64
	detectBudget    uint64
	noParser        uint64
	rawWritten      uint64
	rawDropped      uint64
	rawDroppedBytes uint64
	rawLinkMismatch uint64
	rawWriteErrors  uint64
	parserPanics    uint64
	reclaims        uint64
	connsByProto    map[string]uint64
	sessionReopens  uint64
	flowsActive     int
	buffered        int
}

// cmd is a control message to a worker goroutine.
type cmd uint8

const (
	cmdPacket cmd = iota
	cmdTick
	cmdSync
	cmdFlush
	cmdStop
)

type item struct {
	cmd  cmd
	now  int64
	p    decode.Packet
	done chan struct{}
}

const (
	batchItems = 256
	batchArena = 512 << 10
)

type batch struct {
	items []item
	arena []byte
}

// worker owns a share of the flows: their table, reassembly and parsers.
type worker struct {
	e        *Engine
	id       int
	table    *flow.Table[flowState]
	pool     *reassembly.StreamPool
	asm      *reassembly.Assembler
	ctx      asmContext
	sessions *store.Sessions
	tcp      decode.TCPHeader // for re-decoding TCP headers handed over in batches
	clock    int64
	nextID   uint64
	st       wstats

	// Set around each call into the assembler.
	cur         *entry
	curDir      parser.Direction
	curFlags    uint8
	curTS       int64
	rstAccepted bool
	orphans     int
	lastReclaim int64
	// buffered counts the bytes held for connections still detecting
	// (packets for their session pcap, bytes for the detectors), capped
	// by Config.MaxBufferTotal.
	buffered int
	// Detection state of connections that were decided, for reuse by
	// the next ones: retired during a packet (the calls on the stack may
	// still read it), reusable from the next packet on.
	detRetired, detFree []*detection

	// Channels, when the worker runs in its own goroutine.
	in      chan *batch
	free    chan *batch
	filling *batch

	pubMu sync.Mutex
	pub   wstats
}

func newWorker(e *Engine, id, maxFlows, maxFiles int) *worker {
	c := &e.cfg
	to := c.IdleTimeouts
	w := &worker{e: e, id: id}
	timeouts := make([]int64, numLists)
	timeouts[listTCP] = int64(to.TCP)
	timeouts[listTCPUnfed] = int64(to.TCP)
	timeouts[listTCPClosed] = int64(to.TCPClosed)
	timeouts[listUDP] = int64(to.UDP)
	timeouts[listOther] = int64(to.Other)
	var seed [8]byte
	_, _ = randRead(seed[:])
	w.table = flow.New[flowState](flow.Config{MaxFlows: maxFlows, Timeouts: timeouts, Seed: binary.LittleEndian.Uint64(seed[:])})
	w.newAssembler()
	if c.Store != nil && !c.NoSessionPcaps {
		w.sessions = c.Store.NewSessions(maxFiles)
	}
	w.st.connsByProto = map[string]uint64{}
	return w
}

func (w *worker) newAssembler() {
	w.pool = reassembly.NewStreamPool(factory{w})
	w.asm = reassembly.NewAssembler(w.pool)
	pages := w.e.cfg.MaxBufferPerFlow / pageBytes
	if pages < 1 {
		pages = 1
	}
	w.asm.MaxBufferedPagesPerConnection = pages
	total := w.e.cfg.MaxBufferTotal / pageBytes
	if total < pages {
		total = pages
	}
	w.asm.MaxBufferedPagesTotal = total
	w.orphans = 0
}

// sessionIdle is how long a session pcap stays open without a packet;
// sessionStale is how long a captured packet may wait in memory before it
// reaches the session's file.
const (
	sessionIdle  = 30 * time.Second
	sessionStale = 5 * time.Second
)

// pageBytes is the size of the reassembly package's pages.
const pageBytes = 1900

// handle processes one decoded packet.
func (w *worker) handle(p *decode.Packet) {
	if p.Timestamp > w.clock {
		w.clock = p.Timestamp
	}
	if len(w.detRetired) > 0 {
		w.reuseDetections()
	}
	w.st.flowPackets++
	tr := transportOf(p.Proto)
	k, srcIsA := flow.MakeKey(p.Family, p.Proto, &p.Src, &p.Dst, p.SrcPort, p.DstPort)
	h := w.table.Hash(&k)
	e := w.table.Lookup(&k, h)
	if e == nil {
		if tr == parser.TCP && p.Flags&decode.FlagRST != 0 {
			// A reset for a connection we do not know ends nothing.
			w.st.tcpStrayRST++
			return
		}
		e = w.newFlow(&k, h, p, srcIsA, tr)
	} else if tr == parser.TCP && p.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN {
		// A new SYN on a closed connection, or with another initial
		// sequence number: the 4-tuple is being reused.
		fs := &e.V
		if fs.state == stClosed || (fs.synSeen && fs.synSeq != p.Seq) || !fs.synSeen && fs.conn.MidStream {
			w.restart(e, p, srcIsA)
		}
	}
	w.table.Touch(e, w.clock)
	fs := &e.V
	fs.lastTS = p.Timestamp
	dir := fs.dir(srcIsA)
	w.keepRaw(e, p)
	if tr == parser.TCP {
		w.handleTCP(e, p, dir, srcIsA)
		return
	}
	if fs.state != stDetecting && fs.state != stParsing {
		return
	}
	payload := p.Payload()
	if tr == parser.ICMP || tr == parser.GRE {
		// ICMP and GRE parsers read the whole message, from the type
		// byte or the GRE flags: type and code, GRE key (PPTP call ID)
		// and sequence numbers are theirs to decode.
		payload = p.L4()
	}
	if fs.state == stDetecting {
		w.detectDatagram(e, dir, payload, p.Timestamp)
	} else {
		w.feed(e, dir, payload, p.Timestamp)
	}
}

func transportOf(proto uint8) parser.Transport {
	switch proto {
	case decode.ProtoTCP:
		return parser.TCP
	case decode.ProtoUDP:
		return parser.UDP
	case decode.ProtoGRE:
		return parser.GRE
	case decode.ProtoICMP, decode.ProtoICMPv6:
		return parser.ICMP
	case decode.ProtoESP:
		return parser.ESP
	case decode.ProtoIPIP, decode.ProtoIPv6:
		return parser.IPinIP
	}
	return 0
}

func listOf(tr parser.Transport) int {
	switch tr {
	case parser.TCP:
		return listTCP
	case parser.UDP:
		return listUDP
	}
	return listOther
}

// newFlow inserts a flow for packet p and decides who is client.
func (w *worker) newFlow(k *flow.Key, h uint64, p *decode.Packet, srcIsA bool, tr parser.Transport) *entry {
	e := w.table.Insert(k, h, listOf(tr), w.clock, w.evict)
	w.st.flowsCreated++
	w.initFlow(e, p, srcIsA, tr)
	return e
}

func (w *worker) initFlow(e *entry, p *decode.Packet, srcIsA bool, tr parser.Transport) {
	fs := &e.V
	srcIsClient, mid := clientGuess(p, tr)
	fs.clientIsA = srcIsA == srcIsClient
	src := netip.AddrPortFrom(p.SrcAddr(), p.SrcPort)
	dst := netip.AddrPortFrom(p.DstAddr(), p.DstPort)
	if tr == parser.ICMP || tr == parser.GRE || tr == parser.ESP || tr == parser.IPinIP {
		src, dst = netip.AddrPortFrom(src.Addr(), 0), netip.AddrPortFrom(dst.Addr(), 0)
	}
	if !srcIsClient {
		src, dst = dst, src
	}
	w.nextID++
	fs.conn = parser.Conn{
		ID:        (w.nextID-1)*uint64(len(w.e.workers)) + uint64(w.id) + 1,
		Transport: tr,
		Client:    src,
		Server:    dst,
		Start:     time.Unix(0, p.Timestamp).UTC(),
		MidStream: mid,
	}
	fs.lt = p.LinkType
	if tr == parser.TCP && p.Flags&decode.FlagSYN != 0 && p.Flags&decode.FlagACK == 0 {
		fs.synSeen, fs.synSeq = true, p.Seq
	}
	fs.state = stDetecting
	if len(w.e.cfg.Registry.Candidates(tr)) == 0 {
		w.ignore(e)
	}
}

// clientGuess says whether the packet's source is the client and whether
// the guess comes from ports (a TCP connection picked up mid-stream).
func clientGuess(p *decode.Packet, tr parser.Transport) (srcIsClient, midStream bool) {
	switch tr {
	case parser.TCP:
		syn, ack := p.Flags&decode.FlagSYN != 0, p.Flags&decode.FlagACK != 0
		if syn && !ack {
			return true, false
		}
		if syn && ack {
			return false, false
		}
		return !serverPort(p.SrcPort, p.DstPort), true
	case parser.UDP:
		// The first sender is the client, unless it answers from a
		// well-known port to an ephemeral one.
		return !(p.SrcPort < 1024 && p.DstPort >= 1024), false
	case parser.ICMP:
		switch {
		case p.Proto == decode.ProtoICMP && p.ICMPType == layers.ICMPv4TypeEchoReply,
			p.Proto == decode.ProtoICMPv6 && p.ICMPType == layers.ICMPv6TypeEchoReply:
			return false, false
		}
	}
	return true, false
}

// serverPort reports whether the first port looks like the server's:
// the well-known one, or else the lower one.
func serverPort(a, b uint16) bool {
	if (a < 1024) != (b < 1024) {
		return a < 1024
	}
	return a < b
}

// restart ends the connection on e and starts a new one from packet p.
func (w *worker) restart(e *entry, p *decode.Packet, srcIsA bool) {
	w.endConn(e, parser.EndClosed)
	w.dropConn(e)
	tr := e.V.conn.Transport
	e.V = flowState{}
	w.table.Move(e, listOf(tr))
	w.st.flowsCreated++
	w.initFlow(e, p, srcIsA, tr)
}

// evict is called by the table for the flow it is about to drop.
func (w *worker) evict(e *entry) {
	w.st.flowsEvicted++
	w.endConn(e, parser.EndEvicted)
	w.dropConn(e)
}

// endConn ends the parser (if any) with reason and detaches the stream.
func (w *worker) endConn(e *entry, reason parser.EndReason) {
	fs := &e.V
	if fs.p != nil {
		w.callEnd(e, reason)
	}
	fs.p = nil
	w.release(fs)
	w.orphan(fs)
}

// dropConn releases what a flow holds before its entry is removed or
// reused: the session file.
func (w *worker) dropConn(e *entry) {
	fs := &e.V
	if fs.session != nil {
		// Packets are written in pieces: a session's write error may
		// first show here.
		if err := fs.session.Close(); err != nil {
			w.st.rawWriteErrors++
			w.e.cfg.Logger.Error("engine: session pcap incomplete", "protocol", fs.proto, "conn", fs.conn.ID, "err", err)
		}
		fs.session = nil
	}
}

// orphan detaches the flow from its reassembly stream: the stream stays
// in the assembler's pool until reclaimed, and ignores what reaches it.
func (w *worker) orphan(fs *flowState) {
	if fs.stream != nil {
		fs.stream.e = nil
		fs.stream = nil
		w.orphans++
	}
}

// ignore marks a connection as not parsed.
func (w *worker) ignore(e *entry) {
	fs := &e.V
	fs.state = stIgnored
	w.release(fs)
	w.st.noParser++
	w.orphan(fs)
	if fs.conn.Transport == parser.TCP {
		w.table.Move(e, listTCPUnfed)
	}
}

// done marks a connection whose parser finished or was dropped.
func (w *worker) done(e *entry) {
	fs := &e.V
	fs.state = stDone
	fs.p = nil
	w.release(fs)
	w.orphan(fs)
	if fs.conn.Transport == parser.TCP {
		w.table.Move(e, listTCPUnfed)
	}
}

// closeConn handles the end of a TCP connection: FIN both ways or RST
// (EndClosed), or the assembler flushed at shutdown (EndShutdown).
func (w *worker) closeConn(e *entry, reason parser.EndReason) {
	fs := &e.V
	w.endConn(e, reason)
	fs.state = stClosed
	w.st.flowsClosed++
	w.table.Move(e, listTCPClosed)
}

// handleTCP runs one TCP segment through reassembly, or just follows its
// flags when the connection is no longer reassembled.
func (w *worker) handleTCP(e *entry, p *decode.Packet, dir parser.Direction, srcIsA bool) {
	fs := &e.V
	if fs.state != stDetecting && fs.state != stParsing {
		if fs.state == stClosed {
			return
		}
		if p.Flags&decode.FlagRST != 0 {
			fs.state = stClosed
		} else if p.Flags&decode.FlagFIN != 0 {
			fs.fin[dir] = true
			if fs.fin[0] && fs.fin[1] {
				fs.state = stClosed
			}
		}
		if fs.state == stClosed {
			w.st.flowsClosed++
			w.table.Move(e, listTCPClosed)
		}
		return
	}
	t := p.TCP
	if t == nil {
		if err := w.tcp.DecodeFromBytes(p.L4(), gopacket.NilDecodeFeedback); err != nil {
			w.st.tcpBadHeader++
			return
		}
		t = &w.tcp.TCP
	}
	if fs.stream == nil {
		fs.stream = &tcpStream{w: w, e: e, gen: fs.conn.ID}
	}
	w.cur, w.curDir, w.curFlags, w.curTS, w.rstAccepted = e, dir, p.Flags, p.Timestamp, false
	w.ctx.ci.Timestamp = time.Unix(0, w.clock)
	w.asm.AssembleWithContext(fs.stream.netFlow(srcIsA), t, &w.ctx)
	w.cur = nil
	if w.rstAccepted && fs.state != stClosed {
		w.closeConn(e, parser.EndClosed)
	}
	// Orphans cost memory in the pool until reclaimed; reclaiming scans
	// the whole pool. Doing it when they reach a quarter of the live
	// streams keeps both the memory and the amortised cost bounded.
	if w.orphans > 4096 && w.orphans*4 > w.table.ListLen(listTCP) {
		w.reclaim()
	}
}

// reclaim removes orphaned streams from the assembler's pool: every
// connection there whose last packet is older than the least recently
// seen live stream. It also pushes out-of-order data that has waited
// longer than the reorder timeout (reporting the gap).
func (w *worker) reclaim() {
	thr := w.clock + 1
	if ts, ok := w.table.Since(listTCP); ok {
		thr = ts
	}
	reorder := w.clock - int64(w.e.cfg.IdleTimeouts.Reorder)
	w.cur = nil
	w.curTS = w.clock
	w.asm.FlushWithOptions(reassembly.FlushOptions{T: time.Unix(0, reorder), TC: time.Unix(0, thr)})
	w.orphans = 0
	w.lastReclaim = w.clock
	w.st.reclaims++
}

// keepRaw keeps the packet for the session pcap: written at once when a
// parser owns the connection, buffered (bounded) while detecting.
func (w *worker) keepRaw(e *entry, p *decode.Packet) {
	if w.sessions == nil {
		return
	}
	fs := &e.V
	switch {
	case fs.session != nil:
		w.writeRaw(fs, p)
	case fs.state == stDetecting:
		if fs.pending == nil {
			fs.pending = &rawBuf{}
		}
		if p.Fragments != nil {
			for _, f := range p.Fragments {
				w.bufferRaw(fs, f.Timestamp, f.Length, f.Frame)
			}
		} else {
			w.bufferRaw(fs, p.Timestamp, p.Length, p.Frame)
		}
	}
}

func (w *worker) bufferRaw(fs *flowState, ts int64, length int, frame []byte) {
	if w.buffered+len(frame) > w.e.cfg.MaxBufferTotal || !fs.pending.add(ts, length, frame, w.e.cfg.MaxBufferPerFlow) {
		w.st.rawDropped++
		w.st.rawDroppedBytes += uint64(len(frame))
		return
	}
	w.buffered += len(frame)
}

// release frees what a connection buffered while detecting.
func (w *worker) release(fs *flowState) {
	if fs.pending != nil {
		w.buffered -= fs.pending.bytes
		fs.pending = nil
	}
	if fs.det != nil {
		w.buffered -= len(fs.det.buf[0]) + len(fs.det.buf[1])
		w.retire(fs.det)
		fs.det = nil
	}
}

func (w *worker) writeRaw(fs *flowState, p *decode.Packet) {
	if p.LinkType != fs.session.LinkType() {
		w.st.rawLinkMismatch++
		return
	}
	if p.Fragments != nil {
		for _, f := range p.Fragments {
			w.writeFrame(fs, f.Timestamp, f.Length, f.Frame)
		}
		return
	}
	w.writeFrame(fs, p.Timestamp, p.Length, p.Frame)
}

func (w *worker) writeFrame(fs *flowState, ts int64, length int, frame []byte) {
	if fs.session.Err() != nil {
		return
	}
	if err := fs.session.WritePacket(time.Unix(0, ts).UTC(), length, frame); err == nil {
		w.st.rawWritten++
	} else {
		w.st.rawWriteErrors++
		w.e.cfg.Logger.Error("engine: session pcap write failed; raw data of this connection is incomplete",
			"path", fs.session.Path(), "err", err)
	}
}

// rawBuf holds frames of a connection not yet claimed.
type rawBuf struct {
	data  []byte
	recs  []rawRec
	bytes int
}

type rawRec struct {
	ts     int64
	length int
	n      int
}

func (r *rawBuf) add(ts int64, length int, frame []byte, max int) bool {
	if r.bytes+len(frame) > max {
		return false
	}
	r.data = append(r.data, frame...)
	r.recs = append(r.recs, rawRec{ts: ts, length: length, n: len(frame)})
	r.bytes += len(frame)
	return true
}

// tick runs the worker's housekeeping at time now.
func (w *worker) tick(now int64) {
	if now > w.clock {
		w.clock = now
	}
	w.table.Expire(w.clock, w.expire)
	if w.orphans > 0 || w.clock-w.lastReclaim >= int64(w.e.cfg.IdleTimeouts.Reorder)/2 {
		w.reclaim()
	}
	if w.sessions != nil {
		w.sessions.CloseIdle(time.Unix(0, w.clock-int64(sessionIdle)), time.Unix(0, w.clock-int64(sessionStale)))
	}
	w.publish()
}

func (w *worker) expire(e *entry) {
	w.st.flowsExpired++
	w.endConn(e, parser.EndIdle)
	w.dropConn(e)
}

// flush ends every connection (EndShutdown) and starts afresh.
func (w *worker) flush() {
	// Let the assembler push out what it holds (out-of-order data past
	// gaps) before the parsers end.
	w.cur = nil
	w.curTS = w.clock
	w.asm.FlushAll()
	w.table.Clear(func(e *entry) {
		w.endConn(e, parser.EndShutdown)
		w.dropConn(e)
	})
	w.newAssembler()
	if w.sessions != nil {
		w.sessions.CloseAll()
	}
	w.publish()
}

// publish copies the counters for Stats.
func (w *worker) publish() {
	w.st.flowsActive = w.table.Len()
	w.st.buffered = w.buffered
	if w.sessions != nil {
		w.st.sessionReopens = w.sessions.Reopens
	}
	w.pubMu.Lock()
	m := w.pub.connsByProto
	w.pub = w.st
	if m == nil {
		m = map[string]uint64{}
	}
	for k, v := range w.st.connsByProto {
		m[k] = v
	}
	w.pub.connsByProto = m
	w.pubMu.Unlock()
}

// Goroutine mode.

func (w *worker) startLoop(wg *sync.WaitGroup) {
	w.in = make(chan *batch, 8)
	w.free = make(chan *batch, 9)
	for i := 0; i < 9; i++ {
		w.free <- &batch{items: make([]item, 0, batchItems), arena: make([]byte, 0, batchArena)}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := range w.in {
			stop := false
			for i := range b.items {
				it := &b.items[i]
				switch it.cmd {
				case cmdPacket:
					w.handle(&it.p)
				case cmdTick:
					w.tick(it.now)
				case cmdSync:
					w.publish()
					close(it.done)
				case cmdFlush:
					w.flush()
					close(it.done)
				case cmdStop:
					stop = true
				}
				it.p = decode.Packet{}
			}
			b.items, b.arena = b.items[:0], b.arena[:0]
			w.free <- b
			if stop {
				return
			}
		}
	}()
}

func (w *worker) batch() *batch {
	if w.filling == nil {
		w.filling = <-w.free
	}
	return w.filling
}

func (w *worker) send() {
	if w.filling != nil {
		w.in <- w.filling
		w.filling = nil
	}
}

// enqueue copies the packet into the worker's current batch.
func (w *worker) enqueue(p *decode.Packet) {
	need := len(p.Frame)
	sameBase := len(p.Base) > 0 && len(p.Frame) > 0 && &p.Base[0] == &p.Frame[0] && len(p.Base) == len(p.Frame)
	if !sameBase {
		need += len(p.Base)
	}
	b := w.batch()
	if len(b.items) == cap(b.items) || len(b.arena)+need > cap(b.arena) {
		w.send()
		b = w.batch()
	}
	if need > cap(b.arena) {
		b.arena = make([]byte, 0, need)
	}
	// The bytes are copied before the item is added: a fault in the copy
	// (a mapped capture cut under the reader, see Engine.Run) must not
	// leave an item that points into the file.
	start := len(b.arena)
	b.arena = append(b.arena, p.Frame...)
	frame := b.arena[start:len(b.arena):len(b.arena)]
	base := frame
	if !sameBase {
		start = len(b.arena)
		b.arena = append(b.arena, p.Base...)
		base = b.arena[start:len(b.arena):len(b.arena)]
	}
	b.items = append(b.items, item{cmd: cmdPacket, p: *p})
	q := &b.items[len(b.items)-1].p
	q.TCP, q.Frame, q.Base = nil, frame, base
	if p.Fragments != nil {
		q.Fragments = append([]decode.Fragment(nil), p.Fragments...)
	}
	if len(b.items) == cap(b.items) {
		w.send()
	}
}

func (w *worker) enqueueTick(now int64) {
	b := w.batch()
	b.items = append(b.items, item{cmd: cmdTick, now: now})
	w.send()
}

func (w *worker) enqueueSync(c cmd) chan struct{} {
	done := make(chan struct{})
	b := w.batch()
	b.items = append(b.items, item{cmd: c, done: done})
	w.send()
	return done
}

func (w *worker) stop() {
	b := w.batch()
	b.items = append(b.items, item{cmd: cmdStop})
	w.send()
	close(w.in)
}
