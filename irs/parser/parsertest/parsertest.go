// Package parsertest helps test protocol parsers without the rest of the
// IRS: an in-memory Env that records events and artifacts, and drivers
// that feed a scripted conversation whole, one byte per segment, or in
// random splits, so a test can require identical events from each.
package parsertest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand"
	"net/netip"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Env is an in-memory parser.Env.
type Env struct {
	mu      sync.Mutex
	Opts    parser.Options
	Events  []*event.Event
	Files   map[string][]byte // SHA-256 hex → content
	Mirrors []parser.MirrorRequest
}

// NewEnv returns an Env with default options.
func NewEnv() *Env {
	return &Env{Opts: parser.DefaultOptions(), Files: map[string][]byte{}}
}

// Emit records the event.
func (e *Env) Emit(ev *event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Events = append(e.Events, ev)
}

// SaveArtifact keeps the content in memory, addressed by its SHA-256.
func (e *Env) SaveArtifact(kind, name, contentType string, data []byte) (event.Artifact, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := sha256.Sum256(data)
	m := md5.Sum(data)
	h := hex.EncodeToString(s[:])
	e.Files[h] = append([]byte(nil), data...)
	return event.Artifact{Kind: kind, Name: name, ContentType: contentType, Size: int64(len(data)),
		SHA256: h, MD5: hex.EncodeToString(m[:]), Path: kind + "/" + h}, nil
}

// Options returns Opts.
func (e *Env) Options() parser.Options { return e.Opts }

// RequestMirror records the request.
func (e *Env) RequestMirror(r parser.MirrorRequest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Mirrors = append(e.Mirrors, r)
}

// Segment is one piece of a scripted conversation.
type Segment struct {
	Dir  parser.Direction
	Data []byte
	Gap  int // if non-zero, a gap of this many bytes instead of data
}

// C and S build client and server segments from strings.
func C(s string) Segment { return Segment{Dir: parser.ClientToServer, Data: []byte(s)} }
func S(s string) Segment { return Segment{Dir: parser.ServerToClient, Data: []byte(s)} }

// Conn returns a plausible TCP connection description for tests.
func Conn(serverPort uint16) *parser.Conn {
	return &parser.Conn{
		ID:        1,
		Transport: parser.TCP,
		Client:    netip.MustParseAddrPort("192.0.2.10:40000"),
		Server:    netip.AddrPortFrom(netip.MustParseAddr("192.0.2.20"), serverPort),
		Start:     time.Unix(1700000000, 0).UTC(),
	}
}

// Split says how Run cuts each segment.
type Split int

const (
	Whole  Split = iota // each segment in one piece
	Bytes               // one byte per call
	Random              // random cuts (seeded, reproducible)
)

// Run feeds the conversation to a new parser from det and returns the
// events and the env. Timestamps advance one millisecond per call so that
// event times do not depend on the split.
func Run(det parser.Detector, c *parser.Conn, segs []Segment, split Split, seed int64) (*Env, []*event.Event) {
	env := NewEnv()
	Feed(det.New(c, env), c.Start, segs, split, seed)
	return env, env.Events
}

// Feed gives p the conversation segs as Run does — segment i at start+i
// ms, split as asked (Random split seeded by seed), gaps reported — and
// ends it: EndDone if p stopped wanting data, EndClosed otherwise. It is
// for tests that build the parser themselves (other options, or a look
// at its state afterwards).
func Feed(p parser.Parser, start time.Time, segs []Segment, split Split, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	for i, s := range segs {
		segTS := start.Add(time.Duration(i) * time.Millisecond)
		if !p.IsContinue() {
			break
		}
		if s.Gap != 0 {
			p.Gap(s.Dir, s.Gap, segTS)
			continue
		}
		data := s.Data
		for len(data) > 0 && p.IsContinue() {
			n := len(data)
			switch split {
			case Bytes:
				n = 1
			case Random:
				n = 1 + rng.Intn(len(data))
			}
			p.ProcessPacket(s.Dir, data[:n], segTS)
			data = data[n:]
		}
	}
	end := start.Add(time.Duration(len(segs)) * time.Millisecond)
	reason := parser.EndClosed
	if !p.IsContinue() {
		reason = parser.EndDone
	}
	p.EndProcess(reason, end)
}

// Gap is a segment reporting n bytes missing in direction dir (n < 0:
// an unknown number).
func Gap(dir parser.Direction, n int) Segment { return Segment{Dir: dir, Gap: n} }

// Normalize renders events as indented JSON with the random UID cleared,
// for comparisons and golden files.
func Normalize(evs []*event.Event) string {
	cp := make([]event.Event, len(evs))
	for i, e := range evs {
		cp[i] = *e
		cp[i].UID = ""
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return "marshal error: " + err.Error()
	}
	return string(b)
}
