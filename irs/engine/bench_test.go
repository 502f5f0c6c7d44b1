package engine

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/mixed"
	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/decode"
	"github.com/sdnli/sdnli/irs/flow"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

// The pipeline benchmarks replay a mixed capture built, at benchmark
// time, from every Ethernet capture in ../shared/pcaps: the set is
// repeated with the addresses shifted on each round (so repeated
// conversations are new flows) and time moving 10 µs per packet, as the
// bench/mkmixed tool does for the command-line benchmark.

var (
	mixedOnce sync.Once
	mixedSet  []capture.Packet
	mixedErr  error
)

func loadMixed(b *testing.B) []capture.Packet {
	b.Helper()
	files := sharedPcaps(b)
	mixedOnce.Do(func() { mixedSet, mixedErr = mixed.Load(files) })
	if mixedErr != nil {
		b.Fatal(mixedErr)
	}
	return mixedSet
}

func benchPipeline(b *testing.B, cfg Config, det parser.Detector) {
	set := loadMixed(b)
	reg := parser.NewRegistry()
	if det != nil {
		reg.Add(det)
	}
	cfg.Registry, cfg.Logger = reg, quietLogger()
	cfg.Sink = nil
	eng, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	src := &mixed.Source{Set: set, Limit: b.N}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	if err := eng.Run(context.Background(), src); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	eng.Close()
	reportRates(b, cpu)
}

// cpuTime returns the CPU time (user + system) the process used so far:
// on a machine shared with other work, packets per CPU second say more
// about the code than packets per wall-clock second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "packets/cpu-s")
	}
}

// BenchmarkPipeline measures the whole engine on one core (Workers: 1):
// decoding, the flow table, TCP reassembly and parser calls.
func BenchmarkPipeline(b *testing.B) {
	b.Run("no-parsers", func(b *testing.B) {
		// Every connection is left alone after detection finds no
		// candidate: decode and flow tracking only.
		benchPipeline(b, Config{Workers: 1}, nil)
	})
	b.Run("parse-all", func(b *testing.B) {
		// A parser claims every connection: every TCP stream is
		// reassembled and every byte handed to a parser.
		benchPipeline(b, Config{Workers: 1}, &countDetector{})
	})
	b.Run("parse-all/workers=2", func(b *testing.B) {
		// The same spread over two worker goroutines (packets are
		// copied into batches for them).
		benchPipeline(b, Config{Workers: 2}, &countDetector{})
	})
	b.Run("parse-all+pcaps", func(b *testing.B) {
		// Also writes every packet into its session pcap.
		st, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		benchPipeline(b, Config{Workers: 1, Store: st}, &countDetector{})
	})
}

// BenchmarkDecodeMixed measures the decoder alone on the mixed capture.
func BenchmarkDecodeMixed(b *testing.B) {
	set := loadMixed(b)
	d := decode.NewDecoder()
	var p decode.Packet
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		f := &set[i%len(set)]
		d.Decode(f.Data, f.LinkType, int64(i), f.Length, &p)
	}
	reportRates(b, cpuTime()-cpu0)
}

// BenchmarkFlowTableMixed measures the flow table alone: key, hash,
// lookup or insert, touch, for the packets of the mixed capture.
func BenchmarkFlowTableMixed(b *testing.B) {
	set := loadMixed(b)
	d := decode.NewDecoder()
	type kh struct {
		k flow.Key
	}
	var keys []kh
	var p decode.Packet
	for _, f := range set {
		if res, _ := d.Decode(f.Data, f.LinkType, 0, f.Length, &p); res == decode.Decoded {
			k, _ := flow.MakeKey(p.Family, p.Proto, &p.Src, &p.Dst, p.SrcPort, p.DstPort)
			keys = append(keys, kh{k})
		}
	}
	tb := flow.New[flowState](flow.Config{MaxFlows: 1 << 20, Timeouts: []int64{int64(time.Minute)}, Seed: 1})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		k := &keys[i%len(keys)].k
		h := tb.Hash(k)
		e := tb.Lookup(k, h)
		if e == nil {
			e = tb.Insert(k, h, 0, int64(i), nil)
		}
		tb.Touch(e, int64(i)*10000)
		if i&4095 == 0 {
			tb.Expire(int64(i)*10000, nil)
		}
	}
	reportRates(b, cpuTime()-cpu0)
}
