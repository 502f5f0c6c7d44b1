package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

// brokenFrames lists the shared captures known to hold malformed frames,
// with how many the decoder must count. Every other capture must decode
// without a single error. No shared capture is broken at the file level.
var brokenFrames = map[string]uint64{
	// Two frames of 1 and 2 bytes after the Ethernet header's end
	// (tshark shows them as bare "eth").
	"tcpdump__l2tp-avp-overflow.pcap": 2,
}

// TestSharedCaptures runs the whole engine, with a parser claiming every
// connection, over every capture in ../shared/pcaps (run it with -race):
// no error, no panic, every parser ended exactly once, every event's
// session pcap readable.
func TestSharedCaptures(t *testing.T) {
	for _, f := range sharedPcaps(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			st, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			det := &countDetector{keep: true}
			reg := parser.NewRegistry()
			reg.Add(det)
			col := &Collector{}
			eng, err := New(Config{Workers: 2, Registry: reg, Sink: col, Store: st, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenFile(f)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer src.Close()
			if err := eng.Run(context.Background(), src); err != nil {
				t.Fatalf("Run: %v", err)
			}
			eng.Close()
			s := eng.Stats()
			var decodeErrors uint64
			for _, n := range s.DecodeErrors {
				decodeErrors += n
			}
			if want := brokenFrames[name]; decodeErrors != want {
				t.Errorf("decode errors %v (%d), want %d", s.DecodeErrors, decodeErrors, want)
			}
			if s.ParserPanics != 0 || s.RawWriteErrors != 0 {
				t.Errorf("panics %d, raw write errors %d; want none", s.ParserPanics, s.RawWriteErrors)
			}
			if s.FlowsActive != 0 || s.Buffered != 0 {
				t.Errorf("%d flows, %d buffered bytes left after Close", s.FlowsActive, s.Buffered)
			}
			if s.Packets != s.Source.Packets || s.Packets == 0 {
				t.Errorf("engine counted %d packets, source delivered %d", s.Packets, s.Source.Packets)
			}
			for _, p := range det.parsers {
				if p.ends != 1 {
					t.Errorf("conn %d (%s → %s): EndProcess called %d times", p.c.ID, p.c.Client, p.c.Server, p.ends)
				}
			}
			evs := col.Events()
			if uint64(len(evs)) != s.Connections["count"] || len(evs) != len(det.parsers) {
				t.Errorf("%d events, %d connections counted, %d parsers: want all equal", len(evs), s.Connections["count"], len(det.parsers))
			}
			written := 0
			for _, ev := range evs {
				written += checkSessionPcap(t, st, ev.RawRef)
			}
			// Every packet the engine wrote is in the files, and none
			// was dropped (the pre-claim buffer is large enough here).
			if uint64(written) != s.RawPackets || s.RawDroppedPackets != 0 {
				t.Errorf("session pcaps hold %d packets, engine wrote %d, dropped %d", written, s.RawPackets, s.RawDroppedPackets)
			}
		})
	}
}

// checkSessionPcap reads a session pcap and returns its packet count.
func checkSessionPcap(t *testing.T, st *store.Store, rel string) int {
	t.Helper()
	p, err := st.Resolve(rel)
	if err != nil {
		t.Errorf("RawRef %q: %v", rel, err)
		return 0
	}
	f, err := os.Open(p)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Errorf("%s: %v", rel, err)
		return 0
	}
	n := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			break
		}
		n++
	}
	if n == 0 {
		t.Errorf("%s: no packets", rel)
	}
	return n
}

// TestSharedCapturesInSequence feeds every shared capture, one after the
// other, to one engine with three workers: timestamps jump back and forth
// between files, flows from one file meet the next file's traffic.
func TestSharedCapturesInSequence(t *testing.T) {
	det := &countDetector{keep: true}
	reg := parser.NewRegistry()
	reg.Add(det)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	col := &Collector{}
	eng, err := New(Config{Workers: 3, Registry: reg, Sink: col, Store: st, MaxFlows: 300, MaxOpenFiles: 16, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var packets uint64
	for _, f := range sharedPcaps(t) {
		src, err := capture.OpenFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), src); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		packets += src.Stats().Packets
		src.Close()
	}
	eng.Close()
	s := eng.Stats()
	if s.Packets != packets || s.ParserPanics != 0 || s.FlowsActive != 0 || s.Buffered != 0 {
		t.Errorf("packets %d (source %d), panics %d, flows left %d, buffered %d", s.Packets, packets, s.ParserPanics, s.FlowsActive, s.Buffered)
	}
	if s.FlowsEvicted == 0 {
		t.Error("no eviction with room for 300 flows")
	}
	for _, p := range det.parsers {
		if p.ends != 1 {
			t.Errorf("conn %d: EndProcess called %d times", p.c.ID, p.ends)
		}
	}
	if n := len(col.Events()); n != len(det.parsers) {
		t.Errorf("%d events for %d parsers", n, len(det.parsers))
	}
}
