//go:build integration

package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/testdb"
)

// BenchmarkSinkPut measures end-to-end throughput: Put b.N events (two
// addresses and one artifact each) and Close, which returns once all are
// in the database. Run with a fixed count, e.g.
//
//	go test -tags integration -run '^$' -bench SinkPut -benchtime 50000x ./irs/sink
func BenchmarkSinkPut(b *testing.B) {
	for _, writers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { benchSinkPut(b, writers) })
	}
}

func benchSinkPut(b *testing.B, writers int) {
	db, dsn := testdb.Shared(b)
	evs := testEvents(b.N, "bench")
	s, err := New(Config{DSN: dsn, SpoolDir: b.TempDir(), Writers: writers, Logger: quietLogger()})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for _, ev := range evs {
		s.Put(ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		b.Fatalf("Close: %v", err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM events").Scan(&n); err != nil || n != b.N {
		b.Fatalf("events stored = %d (%v); want %d", n, err, b.N)
	}
	st := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(st.Spooled), "spooled")
}

// BenchmarkWriteBatch measures one transaction of 500 events with their
// children, without the queue. Each iteration is a whole batch: run it
// with a small count, e.g. -bench WriteBatch -benchtime 20x.
func BenchmarkWriteBatch(b *testing.B) {
	_, dsn := testdb.Shared(b)
	// The sink's own handle: same driver settings (interpolated
	// parameters) as in production.
	s, err := New(Config{DSN: dsn, SpoolDir: b.TempDir(), Logger: quietLogger()})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	defer s.Close(context.Background())
	db := s.DB()
	const size = 500
	b.ReportAllocs()
	var spent time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		now := time.Now()
		recs := make([]*record, size)
		for j, ev := range testEvents(size, "batch") {
			recs[j] = toRecord(ev, now)
		}
		b.StartTimer()
		start := time.Now()
		if _, _, err := writeBatch(context.Background(), db, recs); err != nil {
			b.Fatalf("writeBatch: %v", err)
		}
		spent += time.Since(start)
	}
	b.ReportMetric(float64(size*b.N)/spent.Seconds(), "events/s")
}
