package policy

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// SQLStore keeps toggles in the mirror_policy table (schema migration
// 00002_controller.sql). Several controllers may share it.
type SQLStore struct {
	DB *sql.DB
}

// Load implements Store.
func (s SQLStore) Load(ctx context.Context) (map[string]bool, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT protocol, enabled FROM mirror_policy")
	if err != nil {
		return nil, fmt.Errorf("policy: load mirror_policy: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		var on bool
		if err := rows.Scan(&name, &on); err != nil {
			return nil, fmt.Errorf("policy: load mirror_policy: %w", err)
		}
		if p, ok := Lookup(name); ok {
			out[p.Name] = on
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("policy: load mirror_policy: %w", err)
	}
	return out, nil
}

// Save implements Store.
func (s SQLStore) Save(ctx context.Context, protocol string, enabled bool, by string) error {
	if len(by) > 128 {
		by = by[:128]
	}
	_, err := s.DB.ExecContext(ctx,
		`INSERT INTO mirror_policy (protocol, enabled, updated_by, updated_at) VALUES (?, ?, ?, CURRENT_TIMESTAMP(6))
		 ON DUPLICATE KEY UPDATE enabled = VALUES(enabled), updated_by = VALUES(updated_by), updated_at = VALUES(updated_at)`,
		protocol, enabled, by)
	if err != nil {
		return fmt.Errorf("policy: save mirror_policy %s=%v: %w", protocol, enabled, err)
	}
	return nil
}

// MemStore is a Store in memory, for tests and runs without a database.
type MemStore struct {
	mu sync.Mutex
	m  map[string]bool
	// Err, when set, is returned by every call (to test failures).
	Err error
}

// Load implements Store.
func (s *MemStore) Load(context.Context) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	out := make(map[string]bool, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out, nil
}

// Save implements Store.
func (s *MemStore) Save(_ context.Context, protocol string, enabled bool, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.m == nil {
		s.m = map[string]bool{}
	}
	s.m[protocol] = enabled
	return nil
}
