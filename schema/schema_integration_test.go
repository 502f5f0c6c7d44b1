//go:build integration

package schema_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/testdb"
	"github.com/sdnli/sdnli/schema"
)

func TestMigrateFreshThenNoop(t *testing.T) {
	db, _ := testdb.SharedEmpty(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if got, err := schema.Version(db); err != nil || got != 0 {
		t.Fatalf("Version of an empty database = %d, %v; want 0, nil", got, err)
	}
	if err := schema.Migrate(ctx, db); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	want := schema.Latest()
	if want < 1 {
		t.Fatalf("Latest() = %d; want >= 1", want)
	}
	if got, err := schema.Version(db); err != nil || got != want {
		t.Fatalf("Version after Migrate = %d, %v; want %d", got, err, want)
	}
	before := tableSet(t, db)
	if err := schema.Migrate(ctx, db); err != nil {
		t.Fatalf("second Migrate (should be a no-op): %v", err)
	}
	if got, err := schema.Version(db); err != nil || got != want {
		t.Fatalf("Version after second Migrate = %d, %v; want %d", got, err, want)
	}
	var applied int
	if err := db.QueryRow("SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatalf("count applied migrations: %v", err)
	}
	if applied != int(want) {
		t.Errorf("applied migration rows = %d; want %d (second Migrate re-applied something)", applied, want)
	}
	after := tableSet(t, db)
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("tables changed on no-op migrate: before %v, after %v", before, after)
	}
}

func TestMigrateConcurrent(t *testing.T) {
	db, _ := testdb.SharedEmpty(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const callers = 4
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = schema.Migrate(ctx, db)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate #%d: %v", i, err)
		}
	}
	if got, err := schema.Version(db); err != nil || got != schema.Latest() {
		t.Errorf("Version = %d, %v; want %d", got, err, schema.Latest())
	}
}

func tableSet(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name")
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatalf("scan table name: %v", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list tables: %v", err)
	}
	return out
}

func TestTablesAndIndexes(t *testing.T) {
	db, _ := testdb.Shared(t)
	tests := []struct {
		table string
		index string
		cols  string // column list in index order
	}{
		{"events", "PRIMARY", "id"},
		{"events", "uq_events_uid", "uid"},
		{"events", "uq_events_liid_seq", "liid,liid_seq"},
		{"events", "ix_events_start", "start_ts"},
		{"events", "ix_events_protocol_start", "protocol,start_ts"},
		{"events", "ix_events_type_start", "type,start_ts"},
		{"events", "ix_events_client_ip", "client_ip,start_ts"},
		{"events", "ix_events_server_ip", "server_ip,start_ts"},
		{"events", "ix_events_subject", "subject"},
		{"event_addresses", "ix_event_addresses_address", "address,event_id"},
		{"event_addresses", "ix_event_addresses_event", "event_id"},
		{"artifacts", "ix_artifacts_event", "event_id"},
		{"artifacts", "ix_artifacts_sha256", "sha256"},
		{"artifacts", "ix_artifacts_parent", "parent_sha256"},
		{"irs_nodes", "PRIMARY", "name"},
	}
	for _, tc := range tests {
		t.Run(tc.table+"/"+tc.index, func(t *testing.T) {
			var got sql.NullString
			err := db.QueryRow(`SELECT GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ',')
				FROM information_schema.statistics
				WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?`, tc.table, tc.index).Scan(&got)
			if err != nil {
				t.Fatalf("query index: %v", err)
			}
			if got.String != tc.cols {
				t.Errorf("index %s.%s columns = %q; want %q", tc.table, tc.index, got.String, tc.cols)
			}
		})
	}

	// Every text column is utf8mb4 except the ones deliberately ASCII
	// (hex digests, uids, IP literals).
	ascii := map[string]bool{
		"events.uid": true, "events.client_ip": true, "events.server_ip": true, "events.chain_hash": true,
		"artifacts.sha256": true, "artifacts.md5": true, "artifacts.parent_sha256": true,
	}
	rows, err := db.Query(`SELECT table_name, column_name, character_set_name FROM information_schema.columns
		WHERE table_schema = DATABASE() AND character_set_name IS NOT NULL
		AND table_name IN ('events','event_addresses','artifacts','irs_nodes')`)
	if err != nil {
		t.Fatalf("list columns: %v", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tbl, col, cs string
		if err := rows.Scan(&tbl, &col, &cs); err != nil {
			t.Fatalf("scan column: %v", err)
		}
		n++
		want := "utf8mb4"
		if ascii[tbl+"."+col] {
			want = "ascii"
		}
		if cs != want {
			t.Errorf("column %s.%s character set = %s; want %s", tbl, col, cs, want)
		}
	}
	if n < 20 {
		t.Errorf("found %d text columns; want at least 20 (tables missing?)", n)
	}
}

// explainUses reports whether the plan of query uses index (by name) on table.
func explainUses(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query("EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("EXPLAIN columns: %v", err)
	}
	var keys []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("EXPLAIN scan: %v", err)
		}
		var table, key string
		for i, c := range cols {
			switch c {
			case "table":
				table = vals[i].String
			case "key":
				key = vals[i].String
			}
		}
		keys = append(keys, table+":"+key)
	}
	return keys
}

func TestSearchPlansUseIndexes(t *testing.T) {
	db, _ := testdb.Shared(t)
	ctx := context.Background()
	// A few hundred rows so the optimiser prefers indexes to a scan.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		res, err := tx.Exec(`INSERT INTO events (uid, node, protocol, type, start_ts, end_ts, transport, client_ip, client_port, server_ip, server_port, subject)
			VALUES (?, 'n1', ?, 'email-send', ?, ?, 'tcp', ?, 40000, '10.0.0.1', 25, ?)`,
			fmt.Sprintf("%032x", i), []string{"smtp", "pop3", "imap"}[i%3],
			base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(i)*time.Minute+time.Second),
			"192.0.2."+strconv.Itoa(i%250), "subject "+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("insert event %d: %v", i, err)
		}
		id, _ := res.LastInsertId()
		if _, err := tx.Exec(`INSERT INTO event_addresses (event_id, address, role) VALUES (?, ?, 'to')`,
			id, "user"+strconv.Itoa(i)+"@example.org"); err != nil {
			t.Fatalf("insert address %d: %v", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if _, err := db.Exec("ANALYZE TABLE events, event_addresses"); err != nil {
		t.Fatalf("analyze: %v", err)
	}

	tests := []struct {
		name  string
		query string
		args  []any
		want  string // table:key that must appear in the plan
	}{
		{"address, case-insensitive", `SELECT e.id FROM event_addresses a JOIN events e ON e.id = a.event_id WHERE a.address = ?`,
			[]any{"USER7@Example.ORG"}, "a:ix_event_addresses_address"},
		{"protocol and time", `SELECT id FROM events WHERE protocol = ? AND start_ts BETWEEN ? AND ?`,
			[]any{"smtp", base, base.Add(10 * time.Minute)}, "events:ix_events_protocol_start"},
		{"client ip", `SELECT id FROM events WHERE client_ip = ?`, []any{"192.0.2.7"}, "events:ix_events_client_ip"},
		{"subject prefix", `SELECT id FROM events WHERE subject LIKE ?`, []any{"subject 12%"}, "events:ix_events_subject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := explainUses(t, db, tc.query, tc.args...)
			found := false
			for _, k := range got {
				if k == tc.want {
					found = true
				}
			}
			if !found {
				t.Errorf("plan %v; want it to use %s", got, tc.want)
			}
		})
	}

	// The case-insensitive collation must actually match.
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM event_addresses WHERE address = ?`, "USER7@Example.ORG").Scan(&n); err != nil {
		t.Fatalf("address lookup: %v", err)
	}
	if n != 1 {
		t.Errorf("case-insensitive address lookup found %d rows; want 1", n)
	}
}
