package engine

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/mixed"
	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/parser"
	_ "github.com/sdnli/sdnli/irs/parser/all" // every parser, in parser.Default
	"github.com/sdnli/sdnli/irs/parser/dns"
	"github.com/sdnli/sdnli/irs/parser/ftp"
	"github.com/sdnli/sdnli/irs/parser/ipsec"
	"github.com/sdnli/sdnli/irs/parser/openvpn"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
	"github.com/sdnli/sdnli/irs/parser/pptp"
	"github.com/sdnli/sdnli/irs/parser/wireguard"
	"github.com/sdnli/sdnli/irs/store"
)

// poisonSource hands out every frame in one buffer, scribbled over before
// the next frame is copied in: a packet's bytes are valid until the next
// Next and not an instant longer, as a Source promises and no more.
type poisonSource struct {
	capture.MemorySource
	buf  []byte
	prev int
}

func (s *poisonSource) Next(p *capture.Packet) error {
	for i := range s.buf[:s.prev] {
		s.buf[i] = 0xa5 ^ byte(i)
	}
	if err := s.MemorySource.Next(p); err != nil {
		return err
	}
	if len(p.Data) > len(s.buf) {
		s.buf = make([]byte, 2*len(p.Data))
	}
	s.prev = copy(s.buf, p.Data)
	p.Data = s.buf[:s.prev:s.prev]
	return nil
}

// TestNothingKeepsPacketBytes runs every shared capture through the
// engine with every parser and session pcaps, once from frames that stay
// put and once from a source that overwrites each frame when the next is
// read: the events must be the same. Whatever outlives a packet (flow
// keys, reassembly's out-of-order pages, detection buffers, session
// pcaps, parsers' state) must be a copy; that is what lets capture hand
// out packets straight from a mapped file, unmapped on Close.
func TestNothingKeepsPacketBytes(t *testing.T) {
	files, withEvents := sharedPcaps(t), 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			frames, err := capture.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			run := func(src capture.Source) string {
				st, err := store.Open(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				col := &Collector{}
				eng, err := New(Config{Workers: 1, Registry: freshRegistry(t), Sink: col, Store: st, Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				if err := eng.Run(context.Background(), src); err != nil && err != io.EOF {
					t.Fatalf("Run: %v", err)
				}
				eng.Close()
				return parsertest.Normalize(col.Events())
			}
			want := run(&capture.MemorySource{Frames: frames})
			got := run(&poisonSource{MemorySource: capture.MemorySource{Frames: frames}})
			if got != want {
				t.Errorf("events differ when each packet's bytes are overwritten after use: %s", firstDiff(got, want))
			}
			if len(want) > 2 {
				withEvents++
			}
		})
	}
	if withEvents < len(files)*3/4 {
		t.Errorf("only %d of %d captures gave events: too little compared", withEvents, len(files))
	}
}

// freshRegistry returns every parser of parser.Default, in the same
// order, with new instances of the detectors that keep state across
// connections (DNS tunnel statistics, FTP and PPTP announcements, VPN
// probes): two runs must not see each other's traffic.
func freshRegistry(t *testing.T) *parser.Registry {
	t.Helper()
	fresh := map[string]func() parser.Detector{
		"dns":       func() parser.Detector { return dns.NewDetector() },
		"ftp":       func() parser.Detector { return ftp.NewDetector() },
		"ipsec":     func() parser.Detector { return ipsec.NewDetector() },
		"openvpn":   func() parser.Detector { return openvpn.NewDetector() },
		"pptp":      func() parser.Detector { return pptp.NewDetector() },
		"wireguard": func() parser.Detector { return wireguard.NewDetector() },
	}
	transports := []parser.Transport{parser.TCP, parser.UDP, parser.GRE, parser.ICMP, parser.ESP, parser.IPinIP}
	// Registration order is only visible per transport: merge the
	// transports' orders (a detector after those it follows in any).
	dets := map[string]parser.Detector{}
	after := map[string]map[string]bool{} // name → names it must follow
	for _, tr := range transports {
		for i, d := range parser.Default.Candidates(tr) {
			dets[d.Name()] = d
			if after[d.Name()] == nil {
				after[d.Name()] = map[string]bool{}
			}
			for _, prev := range parser.Default.Candidates(tr)[:i] {
				after[d.Name()][prev.Name()] = true
			}
		}
	}
	reg := parser.NewRegistry()
	added := map[string]bool{}
	for len(added) < len(dets) {
		var next []string
		for name := range dets {
			if added[name] {
				continue
			}
			ready := true
			for prev := range after[name] {
				ready = ready && added[prev]
			}
			if ready {
				next = append(next, name)
			}
		}
		if len(next) == 0 {
			t.Fatal("detectors' orders contradict each other")
		}
		slices.Sort(next)
		name := next[0]
		added[name] = true
		d := dets[name]
		if f, ok := fresh[name]; ok {
			d = f()
		} else if reflect.TypeOf(d).Kind() == reflect.Pointer {
			t.Fatalf("detector %s (%T) may keep state: give it a fresh instance here", name, d)
		}
		reg.Add(d)
	}
	for _, tr := range transports {
		var want, got []string
		for _, d := range parser.Default.Candidates(tr) {
			want = append(want, d.Name())
		}
		for _, d := range reg.Candidates(tr) {
			got = append(got, d.Name())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s detectors in order %v, want %v", tr, got, want)
		}
	}
	return reg
}

// firstDiff shows the first line where got and want differ, with context.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		if i >= len(g) || i >= len(w) || g[i] != w[i] {
			from := max(0, i-5)
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1,
				strings.Join(g[from:min(i+3, len(g))], "\n    "), strings.Join(w[from:min(i+3, len(w))], "\n    "))
		}
	}
	return "none"
}

// TestWorkersAgree runs the shared captures' frames as the throughput
// benchmark's mixed capture has them, four times over with shifted
// addresses (enough connections for each worker to reclaim streams, and
// push out data waiting past a gap, at its own moments), with every
// parser, on one worker and on two: the events must be the same. Nothing
// an event says may depend on which other connections share a worker,
// such as the time of data a flush pushes out of reassembly.
func TestWorkersAgree(t *testing.T) {
	set, err := mixed.Load(sharedPcaps(t))
	if err != nil {
		t.Fatal(err)
	}
	run := func(workers int) string {
		col := &Collector{}
		eng, err := New(Config{Workers: workers, Registry: freshRegistry(t), Sink: col, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &mixed.Source{Set: set, Limit: 4 * len(set)}); err != nil {
			t.Fatalf("Run: %v", err)
		}
		eng.Close()
		return parsertest.Normalize(col.Events())
	}
	one, two := run(1), run(2)
	t.Logf("%d frames, %d events", len(set), strings.Count(one, `"uid"`))
	if n := strings.Count(one, `"uid"`); n < 1000 {
		t.Fatalf("only %d events: too little compared", n)
	}
	if one != two {
		t.Errorf("events differ between one worker and two: %s", firstDiff(two, one))
	}
}
