// Package controller is sdnli's OpenFlow 1.3 controller: it accepts
// switches (session), discovers the links between them with LLDP
// (topology), turns the per-protocol mirror policy (policy) into the
// flows every switch must hold (flows), installs them, keeps them right
// as switches, ports, links and the policy change, repairs what drifts,
// and serves the HTTP API the analyzer and the IRS nodes use (api,
// apiv1, client).
//
// Everything the controller decides goes through one path: compute the
// desired tables from a snapshot of the state (flows.Compute, pure), then
// bring each connected switch to its table, confirmed by a barrier. A
// toggle through the API returns only when every switch confirmed.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sdnli/sdnli/controller/flows"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/session"
	"github.com/sdnli/sdnli/controller/topology"
	"github.com/sdnli/sdnli/openflow"
)

// Options configure a Controller.
type Options struct {
	// Config is the configuration file's content (normalized by
	// policy.Config.Normalize); nil means every default.
	Config *policy.Config
	// Store keeps protocol toggles across restarts; nil keeps them in memory.
	Store policy.Store
	// Role is requested from every switch: RoleMaster (default),
	// RoleSlave (stand by: never programs) or RoleEqual.
	Role openflow.ControllerRole
	// GenerationID orders masters; the switch refuses a master request
	// with an older one than it has seen.
	GenerationID uint64
	// Conn tunes OpenFlow connections (echo keepalive).
	Conn openflow.Config
	// ProgramTimeout bounds programming one switch. Default 30s.
	ProgramTimeout time.Duration
	Logger         *slog.Logger
}

// Controller is the controller. Create it with New, accept switches with
// Serve, serve the API with Handler.
type Controller struct {
	opt     Options
	cfg     *policy.Config
	log     *slog.Logger
	policy  *policy.Policy
	disc    *topology.Discovery
	dyn     *dynamicTable
	started time.Time

	mu       sync.Mutex
	switches map[topology.DPID]*session.Switch
	problems []string // last flows.Compute problems, logged on change

	// syncMu serialises computing and applying desired tables, so a
	// newer state is never overwritten by an older one.
	syncMu sync.Mutex
	kick   chan struct{}
}

// New builds a controller: the policy from the configuration overlaid
// with the stored toggles.
func New(ctx context.Context, opt Options) (*Controller, error) {
	cfg := opt.Config
	if cfg == nil {
		cfg = &policy.Config{}
		if err := cfg.Normalize(); err != nil {
			return nil, fmt.Errorf("controller: config: %w", err)
		}
	}
	if opt.Role == openflow.RoleNoChange {
		opt.Role = openflow.RoleMaster
	}
	if opt.ProgramTimeout <= 0 {
		opt.ProgramTimeout = 30 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	pol, err := policy.New(ctx, cfg, opt.Store)
	if err != nil {
		return nil, fmt.Errorf("controller: %w", err)
	}
	lldp := time.Duration(cfg.LLDPInterval)
	return &Controller{
		opt:      opt,
		cfg:      cfg,
		log:      opt.Logger,
		policy:   pol,
		disc:     topology.NewDiscovery(3*lldp + time.Second),
		dyn:      newDynamicTable(cfg.Dynamic.MaxFlows),
		started:  time.Now().UTC(),
		switches: map[topology.DPID]*session.Switch{},
		kick:     make(chan struct{}, 1),
	}, nil
}

// Policy returns the controller's policy.
func (c *Controller) Policy() *policy.Policy { return c.policy }

// Serve accepts switches on ln until ctx ends, and runs discovery, the
// periodic flow check and resynchronisation meanwhile. On return every
// switch connection is closed (switches in fail_mode=secure keep their
// flows).
func (c *Controller) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { c.resyncLoop(ctx) })
	wg.Go(func() { c.lldpLoop(ctx) })
	wg.Go(func() { c.checkLoop(ctx) })
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var err error
	for {
		nc, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("controller: accept on %s: %w", ln.Addr(), aerr)
			}
			break
		}
		wg.Go(func() { c.handle(ctx, nc) })
	}
	cancel()
	c.mu.Lock()
	for _, s := range c.switches {
		s.Close()
	}
	c.mu.Unlock()
	wg.Wait()
	return err
}

// handle runs one switch connection from handshake to close.
func (c *Controller) handle(ctx context.Context, nc net.Conn) {
	s, err := session.Accept(ctx, nc, session.Options{
		Role: c.opt.Role, GenerationID: c.opt.GenerationID, Conn: c.opt.Conn, Logger: c.log,
	})
	if err != nil {
		c.log.Warn("switch handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	stop := context.AfterFunc(ctx, s.Close)
	defer stop()
	c.log.Info("switch connected", "dpid", s.DPID.String(), "remote", s.Addr, "role", s.Role().String(), "ports", len(s.Ports()))
	c.attach(ctx, s)
	for in := range s.Conn().Messages() {
		switch m := in.Message.(type) {
		case *openflow.PacketIn:
			c.packetIn(ctx, s, m)
		case *openflow.PortStatus:
			c.portStatus(ctx, s, m)
		case *openflow.FlowRemoved:
			c.flowRemoved(s, m)
		case *openflow.Error:
			c.log.Warn("switch reported an error", "dpid", s.DPID.String(), "err", m)
		default:
			if in.Err != nil {
				c.log.Warn("undecodable message from switch", "dpid", s.DPID.String(), "err", in.Err)
			}
		}
	}
	c.detach(s)
}

// attach registers a new switch session (closing an older one of the
// same datapath), installs its flows and updates the others.
func (c *Controller) attach(ctx context.Context, s *session.Switch) {
	c.mu.Lock()
	old := c.switches[s.DPID]
	c.switches[s.DPID] = s
	c.mu.Unlock()
	if old != nil {
		c.log.Info("switch reconnected: closing the older connection", "dpid", s.DPID.String(), "old", old.Addr)
		old.Close()
	}
	c.install(ctx, s, false)
	c.sendLLDP(ctx, s)
}

// install gives a (re)connected switch its desired table, then brings
// the other switches in step with the new topology. A retry (the periodic
// check found no table applied) does nothing if an install got there
// first: the check may look while the connect's own install is running,
// and a second reinstall would flip the epoch back.
func (c *Controller) install(ctx context.Context, s *session.Switch, retry bool) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if retry && s.Applied() != nil {
		return
	}
	d := c.compute()
	pctx, cancel := context.WithTimeout(ctx, c.opt.ProgramTimeout)
	start := time.Now()
	p, err := s.Install(pctx, d[s.DPID])
	cancel()
	switch {
	case errors.Is(err, session.ErrSlave):
		c.log.Info("switch not programmed: controller is slave", "dpid", s.DPID.String())
	case err != nil:
		// The periodic check tries again.
		c.log.Error("installing flows failed", "dpid", s.DPID.String(), "err", err)
	default:
		c.log.Info("switch reconciled", "dpid", s.DPID.String(), "flows", p.Added, "stale_removed", p.Removed, "took", time.Since(start).Round(time.Microsecond).String())
	}
	c.applyAll(ctx, d, s.DPID)
}

// detach forgets a closed session (unless a newer one replaced it).
func (c *Controller) detach(s *session.Switch) {
	c.mu.Lock()
	current := c.switches[s.DPID] == s
	if current {
		delete(c.switches, s.DPID)
	}
	c.mu.Unlock()
	c.log.Info("switch disconnected", "dpid", s.DPID.String(), "remote", s.Addr, "err", s.Conn().Err())
	if current {
		c.disc.DropSwitch(s.DPID)
		c.trigger()
	}
}

// sessions returns the connected switches ordered by DPID.
func (c *Controller) sessions() []*session.Switch {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*session.Switch, 0, len(c.switches))
	for _, s := range c.switches {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *session.Switch) int {
		if a.DPID < b.DPID {
			return -1
		}
		if a.DPID > b.DPID {
			return 1
		}
		return 0
	})
	return out
}

// state is a snapshot of what the desired tables depend on.
type state struct {
	graph *topology.Graph
	irs   []flows.IRSPort
	input flows.Input
}

func (c *Controller) snapshot() state {
	sess := c.sessions()
	sws := make([]topology.Switch, len(sess))
	dpids := make([]topology.DPID, len(sess))
	for i, s := range sess {
		sws[i] = s.Topology()
		dpids[i] = s.DPID
	}
	irs := c.resolveIRS(sws)
	// An IRS port is never a link, whatever a stray probe suggests.
	var links []topology.Link
	for _, l := range c.disc.Links() {
		if !isIRS(irs, l.A) && !isIRS(irs, l.B) {
			links = append(links, l)
		}
	}
	g := topology.NewGraph(sws, links)
	var dyn []flows.Dynamic
	for _, e := range c.dyn.live(dpids) {
		dyn = append(dyn, e.Dynamic)
	}
	return state{graph: g, irs: irs, input: flows.Input{Graph: g, Protocols: c.policy.Snapshot(), IRS: irs, Dynamic: dyn}}
}

func isIRS(irs []flows.IRSPort, e topology.End) bool {
	for _, r := range irs {
		if r.DPID == e.DPID && r.Port == e.Port && r.Port != 0 {
			return true
		}
	}
	return false
}

// resolveIRS finds each configured IRS port on its switch.
func (c *Controller) resolveIRS(sws []topology.Switch) []flows.IRSPort {
	out := make([]flows.IRSPort, 0, len(c.cfg.IRS))
	for _, r := range c.cfg.IRS {
		p := flows.IRSPort{Name: r.Name, DPID: r.DPID, VLAN: r.VLAN, Weight: r.Weight}
		for _, sw := range sws {
			if sw.DPID != r.DPID {
				continue
			}
			if r.Port.Name != "" {
				if pt, ok := sw.PortByName(r.Port.Name); ok {
					p.Port = pt.No
				}
			} else if _, ok := sw.Port(r.Port.Number); ok {
				p.Port = r.Port.Number
			}
		}
		out = append(out, p)
	}
	return out
}

// compute returns the desired tables of the current state and logs the
// problems flows.Compute found when they change.
func (c *Controller) compute() flows.Desired {
	st := c.snapshot()
	d, errs := flows.Compute(st.input)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	c.mu.Lock()
	changed := !slices.Equal(msgs, c.problems)
	c.problems = msgs
	c.mu.Unlock()
	if changed && len(msgs) > 0 {
		c.log.Warn("mirror policy not fully applicable", "problems", strings.Join(msgs, "; "))
	}
	return d
}

// result is one switch's outcome of applying a change.
type result struct {
	dpid     topology.DPID
	plan     flows.Plan
	err      error
	duration time.Duration
}

// applyAll brings every installed switch but skip to its desired table,
// in parallel, and returns each one's outcome.
func (c *Controller) applyAll(ctx context.Context, d flows.Desired, skip ...topology.DPID) []result {
	var out []result
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range c.sessions() {
		if slices.Contains(skip, s.DPID) || s.Applied() == nil {
			continue
		}
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, c.opt.ProgramTimeout)
			defer cancel()
			start := time.Now()
			p, err := s.Apply(pctx, d[s.DPID])
			if err != nil && !errors.Is(err, session.ErrSlave) {
				c.log.Warn("applying flows failed", "dpid", s.DPID.String(), "err", err)
			}
			mu.Lock()
			out = append(out, result{s.DPID, p, err, time.Since(start)})
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b result) int {
		if a.dpid < b.dpid {
			return -1
		}
		if a.dpid > b.dpid {
			return 1
		}
		return 0
	})
	return out
}

// sync recomputes and applies the desired tables everywhere.
func (c *Controller) sync(ctx context.Context) []result {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	return c.applyAll(ctx, c.compute())
}

// trigger asks the resync loop to run soon (changes of topology).
func (c *Controller) trigger() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *Controller) resyncLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		// Let a burst of events (several links found at once) settle.
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
		select {
		case <-c.kick:
		default:
		}
		c.sync(ctx)
	}
}

func (c *Controller) lldpLoop(ctx context.Context) {
	t := time.NewTicker(time.Duration(c.cfg.LLDPInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range c.sessions() {
			c.sendLLDP(ctx, s)
		}
		if c.disc.Expire(time.Now()) {
			c.log.Info("links expired")
			c.trigger()
		}
	}
}

func (c *Controller) sendLLDP(ctx context.Context, s *session.Switch) {
	if s.Role() == openflow.RoleSlave {
		return // a slave may not send packet-outs
	}
	irs := c.resolveIRS([]topology.Switch{s.Topology()})
	err := s.SendLLDP(ctx, func(port uint32) bool { return isIRS(irs, topology.End{DPID: s.DPID, Port: port}) })
	if err != nil && ctx.Err() == nil {
		c.log.Debug("lldp probes not sent", "dpid", s.DPID.String(), "err", err)
	}
}

func (c *Controller) checkLoop(ctx context.Context) {
	t := time.NewTicker(time.Duration(c.cfg.CheckInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.CheckNow(ctx)
	}
}

// CheckNow compares every switch's flows with its desired table and
// repairs the difference (the periodic check, run at once).
func (c *Controller) CheckNow(ctx context.Context) {
	gone := false
	for _, s := range c.sessions() {
		if s.Applied() == nil {
			c.install(ctx, s, true) // its install failed (or is running): again
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, c.opt.ProgramTimeout)
		p, err := s.Check(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("flow check failed", "dpid", s.DPID.String(), "err", err)
			}
			continue
		}
		for _, id := range p.Gone {
			gone = c.dyn.gone(id, s.DPID) || gone
		}
	}
	if gone {
		c.trigger()
	}
}

func (c *Controller) packetIn(ctx context.Context, s *session.Switch, m *openflow.PacketIn) {
	inPort, ok := m.InPort()
	if !ok {
		return
	}
	from, fromPort, err := topology.DecodeLLDP(m.Data)
	if err != nil {
		return // not ours; nothing else is sent to the controller
	}
	to := topology.End{DPID: s.DPID, Port: inPort}
	if c.disc.Observe(topology.End{DPID: from, Port: fromPort}, to, time.Now()) {
		c.log.Info("link discovered", "link", topology.NewLink(topology.End{DPID: from, Port: fromPort}, to).String())
		c.trigger()
	}
}

func (c *Controller) portStatus(ctx context.Context, s *session.Switch, m *openflow.PortStatus) {
	p, down := s.PortStatus(m)
	c.log.Info("port status", "dpid", s.DPID.String(), "port", p.No, "name", p.Name, "reason", m.Reason.String(), "up", !down)
	if down {
		c.disc.DropPort(topology.End{DPID: s.DPID, Port: p.No})
	} else {
		c.sendLLDP(ctx, s)
	}
	c.trigger()
}

func (c *Controller) flowRemoved(s *session.Switch, m *openflow.FlowRemoved) {
	f, ok := flows.DecodeCookie(m.Cookie)
	if !ok || f.Kind != flows.KindDynamic {
		return
	}
	if c.dyn.gone(f.ID, s.DPID) {
		c.log.Debug("dynamic flow expired", "dpid", s.DPID.String(), "id", f.ID, "reason", m.Reason.String())
		c.trigger()
	}
}
