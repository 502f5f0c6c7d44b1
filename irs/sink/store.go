package sink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Statement limits: rows per multi-row INSERT and its rough size, well
// under the 65535 placeholders of a prepared statement and the default
// max_allowed_packet (16 MiB on MariaDB, 64 MiB on MySQL 8).
const (
	maxRowsPerStmt  = 1000
	maxBytesPerStmt = 4 << 20
)

const (
	eventCols    = "uid, node, protocol, type, start_ts, end_ts, transport, client_ip, client_port, server_ip, server_port, subject, summary, anomalies, raw_ref"
	eventPH      = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	addressCols  = "event_id, address, role"
	addressPH    = "(?,?,?)"
	artifactCols = "event_id, kind, name, content_type, size, sha256, md5, path, parent_sha256"
	artifactPH   = "(?,?,?,?,?,?,?,?,?)"
)

// errDuplicate marks a batch that lost a race on events.uid with another
// writer; retrying it skips the now-existing rows.
var errDuplicate = errors.New("sink: concurrent insert of the same uid")

// writeBatch stores recs in one transaction: the events whose uid is not
// in the table yet, then the addresses and artifacts of exactly those
// events. It returns how many events it inserted and how many were
// already present. recs must have distinct uids.
func writeBatch(ctx context.Context, db *sql.DB, recs []*record) (inserted, dups int, err error) {
	if len(recs) == 0 {
		return 0, 0, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("sink: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	uids := make([]any, len(recs))
	for i, r := range recs {
		uids[i] = r.uid
	}
	existing, err := idsByUID(ctx, tx, uids)
	if err != nil {
		return 0, 0, err
	}
	fresh := recs[:0:0]
	for _, r := range recs {
		if _, ok := existing[r.uid]; !ok {
			fresh = append(fresh, r)
		}
	}
	dups = len(recs) - len(fresh)
	if len(fresh) == 0 {
		if err := tx.Commit(); err != nil {
			return 0, 0, fmt.Errorf("sink: commit: %w", err)
		}
		return 0, dups, nil
	}

	if err := insertEvents(ctx, tx, fresh); err != nil {
		return 0, 0, err
	}
	freshUIDs := make([]any, len(fresh))
	for i, r := range fresh {
		freshUIDs[i] = r.uid
	}
	ids, err := idsByUID(ctx, tx, freshUIDs)
	if err != nil {
		return 0, 0, err
	}
	if err := insertChildren(ctx, tx, fresh, ids); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("sink: commit: %w", err)
	}
	return len(fresh), dups, nil
}

// idsByUID maps the given uids that exist in events to their ids.
func idsByUID(ctx context.Context, tx *sql.Tx, uids []any) (map[string]uint64, error) {
	out := make(map[string]uint64, len(uids))
	for start := 0; start < len(uids); start += maxRowsPerStmt {
		chunk := uids[start:min(start+maxRowsPerStmt, len(uids))]
		q := "SELECT id, uid FROM events WHERE uid IN (?" + strings.Repeat(",?", len(chunk)-1) + ")"
		rows, err := tx.QueryContext(ctx, q, chunk...)
		if err != nil {
			return nil, fmt.Errorf("sink: look up event uids: %w", err)
		}
		for rows.Next() {
			var id uint64
			var uid string
			if err := rows.Scan(&id, &uid); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sink: scan event uid: %w", err)
			}
			out[uid] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sink: look up event uids: %w", err)
		}
	}
	return out, nil
}

// multiInsert runs INSERT INTO table (cols) VALUES ph,ph,... over n rows,
// splitting by row count and size. args(i) returns row i's values and
// size(i) its rough byte size.
func multiInsert(ctx context.Context, tx *sql.Tx, table, cols, ph string, n int, args func(i int, dst []any) []any, size func(i int) int) error {
	prefix := "INSERT INTO " + table + " (" + cols + ") VALUES "
	var sb strings.Builder
	var vals []any
	flush := func(rows int) error {
		if rows == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, sb.String(), vals...); err != nil {
			if me := (*mysql.MySQLError)(nil); errors.As(err, &me) && me.Number == 1062 && table == "events" {
				return fmt.Errorf("%w: %w", errDuplicate, err)
			}
			return fmt.Errorf("sink: insert %d rows into %s: %w", rows, table, err)
		}
		return nil
	}
	rows, bytes := 0, 0
	for i := 0; i < n; i++ {
		sz := size(i)
		if rows > 0 && (rows >= maxRowsPerStmt || bytes+sz > maxBytesPerStmt) {
			if err := flush(rows); err != nil {
				return err
			}
			rows, bytes, vals = 0, 0, vals[:0]
		}
		if rows == 0 {
			sb.Reset()
			sb.WriteString(prefix)
		} else {
			sb.WriteByte(',')
		}
		sb.WriteString(ph)
		vals = args(i, vals)
		rows++
		bytes += sz
	}
	return flush(rows)
}

func insertEvents(ctx context.Context, tx *sql.Tx, recs []*record) error {
	return multiInsert(ctx, tx, "events", eventCols, eventPH, len(recs),
		func(i int, dst []any) []any {
			r := recs[i]
			return append(dst, r.uid, r.node, r.protocol, r.typ, r.start, r.end, r.transport,
				r.clientIP, r.clientPort, r.serverIP, r.serverPt, r.subject, r.summary, r.anomalies, r.rawRef)
		},
		func(i int) int { return recs[i].size })
}

func insertChildren(ctx context.Context, tx *sql.Tx, recs []*record, ids map[string]uint64) error {
	type addr struct {
		id uint64
		a  addrRow
	}
	type art struct {
		id uint64
		a  artifactRow
	}
	var addrs []addr
	var arts []art
	for _, r := range recs {
		id, ok := ids[r.uid]
		if !ok {
			return fmt.Errorf("sink: event %s vanished inside its own transaction", r.uid)
		}
		for _, a := range r.addresses {
			addrs = append(addrs, addr{id, a})
		}
		for _, a := range r.artifacts {
			arts = append(arts, art{id, a})
		}
	}
	if len(addrs) > 0 {
		err := multiInsert(ctx, tx, "event_addresses", addressCols, addressPH, len(addrs),
			func(i int, dst []any) []any { return append(dst, addrs[i].id, addrs[i].a.address, addrs[i].a.role) },
			func(i int) int { return len(addrs[i].a.address) + 40 })
		if err != nil {
			return err
		}
	}
	if len(arts) > 0 {
		err := multiInsert(ctx, tx, "artifacts", artifactCols, artifactPH, len(arts),
			func(i int, dst []any) []any {
				a := arts[i].a
				return append(dst, arts[i].id, a.kind, a.name, a.contentType, a.size, a.sha256, a.md5, a.path, a.parent)
			},
			func(i int) int { a := arts[i].a; return len(a.name) + len(a.path) + 200 })
		if err != nil {
			return err
		}
	}
	return nil
}

// isDataError reports whether the database refused the rows themselves
// (so retrying the same rows cannot help, but the rest of the batch may
// go in), as opposed to being unreachable or unable to write at all.
func isDataError(err error) bool {
	if errors.Is(err, mysql.ErrPktTooLarge) {
		return true
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1048, // column cannot be null
		1153, // packet bigger than max_allowed_packet
		1264, // out of range value
		1265, // data truncated
		1292, // incorrect datetime value
		1366, // incorrect string value
		1367, // illegal value
		1406, // data too long
		3140, // invalid JSON text (MySQL)
		3146, // invalid JSON data type (MySQL)
		4025: // CHECK constraint failed (MariaDB JSON columns)
		return true
	}
	return false
}

// isTransient reports errors worth retrying at once on a healthy server.
func isTransient(err error) bool {
	if errors.Is(err, errDuplicate) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1205, 1213: // lock wait timeout, deadlock
			return true
		}
	}
	return false
}
