package sink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/irs/event"
)

// memStore stands in for the events table in tests of the replay and
// bisection logic: uid-keyed, with scripted failures.
type memStore struct {
	mu      sync.Mutex
	rows    map[string]bool
	order   []string // uids in insertion order
	calls   int
	failAt  map[int]error // call number (1-based) → error
	badNode string        // rows with this node are refused as invalid
}

func newMemStore() *memStore { return &memStore{rows: map[string]bool{}, failAt: map[int]error{}} }

func (m *memStore) write(_ context.Context, recs []*record) (int, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if err := m.failAt[m.calls]; err != nil {
		return 0, 0, err
	}
	for _, r := range recs {
		if m.badNode != "" && r.node == m.badNode {
			return 0, 0, &mysql.MySQLError{Number: 1406, Message: "Data too long for column 'node'"}
		}
	}
	ins, dups := 0, 0
	for _, r := range recs {
		if m.rows[r.uid] {
			dups++
			continue
		}
		m.rows[r.uid] = true
		m.order = append(m.order, r.uid)
		ins++
	}
	return ins, dups, nil
}

// testSink builds a Sink around a spool dir and a memStore, without the
// background loops, so the test drives replay itself.
func testSink(t *testing.T, dir string, batch int, m *memStore) *Sink {
	t.Helper()
	cfg := Config{DSN: "x", SpoolDir: dir, BatchSize: batch, Logger: quietLogger()}
	if err := cfg.setDefaults(); err != nil {
		t.Fatalf("config: %v", err)
	}
	sp, err := openSpool(dir, cfg.SpoolFileSize)
	if err != nil {
		t.Fatalf("openSpool: %v", err)
	}
	t.Cleanup(func() { _ = sp.close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &Sink{cfg: cfg, log: cfg.Logger, spool: sp, ctx: ctx, cancel: cancel,
		queue: make(chan *event.Event, 1), kick: make(chan struct{}, 1),
		progress: map[string]fileProgress{}, write: m.write}
}

func writeSpoolFile(t *testing.T, dir string, seq uint64, lines ...string) string {
	t.Helper()
	name := seqName(spoolPrefix, seq)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	return name
}

func lineOf(t *testing.T, ev *event.Event) string {
	t.Helper()
	b, err := encodeEvent(ev, time.Now())
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return string(b)
}

func uidsOf(evs []*event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.UID
	}
	return out
}

func TestReplayOldestFirstSkippingCorrupt(t *testing.T) {
	dir := t.TempDir()
	evs := testEvents(6, "order")
	// Sequence numbers out of creation order on purpose: 9 is newer than 3.
	writeSpoolFile(t, dir, 9, lineOf(t, evs[3]), "{not json", lineOf(t, evs[4]), lineOf(t, evs[5]), "")
	writeSpoolFile(t, dir, 3, lineOf(t, evs[0]), lineOf(t, evs[1]), "", lineOf(t, evs[2])[:30])
	m := newMemStore()
	s := testSink(t, dir, 2, m)
	if err := s.replayAll(); err != nil {
		t.Fatalf("replayAll: %v", err)
	}
	want := uidsOf([]*event.Event{evs[0], evs[1], evs[3], evs[4], evs[5]})
	if strings.Join(m.order, ",") != strings.Join(want, ",") {
		t.Errorf("replay order = %v; want %v", m.order, want)
	}
	if got := s.corrupt.Load(); got != 2 {
		t.Errorf("corrupt lines = %d; want 2 (garbled line, truncated last line)", got)
	}
	if got := s.replayed.Load(); got != 5 {
		t.Errorf("replayed = %d; want 5", got)
	}
	if files, _ := s.spool.usage(); files != 0 {
		t.Errorf("spool files left = %d; want 0", files)
	}
}

func TestReplayResumesAfterFailure(t *testing.T) {
	dir := t.TempDir()
	evs := testEvents(10, "resume")
	var lines []string
	for _, ev := range evs {
		lines = append(lines, lineOf(t, ev))
	}
	lines[5] = "garbage"
	name := writeSpoolFile(t, dir, 1, append(lines, "")...)
	m := newMemStore()
	outage := errors.New("connection refused")
	m.failAt[3] = outage // third batch of 3 fails
	s := testSink(t, dir, 3, m)

	err := s.replayAll()
	if !errors.Is(err, outage) {
		t.Fatalf("replayAll err = %v; want the outage", err)
	}
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		t.Fatalf("spool file gone after a failed replay: %v; want it kept", err)
	}
	if len(m.order) != 6 {
		t.Fatalf("stored before the outage = %d; want 6 (two batches)", len(m.order))
	}
	if err := s.replayAll(); err != nil {
		t.Fatalf("second replayAll: %v", err)
	}
	want := uidsOf(append(append([]*event.Event{}, evs[:5]...), evs[6:]...))
	if strings.Join(m.order, ",") != strings.Join(want, ",") {
		t.Errorf("stored = %v; want %v", m.order, want)
	}
	// Resumed after the committed batches: no event offered twice, the
	// corrupt line (in the committed part) reported once.
	// Batches: [0 1 2] [3 4 6] [7 8 9]; the third fails, then only it is retried.
	if calls := m.calls; calls != 4 {
		t.Errorf("write calls = %d; want 4 (2 ok, 1 failed, 1 after resume)", calls)
	}
	if got := s.corrupt.Load(); got != 1 {
		t.Errorf("corrupt lines = %d; want 1", got)
	}
	if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
		t.Errorf("spool file still there after full replay: %v", err)
	}
}

func TestReplayTakesActiveFile(t *testing.T) {
	dir := t.TempDir()
	m := newMemStore()
	s := testSink(t, dir, 100, m)
	evs := testEvents(5, "active")
	// Queue overflow while the database is up lands in the active file.
	for _, ev := range evs {
		if err := s.spoolEvents([]*event.Event{ev}, false); err != nil {
			t.Fatalf("spool: %v", err)
		}
	}
	if err := s.replayAll(); err != nil {
		t.Fatalf("replayAll: %v", err)
	}
	if len(m.order) != 5 {
		t.Errorf("replayed %d events from the active file; want 5", len(m.order))
	}
	if files, _ := s.spool.usage(); files != 0 {
		t.Errorf("spool files left = %d; want 0", files)
	}
}

func TestStoreBisectsRefusedEvents(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		bad     []int
		wantIns int
	}{
		{"one bad in the middle", 10, []int{6}, 9},
		{"first and last bad", 7, []int{0, 6}, 5},
		{"all bad", 3, []int{0, 1, 2}, 0},
		{"none bad", 4, nil, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := newMemStore()
			m.badNode = "refused"
			s := testSink(t, dir, 100, m)
			evs := testEvents(tc.n, "bisect")
			for _, i := range tc.bad {
				evs[i].Node = "refused"
			}
			ins, _, err := s.store(evs)
			if err != nil {
				t.Fatalf("store: %v", err)
			}
			if ins != tc.wantIns || len(m.order) != tc.wantIns {
				t.Errorf("inserted %d (stored %d); want %d", ins, len(m.order), tc.wantIns)
			}
			if got := s.rejected.Load(); got != uint64(len(tc.bad)) {
				t.Errorf("rejected = %d; want %d", got, len(tc.bad))
			}
			matches, _ := filepath.Glob(filepath.Join(dir, rejectedPrefix+"*"))
			var kept []string
			for _, f := range matches {
				kept = append(kept, readAllLines(t, f)...)
			}
			if len(kept) != len(tc.bad) {
				t.Errorf("rejected file lines = %d; want %d", len(kept), len(tc.bad))
			}
		})
	}
}

func TestStoreOutageIsReturned(t *testing.T) {
	m := newMemStore()
	outage := fmt.Errorf("dial: %w", errors.New("connection refused"))
	m.failAt[1] = outage
	s := testSink(t, t.TempDir(), 100, m)
	if _, _, err := s.store(testEvents(3, "out")); !errors.Is(err, outage) {
		t.Errorf("store err = %v; want the outage (not bisected, not rejected)", err)
	}
	if m.calls != 1 || s.rejected.Load() != 0 {
		t.Errorf("calls %d, rejected %d; want 1, 0", m.calls, s.rejected.Load())
	}
	// Deadlocks are retried at once.
	m2 := newMemStore()
	m2.failAt[1] = &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}
	s2 := testSink(t, t.TempDir(), 100, m2)
	if ins, _, err := s2.store(testEvents(3, "dl")); err != nil || ins != 3 {
		t.Errorf("after a deadlock: inserted %d, err %v; want 3, nil", ins, err)
	}
}
