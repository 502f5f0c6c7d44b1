// Package audit is the analyzer's append-only audit log: every login
// (successful or not), search, download, mirror toggle and account change
// is written with who did it, from where and when, before the answer
// leaves the service.
//
// The log is append-only three times over: this package only INSERTs
// and SELECTs it (no code path updates or deletes a row), the database
// refuses UPDATE and DELETE through triggers (schema migration 00003),
// and every row is a link of a SHA-256 hash chain:
//
//	hash = SHA-256(prev_hash || len-prefixed fields of the row)
//
// so that a row changed or removed behind the service's back (a dropped
// trigger, a restored backup) breaks the chain at that row, which Verify
// reports. The first row's prev_hash is 64 zeros.
//
// Rows are numbered by seq, the chain position. A writer reads the last
// (seq, hash), computes the next link and inserts it; two writers racing
// for the same seq collide on the primary key, and the loser retries on
// top of the winner, so the chain never forks, even with several
// analyzers on one database.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Actions recorded.
const (
	ActionLogin        = "login"
	ActionLogout       = "logout"
	ActionSearch       = "search"
	ActionView         = "view"
	ActionDownload     = "download"
	ActionMirrorToggle = "mirror-toggle"
	ActionUserCreate   = "user-create"
	ActionUserUpdate   = "user-update"
	ActionAuditVerify  = "audit-verify"
)

// Outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeDenied  = "denied"  // refused: bad credentials, rate limit, no right
	OutcomeFailure = "failure" // attempted but failed: integrity error, upstream down
)

// GenesisHash is the prev_hash of the first row.
var GenesisHash = strings.Repeat("0", 64)

// Entry is one audit row.
type Entry struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Role     string          `json:"role,omitempty"`
	ClientIP string          `json:"client_ip"`
	Action   string          `json:"action"`
	Target   string          `json:"target,omitempty"`
	Outcome  string          `json:"outcome"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Column limits (characters), as in the migration.
const (
	lenActor  = 64
	lenRole   = 16
	lenIP     = 45
	lenAction = 32
	lenTarget = 1024
	maxDetail = 60000 // TEXT holds 65535 bytes
)

// ComputeHash returns the chain hash of e given e.PrevHash. Every field
// is length-prefixed so that no two different rows hash alike.
func ComputeHash(e *Entry) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(e.PrevHash)
	field(fmt.Sprint(e.Seq))
	field(e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	field(e.Actor)
	field(e.Role)
	field(e.ClientIP)
	field(e.Action)
	field(e.Target)
	field(e.Outcome)
	field(string(e.Detail))
	return hex.EncodeToString(h.Sum(nil))
}

// Log is the audit_log table.
type Log struct {
	db  *sql.DB
	now func() time.Time

	// mu serialises this process's appends; head caches the chain head
	// it last wrote, saving a read per append. Another writer's row makes
	// the next insert collide on seq, which re-reads the head.
	mu       sync.Mutex
	headSeq  uint64
	headHash string
}

// New returns the audit log behind db.
func New(db *sql.DB) *Log { return &Log{db: db, now: time.Now} }

// fit cuts s to n characters of valid UTF-8, as the column will hold it:
// the hash must cover exactly what is stored.
func fit(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// Append writes e as the next link of the chain, filling in Seq, Time,
// PrevHash and Hash. detail is any JSON-encodable value (nil for none).
func (l *Log) Append(ctx context.Context, e Entry, detail any) (Entry, error) {
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return e, fmt.Errorf("audit: encode detail of %s: %w", e.Action, err)
		}
		if len(b) > maxDetail {
			b, _ = json.Marshal(map[string]any{"truncated": true, "bytes": len(b)})
		}
		e.Detail = b
	}
	e.Actor, e.Role, e.ClientIP = fit(e.Actor, lenActor), fit(e.Role, lenRole), fit(e.ClientIP, lenIP)
	e.Action, e.Target = fit(e.Action, lenAction), fit(e.Target, lenTarget)
	if e.Action == "" || e.Outcome == "" {
		return e, errors.New("audit: entry without action or outcome")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	const attempts = 50
	for range attempts {
		if l.headHash == "" {
			var last sql.NullInt64
			var prev sql.NullString
			err := l.db.QueryRowContext(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&last, &prev)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return e, fmt.Errorf("audit: read chain head: %w", err)
			}
			l.headSeq, l.headHash = 0, GenesisHash
			if last.Valid {
				l.headSeq, l.headHash = uint64(last.Int64), prev.String
			}
		}
		e.Seq, e.PrevHash = l.headSeq+1, l.headHash
		e.Time = l.now().UTC().Truncate(time.Microsecond)
		e.Hash = ComputeHash(&e)
		var detail any
		if e.Detail != nil {
			detail = string(e.Detail)
		}
		_, err := l.db.ExecContext(ctx, `INSERT INTO audit_log (seq, ts, actor, actor_role, client_ip, action, target, outcome, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.Time, e.Actor, e.Role, e.ClientIP, e.Action, e.Target, e.Outcome, detail, e.PrevHash, e.Hash)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1062 {
			l.headHash = "" // another writer took this seq: chain onto it
			continue
		}
		if err != nil {
			l.headHash = ""
			return e, fmt.Errorf("audit: append %s by %q: %w", e.Action, e.Actor, err)
		}
		l.headSeq, l.headHash = e.Seq, e.Hash
		return e, nil
	}
	return e, fmt.Errorf("audit: append %s: chain head contended %d times", e.Action, attempts)
}

// Filter selects audit rows. Zero fields match everything.
type Filter struct {
	Actor    string
	Action   string
	Outcome  string
	From, To time.Time // ts >= From, ts < To
	// Before pages backwards: only rows with seq < Before (0: newest).
	Before uint64
	Limit  int
}

// Page is one page of audit rows, newest first.
type Page struct {
	Entries []Entry `json:"entries"`
	// Next is the Before value of the following (older) page, 0 if none.
	Next uint64 `json:"next,omitempty"`
}

// List returns rows matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if !f.From.IsZero() {
		add("ts >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("ts < ?", f.To.UTC())
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	q := "SELECT " + entryCols + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	p := Page{Entries: []Entry{}}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return Page{}, fmt.Errorf("audit: list: %w", err)
		}
		p.Entries = append(p.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("audit: list: %w", err)
	}
	if len(p.Entries) > f.Limit {
		p.Entries = p.Entries[:f.Limit]
		p.Next = p.Entries[f.Limit-1].Seq
	}
	return p, nil
}

const entryCols = "seq, ts, actor, actor_role, client_ip, action, target, outcome, detail, prev_hash, hash"

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var detail sql.NullString
	if err := sc.Scan(&e.Seq, &e.Time, &e.Actor, &e.Role, &e.ClientIP, &e.Action, &e.Target, &e.Outcome, &detail, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	if detail.Valid {
		e.Detail = json.RawMessage(detail.String)
	}
	return e, nil
}

// Verification is the result of Verify.
type Verification struct {
	OK   bool   `json:"ok"`
	Rows uint64 `json:"rows"` // rows checked
	// Head is the hash of the last row checked: keep it elsewhere (a
	// printout, another system) to detect a truncated tail later.
	Head string `json:"head,omitempty"`
	// BadSeq is the first row that does not verify, with the reason.
	BadSeq uint64 `json:"bad_seq,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Verify walks the whole chain in order and recomputes every hash.
func (l *Log) Verify(ctx context.Context) (Verification, error) {
	v := Verification{OK: true}
	prev, want := GenesisHash, uint64(1)
	const batch = 5000
	for {
		rows, err := l.db.QueryContext(ctx, "SELECT "+entryCols+" FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?", want, batch)
		if err != nil {
			return v, fmt.Errorf("audit: verify: %w", err)
		}
		n := 0
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return v, fmt.Errorf("audit: verify: %w", err)
			}
			n++
			switch {
			case e.Seq != want:
				v.Reason = fmt.Sprintf("row %d missing (next row is %d)", want, e.Seq)
			case e.PrevHash != prev:
				v.Reason = "prev_hash does not match the hash of the row before"
			case ComputeHash(&e) != e.Hash:
				v.Reason = "row content does not match its hash"
			}
			if v.Reason != "" {
				rows.Close()
				v.OK, v.BadSeq = false, want
				return v, nil
			}
			prev, want = e.Hash, e.Seq+1
			v.Rows++
			v.Head = e.Hash
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return v, fmt.Errorf("audit: verify: %w", err)
		}
		if n < batch {
			return v, nil
		}
	}
}
