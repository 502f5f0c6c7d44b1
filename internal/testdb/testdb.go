// Package testdb gives integration tests a real MariaDB/MySQL database.
//
// Shared connects to the server the test command started (the DSN in
// SDNLI_TEST_DSN, or root over the default Debian unix socket), creates a
// fresh database with a unique name, applies schema.Migrate and drops the
// database when the test ends. Tests in parallel never see each other's
// rows.
//
// Private starts a throw-away mariadbd of the test's own, in a temporary
// directory, which the test may stop and start again to simulate an
// outage.
//
// A test that needs a database fails (never skips) when none is reachable:
// the integration suite is meant to run where MariaDB is installed.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/schema"
)

// EnvDSN names the environment variable holding the shared server's DSN
// (go-sql-driver/mysql format, without a database name).
const EnvDSN = "SDNLI_TEST_DSN"

// DefaultDSN reaches a Debian MariaDB as root over its unix socket.
const DefaultDSN = "root@unix(/run/mysqld/mysqld.sock)/"

const startHint = "start it with: mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld && " +
	"start-stop-daemon --start --background --exec /usr/sbin/mariadbd -- --user=mysql " +
	"(or point " + EnvDSN + " at a MySQL-compatible server)"

// ServerDSN returns the DSN of the shared test server, without a database.
func ServerDSN() string {
	if v := strings.TrimSpace(os.Getenv(EnvDSN)); v != "" {
		return v
	}
	return DefaultDSN
}

// Shared creates a fresh, migrated database on the shared test server and
// returns a handle to it and its DSN. The database is dropped in
// t.Cleanup. The test fails if the server is not reachable.
func Shared(t testing.TB) (*sql.DB, string) {
	t.Helper()
	return newDatabase(t, ServerDSN(), true, true)
}

// SharedEmpty is Shared without the migrations: for tests of the
// migrations themselves.
func SharedEmpty(t testing.TB) (*sql.DB, string) {
	t.Helper()
	return newDatabase(t, ServerDSN(), false, true)
}

// newDatabase creates a uniquely named database on the server at
// serverDSN, optionally migrates it, and optionally drops it in t.Cleanup.
func newDatabase(t testing.TB, serverDSN string, migrate, drop bool) (*sql.DB, string) {
	t.Helper()
	cfg, err := mysql.ParseDSN(serverDSN)
	if err != nil {
		t.Fatalf("testdb: bad DSN %q: %v", serverDSN, err)
	}
	cfg.DBName = ""
	admin, err := open(cfg)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", serverDSN, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		_ = admin.Close()
		t.Fatalf("testdb: MariaDB/MySQL server at %q is not reachable: %v; %s", serverDSN, err, startHint)
	}

	name := uniqueName()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		_ = admin.Close()
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	cfg.DBName = name
	dsn := cfg.FormatDSN()
	db, err := open(cfg)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = db.Close()
		if !drop {
			_ = admin.Close()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	if migrate {
		if err := schema.Migrate(ctx, db); err != nil {
			t.Fatalf("testdb: migrate %s: %v", name, err)
		}
	}
	return db, dsn
}

// open returns a handle with the settings the project relies on: UTC
// DATETIMEs parsed into time.Time.
func open(cfg *mysql.Config) (*sql.DB, error) {
	cfg = cfg.Clone()
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// uniqueName returns a database name no other test run uses.
func uniqueName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("sdnli_test_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
}
