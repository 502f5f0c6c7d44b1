// Package engine is the IRS packet pipeline: it reads a capture.Source,
// decodes every frame (package decode), spreads flows over workers by a
// symmetric hash of the host pair, so that both directions of a flow, and
// the related flows of one pair of hosts, meet on one worker,
// keeps the flow table (package flow), reassembles TCP with gopacket's
// reassembly package, finds the protocol of every new connection by
// content (the registry's detectors), drives the per-connection parsers
// through their lifecycle, hands their events to the sink and keeps the
// raw packets of intercepted sessions in the store.
//
// Use:
//
//	eng, err := engine.New(engine.Config{Node: "irs1", Sink: sink, Store: st})
//	src, err := capture.OpenFile("a.pcap")
//	err = eng.Run(ctx, src) // returns at end of file or when ctx ends
//	src.Close()
//	... Run again with the next file: flows continue across files ...
//	eng.Close()             // ends every open connection (EndShutdown)
//
// Run, Flush and Close must not be called concurrently with each other;
// Stats may be called at any time from any goroutine.
//
// # Lifecycle
//
// Each new connection asks the enabled detectors for its transport
// (Registry.Candidates), giving them the first bytes of each direction
// (TCP, up to Config.DetectBytes per direction) or each datagram. While
// they answer NeedMore the bytes and packets are buffered (bounded). The
// first Yes (in registration order) claims the connection: its parser
// gets the buffered bytes and everything after, in order; YesReversed
// swaps client and server first. When every detector said No, or the
// buffer is full, the connection is left alone (still tracked, never
// parsed). A parser's EndProcess is called exactly once: FIN/RST
// (EndClosed), idle timeout (EndIdle), eviction (EndEvicted), Flush or
// Close (EndShutdown), or when it says IsContinue() == false (EndDone).
// A parser that panics is recovered, counted, reported as an anomaly
// event and dropped for that connection (it is not called again, not even
// EndProcess).
//
// # What parsers get
//
// TCP: the reassembled stream bytes of each direction, in order, with
// Gap for bytes that never arrived. UDP: each datagram's payload. ICMP
// and GRE: each whole message, from the ICMP type byte or the GRE flags
// on. ESP: each whole ESP packet (SPI, sequence number, ciphertext).
// IP-in-IP (protocols 4 and 41): the inner IP packet.
//
// # TCP
//
// Client is the SYN sender; without a SYN (a capture that began
// mid-connection) the side on the well-known or else the lower port is
// taken for the server and Conn.MidStream is set. Retransmitted bytes
// are dropped; where a segment overlaps bytes already delivered, those
// win; out-of-order bytes still queued are replaced by a later copy
// (gopacket's reassembly policy). Data behind a hole waits at most
// IdleTimeouts.Reorder or until the per-flow buffer is full, then the
// stream moves on and the parser gets Gap(dir, n). FIN both ways or an
// accepted RST ends the connection.
//
// # Time
//
// Idle timeouts follow packet timestamps for files and the clock for live
// sources. Each worker's clock only moves forward, so files processed in
// sequence behave like one capture when their timestamps continue.
//
// # Determinism
//
// For the same input and the same number of workers, the engine makes the
// same connections with the same IDs, the same parser calls and the same
// session files. Event UIDs are random, and with more than one worker
// events from different workers reach the sink in an order that depends
// on scheduling: sort them with SortEvents (or use a Collector) when a
// stable order is needed.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/decode"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/flow"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

// IdleTimeouts end connections that have been quiet for a while.
type IdleTimeouts struct {
	TCP       time.Duration // open TCP connections (default 15 min)
	TCPClosed time.Duration // after FIN/RST, to absorb the last ACKs (default 10 s)
	UDP       time.Duration // UDP flows (default 2 min)
	Other     time.Duration // GRE, ICMP, ESP flows (default 2 min)
	// Reorder is how long out-of-order TCP data waits for the missing
	// bytes before the stream moves on and reports a gap (default 30 s).
	Reorder time.Duration
}

// Config configures an Engine. Zero values take the defaults of
// DefaultConfig.
type Config struct {
	// Node is this IRS's name, put into every event.
	Node string
	// Workers is the number of worker goroutines. 0 or 1 runs everything
	// in Run's goroutine (fastest on one core, no copies); more spread
	// the flows over that many goroutines.
	Workers int
	// Registry holds the detectors (default parser.Default).
	Registry *parser.Registry
	// Sink receives the events. The engine serialises calls to Put, so
	// any Sink works. Nil drops events (they are still counted).
	Sink event.Sink
	// Store keeps session pcaps and restored files. Nil keeps no raw
	// data, and SaveArtifact fails with ErrNoStore.
	Store *store.Store
	// NoSessionPcaps keeps restored files in the Store but writes no
	// session pcaps (events then carry no RawRef).
	NoSessionPcaps bool
	// Options are passed to the parsers.
	Options parser.Options
	// IdleTimeouts per class of flow.
	IdleTimeouts IdleTimeouts
	// MaxFlows caps the flows tracked (over all workers; default 1<<20).
	// Beyond it the least recently seen flow is evicted.
	MaxFlows int
	// MaxBufferPerFlow caps the bytes one flow may hold: out-of-order TCP
	// data waiting for a gap, and packets kept for the session pcap
	// before a parser claims the connection (each; default 1 MiB).
	MaxBufferPerFlow int
	// MaxBufferTotal caps, per worker, the out-of-order TCP data of all
	// flows, and separately what all connections still being detected
	// hold (packets for the session pcap, bytes for the detectors).
	// Default 256 MiB.
	MaxBufferTotal int
	// DetectBytes caps the bytes per direction given to the detectors
	// before the engine gives up on a connection (default 4096).
	DetectBytes int
	// DetectDatagrams caps the datagrams per flow given to the detectors
	// (default 16).
	DetectDatagrams int
	// MaxOpenFiles caps the session pcaps open at once (over all workers;
	// default 256). Others are closed and reopened in append mode.
	MaxOpenFiles int
	// OnMirrorRequest receives parsers' requests to mirror a related
	// connection. Nil ignores them. Called from worker goroutines.
	OnMirrorRequest func(parser.MirrorRequest)
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// DefaultConfig returns the defaults, in one place.
func DefaultConfig() Config {
	return Config{
		Node:    "irs",
		Workers: 1,
		Options: parser.DefaultOptions(),
		IdleTimeouts: IdleTimeouts{
			TCP:       15 * time.Minute,
			TCPClosed: 10 * time.Second,
			UDP:       2 * time.Minute,
			Other:     2 * time.Minute,
			Reorder:   30 * time.Second,
		},
		MaxFlows:         1 << 20,
		MaxBufferPerFlow: 1 << 20,
		MaxBufferTotal:   256 << 20,
		DetectBytes:      4096,
		DetectDatagrams:  16,
		MaxOpenFiles:     256,
	}
}

func (c *Config) fill() error {
	d := DefaultConfig()
	if c.Node == "" {
		c.Node = d.Node
	}
	if c.Workers < 0 || c.MaxFlows < 0 || c.MaxBufferPerFlow < 0 || c.MaxBufferTotal < 0 ||
		c.DetectBytes < 0 || c.DetectDatagrams < 0 || c.MaxOpenFiles < 0 {
		return errors.New("engine: config: negative limit")
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.Workers > 1024 {
		return fmt.Errorf("engine: config: %d workers is too many", c.Workers)
	}
	if c.Registry == nil {
		c.Registry = parser.Default
	}
	if c.Options == (parser.Options{}) {
		c.Options = d.Options
	}
	t, dt := &c.IdleTimeouts, d.IdleTimeouts
	for _, p := range []struct{ v, def *time.Duration }{
		{&t.TCP, &dt.TCP}, {&t.TCPClosed, &dt.TCPClosed}, {&t.UDP, &dt.UDP}, {&t.Other, &dt.Other}, {&t.Reorder, &dt.Reorder},
	} {
		if *p.v < 0 {
			return errors.New("engine: config: negative idle timeout")
		}
		if *p.v == 0 {
			*p.v = *p.def
		}
	}
	if c.MaxFlows == 0 {
		c.MaxFlows = d.MaxFlows
	}
	if c.MaxBufferPerFlow == 0 {
		c.MaxBufferPerFlow = d.MaxBufferPerFlow
	}
	if c.MaxBufferTotal == 0 {
		c.MaxBufferTotal = d.MaxBufferTotal
	}
	if c.DetectBytes == 0 {
		c.DetectBytes = d.DetectBytes
	}
	if c.DetectDatagrams == 0 {
		c.DetectDatagrams = d.DetectDatagrams
	}
	if c.MaxOpenFiles == 0 {
		c.MaxOpenFiles = d.MaxOpenFiles
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// ErrNoStore is returned by SaveArtifact when the engine has no Store.
var ErrNoStore = errors.New("engine: no data directory configured")

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("engine: closed")

// tickInterval is how often (in packet or clock time) workers expire idle
// flows and publish their counters.
const tickInterval = int64(time.Second)

// Engine is the IRS pipeline.
type Engine struct {
	cfg     Config
	dec     *decode.Decoder
	workers []*worker
	pool    bool // workers run in their own goroutines
	wg      sync.WaitGroup

	sinkMu sync.Mutex
	events atomic.Uint64

	running atomic.Bool
	closed  bool

	// Dispatcher state (Run's goroutine).
	clock    int64
	nextTick int64
	pkt      decode.Packet
	cpkt     capture.Packet
	sinceRun uint64
	nPackets uint64
	nBytes   uint64
	lastSend int64

	pubMu      sync.Mutex
	pubDecode  decode.Counters
	pubPackets uint64
	pubBytes   uint64
	srcMu      sync.Mutex
	src        capture.Source
	srcDone    capture.Stats
}

// New builds an engine. Workers start at once when Workers > 1.
func New(cfg Config) (*Engine, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, dec: decode.NewDecoder()}
	n := cfg.Workers
	perFlows := (cfg.MaxFlows + n - 1) / n
	perFiles := (cfg.MaxOpenFiles + n - 1) / n
	for i := 0; i < n; i++ {
		e.workers = append(e.workers, newWorker(e, i, perFlows, perFiles))
	}
	if n > 1 {
		e.pool = true
		for _, w := range e.workers {
			w.startLoop(&e.wg)
		}
	}
	return e, nil
}

// Config returns the configuration in use, defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Run processes src until its end (io.EOF: returns nil), until ctx ends
// (returns ctx.Err()), or until a read error (returned, wrapped; every
// packet before it has been processed). Connections stay open across
// calls: call Run again with the next file, and Flush or Close at the end.
func (e *Engine) Run(ctx context.Context, src capture.Source) error {
	if e.closed {
		return ErrClosed
	}
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("engine: Run called while running")
	}
	defer e.running.Store(false)
	e.srcMu.Lock()
	e.src = src
	e.srcMu.Unlock()
	defer func() {
		e.srcMu.Lock()
		st := src.Stats()
		e.srcDone.Packets += st.Packets
		e.srcDone.Bytes += st.Bytes
		e.srcDone.KernelPackets += st.KernelPackets
		e.srcDone.KernelDrops += st.KernelDrops
		e.srcDone.KernelQueueFreezes += st.KernelQueueFreezes
		e.src = nil
		e.srcMu.Unlock()
	}()
	// A mapped capture file that shrinks under the reader makes its
	// pages fault where a packet's bytes are next touched. Next touches
	// them first and reports that; if the file is cut in the instant
	// after, the fault comes here (decoding, reassembly; a parser's is
	// taken as its failure): as a panic, which loop turns into the
	// truncation error instead of a crash. Packets handed to other
	// workers are copies, never the mapping.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	err := e.loop(ctx, src)
	e.sync()
	return err
}

// loop reads and handles src's packets until its end, ctx's or an error
// (see Run). A memory fault while a packet is handled ends it with
// errPacketFault: recovered once for the whole loop, as a recover
// deferred per packet cost about 1% of the packet path.
func (e *Engine) loop(ctx context.Context, src capture.Source) (err error) {
	live := src.Live()
	done := ctx.Done()
	var n uint64
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = fmt.Errorf("engine: %s: packet %d: %w", src.Name(), n+1, errPacketFault)
		}
	}()
	var lastWall time.Time
	for ; ; n++ {
		if n&255 == 0 {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
			if live {
				if now := time.Now(); now.Sub(lastWall) >= time.Second {
					lastWall = now
					e.tick(now.UnixNano())
				}
			}
		}
		if rerr := src.Next(&e.cpkt); rerr != nil {
			if rerr == capture.ErrTimeout {
				select {
				case <-done:
					return ctx.Err()
				default:
				}
				// A quiet moment: hand the workers what is waiting.
				e.sendBatches()
				if now := time.Now(); now.Sub(lastWall) >= time.Second {
					lastWall = now
					e.tick(now.UnixNano())
				}
				continue
			}
			if rerr != io.EOF {
				return fmt.Errorf("engine: %w", rerr)
			}
			return nil
		}
		e.packet(live)
		if live && e.pool {
			// Live traffic may trickle: do not let packets wait in a
			// half-full batch for more than a few milliseconds.
			if ts := e.cpkt.Timestamp.UnixNano(); ts-e.lastSend > int64(5*time.Millisecond) {
				e.lastSend = ts
				e.sendBatches()
			}
		}
	}
}

// errPacketFault is the error for a packet whose bytes faulted in use.
var errPacketFault = fmt.Errorf("its bytes vanished while in use (the file shrank while being read): %w", capture.ErrTruncated)

// packet decodes the frame in e.cpkt and hands it to its worker.
func (e *Engine) packet(live bool) {
	cp := &e.cpkt
	ts := cp.Timestamp.UnixNano()
	if !live && ts > e.clock {
		e.clock = ts
		if e.clock >= e.nextTick {
			e.tick(e.clock)
		}
	}
	e.sinceRun++
	if e.sinceRun&4095 == 0 {
		e.publish()
	}
	e.nPackets++
	e.nBytes += uint64(len(cp.Data))
	res, _ := e.dec.Decode(cp.Data, cp.LinkType, ts, cp.Length, &e.pkt)
	if res != decode.Decoded {
		return // not for a flow; the decoder counted why
	}
	p := &e.pkt
	w := e.workers[0]
	if len(e.workers) > 1 {
		// By host pair, not 5-tuple: related flows (FTP control and
		// data, PPTP control and GRE) meet on one worker and are seen
		// in capture order, so a data connection is never looked at
		// before the reply that announced it. A fixed seed: the same
		// flow goes to the same worker in every run, which keeps
		// connection IDs reproducible.
		k, _ := flow.MakeKey(p.Family, p.Proto, &p.Src, &p.Dst, p.SrcPort, p.DstPort)
		h := k.PairHash(0x5d1f)
		w = e.workers[(h>>32)*uint64(len(e.workers))>>32]
	}
	if e.pool {
		w.enqueue(p)
	} else {
		w.handle(p)
	}
}

// tick advances every worker's clock: idle expiry, counters.
func (e *Engine) tick(now int64) {
	if now > e.clock {
		e.clock = now
	}
	e.nextTick = e.clock + tickInterval
	e.dec.Expire(e.clock)
	e.publish()
	for _, w := range e.workers {
		if e.pool {
			w.enqueueTick(e.clock)
		} else {
			w.tick(e.clock)
		}
	}
}

// sendBatches hands every worker its partly filled batch.
func (e *Engine) sendBatches() {
	if e.pool {
		for _, w := range e.workers {
			w.send()
		}
	}
}

// sync waits until the workers processed everything handed to them.
func (e *Engine) sync() {
	e.publish()
	if !e.pool {
		for _, w := range e.workers {
			w.publish()
		}
		return
	}
	chans := make([]chan struct{}, len(e.workers))
	for i, w := range e.workers {
		chans[i] = w.enqueueSync(cmdSync)
	}
	for _, c := range chans {
		<-c
	}
}

func (e *Engine) publish() {
	e.pubMu.Lock()
	e.pubDecode = e.dec.Counters
	e.pubDecode.ByReason[decode.ReasonFragmentEvicted] += e.dec.Defrag.Evicted
	e.pubPackets, e.pubBytes = e.nPackets, e.nBytes
	e.pubMu.Unlock()
}

// Flush ends every open connection with EndShutdown (their parsers emit
// their final events) and closes the session files. The engine stays
// usable: packets after Flush start new connections.
func (e *Engine) Flush() {
	if e.closed {
		return
	}
	if !e.pool {
		for _, w := range e.workers {
			w.flush()
		}
		return
	}
	chans := make([]chan struct{}, len(e.workers))
	for i, w := range e.workers {
		chans[i] = w.enqueueSync(cmdFlush)
	}
	for _, c := range chans {
		<-c
	}
}

// Close flushes (EndShutdown for every open connection) and stops the
// workers. It is safe to call twice.
func (e *Engine) Close() error {
	if e.closed {
		return nil
	}
	e.Flush()
	e.closed = true
	if e.pool {
		for _, w := range e.workers {
			w.stop()
		}
		e.wg.Wait()
	}
	return nil
}

// emit hands an event to the sink, one at a time.
func (e *Engine) emit(ev *event.Event) {
	e.events.Add(1)
	if e.cfg.Sink == nil {
		return
	}
	e.sinkMu.Lock()
	defer e.sinkMu.Unlock()
	e.cfg.Sink.Put(ev)
}
