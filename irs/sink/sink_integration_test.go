//go:build integration

package sink

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/testdb"
	"github.com/sdnli/sdnli/irs/event"
)

// fastConfig returns a config with short timers, so outage tests run in
// seconds.
func fastConfig(dsn, dir string) Config {
	return Config{DSN: dsn, SpoolDir: dir, BatchSize: 200, FlushInterval: 20 * time.Millisecond,
		RetryMin: 50 * time.Millisecond, RetryMax: 400 * time.Millisecond, IdlePoll: 100 * time.Millisecond,
		WriteTimeout: 5 * time.Second, SpoolFileSize: 256 << 10, Logger: quietLogger()}
}

func newSink(t *testing.T, cfg Config) *Sink {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("sink.New: %v", err)
	}
	return s
}

func closeSink(t *testing.T, s *Sink, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitCount polls until the query returns want, failing after timeout.
func waitCount(t *testing.T, db *sql.DB, want int, timeout time.Duration, query string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got int
	for time.Now().Before(deadline) {
		if err := db.QueryRow(query, args...).Scan(&got); err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s = %d after %v; want %d", query, got, timeout, want)
}

// checkStored verifies that exactly the events in want are stored, each
// once, with exactly its own addresses and artifacts.
func checkStored(t *testing.T, db *sql.DB, want []*event.Event) {
	t.Helper()
	rows, err := db.Query(`SELECT e.uid,
		(SELECT COUNT(*) FROM event_addresses a WHERE a.event_id = e.id),
		(SELECT COUNT(*) FROM artifacts f WHERE f.event_id = e.id)
		FROM events e`)
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	defer rows.Close()
	type kids struct{ addrs, arts int }
	got := map[string]kids{}
	for rows.Next() {
		var uid string
		var k kids
		if err := rows.Scan(&uid, &k.addrs, &k.arts); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got[uid] = k
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list events: %v", err)
	}
	missing, wrongKids := 0, 0
	wantSet := map[string]bool{}
	for _, ev := range want {
		wantSet[ev.UID] = true
		k, ok := got[ev.UID]
		if !ok {
			missing++
			continue
		}
		if k.addrs != len(ev.Addresses) || k.arts != len(ev.Artifacts) {
			wrongKids++
			if wrongKids < 4 {
				t.Errorf("event %s has %d addresses, %d artifacts; want %d, %d", ev.UID, k.addrs, k.arts, len(ev.Addresses), len(ev.Artifacts))
			}
		}
	}
	extra := 0
	for uid := range got {
		if !wantSet[uid] {
			extra++
		}
	}
	if missing != 0 || extra != 0 || wrongKids != 0 {
		t.Errorf("stored events vs put: %d missing, %d unexpected, %d with wrong children (of %d)", missing, extra, wrongKids, len(want))
	}
	totalAddrs, totalArts := 0, 0
	for _, ev := range want {
		totalAddrs += len(ev.Addresses)
		totalArts += len(ev.Artifacts)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM event_addresses"); n != totalAddrs {
		t.Errorf("event_addresses rows = %d; want %d (children doubled or orphaned?)", n, totalAddrs)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM artifacts"); n != totalArts {
		t.Errorf("artifacts rows = %d; want %d", n, totalArts)
	}
}

func TestRoundTrip(t *testing.T) {
	db, dsn := testdb.Shared(t)
	s := newSink(t, fastConfig(dsn, t.TempDir()))
	t0 := time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("X", -5*3600))
	evs := []*event.Event{
		{
			UID: event.NewUID(), Node: "irs-1", Protocol: "smtp", Type: "email-send", Start: t0, End: t0.Add(1500 * time.Millisecond),
			Transport: "tcp", Client: netip.MustParseAddrPort("198.51.100.7:51234"), Server: netip.MustParseAddrPort("203.0.113.25:587"),
			Subject: "Grüße 😀 <Quarterly> report", Summary: event.FieldsOf(map[string]any{"helo": "mx.example.org", "size": 12345, "tls": true, "rcpts": []any{"a", "b"}}),
			Anomalies: []string{"line over 1000 bytes"}, RawRef: "pcap/2024/02/29/x.pcap",
			Addresses: []event.Address{{Address: "Alice@Example.ORG", Role: event.RoleFrom}, {Address: "bob@example.net", Role: event.RoleTo}, {Address: "bob@example.net", Role: event.RoleRcpt}},
			Artifacts: []event.Artifact{
				{Kind: event.KindEML, Name: "msg.eml", ContentType: "message/rfc822", Size: 2048, SHA256: strings.Repeat("a1", 32), MD5: strings.Repeat("b2", 16), Path: "eml/x.eml"},
				{Kind: event.KindAttachment, Name: "Bericht für Q1.pdf", ContentType: "application/pdf", Size: 1024, SHA256: strings.Repeat("c3", 32), Path: "files/y", Parent: strings.Repeat("a1", 32)},
			},
		},
		{
			UID: event.NewUID(), Node: "irs-1", Protocol: "ssh", Type: "session", Start: t0, End: t0,
			Transport: "tcp", Client: netip.MustParseAddrPort("[2001:db8::1]:40000"), Server: netip.MustParseAddrPort("[2001:db8::2]:22"),
		},
	}
	for _, ev := range evs {
		s.Put(ev)
	}
	closeSink(t, s, 30*time.Second)
	if st := s.Stats(); st.Written != 2 || st.Spooled != 0 || st.Duplicates != 0 {
		t.Errorf("stats = %+v; want written 2, nothing spooled or duplicate", st)
	}

	for _, ev := range evs {
		t.Run(ev.Protocol, func(t *testing.T) {
			var (
				id                                          uint64
				node, proto, typ, transport, cip, sip, subj string
				cport, sport                                int
				start, end                                  time.Time
				summary, anomalies                          sql.NullString
				rawRef                                      string
				liid                                        sql.NullString
			)
			err := db.QueryRow(`SELECT id, node, protocol, type, start_ts, end_ts, transport, client_ip, client_port, server_ip, server_port,
				subject, summary, anomalies, raw_ref, liid FROM events WHERE uid = ?`, ev.UID).
				Scan(&id, &node, &proto, &typ, &start, &end, &transport, &cip, &cport, &sip, &sport, &subj, &summary, &anomalies, &rawRef, &liid)
			if err != nil {
				t.Fatalf("select event: %v", err)
			}
			gotRow := fmt.Sprintf("%s|%s|%s|%s|%s:%d|%s:%d|%s|%s", node, proto, typ, transport, cip, cport, sip, sport, subj, rawRef)
			wantRow := fmt.Sprintf("%s|%s|%s|%s|%s:%d|%s:%d|%s|%s", ev.Node, ev.Protocol, ev.Type, ev.Transport,
				ev.Client.Addr(), ev.Client.Port(), ev.Server.Addr(), ev.Server.Port(), ev.Subject, ev.RawRef)
			if gotRow != wantRow {
				t.Errorf("row = %s; want %s", gotRow, wantRow)
			}
			if want := ev.Start.UTC().Truncate(time.Microsecond); !start.Equal(want) {
				t.Errorf("start_ts = %v; want %v", start, want)
			}
			if want := ev.End.UTC().Truncate(time.Microsecond); !end.Equal(want) {
				t.Errorf("end_ts = %v; want %v", end, want)
			}
			if liid.Valid {
				t.Errorf("liid = %q; want NULL before warrants exist", liid.String)
			}
			if len(ev.Summary) == 0 {
				if summary.Valid {
					t.Errorf("summary = %s; want NULL", summary.String)
				}
			} else {
				var got, want any
				if err := json.Unmarshal([]byte(summary.String), &got); err != nil {
					t.Fatalf("summary %q: %v", summary.String, err)
				}
				b, _ := json.Marshal(ev.Summary)
				_ = json.Unmarshal(b, &want)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("summary = %v; want %v", got, want)
				}
			}
			if len(ev.Anomalies) > 0 {
				var got []string
				if err := json.Unmarshal([]byte(anomalies.String), &got); err != nil || strings.Join(got, "|") != strings.Join(ev.Anomalies, "|") {
					t.Errorf("anomalies = %s (%v); want %q", anomalies.String, err, ev.Anomalies)
				}
			}

			var addrs []string
			rows, err := db.Query("SELECT address, role FROM event_addresses WHERE event_id = ? ORDER BY id", id)
			if err != nil {
				t.Fatalf("select addresses: %v", err)
			}
			for rows.Next() {
				var a, r string
				_ = rows.Scan(&a, &r)
				addrs = append(addrs, r+":"+a)
			}
			rows.Close()
			var wantAddrs []string
			for _, a := range ev.Addresses {
				wantAddrs = append(wantAddrs, a.Role+":"+a.Address)
			}
			if strings.Join(addrs, ",") != strings.Join(wantAddrs, ",") {
				t.Errorf("addresses = %v; want %v", addrs, wantAddrs)
			}

			var arts []string
			rows, err = db.Query("SELECT kind, name, content_type, size, sha256, COALESCE(md5,''), path, COALESCE(parent_sha256,'') FROM artifacts WHERE event_id = ? ORDER BY id", id)
			if err != nil {
				t.Fatalf("select artifacts: %v", err)
			}
			for rows.Next() {
				var a event.Artifact
				_ = rows.Scan(&a.Kind, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.MD5, &a.Path, &a.Parent)
				arts = append(arts, fmt.Sprint(a))
			}
			rows.Close()
			var wantArts []string
			for _, a := range ev.Artifacts {
				wantArts = append(wantArts, fmt.Sprint(a))
			}
			if strings.Join(arts, "\n") != strings.Join(wantArts, "\n") {
				t.Errorf("artifacts =\n%s\nwant\n%s", strings.Join(arts, "\n"), strings.Join(wantArts, "\n"))
			}
		})
	}

	// Search by address is case-insensitive and finds the event.
	var uid string
	if err := db.QueryRow(`SELECT e.uid FROM event_addresses a JOIN events e ON e.id = a.event_id WHERE a.address = ?`, "alice@example.org").Scan(&uid); err != nil || uid != evs[0].UID {
		t.Errorf("search by address: uid %q, err %v; want %q", uid, err, evs[0].UID)
	}
	// Search by artifact hash finds the attachment.
	if n := count(t, db, "SELECT COUNT(*) FROM artifacts WHERE sha256 = ?", strings.Repeat("c3", 32)); n != 1 {
		t.Errorf("artifacts with the attachment's sha256 = %d; want 1", n)
	}
}

func TestIdempotent(t *testing.T) {
	db, dsn := testdb.Shared(t)
	evs := testEvents(1200, "idem")
	s := newSink(t, fastConfig(dsn, t.TempDir()))
	for _, ev := range evs {
		s.Put(ev)
	}
	// The same events again, as fresh copies (as a replay would decode them).
	for _, ev := range evs {
		c := *ev
		s.Put(&c)
	}
	closeSink(t, s, 60*time.Second)
	checkStored(t, db, evs)
	if st := s.Stats(); st.Written != 1200 || st.Duplicates != 1200 {
		t.Errorf("stats: written %d, duplicates %d; want 1200, 1200", st.Written, st.Duplicates)
	}

	// A later process putting some of them again stores nothing new.
	s2 := newSink(t, fastConfig(dsn, t.TempDir()))
	for _, ev := range evs[:100] {
		c := *ev
		c.UID = strings.ToUpper(c.UID) // same key after normalisation
		s2.Put(&c)
	}
	closeSink(t, s2, 30*time.Second)
	checkStored(t, db, evs)
	if st := s2.Stats(); st.Written != 0 || st.Duplicates != 100 {
		t.Errorf("second sink: written %d, duplicates %d; want 0, 100", st.Written, st.Duplicates)
	}
}

// producer puts events at a steady pace until stop is closed, and
// returns everything it put.
func producer(s *Sink, tag string, stop <-chan struct{}) <-chan []*event.Event {
	out := make(chan []*event.Event, 1)
	go func() {
		var all []*event.Event
		for round := 0; ; round++ {
			select {
			case <-stop:
				out <- all
				return
			default:
			}
			evs := testEvents(50, fmt.Sprintf("%s-%d", tag, round))
			for _, ev := range evs {
				s.Put(ev)
			}
			all = append(all, evs...)
			time.Sleep(10 * time.Millisecond) // ~5000 events/s
		}
	}()
	return out
}

func TestOutage(t *testing.T) {
	tests := []struct {
		name string
		down func(*testdb.Instance)
	}{
		{"clean shutdown", (*testdb.Instance).Stop},
		// A kill can land between the server committing a batch and the
		// client hearing so: the batch is spooled and replayed, and must
		// not come out doubled.
		{"crash", (*testdb.Instance).Kill},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inst := testdb.Private(t)
			db, dsn := inst.Database(t)
			s := newSink(t, fastConfig(dsn, t.TempDir()))
			stop := make(chan struct{})
			done := producer(s, "outage", stop)

			time.Sleep(700 * time.Millisecond)
			tc.down(inst)
			time.Sleep(1 * time.Second) // events keep coming while MySQL is away
			mid := s.Stats()
			inst.Start()
			time.Sleep(700 * time.Millisecond)
			close(stop)
			all := <-done

			waitCount(t, db, len(all), 60*time.Second, "SELECT COUNT(*) FROM events")
			closeSink(t, s, 30*time.Second)
			checkStored(t, db, all)
			st := s.Stats()
			t.Logf("put %d; during outage: spooled %d; final: written %d, replayed %d, duplicates %d, write errors %d",
				len(all), mid.Spooled, st.Written, st.Replayed, st.Duplicates, st.WriteErrors)
			if mid.Spooled == 0 || mid.DBUp {
				t.Errorf("during the outage: spooled %d, db up %v; want events spooled and the database marked down", mid.Spooled, mid.DBUp)
			}
			if st.Replayed == 0 {
				t.Errorf("replayed = 0; want the spooled events replayed")
			}
			// A batch the server committed just before the kill, but whose
			// commit the client never heard of, is spooled, replayed and
			// then found already stored: a duplicate, not a second row
			// (checkStored proved every event is stored exactly once).
			if got := st.Written + st.Replayed + st.Duplicates; got != uint64(len(all)) {
				t.Errorf("written %d + replayed %d + duplicates %d = %d; want %d", st.Written, st.Replayed, st.Duplicates, got, len(all))
			}
			if st.Dropped != 0 || st.Rejected != 0 || st.CorruptLines != 0 {
				t.Errorf("dropped %d, rejected %d, corrupt %d; want none", st.Dropped, st.Rejected, st.CorruptLines)
			}
			if st.SpoolFiles != 0 {
				t.Errorf("spool files left = %d; want 0 after replay", st.SpoolFiles)
			}
		})
	}
}

// A sink closed during an outage leaves its events spooled; the next
// sink on the same directory replays them when the database returns.
func TestRestartDuringOutage(t *testing.T) {
	inst := testdb.Private(t)
	db, dsn := inst.Database(t)
	dir := t.TempDir()

	first := testEvents(1000, "before")
	s1 := newSink(t, fastConfig(dsn, dir))
	for _, ev := range first {
		s1.Put(ev)
	}
	waitCount(t, db, len(first), 30*time.Second, "SELECT COUNT(*) FROM events")

	inst.Stop()
	during := testEvents(1000, "during")
	for _, ev := range during {
		s1.Put(ev)
	}
	closeSink(t, s1, 3*time.Second)
	if st := s1.Stats(); st.Spooled != uint64(len(during)) || st.SpoolFiles == 0 {
		t.Fatalf("first sink: spooled %d events in %d files; want %d events on disk", st.Spooled, st.SpoolFiles, len(during))
	}
	if got := spooledUIDs(t, dir); len(got) != len(during) {
		t.Fatalf("spool holds %d events after Close; want %d", len(got), len(during))
	}

	// A new process, database still down.
	s2 := newSink(t, fastConfig(dsn, dir))
	after := testEvents(1000, "after")
	for _, ev := range after[:500] {
		s2.Put(ev)
	}
	time.Sleep(300 * time.Millisecond)
	inst.Start()
	for _, ev := range after[500:] {
		s2.Put(ev)
	}
	all := append(append(append([]*event.Event{}, first...), during...), after...)
	waitCount(t, db, len(all), 60*time.Second, "SELECT COUNT(*) FROM events")
	closeSink(t, s2, 30*time.Second)
	checkStored(t, db, all)
	st := s2.Stats()
	if st.Replayed < uint64(len(during)) {
		t.Errorf("second sink replayed %d; want at least the %d the first left", st.Replayed, len(during))
	}
	if st.SpoolFiles != 0 {
		t.Errorf("spool files left = %d; want 0", st.SpoolFiles)
	}
}

// syncBuffer is a goroutine-safe log destination.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestReplayLeftoverSpoolWithCorruptLines(t *testing.T) {
	db, dsn := testdb.Shared(t)
	dir := t.TempDir()
	evs := testEvents(4, "corrupt")
	line := func(ev *event.Event) string {
		b, err := encodeEvent(ev, time.Now())
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		return string(b)
	}
	// What a crashed process might leave: a garbled line in the middle
	// and a half-written last line.
	file1 := line(evs[0]) + "\n" + `{"uid":"00ff", "node": garbage` + "\n" + line(evs[1]) + "\n" + line(evs[2])[:40]
	file2 := "\n" + line(evs[3]) + "\n"
	for name, content := range map[string]string{seqName(spoolPrefix, 7): file1, seqName(spoolPrefix, 8): file2} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	var logs syncBuffer
	cfg := fastConfig(dsn, dir)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s := newSink(t, cfg)
	want := []*event.Event{evs[0], evs[1], evs[3]}
	waitCount(t, db, len(want), 30*time.Second, "SELECT COUNT(*) FROM events")
	closeSink(t, s, 30*time.Second)
	checkStored(t, db, want)

	st := s.Stats()
	if st.CorruptLines != 2 || st.Replayed != 3 {
		t.Errorf("corrupt lines %d, replayed %d; want 2, 3", st.CorruptLines, st.Replayed)
	}
	for _, wantLog := range []string{
		filepath.Join(dir, seqName(spoolPrefix, 7)) + " line=2 ",
		filepath.Join(dir, seqName(spoolPrefix, 7)) + " line=4 ",
		"truncated last line",
	} {
		if !strings.Contains(logs.String(), wantLog) {
			t.Errorf("log lacks %q; log:\n%s", wantLog, logs.String())
		}
	}
	if files, _ := s.spool.usage(); files != 0 {
		t.Errorf("spool files left = %d; want both deleted after replay", files)
	}
}

// A row the database refuses is isolated by bisection; the rest of the
// batch goes in and the refused event is kept in a rejected file.
func TestRejectedEventIsolated(t *testing.T) {
	db, dsn := testdb.Shared(t)
	dir := t.TempDir()
	s := newSink(t, fastConfig(dsn, dir))
	defer closeSink(t, s, 10*time.Second)

	evs := testEvents(10, "reject")
	now := time.Now()
	recs := make([]*record, len(evs))
	for i, ev := range evs {
		recs[i] = toRecord(ev, now)
	}
	recs[6].node = strings.Repeat("n", lenNode+1) // bypasses fit: strict mode refuses it
	ins, dups, err := s.storeRecords(recs, evs)
	if err != nil {
		t.Fatalf("storeRecords: %v", err)
	}
	if ins != 9 || dups != 0 {
		t.Errorf("inserted %d, duplicates %d; want 9, 0", ins, dups)
	}
	if st := s.Stats(); st.Rejected != 1 {
		t.Errorf("rejected = %d; want 1", st.Rejected)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM events WHERE uid = ?", evs[6].UID); n != 0 {
		t.Errorf("refused event stored %d times; want 0", n)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, rejectedPrefix+"*"))
	if len(matches) != 1 {
		t.Fatalf("rejected files = %v; want 1", matches)
	}
	lines := readAllLines(t, matches[0])
	if len(lines) != 1 || !strings.Contains(lines[0], evs[6].UID) {
		t.Errorf("rejected file = %q; want the refused event", lines)
	}
}

func TestHeartbeat(t *testing.T) {
	db, dsn := testdb.Shared(t)
	ctx := context.Background()
	started := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

	type row struct {
		api, status, version string
		started              sql.NullTime
		beat                 time.Time
		stats                sql.NullString
	}
	read := func() row {
		var r row
		if err := db.QueryRow("SELECT api_url, status, version, started_at, last_heartbeat, stats FROM irs_nodes WHERE name = 'irs-a'").
			Scan(&r.api, &r.status, &r.version, &r.started, &r.beat, &r.stats); err != nil {
			t.Fatalf("read irs_nodes: %v", err)
		}
		return r
	}

	if err := Heartbeat(ctx, db, NodeInfo{Name: "irs-a", APIURL: "https://10.0.0.5:8443", Status: "capturing", Version: "1.0",
		StartedAt: started, Stats: map[string]int{"packets": 42}}); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	first := read()
	if first.api != "https://10.0.0.5:8443" || first.status != "capturing" || !first.started.Time.Equal(started) || first.stats.String != `{"packets":42}` {
		t.Errorf("first heartbeat row = %+v", first)
	}
	if d := time.Since(first.beat); d > time.Minute || d < -time.Minute {
		t.Errorf("last_heartbeat = %v; want about now (UTC)", first.beat)
	}

	time.Sleep(20 * time.Millisecond)
	s := newSink(t, fastConfig(dsn, t.TempDir()))
	defer closeSink(t, s, 10*time.Second)
	if err := s.Heartbeat(ctx, NodeInfo{Name: "irs-a", APIURL: "https://10.0.0.5:8443", Status: "stopping", Version: "1.0"}); err != nil {
		t.Fatalf("Sink.Heartbeat: %v", err)
	}
	second := read()
	if second.status != "stopping" || !second.started.Time.Equal(started) {
		t.Errorf("second row: status %q, started %v; want stopping, start kept at %v", second.status, second.started.Time, started)
	}
	if !second.beat.After(first.beat) {
		t.Errorf("last_heartbeat %v not after %v", second.beat, first.beat)
	}
	var st Stats
	if err := json.Unmarshal([]byte(second.stats.String), &st); err != nil || !strings.Contains(second.stats.String, `"put":0`) {
		t.Errorf("stats JSON %q (%v); want the sink's Stats", second.stats.String, err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM irs_nodes"); n != 1 {
		t.Errorf("irs_nodes rows = %d; want 1 (upsert)", n)
	}
	if err := Heartbeat(ctx, db, NodeInfo{}); err == nil {
		t.Errorf("Heartbeat without a name succeeded; want an error")
	}
}
