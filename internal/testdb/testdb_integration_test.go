//go:build integration

package testdb

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/schema"
)

func TestSharedFreshMigratedAndDropped(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		db, dsn := Shared(t)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("returned DSN %q does not parse: %v", dsn, err)
		}
		name = cfg.DBName
		if !strings.HasPrefix(name, "sdnli_test_") {
			t.Errorf("database name = %q; want prefix sdnli_test_", name)
		}
		if got, err := schema.Version(db); err != nil || got != schema.Latest() {
			t.Errorf("schema version = %d, %v; want %d", got, err, schema.Latest())
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM events").Scan(&n); err != nil || n != 0 {
			t.Errorf("fresh events table: count %d, err %v; want 0, nil", n, err)
		}
		// A second database in the same test is a different one.
		_, dsn2 := Shared(t)
		if dsn2 == dsn {
			t.Errorf("two Shared calls returned the same DSN %q", dsn)
		}
	})
	admin := openServer(t, ServerDSN())
	var n int
	if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n); err != nil {
		t.Fatalf("look for database %s: %v", name, err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended; want it dropped", name)
	}
}

func openServer(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	db, err := open(cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestPrivateStopStartKeepsData(t *testing.T) {
	inst := Private(t)
	db, _ := inst.Database(t)
	if _, err := db.Exec("CREATE TABLE kv (k INT PRIMARY KEY)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := db.Exec("INSERT INTO kv VALUES (1)"); err != nil {
		t.Fatalf("insert 1: %v", err)
	}

	steps := []struct {
		name string
		down func()
		val  int
	}{
		{"clean stop", inst.Stop, 2},
		{"kill", inst.Kill, 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.down()
			if inst.Running() {
				t.Fatalf("Running() = true after %s; want false", st.name)
			}
			if err := db.Ping(); err == nil {
				t.Fatalf("Ping succeeded while the server is down; want an error")
			}
			inst.Start()
			if !inst.Running() {
				t.Fatalf("Running() = false after Start; want true")
			}
			if _, err := db.Exec("INSERT INTO kv VALUES (?)", st.val); err != nil {
				t.Fatalf("insert after restart: %v", err)
			}
		})
	}
	var got int
	if err := db.QueryRow("SELECT COUNT(*) FROM kv").Scan(&got); err != nil {
		t.Fatalf("count: %v", err)
	}
	if got != 3 {
		t.Errorf("rows after two restarts = %d; want 3", got)
	}
}
