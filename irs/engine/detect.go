package engine

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

// detection is a connection's state while the detectors decide.
type detection struct {
	cands []parser.Detector
	out   []bool // the detector said No (or panicked)
	buf   [2][]byte
	log   []chunk
	full  [2]bool
	grams int
}

// chunk is one piece of data (or a gap) in arrival order, to replay to
// the parser that claims the connection.
type chunk struct {
	dir    parser.Direction
	off, n int
	gap    int
	ts     int64
}

func (w *worker) detection(e *entry) *detection {
	fs := &e.V
	if fs.det == nil {
		c := w.e.cfg.Registry.Candidates(fs.conn.Transport)
		if n := len(w.detFree); n > 0 {
			d := w.detFree[n-1]
			w.detFree = w.detFree[:n-1]
			d.cands, d.out = c, append(d.out, make([]bool, len(c))...)
			fs.det = d
		} else {
			fs.det = &detection{cands: c, out: make([]bool, len(c))}
		}
	}
	return fs.det
}

// Detection states are kept for reuse up to maxFreeDetections, with their
// buffers when these are no larger than reusedDetectBuffer.
const (
	maxFreeDetections  = 256
	reusedDetectBuffer = 4 << 10
)

// retire keeps d, which its connection no longer uses, for reuse from the
// next packet on.
func (w *worker) retire(d *detection) {
	if len(w.detRetired)+len(w.detFree) < maxFreeDetections {
		w.detRetired = append(w.detRetired, d)
	}
}

// reuseDetections makes the detection states retired during the last
// packet available, emptied.
func (w *worker) reuseDetections() {
	for _, d := range w.detRetired {
		for i := range d.buf {
			if cap(d.buf[i]) > reusedDetectBuffer {
				d.buf[i] = nil
			}
			d.buf[i] = d.buf[i][:0]
		}
		if cap(d.log) > reusedDetectBuffer/32 {
			d.log = nil
		}
		*d = detection{out: d.out[:0], buf: d.buf, log: d.log[:0]}
		w.detFree = append(w.detFree, d)
	}
	clear(w.detRetired)
	w.detRetired = w.detRetired[:0]
}

// detectStream adds TCP stream bytes to the detection buffer of dir and
// asks the detectors again. Bytes beyond the cap are not buffered: if a
// detector claims the connection with what fits, the parser gets the rest
// of the chunk directly; if not, the engine gives up on the connection.
func (w *worker) detectStream(e *entry, dir parser.Direction, data []byte, ts int64) {
	d := w.detection(e)
	max := w.e.cfg.DetectBytes
	n := min(max-len(d.buf[dir]), len(data))
	if n <= 0 {
		return
	}
	if w.buffered+n > w.e.cfg.MaxBufferTotal {
		w.overBudget(e)
		return
	}
	w.buffered += n
	d.log = append(d.log, chunk{dir: dir, off: len(d.buf[dir]), n: n, ts: ts})
	d.buf[dir] = append(d.buf[dir], data[:n]...)
	w.decide(e, d, dir, d.buf[dir], ts)
	switch e.V.state {
	case stParsing:
		if n < len(data) {
			w.feed(e, dir, data[n:], ts)
		}
	case stDetecting:
		if len(d.buf[dir]) >= max {
			d.full[dir] = true
			w.st.detectGaveUp++
			w.st.detectOverflow += uint64(len(data) - n)
			w.ignore(e)
		}
	}
}

// detectDatagram asks the detectors about one datagram, keeping it for
// the parser should one claim the flow later.
func (w *worker) detectDatagram(e *entry, dir parser.Direction, payload []byte, ts int64) {
	d := w.detection(e)
	d.grams++
	if w.buffered+len(payload) > w.e.cfg.MaxBufferTotal {
		w.overBudget(e)
		return
	}
	if len(d.buf[dir])+len(payload) <= w.e.cfg.DetectBytes {
		w.buffered += len(payload)
		d.log = append(d.log, chunk{dir: dir, off: len(d.buf[dir]), n: len(payload), ts: ts})
		d.buf[dir] = append(d.buf[dir], payload...)
	} else {
		d.full[dir] = true
		w.st.detectOverflow += uint64(len(payload))
	}
	w.decide(e, d, dir, payload, ts)
	if e.V.state == stDetecting && (d.grams >= w.e.cfg.DetectDatagrams || d.full[dir]) {
		w.st.detectGaveUp++
		w.ignore(e)
	}
}

// overBudget gives up on a connection's detection because the worker's
// detection buffers are full (many connections at once that no detector
// decides on: a flood).
func (w *worker) overBudget(e *entry) {
	w.st.detectGaveUp++
	w.st.detectBudget++
	w.ignore(e)
}

// gap reports missing stream bytes.
func (w *worker) gap(e *entry, dir parser.Direction, n int, ts int64) {
	w.st.tcpGaps++
	if n > 0 {
		w.st.tcpGapBytes += uint64(n)
	}
	fs := &e.V
	switch fs.state {
	case stDetecting:
		d := w.detection(e)
		d.log = append(d.log, chunk{dir: dir, gap: n, ts: ts})
	case stParsing:
		if w.callGap(e, dir, n, ts) {
			w.checkContinue(e, ts)
		}
	}
}

// deliver hands in-order stream bytes to the connection.
func (w *worker) deliver(e *entry, dir parser.Direction, data []byte, ts int64) {
	switch e.V.state {
	case stDetecting:
		w.detectStream(e, dir, data, ts)
	case stParsing:
		w.feed(e, dir, data, ts)
	}
}

// decide asks every detector still in the running about data, and
// claims the connection for the first that says yes.
func (w *worker) decide(e *entry, d *detection, dir parser.Direction, data []byte, ts int64) {
	fs := &e.V
	waiting := 0
	for i, det := range d.cands {
		if d.out[i] {
			continue
		}
		v, ok := w.isRelative(e, det, dir, data, ts)
		if !ok {
			d.out[i] = true
			continue
		}
		switch v {
		case parser.Yes, parser.YesReversed:
			if !w.e.cfg.Registry.Enabled(det.Name()) {
				d.out[i] = true // switched off since the connection began
				continue
			}
			w.claim(e, d, det, v == parser.YesReversed, ts)
			return
		case parser.No:
			d.out[i] = true
		default:
			waiting++
		}
		if fs.state != stDetecting {
			return
		}
	}
	if waiting == 0 {
		w.ignore(e)
	}
}

// claim gives the connection to det's parser and replays what the
// detectors saw.
func (w *worker) claim(e *entry, d *detection, det parser.Detector, reversed bool, ts int64) {
	fs := &e.V
	if reversed {
		fs.clientIsA = !fs.clientIsA
		fs.conn.Client, fs.conn.Server = fs.conn.Server, fs.conn.Client
		if fs.stream != nil {
			fs.stream.c2sIsClient = !fs.stream.c2sIsClient
		}
		d.buf[0], d.buf[1] = d.buf[1], d.buf[0]
		for i := range d.log {
			d.log[i].dir = d.log[i].dir.Reverse()
		}
	}
	name := det.Name()
	env := &connEnv{w: w, conn: fs.conn, proto: name, transport: fs.conn.Transport.String()}
	c := &env.conn // the parser's Conn lives in its env: one allocation for both
	if w.sessions != nil {
		w.openSession(fs, name, env)
	}
	fs.proto, fs.env = name, env
	p, ok := w.newParser(e, det, c, env)
	if !ok || p == nil {
		w.ignore(e)
		return
	}
	fs.p = p
	fs.state = stParsing
	w.st.connsByProto[name]++
	w.release(fs) // d stays ours until the replay is done
	for _, ch := range d.log {
		if fs.state != stParsing {
			break
		}
		var ok bool
		if ch.gap != 0 {
			ok = w.callGap(e, ch.dir, ch.gap, ch.ts)
		} else {
			ok = w.callProcess(e, ch.dir, d.buf[ch.dir][ch.off:ch.off+ch.n], ch.ts)
		}
		if ok {
			w.checkContinue(e, ch.ts)
		}
	}
}

// openSession creates the session pcap and writes the packets buffered
// while detecting.
func (w *worker) openSession(fs *flowState, name string, env *connEnv) {
	s, err := w.sessions.Create(store.SessionInfo{
		Protocol: name, ID: fs.conn.ID, Client: fs.conn.Client, Server: fs.conn.Server,
		Start: fs.conn.Start, LinkType: fs.lt,
	})
	if err != nil {
		w.st.rawWriteErrors++
		w.e.cfg.Logger.Error("engine: cannot create session pcap; raw data of this connection is lost",
			"protocol", name, "conn", fs.conn.ID, "err", err)
		return
	}
	fs.session = s
	env.session = s
	if r := fs.pending; r != nil {
		off := 0
		for _, rec := range r.recs {
			w.writeFrame(fs, rec.ts, rec.length, r.data[off:off+rec.n])
			off += rec.n
		}
	}
}

// feed gives data to the parser and checks whether it wants more.
func (w *worker) feed(e *entry, dir parser.Direction, data []byte, ts int64) {
	if w.callProcess(e, dir, data, ts) {
		w.checkContinue(e, ts)
	}
}

func (w *worker) checkContinue(e *entry, ts int64) {
	fs := &e.V
	if fs.state != stParsing {
		return
	}
	more, ok := w.callContinue(e)
	if !ok || more {
		return
	}
	w.callEnd(e, parser.EndDone)
	w.done(e)
}

// Protected calls into detectors and parsers: a panic is recovered,
// counted, reported as an anomaly event, and the parser is dropped.

func (w *worker) isRelative(e *entry, det parser.Detector, dir parser.Direction, data []byte, ts int64) (v parser.Verdict, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			w.panicked(e, det.Name(), "IsRelative", r, ts)
			ok = false
		}
	}()
	return det.IsRelative(&e.V.conn, dir, data), true
}

func (w *worker) newParser(e *entry, det parser.Detector, c *parser.Conn, env parser.Env) (p parser.Parser, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			w.panicked(e, det.Name(), "New", r, e.V.lastTS)
			ok = false
		}
	}()
	return det.New(c, env), true
}

func (w *worker) callProcess(e *entry, dir parser.Direction, data []byte, ts int64) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			w.parserPanicked(e, "ProcessPacket", r, ts)
			ok = false
		}
	}()
	e.V.p.ProcessPacket(dir, data, time.Unix(0, ts).UTC())
	return true
}

func (w *worker) callGap(e *entry, dir parser.Direction, n int, ts int64) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			w.parserPanicked(e, "Gap", r, ts)
			ok = false
		}
	}()
	e.V.p.Gap(dir, n, time.Unix(0, ts).UTC())
	return true
}

func (w *worker) callContinue(e *entry) (more, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			w.parserPanicked(e, "IsContinue", r, e.V.lastTS)
			ok = false
		}
	}()
	return e.V.p.IsContinue(), true
}

// callEnd calls EndProcess once and forgets the parser.
func (w *worker) callEnd(e *entry, reason parser.EndReason) {
	fs := &e.V
	p := fs.p
	fs.p = nil
	if p == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			w.panicked(e, fs.proto, "EndProcess", r, fs.lastTS)
		}
	}()
	p.EndProcess(reason, time.Unix(0, fs.lastTS).UTC())
}

// parserPanicked drops the connection's parser after a panic.
func (w *worker) parserPanicked(e *entry, call string, r any, ts int64) {
	fs := &e.V
	w.panicked(e, fs.proto, call, r, ts)
	fs.p = nil
	w.done(e)
}

// panicked counts a recovered panic and reports it as an anomaly event.
func (w *worker) panicked(e *entry, proto, call string, r any, ts int64) {
	w.st.parserPanics++
	fs := &e.V
	w.e.cfg.Logger.Error("engine: parser panicked; dropped for this connection",
		"protocol", proto, "call", call, "conn", fs.conn.ID,
		"client", fs.conn.Client.String(), "server", fs.conn.Server.String(),
		"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	at := time.Unix(0, ts).UTC()
	ev := &event.Event{
		UID:       event.NewUID(),
		Node:      w.e.cfg.Node,
		Protocol:  proto,
		Type:      "anomaly",
		Start:     fs.conn.Start,
		End:       at,
		Transport: fs.conn.Transport.String(),
		Client:    fs.conn.Client,
		Server:    fs.conn.Server,
		Subject:   "parser failure",
		Anomalies: []string{fmt.Sprintf("%s parser panicked in %s on connection %d (%s → %s): %v; the rest of the connection was not parsed",
			proto, call, fs.conn.ID, fs.conn.Client, fs.conn.Server, r)},
	}
	if fs.session != nil {
		ev.RawRef = fs.session.Path()
	}
	w.e.emit(ev)
}

// connEnv is the parser.Env of one connection.
type connEnv struct {
	w         *worker
	conn      parser.Conn // the connection the parser was given (&conn)
	proto     string
	transport string
	session   *store.Session // nil without raw data
}

// Emit fills in what the parser left empty and hands the event to the
// sink.
func (c *connEnv) Emit(ev *event.Event) {
	if ev == nil {
		return
	}
	if ev.UID == "" {
		ev.UID = event.NewUID()
	}
	if ev.Node == "" {
		ev.Node = c.w.e.cfg.Node
	}
	if ev.Protocol == "" {
		ev.Protocol = c.proto
	}
	if ev.Transport == "" {
		ev.Transport = c.transport
	}
	if !ev.Client.IsValid() {
		ev.Client = c.conn.Client
	}
	if !ev.Server.IsValid() {
		ev.Server = c.conn.Server
	}
	if c.session != nil {
		// The event names the session pcap: what it covers must be on
		// disk before an analyst can fetch the file.
		_ = c.session.Flush()
		if ev.RawRef == "" {
			ev.RawRef = c.session.Path()
		}
	}
	c.w.e.emit(ev)
}

// SaveArtifact stores a restored file in the data directory.
func (c *connEnv) SaveArtifact(kind, name, contentType string, data []byte) (event.Artifact, error) {
	st := c.w.e.cfg.Store
	if st == nil {
		return event.Artifact{}, ErrNoStore
	}
	return st.SaveArtifact(kind, name, contentType, data)
}

// Options returns the operator's settings.
func (c *connEnv) Options() parser.Options { return c.w.e.cfg.Options }

// RequestMirror passes the request to the configured callback, if any.
func (c *connEnv) RequestMirror(req parser.MirrorRequest) {
	if fn := c.w.e.cfg.OnMirrorRequest; fn != nil {
		if req.Protocol == "" {
			req.Protocol = c.proto
		}
		fn(req)
	}
}
