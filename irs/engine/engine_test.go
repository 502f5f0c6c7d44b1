package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const (
	cli = "10.0.0.1:40000"
	srv = "10.0.0.2:7"
)

// TestReassembly runs TCP conversations with the usual hazards through
// the engine and checks what the echo parser heard.
func TestReassembly(t *testing.T) {
	tests := []struct {
		name       string
		build      func(c *capb)
		wantClient string
		wantServer string
		wantGaps   string
		wantEnd    string
		wantMid    bool
	}{
		{
			name: "in order",
			build: func(c *capb) {
				newConv(c, cli, srv).handshake().client("ECHO hello\n").server("hello\n").fin()
			},
			wantClient: "ECHO hello\n", wantServer: "hello\n", wantEnd: "closed",
		},
		{
			name: "out of order",
			build: func(c *capb) {
				v := newConv(c, cli, srv).handshake()
				a, b := ep(cli), ep(srv)
				// "ECHO " then "one\n": the second segment arrives first.
				c.tcp(a, b, "PA", v.cseq+5, v.sseq, "one\n")
				c.tcp(a, b, "PA", v.cseq, v.sseq, "ECHO ")
				v.cseq += 9
				v.server("one\n").fin()
			},
			wantClient: "ECHO one\n", wantServer: "one\n", wantEnd: "closed",
		},
		{
			name: "retransmission",
			build: func(c *capb) {
				v := newConv(c, cli, srv).handshake()
				a, b := ep(cli), ep(srv)
				c.tcp(a, b, "PA", v.cseq, v.sseq, "ECHO two\n")
				c.tcp(a, b, "PA", v.cseq, v.sseq, "ECHO two\n") // retransmitted
				v.cseq += 9
				v.server("two\n")
				c.tcp(b, a, "PA", v.sseq-4, v.cseq, "two\n") // retransmitted
				v.fin()
			},
			wantClient: "ECHO two\n", wantServer: "two\n", wantEnd: "closed",
		},
		{
			name: "overlap",
			build: func(c *capb) {
				v := newConv(c, cli, srv).handshake()
				a, b := ep(cli), ep(srv)
				c.tcp(a, b, "PA", v.cseq, v.sseq, "ECHO thr")
				c.tcp(a, b, "PA", v.cseq+5, v.sseq, "three\n") // overlaps "thr"
				v.cseq += 11
				v.server("three\n").fin()
			},
			wantClient: "ECHO three\n", wantServer: "three\n", wantEnd: "closed",
		},
		{
			// Queued (not yet delivered) bytes are replaced by a later
			// copy: gopacket's reassembly keeps the newest data there,
			// while bytes already delivered are never changed.
			name: "overlap ahead of a hole",
			build: func(c *capb) {
				v := newConv(c, cli, srv).handshake()
				a, b := ep(cli), ep(srv)
				c.tcp(a, b, "PA", v.cseq+7, v.sseq, "UR\n")   // "UR\n" at 7..10
				c.tcp(a, b, "PA", v.cseq+5, v.sseq, "fouR\n") // 5..10 overlaps it
				c.tcp(a, b, "PA", v.cseq, v.sseq, "ECHO ")    // fills the hole
				v.cseq += 10
				v.server("four\n").fin()
			},
			wantClient: "ECHO fouR\n", wantServer: "four\n", wantEnd: "closed",
		},
		{
			name: "mid-stream start, server guessed by port",
			build: func(c *capb) {
				a, b := ep(cli), ep(srv)
				c.tcp(a, b, "PA", 777, 888, "ECHO mid\n")
				c.tcp(b, a, "PA", 888, 786, "mid\n")
				c.tcp(a, b, "RA", 786, 892, "")
			},
			wantClient: "ECHO mid\n", wantServer: "mid\n", wantEnd: "closed", wantMid: true,
		},
		{
			name: "mid-stream start, wrong guess corrected by the detector",
			build: func(c *capb) {
				// The server listens on a high port, the client uses a
				// low one: the port guess is wrong, ECHO comes from the
				// side called server, the detector answers YesReversed.
				a, b := ep("10.0.0.1:50000"), ep("10.0.0.2:800")
				c.tcp(b, a, "PA", 777, 888, "ECHO rev\n")
				c.tcp(a, b, "PA", 888, 786, "rev\n")
				c.tcp(b, a, "FA", 786, 892, "")
				c.tcp(a, b, "FA", 892, 787, "")
			},
			wantClient: "ECHO rev\n", wantServer: "rev\n", wantEnd: "closed", wantMid: true,
		},
		{
			name: "gap reported",
			build: func(c *capb) {
				v := newConv(c, cli, srv).handshake()
				a, b := ep(cli), ep(srv)
				c.tcp(a, b, "PA", v.cseq, v.sseq, "ECHO a\n")
				// 7 bytes ("ECHO b\n") are never captured.
				c.tcp(a, b, "PA", v.cseq+14, v.sseq, "ECHO c\n")
				v.cseq += 21
				v.fin()
			},
			wantClient: "ECHO a\n[gap 7]ECHO c\n", wantServer: "", wantGaps: "client:7", wantEnd: "closed",
		},
		{
			name: "RST ends the connection",
			build: func(c *capb) {
				v := newConv(c, cli, srv).handshake().client("ECHO r\n")
				c.tcp(ep(srv), ep(cli), "RA", v.sseq, v.cseq, "")
				v.server("late\n") // after the reset: not part of the connection
			},
			wantClient: "ECHO r\n", wantServer: "", wantEnd: "closed",
		},
		{
			name: "no FIN: ended by Close",
			build: func(c *capb) {
				newConv(c, cli, srv).handshake().client("ECHO open\n").server("open\n")
			},
			wantClient: "ECHO open\n", wantServer: "open\n", wantEnd: "shutdown",
		},
		{
			name: "IPv6",
			build: func(c *capb) {
				newConv(c, "[2001:db8::1]:40000", "[2001:db8::2]:7").handshake().client("ECHO six\n").server("six\n").fin()
			},
			wantClient: "ECHO six\n", wantServer: "six\n", wantEnd: "closed",
		},
	}
	for _, workers := range []int{1, 3} {
		for _, tt := range tests {
			t.Run(tt.name+"/workers="+string(rune('0'+workers)), func(t *testing.T) {
				h := newHarness(t, Config{Workers: workers})
				c := newCap(t)
				tt.build(c)
				h.run(c)
				h.eng.Close()
				got := h.sessions()
				if len(got) != 1 {
					t.Fatalf("got %d echo sessions, want 1: %v", len(got), got)
				}
				s := got[0]
				if s["client"] != tt.wantClient {
					t.Errorf("client bytes = %q, want %q", s["client"], tt.wantClient)
				}
				if s["server"] != tt.wantServer {
					t.Errorf("server bytes = %q, want %q", s["server"], tt.wantServer)
				}
				if s["gaps"] != tt.wantGaps {
					t.Errorf("gaps = %q, want %q", s["gaps"], tt.wantGaps)
				}
				if s["end"] != tt.wantEnd {
					t.Errorf("end reason = %q, want %q", s["end"], tt.wantEnd)
				}
				if s["midstream"] != tt.wantMid {
					t.Errorf("midstream = %v, want %v", s["midstream"], tt.wantMid)
				}
				h.checkEndOnce(0)
			})
		}
	}
}

// TestEventFields checks what Env.Emit fills in.
func TestEventFields(t *testing.T) {
	h := newHarness(t, Config{Node: "irs-test"})
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("ECHO x\n").server("x\n").fin()
	h.run(c)
	h.eng.Close()
	evs := h.events("echo-session")
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	ev := evs[0]
	checks := []struct{ name, got, want string }{
		{"node", ev.Node, "irs-test"},
		{"protocol", ev.Protocol, "echo"},
		{"transport", ev.Transport, "tcp"},
		{"client", ev.Client.String(), cli},
		{"server", ev.Server.String(), srv},
		{"raw ref (no store)", ev.RawRef, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(ev.UID) != 32 {
		t.Errorf("uid = %q, want 32 hex digits", ev.UID)
	}
}

// TestIdleTimeout: a quiet connection ends with EndIdle when packet time
// moves past the timeout; a busy one does not.
func TestIdleTimeout(t *testing.T) {
	h := newHarness(t, Config{IdleTimeouts: IdleTimeouts{TCP: time.Minute}})
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("ECHO quiet\n")
	busy := newConv(c, "10.0.0.3:40001", srv).handshake().client("ECHO busy\n")
	for i := 0; i < 5; i++ {
		c.after(20 * time.Second)
		busy.server("busy\n")
	}
	h.run(c)
	got := h.sessions()
	if len(got) != 1 {
		t.Fatalf("after 100 s of packet time: %d sessions ended, want 1 (the quiet one): %v", len(got), got)
	}
	if got[0]["end"] != "idle-timeout" || got[0]["client"] != "ECHO quiet\n" {
		t.Errorf("ended session = %v, want the quiet one with idle-timeout", got[0])
	}
	if st := h.eng.Stats(); st.FlowsExpired != 1 {
		t.Errorf("FlowsExpired = %d, want 1", st.FlowsExpired)
	}
	h.eng.Close()
	h.checkEndOnce(0)
}

// TestFlowCap: with room for two flows, a third evicts the least
// recently seen.
func TestFlowCap(t *testing.T) {
	h := newHarness(t, Config{MaxFlows: 2})
	c := newCap(t)
	newConv(c, "10.0.0.1:40000", srv).handshake().client("ECHO first\n")
	newConv(c, "10.0.0.1:40001", srv).handshake().client("ECHO second\n")
	newConv(c, "10.0.0.1:40002", srv).handshake().client("ECHO third\n")
	h.run(c)
	got := h.sessions()
	if len(got) != 1 || got[0]["end"] != "evicted" || got[0]["client"] != "ECHO first\n" {
		t.Fatalf("sessions ended by the third flow = %v, want the first one, evicted", got)
	}
	st := h.eng.Stats()
	if st.FlowsEvicted != 1 || st.FlowsActive != 2 {
		t.Errorf("FlowsEvicted = %d, FlowsActive = %d, want 1 and 2", st.FlowsEvicted, st.FlowsActive)
	}
	h.eng.Close()
	h.checkEndOnce(0)
}

// TestBufferCap: out-of-order data behind a hole that never fills is
// capped; the stream moves on, reporting the gap, instead of growing.
func TestBufferCap(t *testing.T) {
	h := newHarness(t, Config{MaxBufferPerFlow: 4 * pageBytes})
	c := newCap(t)
	v := newConv(c, cli, srv).handshake().client("ECHO cap\n")
	a, b := ep(cli), ep(srv)
	chunk := strings.Repeat("z", 1000)
	// A 100-byte hole, then 20 KB that cannot be delivered.
	for i := 0; i < 20; i++ {
		c.tcp(a, b, "PA", v.cseq+100+uint32(i*1000), v.sseq, chunk)
	}
	h.run(c)
	st := h.eng.Stats()
	if st.TCPGaps != 1 || st.TCPGapBytes != 100 {
		t.Errorf("before Close: gaps %d (%d bytes), want 1 gap of 100 bytes: the cap must push the stream on", st.TCPGaps, st.TCPGapBytes)
	}
	h.eng.Close()
	got := h.sessions()
	if len(got) != 1 {
		t.Fatalf("got %d sessions, want 1", len(got))
	}
	wantClient := "ECHO cap\n[gap 100]" + strings.Repeat(chunk, 20)
	if got[0]["client"] != wantClient {
		t.Errorf("client bytes: got %d bytes, want %d (the data after the hole, in order)", len(got[0]["client"].(string)), len(wantClient))
	}
}

// TestReorderTimeout: data behind a hole waits at most the reorder
// timeout (packet time), then is delivered after a gap.
func TestReorderTimeout(t *testing.T) {
	h := newHarness(t, Config{IdleTimeouts: IdleTimeouts{Reorder: 10 * time.Second}})
	c := newCap(t)
	v := newConv(c, cli, srv).handshake().client("ECHO w\n")
	c.tcp(ep(cli), ep(srv), "PA", v.cseq+3, v.sseq, "late\n")
	for i := 0; i < 25; i++ { // other traffic moves the clock on
		c.after(time.Second).udp(ep("10.9.9.9:5000"), ep("10.9.9.8:5000"), "x")
	}
	h.run(c)
	p := h.rec.all()
	if len(p) != 1 {
		t.Fatalf("%d parsers, want 1", len(p))
	}
	if got, want := strings.Join(p[0].gaps, ","), "client:3"; got != want {
		t.Errorf("gaps after 25 s = %q, want %q", got, want)
	}
	if got, want := p[0].data[0].String(), "ECHO w\n[gap 3]late\n"; got != want {
		t.Errorf("client bytes = %q, want %q", got, want)
	}
}

// TestFlushedDataTime: data behind a hole, pushed out by the reorder
// timeout or at Close, reaches the parser stamped with its connection's
// last packet, as the connection's end is: not with the worker's clock,
// which other connections' packets moved on (and which differs with the
// number of workers).
func TestFlushedDataTime(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		others  int // seconds of other traffic after the connection
	}{
		{"reorder timeout", 1, 25},
		{"reorder timeout, workers", 2, 25},
		{"close", 1, 5},
		{"close, workers", 2, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Workers: tc.workers, IdleTimeouts: IdleTimeouts{Reorder: 10 * time.Second}})
			c := newCap(t)
			v := newConv(c, cli, srv).handshake().client("ECHO w\n")
			c.after(time.Second).tcp(ep(cli), ep(srv), "PA", v.cseq+3, v.sseq, "late\n")
			last := c.ts
			for i := 0; i < tc.others; i++ { // other traffic moves the clock on
				c.after(time.Second).udp(ep("10.9.9.9:5000"), ep("10.9.9.8:5000"), "x")
			}
			h.run(c)
			h.eng.Close()
			p := h.rec.all()
			if len(p) != 1 {
				t.Fatalf("%d parsers, want 1", len(p))
			}
			if got, want := p[0].data[0].String(), "ECHO w\n[gap 3]late\n"; got != want {
				t.Fatalf("client bytes = %q, want %q", got, want)
			}
			if n := len(p[0].times); n != 3 || !p[0].times[1].Equal(last) || !p[0].times[2].Equal(last) {
				t.Errorf("gap and late data at %v; want both at the connection's last packet, %v", p[0].times[1:], last)
			}
		})
	}
}

// TestParserPanic: a panicking parser is dropped with an anomaly event;
// the engine and the other connections go on.
func TestParserPanic(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(map[int]string{1: "inline", 2: "workers"}[workers], func(t *testing.T) {
			h := newHarness(t, Config{Workers: workers})
			c := newCap(t)
			newConv(c, "10.0.0.1:40000", srv).handshake().client("ECHO ok\n").client("PANIC\n").client("ECHO more\n").fin()
			newConv(c, "10.0.0.1:40001", srv).handshake().client("ECHO fine\n").server("fine\n").fin()
			h.run(c)
			h.eng.Close()
			anomalies := h.events("anomaly")
			if len(anomalies) != 1 {
				t.Fatalf("got %d anomaly events, want 1", len(anomalies))
			}
			a := anomalies[0]
			if a.Protocol != "echo" || a.Client.String() != "10.0.0.1:40000" || len(a.Anomalies) != 1 ||
				!strings.Contains(a.Anomalies[0], "panicked in ProcessPacket") {
				t.Errorf("anomaly event = %+v, want echo, client 10.0.0.1:40000, naming ProcessPacket", a)
			}
			if st := h.eng.Stats(); st.ParserPanics != 1 {
				t.Errorf("ParserPanics = %d, want 1", st.ParserPanics)
			}
			got := h.sessions()
			if len(got) != 1 || got[0]["client"] != "ECHO fine\n" {
				t.Errorf("sessions = %v, want only the healthy one", got)
			}
			for _, p := range h.rec.all() {
				if p.c.Client.String() == "10.0.0.1:40000" && p.calls != 2 {
					t.Errorf("panicked parser got %d calls, want 2 (none after the panic)", p.calls)
				}
			}
			h.checkEndOnce(1)
		})
	}
}

// TestDetectorPanic: a detector that panics counts as No.
func TestDetectorPanic(t *testing.T) {
	reg := parser.NewRegistry()
	reg.Add(panicDetector{})
	rec := &recorder{}
	reg.Add(&echoDetector{name: "echo", rec: rec})
	col := &Collector{}
	eng, err := New(Config{Registry: reg, Sink: col, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("ECHO z\n").fin()
	if err := eng.Run(context.Background(), c.source()); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if n := len(rec.all()); n != 1 {
		t.Errorf("echo parsers = %d, want 1 (the panicking detector must not block detection)", n)
	}
	if st := eng.Stats(); st.ParserPanics != 1 {
		t.Errorf("ParserPanics = %d, want 1", st.ParserPanics)
	}
}

type panicDetector struct{}

func (panicDetector) Name() string                   { return "boom" }
func (panicDetector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }
func (panicDetector) IsRelative(*parser.Conn, parser.Direction, []byte) parser.Verdict {
	panic("boom")
}
func (panicDetector) New(*parser.Conn, parser.Env) parser.Parser { return nil }

// TestSwitchedOff: a protocol switched off gets no new connections;
// the one it already parses goes on.
func TestSwitchedOff(t *testing.T) {
	h := newHarness(t, Config{})
	c := newCap(t)
	old := newConv(c, "10.0.0.1:40000", srv).handshake().client("ECHO before\n")
	h.run(c)
	if err := h.reg.SetEnabled("echo", false); err != nil {
		t.Fatal(err)
	}
	c2 := newCap(t)
	c2.ts = c.ts
	old.c = c2
	old.server("before\n").fin()
	newConv(c2, "10.0.0.1:40001", srv).handshake().client("ECHO after\n").server("after\n").fin()
	h.run(c2)
	h.eng.Close()
	got := h.sessions()
	if len(got) != 1 || got[0]["client"] != "ECHO before\n" || got[0]["server"] != "before\n" {
		t.Errorf("sessions = %v, want only the connection that began before the switch, complete", got)
	}
	if st := h.eng.Stats(); st.Connections["echo"] != 1 {
		t.Errorf("Connections[echo] = %d, want 1", st.Connections["echo"])
	}
}

// TestIsContinue: once the parser says it is done, it gets EndDone and
// no more data.
func TestIsContinue(t *testing.T) {
	h := newHarness(t, Config{})
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("ECHO q\n").client("QUIT\n").server("bye\n").client("ECHO ignored\n").fin()
	h.run(c)
	h.eng.Close()
	got := h.sessions()
	if len(got) != 1 || got[0]["end"] != "parser-done" || got[0]["client"] != "ECHO q\nQUIT\n" {
		t.Fatalf("sessions = %v, want one ended parser-done after QUIT", got)
	}
	if p := h.rec.all()[0]; p.after != 0 {
		t.Errorf("%d calls after IsContinue turned false, want 0", p.after)
	}
	h.checkEndOnce(0)
}

// TestNotClaimed: a connection no detector wants is never parsed.
func TestNotClaimed(t *testing.T) {
	h := newHarness(t, Config{})
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("GET / HTTP/1.1\r\n\r\n").server("HTTP/1.1 200 OK\r\n\r\n").fin()
	h.run(c)
	h.eng.Close()
	if n := len(h.rec.all()); n != 0 {
		t.Errorf("%d parsers, want 0", n)
	}
	if st := h.eng.Stats(); st.NoParser != 1 {
		t.Errorf("NoParser = %d, want 1", st.NoParser)
	}
}

// TestDetectionCap: a connection whose detectors keep answering
// NeedMore is given up once the detection buffer is full.
func TestDetectionCap(t *testing.T) {
	h := newHarness(t, Config{DetectBytes: 64})
	c := newCap(t)
	v := newConv(c, cli, srv).handshake()
	for i := 0; i < 10; i++ {
		v.server(strings.Repeat("s", 20)) // the echo detector waits for the client
	}
	v.client("ECHO too late\n").fin()
	h.run(c)
	h.eng.Close()
	if n := len(h.rec.all()); n != 0 {
		t.Errorf("%d parsers, want 0", n)
	}
	if st := h.eng.Stats(); st.DetectGaveUp != 1 {
		t.Errorf("DetectGaveUp = %d, want 1", st.DetectGaveUp)
	}
}

// TestDatagrams: UDP flows go through the same detection, one payload at
// a time, the datagrams seen while detecting replayed in order.
func TestDatagrams(t *testing.T) {
	h := newHarness(t, Config{})
	c := newCap(t)
	a, b := ep("10.0.0.1:5353"), ep("10.0.0.2:7")
	c.udp(b, a, "EC")       // the server side first: NeedMore
	c.udp(a, b, "ECHO u\n") // now the client: Yes
	c.udp(b, a, "u\n")
	h.run(c)
	h.eng.Close()
	got := h.sessions()
	if len(got) != 1 {
		t.Fatalf("got %d sessions, want 1", len(got))
	}
	if got[0]["client"] != "ECHO u\n" || got[0]["server"] != "ECu\n" || got[0]["end"] != "shutdown" {
		t.Errorf("session = %v, want client %q, server %q (replayed), end shutdown", got[0], "ECHO u\n", "ECu\n")
	}
	evs := h.events("echo-session")
	if evs[0].Transport != "udp" {
		t.Errorf("transport = %q, want udp", evs[0].Transport)
	}
}

// TestFilesInSequence: a connection split over two files is one
// connection when the second file's timestamps continue the first's.
func TestFilesInSequence(t *testing.T) {
	h := newHarness(t, Config{})
	c := newCap(t)
	v := newConv(c, cli, srv).handshake().client("ECHO split\n")
	h.run(c)
	c2 := newCap(t)
	c2.ts = c.ts
	v.c = c2
	v.server("split\n").fin()
	h.run(c2)
	h.eng.Close()
	got := h.sessions()
	if len(got) != 1 || got[0]["client"] != "ECHO split\n" || got[0]["server"] != "split\n" || got[0]["end"] != "closed" {
		t.Errorf("sessions = %v, want one complete connection", got)
	}
}

// TestRunError: a read error is returned after everything before it was
// processed; the error names the source.
func TestRunError(t *testing.T) {
	build := func(t *testing.T) *capb {
		c := newCap(t)
		newConv(c, cli, srv).handshake().client("ECHO before the damage\n").server("before the damage\n").fin()
		newConv(c, "10.0.0.1:40001", srv).handshake().client("ECHO after\n")
		return c
	}
	t.Run("source error", func(t *testing.T) {
		h := newHarness(t, Config{})
		c := build(t)
		c.frames = c.frames[:8] // the first connection only
		src := &failingSource{MemorySource: c.source(), err: errors.New("capture: broken.pcap: packet 9: boom")}
		err := h.eng.Run(context.Background(), src)
		if err == nil || !strings.Contains(err.Error(), "broken.pcap") {
			t.Fatalf("Run error = %v, want one naming broken.pcap", err)
		}
		if got := h.sessions(); len(got) != 1 || got[0]["end"] != "closed" {
			t.Errorf("sessions = %v, want the connection before the damage, closed", got)
		}
	})
	t.Run("truncated file", func(t *testing.T) {
		h := newHarness(t, Config{})
		c := build(t)
		c.udp(ep("10.0.0.9:53"), ep("10.0.0.8:53"), strings.Repeat("d", 100)) // cut below
		var buf bytes.Buffer
		w := pcapgo.NewWriter(&buf)
		w.WriteFileHeader(65535, layers.LinkTypeEthernet)
		for _, f := range c.frames {
			w.WritePacket(gopacket.CaptureInfo{Timestamp: f.Timestamp, CaptureLength: len(f.Data), Length: len(f.Data)}, f.Data)
		}
		name := filepath.Join(t.TempDir(), "cut.pcap")
		if err := os.WriteFile(name, buf.Bytes()[:buf.Len()-20], 0o600); err != nil {
			t.Fatal(err)
		}
		src, err := capture.OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		err = h.eng.Run(context.Background(), src)
		if err == nil || !strings.Contains(err.Error(), name) || !errors.Is(err, capture.ErrTruncated) ||
			!strings.Contains(err.Error(), fmt.Sprintf("packet %d", len(c.frames))) {
			t.Fatalf("Run error = %v, want a truncation error naming %s and packet %d", err, name, len(c.frames))
		}
		h.eng.Close()
		got := h.sessions()
		if len(got) != 2 || got[0]["client"] != "ECHO before the damage\n" || got[1]["client"] != "ECHO after\n" {
			t.Errorf("sessions = %v, want both connections seen before the damage", got)
		}
	})
	t.Run("file cut while a packet is in use", func(t *testing.T) {
		// The capture checks a mapped file's pages before it hands a
		// packet out; a cut right after that check faults where the
		// engine reads the packet. The decoder counts that packet as
		// undecodable, the capture then reports the cut: Run returns
		// the truncation error, the process lives.
		h := newHarness(t, Config{})
		c := build(t)
		name := writePcap(t, c.frames)
		src, err := capture.OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		cut := &cutAfterNext{Source: src, name: name, at: 9}
		err = h.eng.Run(context.Background(), cut)
		if !cut.done {
			t.Fatalf("the file was not cut (Run: %v)", err)
		}
		if err == nil || !strings.Contains(err.Error(), name) || !errors.Is(err, capture.ErrTruncated) {
			t.Fatalf("Run error = %v, want a truncation error naming %s", err, name)
		}
		h.eng.Close()
		if got := h.sessions(); len(got) != 1 || got[0]["client"] != "ECHO before the damage\n" || got[0]["end"] != "closed" {
			t.Errorf("sessions = %v, want the connection before the damage, closed", got)
		}
	})
}

// TestFileCutUnderTheEngine cuts a mapped capture while the engine reads
// it, session pcaps on, one worker and two, at a random moment: the cut
// is started (from another goroutine) when a random packet is read, so
// it lands wherever the engine then is: the capture's check, the
// decoder, a parser, the engine's copies for a worker or a session
// pcap. Every run must end with the truncation error naming the file,
// and the process must live.
func TestFileCutUnderTheEngine(t *testing.T) {
	c := newCap(t)
	for i := 0; i < 400; i++ {
		newConv(c, fmt.Sprintf("10.0.%d.%d:%d", i/200, i%200+1, 40000+i), srv).handshake().
			client(strings.Repeat("ECHO payload ", 80) + "\n").server(strings.Repeat("reply ", 150) + "\n").fin()
	}
	data, err := os.ReadFile(writePcap(t, c.frames))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 16; i++ {
		name := filepath.Join(t.TempDir(), "cut.pcap")
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, Config{Workers: 1 + i%2, Store: st})
		src, err := capture.OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		at := 1 + rng.Intn(len(c.frames)/2)
		off := 24 // where packet at ends: the cut is always behind the reader
		for _, f := range c.frames[:at] {
			off += 16 + len(f.Data)
		}
		size := int64(rng.Intn(off))
		cut := &cutAfterNext{Source: src, name: name, at: at, size: size, async: true}
		err = h.eng.Run(context.Background(), cut)
		cut.wait()
		src.Close()
		h.eng.Close()
		if err == nil || !errors.Is(err, capture.ErrTruncated) || !strings.Contains(err.Error(), name) {
			t.Errorf("run %d (%d workers, cut to %d bytes at packet %d): Run error = %v, want the truncation error naming the file",
				i, 1+i%2, size, at, err)
		}
	}
}

// writePcap writes frames to a pcap file in a new temporary directory.
func writePcap(t *testing.T, frames []capture.Packet) string {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	for _, f := range frames {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: f.Timestamp, CaptureLength: len(f.Data), Length: len(f.Data)}, f.Data)
	}
	name := filepath.Join(t.TempDir(), "capture.pcap")
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// cutAfterNext truncates its file to size right after Next hands out
// packet number at (counting from 1); with async, from another goroutine
// (the cut then lands wherever the engine is by then, at the latest
// before packet at+50 is read).
type cutAfterNext struct {
	capture.Source
	name  string
	n     int
	at    int
	size  int64
	async bool
	done  bool
	wg    sync.WaitGroup
}

func (c *cutAfterNext) Next(p *capture.Packet) error {
	if c.async && c.n == c.at+50 {
		c.wg.Wait() // the cut lands within the next 50 packets
	}
	err := c.Source.Next(p)
	if c.n++; err == nil && c.n == c.at {
		c.done = true
		if c.async {
			c.wg.Go(func() { os.Truncate(c.name, c.size) })
		} else {
			c.done = os.Truncate(c.name, c.size) == nil
		}
	}
	return err
}

// wait waits for an asynchronous cut.
func (c *cutAfterNext) wait() { c.wg.Wait() }

type failingSource struct {
	*capture.MemorySource
	err error
}

func (f *failingSource) Next(p *capture.Packet) error {
	if err := f.MemorySource.Next(p); err != nil {
		return f.err
	}
	return nil
}

// TestContextCancel: Run returns when the context ends.
func TestContextCancel(t *testing.T) {
	h := newHarness(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.eng.Run(ctx, &endless{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

// endless is a live source that never has a packet.
type endless struct{ capture.MemorySource }

func (e *endless) Next(*capture.Packet) error {
	time.Sleep(time.Millisecond)
	return capture.ErrTimeout
}
func (e *endless) Live() bool { return true }

// TestDeterminism: the same capture gives the same events, connection
// IDs and session file names on every run, with several workers too.
func TestDeterminism(t *testing.T) {
	build := func(t *testing.T) *capb {
		c := newCap(t)
		for i := 0; i < 20; i++ {
			v := newConv(c, fmt.Sprintf("10.0.1.%d:%d", 1+i%9, 40000+i), srv).handshake()
			v.client("ECHO n\n").server("n\n")
			if i%3 == 0 {
				v.fin()
			}
		}
		return c
	}
	var first string
	for run := 0; run < 3; run++ {
		st, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, Config{Workers: 3, Store: st})
		h.run(build(t))
		h.eng.Close()
		for _, ev := range h.col.Events() {
			ev.UID = ""
		}
		var ids []string
		for _, p := range h.rec.all() {
			ids = append(ids, fmt.Sprintf("%s=%d", p.c.Client, p.c.ID))
		}
		sort.Strings(ids)
		b, _ := json.Marshal(struct {
			Events any
			IDs    []string
		}{h.col.Events(), ids})
		if run == 0 {
			first = string(b)
			continue
		}
		if string(b) != first {
			t.Fatalf("run %d differs from run 0:\n%s\nvs\n%s", run, b, first)
		}
	}
}

// TestStatsJSON: Stats marshal to JSON for the status endpoint.
func TestStatsJSON(t *testing.T) {
	h := newHarness(t, Config{})
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("ECHO j\n").fin()
	h.run(c)
	b, err := json.Marshal(h.eng.Stats())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"packets":7`, `"flows_created":1`, `"connections":{"echo":1}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("stats JSON %s lacks %s", b, want)
		}
	}
}

// TestSessionPcap: a claimed connection's packets, including those
// before the claim, are in its session pcap, which its events name;
// a connection no parser claimed leaves no file.
func TestSessionPcap(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Store: st})
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("ECHO keep\n").server("keep\n").fin()
	newConv(c, "10.0.0.1:40001", srv).handshake().client("HELLO\n").fin()
	h.run(c)
	h.eng.Close()
	evs := h.events("echo-session")
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	if want := "sessions/2023/11/14/echo-1-10.0.0.1_40000-10.0.0.2_7.pcap"; evs[0].RawRef != want {
		t.Errorf("RawRef = %q, want %q", evs[0].RawRef, want)
	}
	if n := checkSessionPcap(t, st, evs[0].RawRef); n != 8 {
		t.Errorf("session pcap holds %d packets, want 8 (handshake, 2 data, 3 closing)", n)
	}
	files, _ := filepath.Glob(filepath.Join(st.Dir(), "sessions", "*", "*", "*", "*.pcap"))
	if len(files) != 1 {
		t.Errorf("%d session files, want 1 (the unclaimed connection has none): %v", len(files), files)
	}
	if s := h.eng.Stats(); s.RawPackets != 8 || s.Store == nil || s.Store.Sessions != 1 {
		t.Errorf("RawPackets = %d, store %+v; want 8 and 1 session", s.RawPackets, s.Store)
	}
}

// TestNoSessionPcaps: with NoSessionPcaps the store gets no session file
// and events name none.
func TestNoSessionPcaps(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Store: st, NoSessionPcaps: true})
	c := newCap(t)
	newConv(c, cli, srv).handshake().client("ECHO keep\n").server("keep\n").fin()
	h.run(c)
	h.eng.Close()
	evs := h.events("echo-session")
	if len(evs) != 1 || evs[0].RawRef != "" {
		t.Fatalf("events %+v, want one without RawRef", evs)
	}
	files, _ := filepath.Glob(filepath.Join(st.Dir(), "sessions", "*", "*", "*", "*.pcap"))
	if s := h.eng.Stats(); len(files) != 0 || s.RawPackets != 0 {
		t.Errorf("%d session files, %d raw packets; want none", len(files), s.RawPackets)
	}
}

// TestRawBufferCap: packets beyond the pre-claim buffer are counted and
// left out of the session pcap.
func TestRawBufferCap(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Store: st, MaxBufferPerFlow: 200})
	c := newCap(t)
	v := newConv(c, cli, srv).handshake() // 3 frames of 54-60 bytes
	v.server("xx")                        // the echo detector waits for the client
	v.server("yy")
	v.client("ECHO late\n").fin()
	h.run(c)
	h.eng.Close()
	s := h.eng.Stats()
	if s.RawDroppedPackets == 0 || s.RawDroppedBytes == 0 {
		t.Errorf("RawDropped = %d packets, %d bytes; want some", s.RawDroppedPackets, s.RawDroppedBytes)
	}
	evs := h.events("echo-session")
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	if n := checkSessionPcap(t, st, evs[0].RawRef); uint64(n) != 9-s.RawDroppedPackets {
		t.Errorf("session pcap holds %d packets, want %d", n, 9-s.RawDroppedPackets)
	}
}

// recordDetector claims every flow of its transports and records the
// data each parser got.
type recordDetector struct {
	mu  sync.Mutex
	got map[parser.Transport][][]byte
}

func (d *recordDetector) Name() string { return "record" }
func (d *recordDetector) Transports() []parser.Transport {
	return []parser.Transport{parser.UDP, parser.GRE, parser.ICMP, parser.ESP}
}
func (d *recordDetector) IsRelative(*parser.Conn, parser.Direction, []byte) parser.Verdict {
	return parser.Yes
}
func (d *recordDetector) New(c *parser.Conn, _ parser.Env) parser.Parser {
	return &recordParser{d: d, t: c.Transport}
}

type recordParser struct {
	d *recordDetector
	t parser.Transport
}

func (p *recordParser) ProcessPacket(_ parser.Direction, data []byte, _ time.Time) {
	p.d.mu.Lock()
	p.d.got[p.t] = append(p.d.got[p.t], append([]byte(nil), data...))
	p.d.mu.Unlock()
}
func (p *recordParser) Gap(parser.Direction, int, time.Time)   {}
func (p *recordParser) IsContinue() bool                       { return true }
func (p *recordParser) EndProcess(parser.EndReason, time.Time) {}

// TestDatagramPayloads: what each datagram transport hands its parser.
func TestDatagramPayloads(t *testing.T) {
	a, b := ep("192.0.2.1:0"), ep("192.0.2.2:0")
	ip := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: p, SrcIP: a.ip.AsSlice(), DstIP: b.ip.AsSlice()}
	}
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
	c := newCap(t)
	c.udp(ep("192.0.2.1:5000"), ep("192.0.2.2:5001"), "udp-data")
	c.add(serialize(t, eth, ip(layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 7, Seq: 1}, gopacket.Payload("ping")))
	c.add(serialize(t, eth, ip(layers.IPProtocolGRE),
		&layers.GRE{KeyPresent: true, Version: 1, Protocol: layers.EthernetTypePPP, Key: 0x00040001}, gopacket.Payload("ppp")))
	c.add(serialize(t, eth, ip(layers.IPProtocolESP), gopacket.Payload("\x00\x00\x10\x01\x00\x00\x00\x01cipher")))
	det := &recordDetector{got: map[parser.Transport][][]byte{}}
	reg := parser.NewRegistry()
	reg.Add(det)
	eng, err := New(Config{Registry: reg, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Run(context.Background(), c.source()); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	tests := []struct {
		tr   parser.Transport
		want string
	}{
		{parser.UDP, "udp-data"},
		{parser.ICMP, "\x08\x00\x19\x27\x00\x07\x00\x01ping"}, // from the type byte
		{parser.GRE, "\x20\x01\x88\x0b\x00\x04\x00\x01ppp"},   // from the GRE flags
		{parser.ESP, "\x00\x00\x10\x01\x00\x00\x00\x01cipher"},
	}
	for _, tt := range tests {
		t.Run(tt.tr.String(), func(t *testing.T) {
			got := det.got[tt.tr]
			if len(got) != 1 || string(got[0]) != tt.want {
				t.Errorf("parser got %q, want [%q]", got, tt.want)
			}
		})
	}
}

// TestBufferBudget: connections still being detected share a bounded
// budget per worker; beyond it detection is given up, and the account
// returns to zero when they end.
func TestBufferBudget(t *testing.T) {
	h := newHarness(t, Config{MaxBufferTotal: 300})
	c := newCap(t)
	for i := 0; i < 10; i++ {
		// The server speaks first: the echo detector waits for the
		// client, so each connection holds its bytes.
		v := newConv(c, fmt.Sprintf("10.0.0.1:%d", 40000+i), srv).handshake()
		v.server(strings.Repeat("s", 50))
	}
	h.run(c)
	s := h.eng.Stats()
	if s.DetectBudget == 0 {
		t.Errorf("DetectBudget = 0, want connections given up")
	}
	if s.Buffered > 300 {
		t.Errorf("Buffered = %d, cap 300", s.Buffered)
	}
	h.eng.Close()
	if s := h.eng.Stats(); s.Buffered != 0 {
		t.Errorf("after Close: Buffered = %d, want 0", s.Buffered)
	}
}

// TestSYNFlood: a flood of new connections stays within the flow cap,
// their reassembly state is reclaimed, and a real conversation after it
// is still parsed.
func TestSYNFlood(t *testing.T) {
	h := newHarness(t, Config{MaxFlows: 1000})
	c := newCap(t)
	for i := 0; i < 20000; i++ {
		c.tcp(ep(fmt.Sprintf("10.%d.%d.%d:%d", 1+i>>16, (i>>8)&255, i&255, 1024+i%50000)), ep(srv), "S", uint32(i), 0, "")
	}
	newConv(c, cli, srv).handshake().client("ECHO survivor\n").server("survivor\n").fin()
	h.run(c)
	s := h.eng.Stats()
	if s.FlowsActive > 1000 || s.FlowsEvicted < 19000 {
		t.Errorf("FlowsActive %d (cap 1000), FlowsEvicted %d (want ≥ 19000)", s.FlowsActive, s.FlowsEvicted)
	}
	if r := h.eng.workers[0].st.reclaims; r == 0 {
		t.Error("orphaned reassembly state never reclaimed")
	}
	got := h.sessions()
	if len(got) != 1 || got[0]["client"] != "ECHO survivor\n" || got[0]["end"] != "closed" {
		t.Errorf("sessions = %v, want the conversation after the flood", got)
	}
}

func TestSortEvents(t *testing.T) {
	at := time.Unix(1_700_000_000, 0).UTC()
	mk := func(proto, typ, subject string, sec int, n int) *event.Event {
		return &event.Event{UID: event.NewUID(), Protocol: proto, Type: typ, Subject: subject,
			Start: at.Add(time.Duration(sec) * time.Second), Summary: event.FieldsOf(map[string]any{"n": n})}
	}
	want := []*event.Event{
		mk("dns", "query", "a", 0, 1),
		mk("smtp", "email-send", "x", 0, 1),
		mk("smtp", "email-send", "x", 0, 2), // ties broken by content
		mk("http", "request", "b", 1, 1),
	}
	for seed := int64(0); seed < 5; seed++ {
		got := append([]*event.Event(nil), want...)
		rand.New(rand.NewSource(seed)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		SortEvents(got)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("seed %d: position %d = %s/%v, want %s/%v", seed, i, got[i].Protocol, got[i].Summary, want[i].Protocol, want[i].Summary)
			}
		}
	}
}
