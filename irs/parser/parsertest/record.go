package parsertest

import (
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Recorder wraps a Detector and records every call the IRS makes to it
// and to the parsers it creates, so that a benchmark can run a real
// capture through the whole pipeline once and then replay the parser's
// share of the work alone, as often as it likes.
type Recorder struct {
	parser.Detector
	mu     sync.Mutex
	probes []probe
	conns  []*recorded
}

// Record returns a Recorder around det; add it to a registry in det's
// place.
func Record(det parser.Detector) *Recorder { return &Recorder{Detector: det} }

type probe struct {
	conn parser.Conn
	dir  parser.Direction
	data []byte
}

type callKind uint8

const (
	callPacket callKind = iota
	callGap
	callEnd
)

type call struct {
	kind   callKind
	dir    parser.Direction
	data   []byte
	n      int
	ts     time.Time
	reason parser.EndReason
}

type recorded struct {
	conn  parser.Conn
	calls []call
}

// IsRelative records the question and answers it with the wrapped
// detector.
func (r *Recorder) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	r.mu.Lock()
	r.probes = append(r.probes, probe{conn: *c, dir: dir, data: append([]byte(nil), data...)})
	r.mu.Unlock()
	return r.Detector.IsRelative(c, dir, data)
}

// New records a new connection and returns the wrapped detector's parser
// behind a recording one.
func (r *Recorder) New(c *parser.Conn, env parser.Env) parser.Parser {
	rc := &recorded{conn: *c}
	r.mu.Lock()
	r.conns = append(r.conns, rc)
	r.mu.Unlock()
	return &recParser{p: r.Detector.New(c, env), rc: rc}
}

// Conns returns how many connections were recorded.
func (r *Recorder) Conns() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

// Replay feeds every recorded connection to a new parser from det, call
// by call, with env as the parsers' Env. Give it a fresh detector (and
// env) per run when the detector keeps state across connections.
func (r *Recorder) Replay(det parser.Detector, env parser.Env) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rc := range r.conns {
		c := rc.conn
		p := det.New(&c, env)
		for _, k := range rc.calls {
			switch k.kind {
			case callPacket:
				p.ProcessPacket(k.dir, k.data, k.ts)
			case callGap:
				p.Gap(k.dir, k.n, k.ts)
			case callEnd:
				p.EndProcess(k.reason, k.ts)
			}
		}
	}
}

// ReplayProbes asks det's IsRelative every recorded question.
func (r *Recorder) ReplayProbes(det parser.Detector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var c parser.Conn // one copy reused, as the IRS passes its own
	for i := range r.probes {
		pr := &r.probes[i]
		c = pr.conn
		det.IsRelative(&c, pr.dir, pr.data)
	}
}

// recParser records the calls of one connection. A parser is used by one
// worker only, so its log needs no lock.
type recParser struct {
	p  parser.Parser
	rc *recorded
}

func (p *recParser) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	p.rc.calls = append(p.rc.calls, call{kind: callPacket, dir: dir, data: append([]byte(nil), data...), ts: ts})
	p.p.ProcessPacket(dir, data, ts)
}

func (p *recParser) Gap(dir parser.Direction, n int, ts time.Time) {
	p.rc.calls = append(p.rc.calls, call{kind: callGap, dir: dir, n: n, ts: ts})
	p.p.Gap(dir, n, ts)
}

func (p *recParser) IsContinue() bool { return p.p.IsContinue() }

func (p *recParser) EndProcess(reason parser.EndReason, ts time.Time) {
	p.rc.calls = append(p.rc.calls, call{kind: callEnd, reason: reason, ts: ts})
	p.p.EndProcess(reason, ts)
}

// Discard is an Env that drops events and stores no artifact (it
// describes them by size only): benchmarks measure the parser, not the
// store.
type Discard struct{ Opts parser.Options }

// NewDiscard returns a Discard with default options.
func NewDiscard() *Discard { return &Discard{Opts: parser.DefaultOptions()} }

func (*Discard) Emit(*event.Event) {}

func (*Discard) SaveArtifact(kind, name, contentType string, data []byte) (event.Artifact, error) {
	return event.Artifact{Kind: kind, Name: name, ContentType: contentType, Size: int64(len(data))}, nil
}

func (d *Discard) Options() parser.Options { return d.Opts }

func (*Discard) RequestMirror(parser.MirrorRequest) {}
