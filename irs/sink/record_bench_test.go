package sink

import (
	"syscall"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/mixed"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	_ "github.com/sdnli/sdnli/irs/parser/all" // every protocol parser
)

// captureEvents runs the whole pipeline, every parser, over each shared
// capture and returns 1,000 of the events, picked evenly so that every
// protocol is represented.
func captureEvents(tb testing.TB) []*event.Event {
	tb.Helper()
	files, err := mixed.Files(golden.SharedPcaps(tb, ""))
	if err != nil {
		tb.Fatal(err)
	}
	var all []*event.Event
	for _, f := range files {
		all = append(all, golden.Run(tb, nil, parser.Options{}, f).Events...)
	}
	if len(all) == 0 {
		tb.Fatal("no events from the shared captures")
	}
	evs := make([]*event.Event, 1000)
	for i := range evs {
		evs[i] = all[i*len(all)/len(evs)]
	}
	return evs
}

// BenchmarkRecord measures what the sink does with each of 1,000 capture
// events before the database: toRecord (the rows, summary JSON) and
// encodeEvent (the spool line).
func BenchmarkRecord(b *testing.B) {
	evs := captureEvents(b)
	now := time.Now()
	b.Run("toRecord", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			for _, ev := range evs {
				_ = toRecord(ev, now)
			}
		}
	})
	b.Run("encodeEvent", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			for _, ev := range evs {
				if _, err := encodeEvent(ev, now); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// cpuTime is the process's user and system CPU time: on a shared machine
// CPU time per op says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	if cpu := cpuTime() - start; cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
