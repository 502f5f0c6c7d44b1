// Package dsn normalises MySQL data source names: every sdnli component
// needs the same driver options (time values parsed, UTC), so they are
// added here once instead of being asked of every operator.
package dsn

import (
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Normalize parses a go-sql-driver/mysql DSN and sets the options sdnli
// relies on: parseTime, UTC location, utf8mb4, and sane timeouts. Options
// the operator set explicitly are kept.
func Normalize(s string) (string, error) {
	cfg, err := mysql.ParseDSN(s)
	if err != nil {
		return "", fmt.Errorf("dsn: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["charset"]; !ok {
		cfg.Params["charset"] = "utf8mb4"
	}
	return cfg.FormatDSN(), nil
}
