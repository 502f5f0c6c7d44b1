//go:build integration

package analyzer

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/events"
	"github.com/sdnli/sdnli/internal/testdb"
	"github.com/sdnli/sdnli/schema"
)

// The search benchmark runs over a database of benchEvents generated
// events, loaded once and kept on the test server under benchDB so that
// later runs reuse it (drop the database to reload). Run it with:
//
//	go test -tags integration -run '^$' -bench SearchByEmail -benchtime 2000x ./analyzer/
const (
	benchDB        = "sdnli_bench_search_1m"
	benchEvents    = 1_000_000
	benchAddresses = 200_000 // distinct email addresses
)

func benchAddress(i int) string { return fmt.Sprintf("user%06d@dom%d.example", i, i%97) }

// openBenchDB opens (creating, migrating and filling it if needed) the
// benchmark database.
func openBenchDB(b *testing.B) *sql.DB {
	b.Helper()
	cfg, err := mysql.ParseDSN(testdb.ServerDSN())
	if err != nil {
		b.Fatalf("bad DSN: %v", err)
	}
	cfg.DBName = ""
	cfg.ParseTime, cfg.Loc = true, time.UTC
	cfg.InterpolateParams = true
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		b.Fatalf("MariaDB at %s is not reachable: %v", testdb.ServerDSN(), err)
	}
	if _, err := admin.Exec("CREATE DATABASE IF NOT EXISTS `" + benchDB + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		b.Fatal(err)
	}
	cfg.DBName = benchDB
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := schema.Migrate(ctx, db); err != nil {
		b.Fatalf("migrate: %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM events").Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n == benchEvents {
		b.Logf("reusing %d events in database %s", n, benchDB)
		return db
	}
	for _, t := range []string{"events", "event_addresses", "artifacts"} {
		if _, err := db.Exec("TRUNCATE TABLE " + t); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	loadBenchEvents(b, db)
	b.Logf("loaded %d events in %v", benchEvents, time.Since(start).Round(time.Second))
	if _, err := db.Exec("ANALYZE TABLE events, event_addresses"); err != nil {
		b.Fatal(err)
	}
	return db
}

// loadBenchEvents inserts the events and their addresses with multi-row
// INSERTs, two loaders in parallel, ids given explicitly so that the
// addresses need no lookup.
func loadBenchEvents(b *testing.B, db *sql.DB) {
	const batch = 2000
	const loaders = 2
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	protocols := []struct{ proto, typ string }{
		{"smtp", "email-send"}, {"smtp", "email-send"}, {"smtp", "email-send"}, {"smtp", "email-send"}, {"smtp", "email-send"},
		{"pop3", "email-receive"}, {"pop3", "email-receive"}, {"imap", "email-receive"}, {"imap", "logon"}, {"http", "request"},
	}
	errs := make(chan error, loaders)
	for l := range loaders {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(l), 42))
			conn, err := db.Conn(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			_, _ = conn.ExecContext(context.Background(), "SET SESSION unique_checks = 0")
			var ev, ad strings.Builder
			for first := 1 + l*batch; first <= benchEvents; first += loaders * batch {
				ev.Reset()
				ad.Reset()
				ev.WriteString("INSERT INTO events (id, uid, node, protocol, type, start_ts, end_ts, transport, client_ip, client_port, server_ip, server_port, subject, raw_ref) VALUES ")
				ad.WriteString("INSERT INTO event_addresses (event_id, address, role) VALUES ")
				nad := 0
				for id := first; id < first+batch && id <= benchEvents; id++ {
					p := protocols[id%len(protocols)]
					ts := base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
					if id != first {
						ev.WriteString(",")
					}
					fmt.Fprintf(&ev, "(%d,'%032x','bench-1','%s','%s','%s','%s','tcp','10.%d.%d.%d',%d,'192.0.2.%d',25,'Message %d','sessions/x/%d.pcap')",
						id, id, p.proto, p.typ, ts.Format("2006-01-02 15:04:05.000000"), ts.Add(time.Second).Format("2006-01-02 15:04:05.000000"),
						rng.IntN(256), rng.IntN(256), rng.IntN(256), 1024+rng.IntN(60000), rng.IntN(256), id, id)
					if p.proto == "http" {
						continue
					}
					from := rng.IntN(benchAddresses)
					roles := [][2]string{{"from", benchAddress(from)}, {"mail", benchAddress(from)}, {"to", benchAddress(rng.IntN(benchAddresses))}}
					if p.typ == "logon" {
						roles = roles[:1]
						roles[0][0] = "user"
					}
					for _, r := range roles {
						if nad > 0 {
							ad.WriteString(",")
						}
						fmt.Fprintf(&ad, "(%d,'%s','%s')", id, r[1], r[0])
						nad++
					}
				}
				if _, err := conn.ExecContext(context.Background(), ev.String()); err != nil {
					errs <- fmt.Errorf("insert events from %d: %w", first, err)
					return
				}
				if nad > 0 {
					if _, err := conn.ExecContext(context.Background(), ad.String()); err != nil {
						errs <- fmt.Errorf("insert addresses from %d: %w", first, err)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range loaders {
		if err := <-errs; err != nil {
			b.Fatalf("load: %v", err)
		}
	}
}

// BenchmarkSearchByEmail measures GET /api/v1/events?email=... through
// the whole API (session check, count, page, addresses, audit append)
// over a million events, and reports the p50 and p99 latency.
func BenchmarkSearchByEmail(b *testing.B) {
	db := openBenchDB(b)
	srv, err := New(Config{DB: db, BcryptCost: 4, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	web := httptest.NewServer(srv)
	defer web.Close()
	name := fmt.Sprintf("bench%d", time.Now().UnixNano())
	if _, err := srv.Users().Create(context.Background(), name, "analyst", password); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Post(web.URL+"/api/v1/login", "application/json",
		strings.NewReader(`{"name":"`+name+`","password":"`+password+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("login: %d", resp.StatusCode)
	}

	var plan []string
	rows, err := db.Query("EXPLAIN SELECT COUNT(*) FROM events e JOIN (SELECT DISTINCT event_id FROM event_addresses WHERE address = ?) ea ON ea.event_id = e.id", benchAddress(7))
	if err == nil {
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			_ = rows.Scan(ptrs...)
			var parts []string
			for i, c := range cols {
				if vals[i].Valid && (c == "table" || c == "type" || c == "key" || c == "rows" || c == "Extra") {
					parts = append(parts, c+"="+vals[i].String)
				}
			}
			plan = append(plan, strings.Join(parts, " "))
		}
		rows.Close()
	}
	b.Logf("plan: %s", strings.Join(plan, " | "))

	rng := rand.New(rand.NewPCG(7, 7))
	lat := make([]time.Duration, 0, b.N)
	var hits int64
	b.ResetTimer()
	for b.Loop() {
		addr := benchAddress(rng.IntN(benchAddresses))
		t0 := time.Now()
		resp, err := hc.Get(web.URL + "/api/v1/events?email=" + addr)
		if err != nil {
			b.Fatal(err)
		}
		var res struct {
			Total int64 `json:"total"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if resp.StatusCode != 200 {
			b.Fatalf("search: %d", resp.StatusCode)
		}
		hits += res.Total
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(hits)/float64(len(lat)), "events/query")
	b.Logf("%d searches by email over %d events: p50 %v, p99 %v, max %v, %.1f events per address on average",
		len(lat), benchEvents, pct(0.50), pct(0.99), lat[len(lat)-1], float64(hits)/float64(len(lat)))
}

// BenchmarkSearchByEmailQuery is the database part of the search alone
// (count, page, addresses), without HTTP, session or audit.
func BenchmarkSearchByEmailQuery(b *testing.B) {
	db := openBenchDB(b)
	ev := events.New(db)
	rng := rand.New(rand.NewPCG(9, 9))
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if _, err := ev.Search(context.Background(), events.Query{Email: benchAddress(rng.IntN(benchAddresses))}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

// BenchmarkAuditAppend is the audit row every search writes.
func BenchmarkAuditAppend(b *testing.B) {
	db := openBenchDB(b)
	l := audit.New(db)
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if _, err := l.Append(context.Background(), audit.Entry{Actor: "bench", Action: audit.ActionSearch, Outcome: audit.OutcomeOK}, map[string]string{"email": "x@y"}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
}
