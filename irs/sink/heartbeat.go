package sink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// NodeInfo describes an IRS node for the irs_nodes table.
type NodeInfo struct {
	Name      string    // unique node name (events.node)
	APIURL    string    // where the analyzer reaches the node's API (raw-data download)
	Status    string    // e.g. "capturing", "stopping"
	Version   string    // sdnli version
	StartedAt time.Time // process start; zero leaves the stored value
	Stats     any       // JSON-encodable; Sink.Heartbeat fills in Sink.Stats when nil
}

// Heartbeat upserts the node's row in irs_nodes. last_heartbeat takes
// the database's clock, so that the heartbeats of several nodes compare
// without trusting their clocks. Call it periodically (every few
// seconds); the analyzer shows a node as gone when its heartbeat is old.
// A heartbeat is not spooled: when the database is down it just fails.
func Heartbeat(ctx context.Context, db *sql.DB, n NodeInfo) error {
	if db == nil {
		return errors.New("sink: heartbeat: nil database handle")
	}
	if n.Name == "" {
		return errors.New("sink: heartbeat: node name is empty")
	}
	var stats any
	if n.Stats != nil {
		b, err := marshalJSON(n.Stats)
		if err != nil {
			return fmt.Errorf("sink: heartbeat %s: encode stats: %w", n.Name, err)
		}
		stats = string(b)
	}
	var started any
	if t, ok := normTime(n.StartedAt); ok {
		started = t
	}
	// VALUES() rather than MySQL 8's row alias: MariaDB and TiDB lack
	// the alias, and every MySQL-compatible server accepts VALUES().
	_, err := db.ExecContext(ctx, `INSERT INTO irs_nodes (name, api_url, status, version, started_at, last_heartbeat, stats)
		VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), ?)
		ON DUPLICATE KEY UPDATE api_url = VALUES(api_url), status = VALUES(status), version = VALUES(version),
			started_at = COALESCE(VALUES(started_at), started_at), last_heartbeat = VALUES(last_heartbeat),
			stats = VALUES(stats)`,
		fit(n.Name, lenNode), fit(n.APIURL, 255), fit(n.Status, 32), fit(n.Version, 64), started, stats)
	if err != nil {
		return fmt.Errorf("sink: heartbeat %s: %w", n.Name, err)
	}
	return nil
}

// Heartbeat upserts n through the sink's database handle, with the
// sink's Stats when n.Stats is nil.
func (s *Sink) Heartbeat(ctx context.Context, n NodeInfo) error {
	if n.Stats == nil {
		n.Stats = s.Stats()
	}
	return Heartbeat(ctx, s.db, n)
}
