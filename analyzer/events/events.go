// Package events reads what the IRS nodes wrote to MySQL: event search
// with filters and paging, one event with its addresses and artifacts,
// the artifacts and session pcaps to download, and the IRS nodes'
// heartbeats.
//
// Search by email address goes through event_addresses' index on
// (address, event_id): the address lookup yields the event ids, which
// are then joined to events by primary key; the same for an IP address
// through the client_ip and server_ip indexes. The matching ids are
// gathered in a derived table first, so that the plan stays an index
// lookup whatever the optimizer guesses about the ORDER BY. The address
// column is case-insensitive (utf8mb4_unicode_ci), so Alice@Example.org
// finds alice@example.org through the same index.
package events

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Errors, to be told apart with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrBadCursor = errors.New("bad cursor")
)

// Limits of a search page.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	MaxOffset    = 100000 // deeper pages: use the cursor
)

// Query is a search. Zero fields match everything.
type Query struct {
	Email    string     `json:"email,omitempty"`    // exact, case-insensitive
	IP       netip.Addr `json:"ip,omitzero"`        // client or server
	Protocol string     `json:"protocol,omitempty"` // exact
	Type     string     `json:"type,omitempty"`     // exact
	Node     string     `json:"node,omitempty"`     // exact
	Subject  string     `json:"subject,omitempty"`  // substring of the subject
	From     time.Time  `json:"from,omitzero"`      // start >= From
	To       time.Time  `json:"to,omitzero"`        // start < To
	Asc      bool       `json:"asc,omitempty"`      // oldest first
	Limit    int        `json:"limit,omitempty"`
	Offset   int        `json:"offset,omitempty"`
	// Cursor continues after the last event of a previous page (its
	// NextCursor); it takes the place of Offset.
	Cursor string `json:"cursor,omitempty"`
}

// Endpoint is one end of a connection.
type Endpoint struct {
	IP   string `json:"ip"`
	Port int    `json:"port"`
}

// Address is an address an event names.
type Address struct {
	Address string `json:"address"`
	Role    string `json:"role"`
}

// Item is an event as listed in search results.
type Item struct {
	ID        uint64    `json:"id"`
	UID       string    `json:"uid"`
	Node      string    `json:"node"`
	Protocol  string    `json:"protocol"`
	Type      string    `json:"type"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Transport string    `json:"transport"`
	Client    Endpoint  `json:"client"`
	Server    Endpoint  `json:"server"`
	Subject   string    `json:"subject"`
	Addresses []Address `json:"addresses"`
}

// Result is a page of search results.
type Result struct {
	Total      int64  `json:"total"`
	Limit      int    `json:"limit"`
	Offset     int    `json:"offset"`
	NextCursor string `json:"next_cursor,omitempty"`
	Events     []Item `json:"events"`
}

// Artifact is a restored file kept on an IRS node.
type Artifact struct {
	ID          uint64 `json:"id"`
	EventID     uint64 `json:"event_id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	MD5         string `json:"md5,omitempty"`
	Path        string `json:"-"` // relative to the node's data directory
	Parent      string `json:"parent_sha256,omitempty"`
	Node        string `json:"node"`
}

// Event is one event with everything recorded about it.
type Event struct {
	Item
	Summary   json.RawMessage `json:"summary,omitempty"`
	Anomalies json.RawMessage `json:"anomalies,omitempty"`
	RawRef    string          `json:"-"`
	HasPcap   bool            `json:"has_pcap"`
	LIID      string          `json:"liid,omitempty"`
	LIIDSeq   uint64          `json:"liid_seq,omitempty"`
	ChainHash string          `json:"chain_hash,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	Artifacts []Artifact      `json:"artifacts"`
}

// DB reads the event tables.
type DB struct{ db *sql.DB }

// New returns a reader of the event tables behind db.
func New(db *sql.DB) *DB { return &DB{db: db} }

const itemCols = "e.id, e.uid, e.node, e.protocol, e.type, e.start_ts, e.end_ts, e.transport, e.client_ip, e.client_port, e.server_ip, e.server_port, e.subject"

func scanItem(s *Item, extra ...any) []any {
	return append([]any{&s.ID, &s.UID, &s.Node, &s.Protocol, &s.Type, &s.Start, &s.End, &s.Transport,
		&s.Client.IP, &s.Client.Port, &s.Server.IP, &s.Server.Port, &s.Subject}, extra...)
}

// cursor is the position after which a page continues.
type cursor struct {
	ts time.Time
	id uint64
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.ts.UnixMicro(), 10) + "." + strconv.FormatUint(c.id, 10)))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 64 {
		return cursor{}, fmt.Errorf("events: %w", ErrBadCursor)
	}
	ts, id, ok := strings.Cut(string(b), ".")
	us, err1 := strconv.ParseInt(ts, 10, 64)
	n, err2 := strconv.ParseUint(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, fmt.Errorf("events: %w", ErrBadCursor)
	}
	return cursor{ts: time.UnixMicro(us).UTC(), id: n}, nil
}

// escapeLike escapes LIKE's wildcards (and its escape character).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Normalize clamps limits and reports a bad cursor; Search calls it.
func (q *Query) Normalize() error {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		q.Limit = MaxLimit
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	if q.Offset > MaxOffset {
		return fmt.Errorf("events: offset %d beyond %d: page on with the cursor", q.Offset, MaxOffset)
	}
	q.Email = strings.TrimSpace(q.Email)
	if q.IP.IsValid() {
		q.IP = q.IP.Unmap()
	}
	if q.Cursor != "" {
		if _, err := parseCursor(q.Cursor); err != nil {
			return err
		}
		q.Offset = 0
	}
	return nil
}

// Search returns a page of events matching q and their total count.
func (d *DB) Search(ctx context.Context, q Query) (Result, error) {
	if err := q.Normalize(); err != nil {
		return Result{}, err
	}
	var from []string
	var fromArgs []any
	var where []string
	var args []any
	if q.Email != "" {
		from = append(from, "JOIN (SELECT DISTINCT event_id FROM event_addresses WHERE address = ?) ea ON ea.event_id = e.id")
		fromArgs = append(fromArgs, q.Email)
	}
	if q.IP.IsValid() {
		from = append(from, "JOIN (SELECT id FROM events WHERE client_ip = ? UNION SELECT id FROM events WHERE server_ip = ?) ei ON ei.id = e.id")
		fromArgs = append(fromArgs, q.IP.String(), q.IP.String())
	}
	add := func(cond string, v ...any) { where = append(where, cond); args = append(args, v...) }
	if q.Protocol != "" {
		add("e.protocol = ?", q.Protocol)
	}
	if q.Type != "" {
		add("e.type = ?", q.Type)
	}
	if q.Node != "" {
		add("e.node = ?", q.Node)
	}
	if q.Subject != "" {
		add("e.subject LIKE ?", "%"+escapeLike(q.Subject)+"%")
	}
	if !q.From.IsZero() {
		add("e.start_ts >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		add("e.start_ts < ?", q.To.UTC())
	}
	base := " FROM events e " + strings.Join(from, " ")
	filter := ""
	if len(where) > 0 {
		filter = " WHERE " + strings.Join(where, " AND ")
	}
	baseArgs := append(append([]any{}, fromArgs...), args...)

	res := Result{Limit: q.Limit, Offset: q.Offset, Events: []Item{}}
	pageWhere, pageArgs := where, append([]any{}, args...)
	dir, cmp := "DESC", "<"
	if q.Asc {
		dir, cmp = "ASC", ">"
	}
	// Without a cursor the page query counts the matches too (a window
	// over the same rows, before LIMIT): one round trip instead of two.
	// With a cursor the page sees only the rows after it, so the total
	// is counted apart.
	withCount := q.Cursor == ""
	if !withCount {
		if err := d.db.QueryRowContext(ctx, "SELECT COUNT(*)"+base+filter, baseArgs...).Scan(&res.Total); err != nil {
			return Result{}, fmt.Errorf("events: count: %w", err)
		}
		c, _ := parseCursor(q.Cursor)
		pageWhere = append(append([]string{}, where...), "(e.start_ts "+cmp+" ? OR (e.start_ts = ? AND e.id "+cmp+" ?))")
		pageArgs = append(pageArgs, c.ts, c.ts, c.id)
	}
	pageFilter := ""
	if len(pageWhere) > 0 {
		pageFilter = " WHERE " + strings.Join(pageWhere, " AND ")
	}
	cols := itemCols
	if withCount {
		cols += ", COUNT(*) OVER ()"
	}
	sqlText := "SELECT " + cols + base + pageFilter +
		" ORDER BY e.start_ts " + dir + ", e.id " + dir + " LIMIT ? OFFSET ?"
	all := append(append(append([]any{}, fromArgs...), pageArgs...), q.Limit+1, q.Offset)
	rows, err := d.db.QueryContext(ctx, sqlText, all...)
	if err != nil {
		return Result{}, fmt.Errorf("events: search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Item
		dst := scanItem(&s)
		if withCount {
			dst = append(dst, &res.Total)
		}
		if err := rows.Scan(dst...); err != nil {
			return Result{}, fmt.Errorf("events: search: %w", err)
		}
		s.Addresses = []Address{}
		res.Events = append(res.Events, s)
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("events: search: %w", err)
	}
	rows.Close()
	if withCount && len(res.Events) == 0 && q.Offset > 0 {
		// Paged past the end: the window saw no row to report the total on.
		if err := d.db.QueryRowContext(ctx, "SELECT COUNT(*)"+base+filter, baseArgs...).Scan(&res.Total); err != nil {
			return Result{}, fmt.Errorf("events: count: %w", err)
		}
	}
	if len(res.Events) > q.Limit {
		res.Events = res.Events[:q.Limit]
		last := res.Events[len(res.Events)-1]
		res.NextCursor = cursor{ts: last.Start, id: last.ID}.String()
	}
	if err := d.fillAddresses(ctx, res.Events); err != nil {
		return Result{}, err
	}
	return res, nil
}

// fillAddresses loads the addresses of a page of events in one query.
func (d *DB) fillAddresses(ctx context.Context, evs []Item) error {
	if len(evs) == 0 {
		return nil
	}
	idx := make(map[uint64]int, len(evs))
	ph := make([]string, len(evs))
	args := make([]any, len(evs))
	for i, e := range evs {
		idx[e.ID] = i
		ph[i], args[i] = "?", e.ID
	}
	rows, err := d.db.QueryContext(ctx, "SELECT event_id, address, role FROM event_addresses WHERE event_id IN ("+strings.Join(ph, ",")+") ORDER BY event_id, id", args...)
	if err != nil {
		return fmt.Errorf("events: addresses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var a Address
		if err := rows.Scan(&id, &a.Address, &a.Role); err != nil {
			return fmt.Errorf("events: addresses: %w", err)
		}
		if i, ok := idx[id]; ok {
			evs[i].Addresses = append(evs[i].Addresses, a)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("events: addresses: %w", err)
	}
	return nil
}

// Get returns one event with its addresses and artifacts.
func (d *DB) Get(ctx context.Context, id uint64) (*Event, error) {
	var e Event
	var summary, anomalies, liid, chain sql.NullString
	var liidSeq sql.NullInt64
	err := d.db.QueryRowContext(ctx, "SELECT "+itemCols+", e.summary, e.anomalies, e.raw_ref, e.liid, e.liid_seq, e.chain_hash, e.created_at FROM events e WHERE e.id = ?", id).
		Scan(scanItem(&e.Item, &summary, &anomalies, &e.RawRef, &liid, &liidSeq, &chain, &e.CreatedAt)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("events: event %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("events: event %d: %w", id, err)
	}
	if summary.Valid && json.Valid([]byte(summary.String)) {
		e.Summary = json.RawMessage(summary.String)
	}
	if anomalies.Valid && json.Valid([]byte(anomalies.String)) {
		e.Anomalies = json.RawMessage(anomalies.String)
	}
	e.LIID, e.ChainHash = liid.String, chain.String
	if liidSeq.Valid {
		e.LIIDSeq = uint64(liidSeq.Int64)
	}
	e.HasPcap = e.RawRef != ""
	e.Addresses = []Address{}
	evs := []Item{e.Item}
	if err := d.fillAddresses(ctx, evs); err != nil {
		return nil, err
	}
	e.Addresses = evs[0].Addresses
	e.Artifacts, err = d.artifacts(ctx, "a.event_id = ?", id)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

const artifactCols = "a.id, a.event_id, a.kind, a.name, a.content_type, a.size, a.sha256, a.md5, a.path, a.parent_sha256, e.node"

func (d *DB) artifacts(ctx context.Context, cond string, arg any) ([]Artifact, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+artifactCols+" FROM artifacts a JOIN events e ON e.id = a.event_id WHERE "+cond+" ORDER BY a.id", arg)
	if err != nil {
		return nil, fmt.Errorf("events: artifacts: %w", err)
	}
	defer rows.Close()
	out := []Artifact{}
	for rows.Next() {
		var a Artifact
		var md5, parent sql.NullString
		if err := rows.Scan(&a.ID, &a.EventID, &a.Kind, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &md5, &a.Path, &parent, &a.Node); err != nil {
			return nil, fmt.Errorf("events: artifacts: %w", err)
		}
		a.MD5, a.Parent = md5.String, parent.String
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: artifacts: %w", err)
	}
	return out, nil
}

// Artifact returns one artifact (with the node that keeps it).
func (d *DB) Artifact(ctx context.Context, id uint64) (Artifact, error) {
	as, err := d.artifacts(ctx, "a.id = ?", id)
	if err != nil {
		return Artifact{}, err
	}
	if len(as) == 0 {
		return Artifact{}, fmt.Errorf("events: artifact %d: %w", id, ErrNotFound)
	}
	return as[0], nil
}

// Node is an IRS node as its heartbeat last reported it.
type Node struct {
	Name          string     `json:"name"`
	APIURL        string     `json:"api_url"`
	Status        string     `json:"status"`
	Version       string     `json:"version"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	LastHeartbeat time.Time  `json:"last_heartbeat"`
	// HeartbeatAge is measured on the database's clock, like the
	// heartbeat itself.
	HeartbeatAge float64         `json:"heartbeat_age_seconds"`
	Stats        json.RawMessage `json:"stats,omitempty"`
}

const nodeCols = "name, api_url, status, version, started_at, last_heartbeat, TIMESTAMPDIFF(MICROSECOND, last_heartbeat, UTC_TIMESTAMP(6)), stats"

func scanNode(sc interface{ Scan(...any) error }) (Node, error) {
	var n Node
	var started sql.NullTime
	var age int64
	var stats sql.NullString
	if err := sc.Scan(&n.Name, &n.APIURL, &n.Status, &n.Version, &started, &n.LastHeartbeat, &age, &stats); err != nil {
		return n, err
	}
	if started.Valid {
		t := started.Time
		n.StartedAt = &t
	}
	n.HeartbeatAge = float64(age) / 1e6
	if stats.Valid && json.Valid([]byte(stats.String)) {
		n.Stats = json.RawMessage(stats.String)
	}
	return n, nil
}

// Nodes lists the IRS nodes.
func (d *DB) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+nodeCols+" FROM irs_nodes ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("events: nodes: %w", err)
	}
	defer rows.Close()
	out := []Node{}
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("events: nodes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: nodes: %w", err)
	}
	return out, nil
}

// NodeByName returns one IRS node.
func (d *DB) NodeByName(ctx context.Context, name string) (Node, error) {
	n, err := scanNode(d.db.QueryRowContext(ctx, "SELECT "+nodeCols+" FROM irs_nodes WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return Node{}, fmt.Errorf("events: IRS node %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Node{}, fmt.Errorf("events: IRS node %q: %w", name, err)
	}
	return n, nil
}
