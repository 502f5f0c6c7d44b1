package schema

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Migration files must stay easy to order and review: NNNNN_name.sql,
// numbered 1, 2, 3... without gaps, each with an Up and a Down section.
func TestMigrationFiles(t *testing.T) {
	names, err := fs.Glob(Migrations(), "*")
	if err != nil {
		t.Fatalf("list migrations: %v", err)
	}
	if len(names) == 0 {
		t.Fatalf("no embedded migrations")
	}
	pattern := regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			m := pattern.FindStringSubmatch(name)
			if m == nil {
				t.Fatalf("name %q; want NNNNN_lower_snake.sql", name)
			}
			if want := fmt.Sprintf("%05d", i+1); m[1] != want {
				t.Errorf("number %s; want %s (no gaps, no duplicates)", m[1], want)
			}
			b, err := fs.ReadFile(Migrations(), name)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			text := string(b)
			up := strings.Index(text, "-- +goose Up")
			down := strings.Index(text, "-- +goose Down")
			if up < 0 || down < up {
				t.Fatalf("want a '-- +goose Up' section followed by '-- +goose Down'")
			}
			// The SQL alone, comments dropped.
			var code []string
			for _, line := range strings.Split(text[up:down], "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "--") {
					code = append(code, line)
				}
			}
			text = strings.Join(code, "\n")
			if strings.Contains(strings.ToUpper(text), "FOREIGN KEY") {
				t.Errorf("foreign key found: sharded MySQL-compatible stores do not enforce them")
			}
			for _, stmt := range strings.Split(text, ";") {
				if strings.Contains(stmt, "CREATE TABLE") && !strings.Contains(stmt, "utf8mb4") {
					t.Errorf("CREATE TABLE without utf8mb4: %.60s...", strings.TrimSpace(stmt))
				}
			}
		})
	}
	if got := Latest(); got != int64(len(names)) {
		t.Errorf("Latest() = %d; want %d", got, len(names))
	}
}
