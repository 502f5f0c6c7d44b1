package engine

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// The echo protocol exists only for these tests: the client sends lines
// "ECHO <text>", the server answers "<text>". "QUIT" ends the parser's
// interest (IsContinue false); a line containing "PANIC" makes the parser
// panic, as a buggy parser would.

type echoDetector struct {
	name string
	rec  *recorder
}

func (d *echoDetector) Name() string { return d.name }
func (d *echoDetector) Transports() []parser.Transport {
	return []parser.Transport{parser.TCP, parser.UDP}
}

func (d *echoDetector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	const magic = "ECHO "
	if len(data) < len(magic) {
		if strings.HasPrefix(magic, string(data)) {
			return parser.NeedMore
		}
		if dir == parser.ServerToClient {
			return parser.NeedMore
		}
		return parser.No
	}
	if bytes.HasPrefix(data, []byte(magic)) {
		if dir == parser.ServerToClient {
			return parser.YesReversed
		}
		return parser.Yes
	}
	if dir == parser.ServerToClient {
		return parser.NeedMore // let the client speak
	}
	return parser.No
}

func (d *echoDetector) New(c *parser.Conn, env parser.Env) parser.Parser {
	p := &echoParser{det: d, c: c, env: env}
	d.rec.add(p)
	return p
}

type echoParser struct {
	det    *echoDetector
	c      *parser.Conn
	env    parser.Env
	data   [2]bytes.Buffer
	gaps   []string
	times  []time.Time // of every ProcessPacket and Gap call
	calls  int
	quit   bool
	ends   int
	reason parser.EndReason
	after  int // calls after IsContinue turned false
}

func (p *echoParser) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	p.calls++
	p.times = append(p.times, ts)
	if p.quit {
		p.after++
	}
	if bytes.Contains(data, []byte("PANIC")) {
		panic("echo: PANIC on the wire")
	}
	p.data[dir].Write(data)
	if bytes.Contains(p.data[parser.ClientToServer].Bytes(), []byte("QUIT\n")) {
		p.quit = true
	}
}

func (p *echoParser) Gap(dir parser.Direction, n int, ts time.Time) {
	p.times = append(p.times, ts)
	p.gaps = append(p.gaps, fmt.Sprintf("%s:%d", dir, n))
	p.data[dir].WriteString(fmt.Sprintf("[gap %d]", n))
}

func (p *echoParser) IsContinue() bool { return !p.quit }

func (p *echoParser) EndProcess(r parser.EndReason, ts time.Time) {
	p.ends++
	p.reason = r
	p.env.Emit(&event.Event{
		Type:  "echo-session",
		Start: p.c.Start,
		End:   ts,
		Summary: event.FieldsOf(map[string]any{
			"client":    p.data[parser.ClientToServer].String(),
			"server":    p.data[parser.ServerToClient].String(),
			"gaps":      strings.Join(p.gaps, ","),
			"end":       r.String(),
			"midstream": p.c.MidStream,
		}),
	})
}

// recorder keeps every parser the detector made.
type recorder struct {
	mu      sync.Mutex
	parsers []*echoParser
}

func (r *recorder) add(p *echoParser) {
	r.mu.Lock()
	r.parsers = append(r.parsers, p)
	r.mu.Unlock()
}

func (r *recorder) all() []*echoParser {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*echoParser(nil), r.parsers...)
}

// Packet building.

var (
	macA = net.HardwareAddr{0, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0, 0, 0, 0, 0, 2}
)

type endpoint struct {
	ip   netip.Addr
	port uint16
}

func ep(s string) endpoint {
	ap := netip.MustParseAddrPort(s)
	return endpoint{ap.Addr(), ap.Port()}
}

// capb builds a capture: frames with increasing timestamps.
type capb struct {
	t      testing.TB
	ts     time.Time
	frames []capture.Packet
}

func newCap(t testing.TB) *capb {
	return &capb{t: t, ts: time.Unix(1_700_000_000, 0).UTC()}
}

// after moves the clock forward.
func (c *capb) after(d time.Duration) *capb { c.ts = c.ts.Add(d); return c }

func (c *capb) add(frame []byte) *capb {
	c.ts = c.ts.Add(time.Millisecond)
	c.frames = append(c.frames, capture.Packet{Data: frame, Timestamp: c.ts, Length: len(frame), LinkType: layers.LinkTypeEthernet})
	return c
}

// tcp adds a TCP segment. flags is a string of S, A, F, R, P.
func (c *capb) tcp(src, dst endpoint, flags string, seq, ack uint32, payload string) *capb {
	return c.add(tcpFrame(c.t, src, dst, flags, seq, ack, []byte(payload)))
}

func (c *capb) udp(src, dst endpoint, payload string) *capb {
	return c.add(udpFrame(c.t, src, dst, []byte(payload)))
}

func (c *capb) source() *capture.MemorySource {
	return &capture.MemorySource{SourceName: "test", Frames: c.frames}
}

func ipLayers(src, dst endpoint, proto layers.IPProtocol) (gopacket.SerializableLayer, gopacket.NetworkLayer, layers.EthernetType) {
	if src.ip.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.ip.AsSlice(), DstIP: dst.ip.AsSlice()}
		return ip, ip, layers.EthernetTypeIPv4
	}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.ip.AsSlice(), DstIP: dst.ip.AsSlice()}
	return ip, ip, layers.EthernetTypeIPv6
}

func tcpFrame(t testing.TB, src, dst endpoint, flags string, seq, ack uint32, payload []byte) []byte {
	ipl, nl, et := ipLayers(src, dst, layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port), Seq: seq, Ack: ack, Window: 65535,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), FIN: strings.Contains(flags, "F"),
		RST: strings.Contains(flags, "R"), PSH: strings.Contains(flags, "P")}
	_ = tcp.SetNetworkLayerForChecksum(nl)
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, ipl, tcp, gopacket.Payload(payload))
}

func udpFrame(t testing.TB, src, dst endpoint, payload []byte) []byte {
	ipl, nl, et := ipLayers(src, dst, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.port), DstPort: layers.UDPPort(dst.port)}
	_ = udp.SetNetworkLayerForChecksum(nl)
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, ipl, udp, gopacket.Payload(payload))
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// conv writes a whole TCP conversation with handshake and FIN.
type conv struct {
	c          *capb
	cli, srv   endpoint
	cseq, sseq uint32
	cisn, sisn uint32
}

func newConv(c *capb, cli, srv string) *conv {
	v := &conv{c: c, cli: ep(cli), srv: ep(srv), cisn: 1000, sisn: 5000}
	v.cseq, v.sseq = v.cisn+1, v.sisn+1
	return v
}

func (v *conv) handshake() *conv {
	v.c.tcp(v.cli, v.srv, "S", v.cisn, 0, "")
	v.c.tcp(v.srv, v.cli, "SA", v.sisn, v.cisn+1, "")
	v.c.tcp(v.cli, v.srv, "A", v.cseq, v.sseq, "")
	return v
}

func (v *conv) client(s string) *conv {
	v.c.tcp(v.cli, v.srv, "PA", v.cseq, v.sseq, s)
	v.cseq += uint32(len(s))
	return v
}

func (v *conv) server(s string) *conv {
	v.c.tcp(v.srv, v.cli, "PA", v.sseq, v.cseq, s)
	v.sseq += uint32(len(s))
	return v
}

func (v *conv) fin() *conv {
	v.c.tcp(v.cli, v.srv, "FA", v.cseq, v.sseq, "")
	v.c.tcp(v.srv, v.cli, "FA", v.sseq, v.cseq+1, "")
	v.c.tcp(v.cli, v.srv, "A", v.cseq+1, v.sseq+1, "")
	return v
}

// harness runs an engine with the echo detector.
type harness struct {
	t   testing.TB
	rec *recorder
	reg *parser.Registry
	col *Collector
	eng *Engine
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, rec: &recorder{}, reg: parser.NewRegistry(), col: &Collector{}}
	h.reg.Add(&echoDetector{name: "echo", rec: h.rec})
	cfg.Registry, cfg.Sink = h.reg, h.col
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	eng, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.eng = eng
	t.Cleanup(func() { eng.Close() })
	return h
}

func (h *harness) run(c *capb) {
	h.t.Helper()
	if err := h.eng.Run(context.Background(), c.source()); err != nil {
		h.t.Fatalf("Run: %v", err)
	}
}

// sessions returns the echo-session events' summaries, in stable order.
func (h *harness) sessions() []map[string]any {
	var out []map[string]any
	for _, ev := range h.col.Events() {
		if ev.Type == "echo-session" {
			out = append(out, ev.Summary.Map())
		}
	}
	return out
}

func (h *harness) events(typ string) []*event.Event {
	var out []*event.Event
	for _, ev := range h.col.Events() {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// checkEndOnce fails unless every parser saw EndProcess exactly once
// (except those dropped after a panic, listed by the caller).
func (h *harness) checkEndOnce(panicked int) {
	h.t.Helper()
	zero := 0
	for _, p := range h.rec.all() {
		switch p.ends {
		case 0:
			zero++
		case 1:
		default:
			h.t.Errorf("parser of conn %d: EndProcess called %d times, want once", p.c.ID, p.ends)
		}
	}
	if zero != panicked {
		h.t.Errorf("%d parsers never saw EndProcess, want %d (the panicked ones)", zero, panicked)
	}
}

// repoRoot walks up to the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// sharedPcaps lists every capture under ../shared/pcaps (relative to the
// repository root), sorted.
func sharedPcaps(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", "pcaps")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "refs" {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("shared captures not found in %s (err %v): they are expected beside the repository", dir, err)
	}
	sort.Strings(files)
	return files
}

// countDetector claims every connection of every transport; its parser
// counts bytes. It stands for "a parser on everything" in the tests over
// the shared captures and in the benchmarks.
type countDetector struct {
	mu      sync.Mutex
	parsers []*countParser
	keep    bool // keep the parsers for inspection
}

func (d *countDetector) Name() string { return "count" }
func (d *countDetector) Transports() []parser.Transport {
	return []parser.Transport{parser.TCP, parser.UDP, parser.GRE, parser.ICMP, parser.ESP}
}
func (d *countDetector) IsRelative(*parser.Conn, parser.Direction, []byte) parser.Verdict {
	return parser.Yes
}
func (d *countDetector) New(c *parser.Conn, env parser.Env) parser.Parser {
	p := &countParser{c: c, env: env}
	if d.keep {
		d.mu.Lock()
		d.parsers = append(d.parsers, p)
		d.mu.Unlock()
	}
	return p
}

type countParser struct {
	c     *parser.Conn
	env   parser.Env
	bytes [2]int
	gaps  int
	ends  int
}

func (p *countParser) ProcessPacket(dir parser.Direction, data []byte, _ time.Time) {
	p.bytes[dir] += len(data)
}
func (p *countParser) Gap(parser.Direction, int, time.Time) { p.gaps++ }
func (p *countParser) IsContinue() bool                     { return true }
func (p *countParser) EndProcess(r parser.EndReason, ts time.Time) {
	p.ends++
	p.env.Emit(&event.Event{Type: "count", Start: p.c.Start, End: ts,
		Summary: event.FieldsOf(map[string]any{"c": p.bytes[0], "s": p.bytes[1], "gaps": p.gaps, "end": r.String()})})
}
