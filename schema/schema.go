// Package schema is the single source of the sdnli database layout: every
// table, column and index lives in the numbered SQL migrations embedded
// here (migrations/00001_core.sql, 00002_..., applied in order by goose).
// Nothing else in the project creates or alters tables.
//
// The SQL is plain MySQL so that MySQL, MariaDB and MySQL-compatible
// distributed databases (TiDB, Vitess) all run it unchanged. Adding to the
// layout means adding the next numbered file; applied files are never
// edited.
//
// Connections must use the utf8mb4 character set (the go-sql-driver/mysql
// default) and UTC for DATETIME values (loc=UTC, the driver's default).
package schema

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Migrations returns the embedded migration files (for listing and docs).
func Migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		// fs.Sub fails only on an invalid path literal, fixed at build time.
		return embedded
	}
	return sub
}

// lockTimeout bounds how long Migrate waits for another process (another
// IRS node, the analyzer) that is migrating the same database.
const (
	lockRetry    = 500 * time.Millisecond
	lockAttempts = 240 // two minutes
)

func provider(db *sql.DB, withLock bool) (*goose.Provider, error) {
	if db == nil {
		return nil, errors.New("schema: nil database handle")
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if withLock {
		// A table lock rather than GET_LOCK: it works the same on every
		// MySQL-compatible store, sharded ones included.
		locker, err := lock.NewMySQLTableLocker(
			lock.WithTableLockTimeout(lockRetry, lockAttempts),
		)
		if err != nil {
			return nil, fmt.Errorf("schema: migration lock: %w", err)
		}
		opts = append(opts, goose.WithLocker(locker))
	}
	p, err := goose.NewProvider(goose.DialectMySQL, db, Migrations(), opts...)
	if err != nil {
		return nil, fmt.Errorf("schema: load embedded migrations: %w", err)
	}
	return p, nil
}

// Migrate brings the database behind db up to the latest embedded
// migration. It is safe to call on every start and from several processes
// at once: applied migrations are skipped, and a lock table serialises
// concurrent callers.
func Migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db, true)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("schema: migrate: %w", err)
	}
	return nil
}

// Version returns the version of the last migration applied to the
// database (0 for an empty database).
func Version(db *sql.DB) (int64, error) {
	p, err := provider(db, false)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema: read version: %w", err)
	}
	return v, nil
}

// Latest returns the version of the newest embedded migration: the
// version Migrate brings a database to.
func Latest() int64 {
	entries, err := fs.Glob(Migrations(), "*.sql")
	if err != nil {
		return 0
	}
	var latest int64
	for _, name := range entries {
		v, err := goose.NumericComponent(name)
		if err == nil && v > latest {
			latest = v
		}
	}
	return latest
}
