// Package sink writes IRS events to MySQL without losing any and without
// storing any twice.
//
// Put hands an event to a bounded in-memory queue and returns at once. A
// writer goroutine takes batches off the queue (BatchSize events or every
// FlushInterval) and stores each in one transaction: the events whose uid
// is new, then the addresses and artifacts of exactly those events, so a
// batch sent twice stores everything once (event.Event.UID is the
// idempotency key, unique in the events table).
//
// When MySQL is unreachable, or the queue is full, events go to an
// append-only spool on disk instead (see spool.go for the layout: JSON
// lines, fsynced per batch, rotated by size). A replay goroutine probes
// the database with backoff and, once it answers, replays spool files
// oldest-first, deleting a file only after all its events are committed.
// A new Sink on the same SpoolDir replays what an earlier process left.
// Corrupt or truncated spool lines (a crash mid-write) are logged with
// file and line number and skipped.
//
// What can still be lost: events in the in-memory queue when the process
// dies without Close (kill -9, power cut). Close stores or spools them.
// Events the database refuses as invalid (which sanitising should make
// impossible) are kept in rejected-*.jsonl files, not dropped.
//
// The sink does not create tables: run schema.Migrate first. The SQL is
// plain MySQL (multi-row INSERT, SELECT ... IN), so MariaDB, MySQL, TiDB
// and Vitess all serve.
package sink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/irs/event"
)

// Defaults for Config fields left zero.
const (
	DefaultBatchSize     = 500
	DefaultWriters       = 2
	DefaultFlushInterval = 200 * time.Millisecond
	DefaultQueueSize     = 8192
	DefaultRetryMin      = 200 * time.Millisecond
	DefaultRetryMax      = 10 * time.Second
	DefaultSpoolFileSize = 64 << 20
	DefaultWriteTimeout  = 30 * time.Second
	DefaultIdlePoll      = time.Second
)

// Config configures a Sink. DSN and SpoolDir are required; zero values
// elsewhere take the defaults above.
type Config struct {
	// DSN in go-sql-driver/mysql format, e.g.
	// "sdnli:secret@tcp(db:3306)/sdnli". The sink forces parseTime,
	// UTC and client-side parameter interpolation (one round trip per
	// statement), and sets connect/read/write timeouts if the DSN has none.
	DSN string
	// SpoolDir holds the on-disk spool. One Sink per directory (locked).
	SpoolDir string
	// BatchSize is the most events per transaction.
	BatchSize int
	// Writers is how many batches may be in flight at once. Batches are
	// independent (the uid decides), so more writers use more of a
	// multi-core database server.
	Writers int
	// FlushInterval is the longest an event waits in the queue for its
	// batch to fill.
	FlushInterval time.Duration
	// QueueSize bounds the in-memory queue; beyond it Put spools.
	QueueSize int
	// RetryMin and RetryMax bound the exponential backoff between
	// attempts to reach the database after a failure.
	RetryMin, RetryMax time.Duration
	// SpoolFileSize is the size at which a spool file is closed and a
	// new one started.
	SpoolFileSize int64
	// WriteTimeout bounds one batch transaction.
	WriteTimeout time.Duration
	// IdlePoll is how often the replay loop looks for spooled events
	// while the database is healthy.
	IdlePoll time.Duration
	// Logger receives warnings (outage, recovery, corrupt spool lines).
	// Default: slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.DSN == "" {
		return errors.New("sink: config: DSN is empty")
	}
	if c.SpoolDir == "" {
		return errors.New("sink: config: SpoolDir is empty")
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"FlushInterval", &c.FlushInterval, DefaultFlushInterval},
		{"RetryMin", &c.RetryMin, DefaultRetryMin},
		{"RetryMax", &c.RetryMax, DefaultRetryMax},
		{"WriteTimeout", &c.WriteTimeout, DefaultWriteTimeout},
		{"IdlePoll", &c.IdlePoll, DefaultIdlePoll},
	} {
		if *f.v < 0 {
			return fmt.Errorf("sink: config: %s is negative (%v)", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if c.RetryMax < c.RetryMin {
		return fmt.Errorf("sink: config: RetryMax %v is below RetryMin %v", c.RetryMax, c.RetryMin)
	}
	if c.BatchSize < 0 || c.QueueSize < 0 || c.SpoolFileSize < 0 || c.Writers < 0 {
		return errors.New("sink: config: BatchSize, Writers, QueueSize and SpoolFileSize must not be negative")
	}
	if c.Writers == 0 {
		c.Writers = DefaultWriters
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.SpoolFileSize == 0 {
		c.SpoolFileSize = DefaultSpoolFileSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Stats counts what the sink did since New. Written and Replayed count
// events inserted (from the queue and from the spool); Duplicates counts
// events skipped because their uid was already stored.
type Stats struct {
	Put          uint64    `json:"put"`
	Written      uint64    `json:"written"`
	Spooled      uint64    `json:"spooled"`
	Replayed     uint64    `json:"replayed"`
	Duplicates   uint64    `json:"duplicates"`
	WriteErrors  uint64    `json:"write_errors"`  // failed batch attempts
	Rejected     uint64    `json:"rejected"`      // refused as invalid, kept in rejected-*.jsonl
	CorruptLines uint64    `json:"corrupt_lines"` // unreadable spool lines skipped
	Dropped      uint64    `json:"dropped"`       // neither stored nor spooled (disk failure, Put after Close)
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
	QueueLen     int       `json:"queue_len"`
	SpoolFiles   int       `json:"spool_files"`
	SpoolBytes   int64     `json:"spool_bytes"`
	DBUp         bool      `json:"db_up"`
}

// Sink is an event.Sink that stores events in MySQL. Create it with New,
// stop it with Close.
type Sink struct {
	cfg   Config
	log   *slog.Logger
	db    *sql.DB
	spool *spool
	queue chan *event.Event

	closeMu sync.RWMutex // held shared by Put while queueing
	closed  bool

	up   atomic.Bool
	kick chan struct{} // wakes the replay loop when the writer meets an outage

	ctx    context.Context // cancelled when Close runs out of time
	cancel context.CancelFunc

	stopWriter   chan struct{}
	writerDone   chan struct{} // closed when every writer has exited
	draining     chan struct{} // closed by Close: replay what is left, then exit
	replayerDone chan struct{}

	put, written, spooled, replayed, dups, writeErrs, rejected, corrupt, dropped atomic.Uint64

	errMu     sync.Mutex
	lastErr   string
	lastErrAt time.Time
	lastLog   time.Time // rate limit for per-event error logs

	progress map[string]fileProgress // replay loop only

	// write stores one batch (writeBatch on db; replaced in unit tests
	// of the replay and bisection logic).
	write func(ctx context.Context, recs []*record) (inserted, dups int, err error)
}

// fileProgress remembers how far a spool file is committed, so that a
// replay interrupted by an outage resumes instead of starting over.
type fileProgress struct {
	offset   int64
	line     int
	reported int // last corrupt line already logged
}

var _ event.Sink = (*Sink)(nil)

// New opens the database handle (without waiting for the database: the
// IRS must start capturing even when MySQL is down), opens the spool and
// starts the writer and replay loops.
func New(cfg Config) (*Sink, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	mc, err := mysql.ParseDSN(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("sink: parse DSN: %w", err)
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.InterpolateParams = true
	if mc.Timeout == 0 {
		mc.Timeout = 5 * time.Second
	}
	if mc.ReadTimeout == 0 {
		mc.ReadTimeout = cfg.WriteTimeout + 30*time.Second
	}
	if mc.WriteTimeout == 0 {
		mc.WriteTimeout = cfg.WriteTimeout + 30*time.Second
	}
	mc.Logger = driverLogger{cfg.Logger}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("sink: DSN: %w", err)
	}
	sp, err := openSpool(cfg.SpoolDir, cfg.SpoolFileSize)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	// One connection per writer, one for replay, one for heartbeats.
	db.SetMaxOpenConns(cfg.Writers + 2)
	db.SetMaxIdleConns(cfg.Writers + 2)
	db.SetConnMaxIdleTime(5 * time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	s := &Sink{
		cfg:          cfg,
		log:          cfg.Logger.With("component", "sink"),
		db:           db,
		spool:        sp,
		queue:        make(chan *event.Event, cfg.QueueSize),
		kick:         make(chan struct{}, 1),
		ctx:          ctx,
		cancel:       cancel,
		stopWriter:   make(chan struct{}),
		writerDone:   make(chan struct{}),
		draining:     make(chan struct{}),
		replayerDone: make(chan struct{}),
		progress:     make(map[string]fileProgress),
	}
	s.write = func(ctx context.Context, recs []*record) (int, int, error) { return writeBatch(ctx, db, recs) }
	// Optimistic: the first batch finds out. Spooled files from an
	// earlier run are picked up by the replay loop right away.
	s.up.Store(true)
	var writers sync.WaitGroup
	for range cfg.Writers {
		writers.Add(1)
		go func() {
			defer writers.Done()
			s.writer()
		}()
	}
	go func() {
		writers.Wait()
		close(s.writerDone)
	}()
	go s.replayer()
	return s, nil
}

// DB returns the sink's database handle (for Heartbeat and health checks).
func (s *Sink) DB() *sql.DB { return s.db }

// Put queues ev for storage and returns without waiting for the database.
// The sink takes ownership of ev: the caller must not change it
// afterwards. An event without UID gets one. If the queue is full the
// event is appended to the spool right here (a write to the page cache,
// fsynced by the writer within FlushInterval).
func (s *Sink) Put(ev *event.Event) {
	if ev == nil {
		return
	}
	if ev.UID == "" {
		ev.UID = event.NewUID()
	}
	s.put.Add(1)
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		s.dropped.Add(1)
		s.fail(fmt.Errorf("sink: Put after Close, event %s dropped", ev.UID), true)
		return
	}
	select {
	case s.queue <- ev:
		s.closeMu.RUnlock()
		return
	default:
	}
	s.closeMu.RUnlock()
	if err := s.spoolEvents([]*event.Event{ev}, false); err != nil {
		s.dropped.Add(1)
		s.fail(fmt.Errorf("sink: queue full and spool failed, event %s dropped: %w", ev.UID, err), true)
	}
}

// spoolEvents appends evs to the spool.
func (s *Sink) spoolEvents(evs []*event.Event, sync bool) error {
	now := time.Now()
	lines := make([][]byte, 0, len(evs))
	for _, ev := range evs {
		b, err := encodeEvent(ev, now)
		if err != nil {
			return err
		}
		lines = append(lines, b)
	}
	if err := s.spool.appendLines(lines, sync); err != nil {
		return err
	}
	s.spooled.Add(uint64(len(evs)))
	return nil
}

func (s *Sink) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// fail records err as the last error; logs it (at most once a second if
// rateLimit, since it may repeat per event).
func (s *Sink) fail(err error, rateLimit bool) {
	s.errMu.Lock()
	now := time.Now()
	s.lastErr, s.lastErrAt = err.Error(), now
	doLog := !rateLimit || now.Sub(s.lastLog) >= time.Second
	if doLog && rateLimit {
		s.lastLog = now
	}
	s.errMu.Unlock()
	if doLog {
		s.log.Error("sink error", "err", err)
	}
}

func (s *Sink) markDown(err error) {
	s.fail(err, false)
	if s.up.Swap(false) {
		s.log.Warn("database unavailable for writing, spooling events to disk", "err", err, "spool", s.cfg.SpoolDir)
	}
	s.wake()
}

func (s *Sink) markUp() {
	if !s.up.Swap(true) {
		s.log.Info("database reachable again, replaying spool", "spool", s.cfg.SpoolDir)
	}
}

// writer moves events from the queue to the database, or to the spool.
func (s *Sink) writer() {
	ticker := time.NewTicker(s.cfg.FlushInterval)
	defer ticker.Stop()
	batch := make([]*event.Event, 0, s.cfg.BatchSize)
	flush := func() {
		if len(batch) > 0 {
			s.flush(batch)
			batch = make([]*event.Event, 0, s.cfg.BatchSize)
		}
	}
	for {
		select {
		case ev := <-s.queue:
			batch = append(batch, ev)
			if len(batch) >= s.cfg.BatchSize {
				flush()
			}
		case <-ticker.C:
			flush()
			if err := s.spool.sync(); err != nil {
				s.fail(err, true)
			}
		case <-s.stopWriter:
			// Close has stopped Put from queueing: drain what is left.
			for {
				select {
				case ev := <-s.queue:
					batch = append(batch, ev)
					if len(batch) >= s.cfg.BatchSize {
						flush()
					}
					continue
				default:
				}
				break
			}
			flush()
			if err := s.spool.sync(); err != nil {
				s.fail(err, false)
			}
			return
		}
	}
}

// flush stores a batch from the queue, or spools it. It gives up only
// when Close has run out of time and the disk refuses too.
func (s *Sink) flush(batch []*event.Event) {
	backoff := s.cfg.RetryMin
	for {
		if s.up.Load() {
			ins, _, err := s.store(batch)
			if err == nil {
				s.written.Add(uint64(ins))
				return
			}
			if s.ctx.Err() == nil {
				s.markDown(err)
			} // else Close ran out of time: spool without blaming the database
		}
		err := s.spoolEvents(batch, true)
		if err == nil {
			return
		}
		s.fail(err, false)
		select {
		case <-s.ctx.Done():
			s.dropped.Add(uint64(len(batch)))
			s.fail(fmt.Errorf("sink: closing: %d events neither stored nor spooled: %w", len(batch), err), false)
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.cfg.RetryMax)
	}
}

// store writes evs to the database, retrying transient errors and
// isolating events the database refuses as invalid (bisecting the batch;
// a single refused event goes to the rejected file). A returned error
// means the database could not be written at all: nothing of what is
// not yet committed is lost, the caller keeps or spools it.
func (s *Sink) store(evs []*event.Event) (inserted, dups int, err error) {
	now := time.Now()
	recs := make([]*record, 0, len(evs))
	origin := make([]*event.Event, 0, len(evs))
	seen := make(map[string]bool, len(evs))
	for _, ev := range evs {
		r := toRecord(ev, now)
		if seen[r.uid] {
			dups++
			continue
		}
		seen[r.uid] = true
		recs = append(recs, r)
		origin = append(origin, ev)
	}
	s.dups.Add(uint64(dups))
	ins, d, err := s.storeRecords(recs, origin)
	return ins, dups + d, err
}

func (s *Sink) storeRecords(recs []*record, origin []*event.Event) (inserted, dups int, err error) {
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.WriteTimeout)
		inserted, dups, err = s.write(ctx, recs)
		cancel()
		if err == nil {
			s.dups.Add(uint64(dups))
			return inserted, dups, nil
		}
		s.writeErrs.Add(1)
		if isTransient(err) && attempt < 3 {
			continue
		}
		break
	}
	if !isDataError(err) {
		return 0, 0, err
	}
	if len(recs) == 1 {
		s.rejectEvent(origin[0], err)
		return 0, 0, nil
	}
	half := len(recs) / 2
	i1, d1, err := s.storeRecords(recs[:half], origin[:half])
	if err != nil {
		return i1, d1, err
	}
	i2, d2, err := s.storeRecords(recs[half:], origin[half:])
	return i1 + i2, d1 + d2, err
}

// rejectEvent keeps an event the database refused, so that it is not
// lost and not retried forever.
func (s *Sink) rejectEvent(ev *event.Event, cause error) {
	s.fail(fmt.Errorf("sink: database refused event %s (kept in %s/rejected-*.jsonl): %w", ev.UID, s.cfg.SpoolDir, cause), false)
	b, err := encodeEvent(ev, time.Now())
	if err == nil {
		err = s.spool.reject([][]byte{b})
	}
	if err != nil {
		s.dropped.Add(1)
		s.fail(fmt.Errorf("sink: keep rejected event %s: %w", ev.UID, err), false)
		return
	}
	s.rejected.Add(1)
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	st := Stats{
		Put:          s.put.Load(),
		Written:      s.written.Load(),
		Spooled:      s.spooled.Load(),
		Replayed:     s.replayed.Load(),
		Duplicates:   s.dups.Load(),
		WriteErrors:  s.writeErrs.Load(),
		Rejected:     s.rejected.Load(),
		CorruptLines: s.corrupt.Load(),
		Dropped:      s.dropped.Load(),
		QueueLen:     len(s.queue),
		DBUp:         s.up.Load(),
	}
	s.errMu.Lock()
	st.LastError, st.LastErrorAt = s.lastErr, s.lastErrAt
	s.errMu.Unlock()
	st.SpoolFiles, st.SpoolBytes = s.spool.usage()
	return st
}

// Close stops accepting events, stores or spools what is queued, and
// replays the spool while ctx allows and the database answers. Whatever
// is not in the database when Close returns is in the spool, for the
// next Sink on the same SpoolDir. Close returns an error only if events
// could be neither stored nor spooled.
func (s *Sink) Close(ctx context.Context) error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return errors.New("sink: already closed")
	}
	s.closed = true
	s.closeMu.Unlock()

	droppedBefore := s.dropped.Load()
	close(s.stopWriter)
	s.waitOrCancel(ctx, s.writerDone)
	close(s.draining)
	s.waitOrCancel(ctx, s.replayerDone)
	s.cancel()

	err := s.spool.close()
	if cerr := s.db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("sink: close database: %w", cerr)
	}
	if n := s.dropped.Load() - droppedBefore; n > 0 && err == nil {
		err = fmt.Errorf("sink: %d events lost while closing: %s", n, s.Stats().LastError)
	}
	if files, bytes := s.spool.usage(); files > 0 {
		s.log.Info("sink closed with events left in the spool", "files", files, "bytes", bytes, "spool", s.cfg.SpoolDir)
	}
	return err
}

// waitOrCancel waits for done; if ctx ends first it cancels in-flight
// database work (so batches go to the spool at once) and waits again.
func (s *Sink) waitOrCancel(ctx context.Context, done <-chan struct{}) {
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
	}
}

// driverLogger routes go-sql-driver/mysql's messages to slog.
type driverLogger struct{ l *slog.Logger }

func (d driverLogger) Print(v ...any) {
	d.l.Debug("mysql driver", "msg", fmt.Sprint(v...))
}
