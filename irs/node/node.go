// Package node assembles one IRS node from its parts: the packet engine,
// the protocol registry, the raw-data store and an event sink (MySQL with
// its disk spool, or JSON lines on a writer), and runs it over capture
// files (`sdnli inspect`) or a live interface (`sdnli irs`), with a
// heartbeat in irs_nodes and periodic counters in the log.
package node

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sdnli/sdnli/internal/dsn"
	"github.com/sdnli/sdnli/irs/capture"
	"github.com/sdnli/sdnli/irs/engine"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	_ "github.com/sdnli/sdnli/irs/parser/all" // every protocol parser
	"github.com/sdnli/sdnli/irs/sink"
	"github.com/sdnli/sdnli/irs/store"
	"github.com/sdnli/sdnli/schema"
)

// Config configures a node. Zero values take the defaults.
type Config struct {
	Name    string // node name, in every event (default: host name)
	DataDir string // session pcaps, restored files, the event spool (required)
	// DSN of the MySQL database. Empty: events go to Events as JSON lines.
	DSN     string
	Events  io.Writer // JSON lines, used when DSN is empty
	Workers int
	Options parser.Options
	// Disabled lists protocols whose parsers start switched off.
	Disabled []string
	// ControllerURL, when set, receives the parsers' requests to mirror
	// related connections (FTP data, PPTP GRE) for a while;
	// ControllerToken is its bearer token.
	ControllerURL, ControllerToken string
	// APIURL is where the analyzer reaches this node (heartbeat only).
	APIURL string
	// Heartbeat interval in irs_nodes and between counter log lines.
	Heartbeat time.Duration
	Logger    *slog.Logger
	// Engine tunes the packet engine; Node, Workers, Registry, Sink,
	// Store and Options are set from the fields above.
	Engine engine.Config
}

// Node is a running IRS node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	reg     *parser.Registry
	store   *store.Store
	sink    *sink.Sink       // nil without DSN
	jsonOut *jsonSink        // nil with DSN
	mirror  *mirrorForwarder // nil without ControllerURL
	eng     *engine.Engine
	started time.Time

	mu   sync.Mutex
	live capture.Source
}

// Open prepares a node: migrates the database (when a DSN is given),
// opens the data directory and the sink, builds the engine.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("irs: no data directory given")
	}
	if cfg.Name == "" {
		h, _ := os.Hostname()
		cfg.Name = h
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 5 * time.Second
	}
	if cfg.Options == (parser.Options{}) {
		cfg.Options = parser.DefaultOptions()
	}
	n := &Node{cfg: cfg, log: cfg.Logger, reg: parser.Default, started: time.Now()}
	for _, p := range cfg.Disabled {
		if err := n.reg.SetEnabled(p, false); err != nil {
			return nil, fmt.Errorf("irs: --disable: %w (known: %v)", err, n.reg.Names())
		}
	}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("irs: %w", err)
	}
	n.store = st

	var evSink event.Sink
	if cfg.DSN != "" {
		if err := migrate(ctx, cfg.DSN); err != nil {
			// The node still starts: events spool until the database answers.
			n.log.Warn("irs: schema migration failed; events will be spooled until the database is reachable", "err", err)
		}
		s, err := sink.New(sink.Config{DSN: cfg.DSN, SpoolDir: filepath.Join(st.Dir(), "spool"), Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("irs: %w", err)
		}
		n.sink, evSink = s, s
	} else {
		w := cfg.Events
		if w == nil {
			w = io.Discard
		}
		n.jsonOut = newJSONSink(w)
		evSink = n.jsonOut
	}

	ec := cfg.Engine
	ec.Node, ec.Workers, ec.Registry, ec.Sink, ec.Store, ec.Options = cfg.Name, cfg.Workers, n.reg, evSink, st, cfg.Options
	if ec.Logger == nil {
		ec.Logger = cfg.Logger
	}
	if cfg.ControllerURL != "" && ec.OnMirrorRequest == nil {
		n.mirror = newMirrorForwarder(cfg.ControllerURL, cfg.ControllerToken, cfg.Logger)
		ec.OnMirrorRequest = n.mirror.request
	}
	eng, err := engine.New(ec)
	if err != nil {
		n.closeSink(ctx)
		return nil, fmt.Errorf("irs: %w", err)
	}
	n.eng = eng
	return n, nil
}

// migrate applies the schema, retrying briefly: a database that starts
// together with the IRS may need a few seconds.
func migrate(ctx context.Context, source string) error {
	d, err := dsn.Normalize(source)
	if err != nil {
		return err
	}
	db, err := sql.Open("mysql", d)
	if err != nil {
		return err
	}
	defer db.Close()
	return schema.Migrate(ctx, db)
}

// Registry returns the node's parser registry (to switch parsers on/off).
func (n *Node) Registry() *parser.Registry { return n.reg }

// Store returns the node's data directory.
func (n *Node) Store() *store.Store { return n.store }

// Engine returns the packet engine.
func (n *Node) Engine() *engine.Engine { return n.eng }

// Progress reports how far RunFiles got: the file being read, its index,
// bytes read of its size.
type Progress func(file string, index, count int, read, size int64)

// RunFiles processes capture files in sequence as one capture. A damaged
// file is reported (its packets before the damage are processed) and the
// next file is read; the errors are returned together at the end.
func (n *Node) RunFiles(ctx context.Context, files []string, progress Progress) error {
	var errs []error
	for i, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		// OpenFile maps plain pcap files (no copy of the packets);
		// the source tells how far it got for the progress reports.
		src, err := capture.OpenFile(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var size int64
		if fi, err := os.Stat(name); err == nil {
			size = fi.Size()
		}
		read := func() int64 { return 0 }
		if br, ok := src.(interface{ BytesRead() int64 }); ok {
			read = br.BytesRead
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		if progress != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(200 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						progress(name, i, len(files), read(), size)
					}
				}
			}()
		}
		err = n.eng.Run(ctx, src)
		close(stop)
		wg.Wait()
		if progress != nil {
			progress(name, i, len(files), size, size)
		}
		src.Close()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunLive captures on an interface until ctx ends, with heartbeats and
// counters in the log.
func (n *Node) RunLive(ctx context.Context, lc capture.LiveConfig) error {
	src, err := capture.OpenLive(lc)
	if err != nil {
		return fmt.Errorf("irs: %w", err)
	}
	defer src.Close()
	n.mu.Lock()
	n.live = src
	n.mu.Unlock()
	n.log.Info("irs: capturing", "node", n.cfg.Name, "iface", lc.Interface, "data_dir", n.store.Dir(), "parsers", n.enabledNames())

	hbCtx, stopHB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); n.heartbeatLoop(hbCtx) }()
	err = n.eng.Run(ctx, src)
	stopHB()
	wg.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (n *Node) enabledNames() []string {
	var on []string
	for _, name := range n.reg.Names() {
		if n.reg.Enabled(name) {
			on = append(on, name)
		}
	}
	return on
}

// Status is what the node reports in its heartbeat and logs.
type Status struct {
	Node    string          `json:"node"`
	Started time.Time       `json:"started"`
	Engine  engine.Stats    `json:"engine"`
	Sink    *sink.Stats     `json:"sink,omitempty"`
	Parsers map[string]bool `json:"parsers"`
	Mirror  *MirrorStats    `json:"dynamic_mirror,omitempty"`
}

// Status returns the node's counters now.
func (n *Node) Status() Status {
	s := Status{Node: n.cfg.Name, Started: n.started, Engine: n.eng.Stats(), Parsers: map[string]bool{}}
	if n.sink != nil {
		ss := n.sink.Stats()
		s.Sink = &ss
	}
	for _, name := range n.reg.Names() {
		s.Parsers[name] = n.reg.Enabled(name)
	}
	if n.mirror != nil {
		ms := n.mirror.stats()
		s.Mirror = &ms
	}
	return s
}

func (n *Node) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	beat := func(status string) {
		st := n.Status()
		es := st.Engine
		n.log.Info("irs: counters",
			"packets", es.Packets, "bytes", es.Bytes, "kernel_drops", es.Source.KernelDrops,
			"flows_active", es.FlowsActive, "connections", es.Connections, "events", es.Events,
			"decode_errors", sum(es.DecodeErrors), "tcp_gaps", es.TCPGaps, "parser_panics", es.ParserPanics)
		if n.sink == nil {
			return
		}
		hctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := n.sink.Heartbeat(hctx, sink.NodeInfo{Name: n.cfg.Name, APIURL: n.cfg.APIURL, Status: status, StartedAt: n.started, Stats: st})
		if err != nil {
			n.log.Warn("irs: heartbeat failed", "err", err)
		}
	}
	beat("capturing")
	for {
		select {
		case <-ctx.Done():
			beat("stopped")
			return
		case <-t.C:
			beat("capturing")
		}
	}
}

func sum(m map[string]uint64) uint64 {
	var t uint64
	for _, v := range m {
		t += v
	}
	return t
}

// Close ends every open connection (their final events are emitted),
// then flushes the sink: events the database did not take stay spooled
// on disk for the next start.
func (n *Node) Close(ctx context.Context) error {
	err := n.eng.Close()
	if n.mirror != nil {
		n.mirror.close()
	}
	if serr := n.closeSink(ctx); serr != nil {
		err = errors.Join(err, serr)
	}
	return err
}

func (n *Node) closeSink(ctx context.Context) error {
	if n.sink != nil {
		return n.sink.Close(ctx)
	}
	if n.jsonOut != nil {
		return n.jsonOut.flush()
	}
	return nil
}
