package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/internal/dsn"
	"github.com/sdnli/sdnli/schema"
)

func init() {
	register("migrate", "create or upgrade the MySQL schema", runMigrate)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "--db DSN", `
Applies the embedded schema migrations to the database, creating every
table sdnli uses or upgrading an older layout. Safe to run repeatedly.
The IRS, controller and analyzer also migrate at start.`, stderr)
	dsn := fs.String("db", envDefault("SDNLI_DB", ""), "MySQL DSN, e.g. 'sdnli:pw@tcp(127.0.0.1:3306)/sdnli' (env SDNLI_DB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return usageError{fmt.Errorf("--db is required")}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := schema.Migrate(ctx, db); err != nil {
		return err
	}
	v, err := schema.Version(db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d\n", v)
	return nil
}

// openDB opens and pings a MySQL database, adding the DSN options sdnli
// relies on (parseTime, UTC) when they are missing.
func openDB(ctx context.Context, source string) (*sql.DB, error) {
	dsn, err := dsn.Normalize(source)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return db, nil
}
