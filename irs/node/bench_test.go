package node

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/mixed"
	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/engine"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/store"
)

var (
	mixedOnce sync.Once
	mixedSet  []capture.Packet
	mixedErr  error
)

func loadMixed(b *testing.B) []capture.Packet {
	b.Helper()
	dir := golden.SharedPcaps(b, "")
	mixedOnce.Do(func() {
		var files []string
		if files, mixedErr = mixed.Files(dir); mixedErr == nil {
			mixedSet, mixedErr = mixed.Load(files)
		}
	})
	if mixedErr != nil {
		b.Fatal(mixedErr)
	}
	return mixedSet
}

// BenchmarkRealPipeline measures the IRS as `sdnli inspect` runs it on
// one worker, with every registered protocol parser: decoding, flows, TCP
// reassembly, detection, parsing, email and file restore, events handed
// to a sink that only counts them. "+pcaps" also writes every session's
// packets and the restored files to a data directory (the test's
// temporary directory: its disk decides the cost).
func BenchmarkRealPipeline(b *testing.B) {
	b.Run("parsers", func(b *testing.B) { benchReal(b, false) })
	b.Run("parsers+pcaps", func(b *testing.B) { benchReal(b, true) })
}

func benchReal(b *testing.B, withStore bool) {
	set := loadMixed(b)
	var st *store.Store
	if withStore {
		var err error
		if st, err = store.Open(filepath.Join(b.TempDir(), "data")); err != nil {
			b.Fatal(err)
		}
	}
	var events int
	eng, err := engine.New(engine.Config{
		Workers: 1, Registry: parser.Default, Store: st,
		Sink:   event.SinkFunc(func(*event.Event) { events++ }),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
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
	eng.Close()
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "packets/cpu-s")
	}
	b.ReportMetric(float64(events)/float64(b.N)*1000, "events/kpacket")
}

// cpuTime is the CPU time (user + system) of the process so far: on a
// shared machine packets per CPU second say more than per wall second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
