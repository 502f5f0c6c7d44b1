package sink

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testEvents returns n events with two addresses and one artifact each.
func testEvents(n int, tag string) []*event.Event {
	base := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = &event.Event{
			UID: event.NewUID(), Node: "node-" + tag, Protocol: "smtp", Type: "email-send",
			Start: base.Add(time.Duration(i) * time.Millisecond), End: base.Add(time.Duration(i)*time.Millisecond + time.Second),
			Transport: "tcp",
			Client:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i%20000)),
			Server:    netip.MustParseAddrPort("192.0.2.25:25"),
			Subject:   fmt.Sprintf("message %s-%d", tag, i),
			Summary:   event.Fields{{Key: "size", Value: i}, {Key: "helo", Value: "mx.example.org"}},
			Addresses: []event.Address{
				{Address: fmt.Sprintf("sender%d@example.org", i), Role: event.RoleMail},
				{Address: fmt.Sprintf("rcpt%d@example.net", i), Role: event.RoleRcpt},
			},
			Artifacts: []event.Artifact{{Kind: event.KindEML, Name: fmt.Sprintf("%d.eml", i), ContentType: "message/rfc822",
				Size: int64(100 + i), SHA256: fmt.Sprintf("%064x", i), MD5: fmt.Sprintf("%032x", i), Path: fmt.Sprintf("eml/%d.eml", i)}},
			RawRef: fmt.Sprintf("pcap/%d.pcap", i),
		}
	}
	return evs
}

// spooledUIDs reads every spool file in dir and counts uids.
func spooledUIDs(t *testing.T, dir string) map[string]int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read spool dir: %v", err)
	}
	got := map[string]int{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		for i, l := range readAllLines(t, filepath.Join(dir, e.Name())) {
			ev, err := decodeLine([]byte(l))
			if err != nil {
				t.Fatalf("%s line %d: %v", e.Name(), i+1, err)
			}
			got[ev.UID]++
		}
	}
	return got
}

// refusedDSN points at a loopback port where nothing listens.
func refusedDSN(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return "u@tcp(" + addr + ")/db?timeout=1s"
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no DSN", Config{SpoolDir: "x"}, "DSN is empty"},
		{"no spool", Config{DSN: "u@tcp(h)/d"}, "SpoolDir is empty"},
		{"negative interval", Config{DSN: "d", SpoolDir: "x", FlushInterval: -1}, "FlushInterval is negative"},
		{"retry max below min", Config{DSN: "d", SpoolDir: "x", RetryMin: time.Second, RetryMax: time.Millisecond}, "RetryMax"},
		{"negative batch", Config{DSN: "d", SpoolDir: "x", BatchSize: -1}, "must not be negative"},
		{"defaults", Config{DSN: "d", SpoolDir: "x"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.setDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			c := tc.cfg
			if c.BatchSize != DefaultBatchSize || c.FlushInterval != DefaultFlushInterval || c.QueueSize != DefaultQueueSize ||
				c.RetryMin != DefaultRetryMin || c.RetryMax != DefaultRetryMax || c.SpoolFileSize != DefaultSpoolFileSize || c.Logger == nil ||
				c.Writers != DefaultWriters {
				t.Errorf("defaults not applied: %+v", c)
			}
		})
	}
	if _, err := New(Config{DSN: "not a dsn", SpoolDir: t.TempDir()}); err == nil {
		t.Errorf("New with a malformed DSN succeeded; want an error")
	}
}

// With the database refusing connections every event must end up in the
// spool exactly once, and Close must say nothing was lost.
func TestSinkSpoolsWhenDatabaseRefuses(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{DSN: refusedDSN(t), SpoolDir: dir, BatchSize: 100, QueueSize: 50,
		FlushInterval: 10 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		SpoolFileSize: 64 << 10, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	evs := testEvents(3000, "down")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(evs); i += 4 {
				s.Put(evs[i])
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st := s.Stats()
	if st.Put != 3000 || st.Spooled != 3000 || st.Written != 0 || st.Dropped != 0 || st.DBUp {
		t.Errorf("stats = %+v; want put 3000, spooled 3000, written 0, dropped 0, db down", st)
	}
	if st.LastError == "" {
		t.Errorf("LastError empty; want the connection error")
	}
	got := spooledUIDs(t, dir)
	if len(got) != len(evs) {
		t.Errorf("spooled %d distinct uids; want %d", len(got), len(evs))
	}
	for _, ev := range evs {
		if got[ev.UID] != 1 {
			t.Errorf("uid %s spooled %d times; want 1", ev.UID, got[ev.UID])
			break
		}
	}
	if st.SpoolFiles < 2 {
		t.Errorf("spool files = %d; want rotation at 64 KiB to have made several", st.SpoolFiles)
	}
	if s2, err := New(Config{DSN: refusedDSN(t), SpoolDir: dir, Logger: quietLogger()}); err != nil {
		t.Errorf("New on the released spool dir: %v", err)
	} else {
		_ = s2.Close(ctx)
	}
	s.Put(testEvents(1, "late")[0])
	if st := s.Stats(); st.Dropped != 1 {
		t.Errorf("Put after Close: dropped = %d; want 1", st.Dropped)
	}
}

// A database that accepts the connection but never answers must not
// hold up Put: the queue fills and events go straight to disk.
func TestPutDoesNotBlockOnHungDatabase(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})

	dir := t.TempDir()
	s, err := New(Config{DSN: "u@tcp(" + l.Addr().String() + ")/db?timeout=30s&readTimeout=30s", SpoolDir: dir,
		BatchSize: 50, QueueSize: 100, FlushInterval: 10 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	evs := testEvents(5000, "hung")
	var worst time.Duration
	start := time.Now()
	for _, ev := range evs {
		t0 := time.Now()
		s.Put(ev)
		worst = max(worst, time.Since(t0))
	}
	total := time.Since(start)
	if worst > 500*time.Millisecond {
		t.Errorf("slowest Put took %v; want < 500ms while the database hangs", worst)
	}
	if total > 5*time.Second {
		t.Errorf("5000 Puts took %v; want < 5s while the database hangs", total)
	}
	// Close gives up on the hung database quickly and spools the rest.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Close took %v with a 300ms context; want it to give up promptly", d)
	}
	got := spooledUIDs(t, dir)
	missing, doubled := 0, 0
	for _, ev := range evs {
		switch got[ev.UID] {
		case 0:
			missing++
		case 1:
		default:
			doubled++
		}
	}
	if missing != 0 || doubled != 0 || len(got) != len(evs) {
		t.Errorf("spool: %d missing, %d doubled, %d distinct; want 0, 0, %d", missing, doubled, len(got), len(evs))
	}
}
