// Package session runs the controller's side of one switch connection:
// the OpenFlow handshake (HELLO, FEATURES, role, port description), the
// port table kept current from PORT_STATUS, and the programming of the
// switch's flows: a full reinstall when it connects (Install), changes
// as the policy or topology moves (Apply), and the periodic comparison
// of its flow table with the desired one (Check), each confirmed by a
// barrier.
//
// Programming goes through the Programmer interface, which an
// *openflow.Conn satisfies through ConnProgrammer and which tests satisfy
// with flowtest.Table, so reconciliation is tested without a switch.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/sdnli/sdnli/controller/flows"
	"github.com/sdnli/sdnli/controller/topology"
	"github.com/sdnli/sdnli/openflow"
)

// ErrSlave is returned when the controller holds the slave role for a
// switch and so may not program it.
var ErrSlave = errors.New("session: controller is slave for this switch")

// Programmer is what programming a switch needs.
type Programmer interface {
	SendBatch(ctx context.Context, msgs ...openflow.Message) error
	FlowStats(ctx context.Context, req *openflow.FlowStatsRequest) ([]openflow.FlowStats, error)
	Groups(ctx context.Context) ([]openflow.GroupDesc, error)
}

// ConnProgrammer adapts an *openflow.Conn to Programmer.
type ConnProgrammer struct{ *openflow.Conn }

// Groups implements Programmer with a GROUP_DESC multipart request.
func (c ConnProgrammer) Groups(ctx context.Context) ([]openflow.GroupDesc, error) {
	rep, err := c.Multipart(ctx, &openflow.GroupDescRequest{})
	if err != nil {
		return nil, err
	}
	return rep.(*openflow.GroupDescReply).Groups, nil
}

// Options configure the handshake.
type Options struct {
	// Role to request; RoleEqual (the switch's default) sends no request.
	Role openflow.ControllerRole
	// GenerationID orders master elections among controllers.
	GenerationID uint64
	// Conn tunes the OpenFlow connection (echo keepalive).
	Conn openflow.Config
	// Timeout bounds the handshake. Default 10s.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Switch is one connected switch.
type Switch struct {
	DPID  topology.DPID
	Addr  string
	Since time.Time
	Desc  openflow.DescReply

	conn *openflow.Conn // nil for switches built by New in tests
	prog Programmer
	log  *slog.Logger

	// mu serialises programming: Install, Apply and Check never
	// interleave. It is held across network round trips, so readers of
	// the state below take only stateMu.
	mu sync.Mutex

	stateMu   sync.Mutex
	ports     map[uint32]topology.Port
	role      openflow.ControllerRole
	epoch     bool
	applied   *flows.Table // desired table last sent, with the epoch
	installed int          // flows in sdnli's space at the last check
	lastCheck time.Time
	repairs   int // flows added or removed by checks so far
}

// New returns a Switch programmed through p (no connection), for tests
// and tools.
func New(dpid topology.DPID, p Programmer, ports []topology.Port, role openflow.ControllerRole, log *slog.Logger) *Switch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Switch{DPID: dpid, prog: p, Since: time.Now(), ports: map[uint32]topology.Port{}, role: role, log: log.With("dpid", dpid.String())}
	for _, pt := range ports {
		s.ports[pt.No] = pt
	}
	return s
}

// Accept performs the OpenFlow handshake on a new switch connection:
// HELLO, FEATURES (the datapath id), the role request, DESC and
// PORT_DESC. On failure the connection is closed.
func Accept(ctx context.Context, nc net.Conn, opt Options) (*Switch, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	hctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	addr := nc.RemoteAddr().String()
	conn, err := openflow.NewConn(hctx, nc, opt.Conn)
	if err != nil {
		return nil, fmt.Errorf("session: %s: %w", addr, err)
	}
	fail := func(what string, err error) (*Switch, error) {
		conn.Close()
		return nil, fmt.Errorf("session: %s: %s: %w", addr, what, err)
	}
	feat, err := conn.Features(hctx)
	if err != nil {
		return fail("features", err)
	}
	s := New(topology.DPID(feat.DatapathID), ConnProgrammer{conn}, nil, openflow.RoleEqual, opt.Logger)
	s.conn, s.Addr = conn, addr
	if opt.Role != openflow.RoleEqual && opt.Role != openflow.RoleNoChange {
		rep, err := conn.SetRole(hctx, opt.Role, opt.GenerationID)
		if err != nil {
			return fail(fmt.Sprintf("role %s (generation %d)", opt.Role, opt.GenerationID), err)
		}
		s.role = rep.Role.Role
	}
	if d, err := conn.Desc(hctx); err == nil {
		s.Desc = *d
	}
	ports, err := conn.PortDesc(hctx)
	if err != nil {
		return fail("port desc", err)
	}
	for _, p := range ports {
		s.ports[p.PortNo] = portOf(p)
	}
	return s, nil
}

func portOf(p openflow.Port) topology.Port {
	return topology.Port{
		No: p.PortNo, Name: p.Name, HWAddr: p.HWAddr,
		Up: p.State&openflow.PortStateLinkDown == 0 && p.Config&openflow.PortConfigDown == 0,
	}
}

// Conn returns the switch's connection (nil for New switches).
func (s *Switch) Conn() *openflow.Conn { return s.conn }

// Close ends the connection.
func (s *Switch) Close() {
	if s.conn != nil {
		s.conn.Close()
	}
}

// Role returns the role the switch granted.
func (s *Switch) Role() openflow.ControllerRole {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.role
}

func (s *Switch) isSlave() bool { return s.Role() == openflow.RoleSlave }

// Ports returns the switch's ports (OpenFlow ports only, LOCAL left
// out), by number.
func (s *Switch) Ports() []topology.Port {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	out := make([]topology.Port, 0, len(s.ports))
	for _, p := range s.ports {
		if p.No <= openflow.PortMax {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b topology.Port) int { return int(a.No) - int(b.No) })
	return out
}

// Topology returns the switch as the topology sees it.
func (s *Switch) Topology() topology.Switch {
	return topology.Switch{DPID: s.DPID, Ports: s.Ports()}
}

// PortStatus applies a PORT_STATUS message; it returns the port and
// whether it is now gone or down.
func (s *Switch) PortStatus(ps *openflow.PortStatus) (topology.Port, bool) {
	p := portOf(ps.Port)
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if ps.Reason == openflow.PortReasonDelete {
		delete(s.ports, p.No)
		return p, true
	}
	s.ports[p.No] = p
	return p, !p.Up
}

// Stats summarise the programming state.
type Stats struct {
	Epoch     bool
	Desired   int
	Installed int
	LastCheck time.Time
	Repairs   int
}

// Stats returns the programming state.
func (s *Switch) Stats() Stats {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	n := 0
	if s.applied != nil {
		n = len(s.applied.Flows)
	}
	return Stats{Epoch: s.epoch, Desired: n, Installed: s.installed, LastCheck: s.lastCheck, Repairs: s.repairs}
}

// Applied returns the desired table last sent (with the epoch).
func (s *Switch) Applied() *flows.Table {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.applied
}

// setApplied records the table last sent.
func (s *Switch) setApplied(t *flows.Table) {
	s.stateMu.Lock()
	s.applied = t
	s.stateMu.Unlock()
}

func (s *Switch) currentEpoch() bool {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.epoch
}

func (s *Switch) read(ctx context.Context) (flows.Installed, error) {
	req := openflow.NewFlowStatsRequest()
	req.Cookie, req.CookieMask = flows.CookieMarker, flows.CookieMarkerMask
	fl, err := s.prog.FlowStats(ctx, req)
	if err != nil {
		return flows.Installed{}, fmt.Errorf("session: switch %s: read flows: %w", s.DPID, err)
	}
	gr, err := s.prog.Groups(ctx)
	if err != nil {
		return flows.Installed{}, fmt.Errorf("session: switch %s: read groups: %w", s.DPID, err)
	}
	return flows.Installed{Flows: fl, Groups: gr}, nil
}

// send sends a plan's messages and a barrier; an empty plan sends the
// barrier alone when confirm is set (the switch confirms it is in step).
func (s *Switch) send(ctx context.Context, what string, p flows.Plan, confirm bool) error {
	if p.Empty() && !confirm {
		return nil
	}
	if err := s.prog.SendBatch(ctx, p.Msgs...); err != nil {
		if errors.Is(err, openflow.BadRequestIsSlave) {
			s.stateMu.Lock()
			s.role = openflow.RoleSlave
			s.stateMu.Unlock()
			return fmt.Errorf("session: switch %s: %s: %w (%v)", s.DPID, what, ErrSlave, err)
		}
		return fmt.Errorf("session: switch %s: %s: %w", s.DPID, what, err)
	}
	return nil
}

// Install puts the switch in the desired state after it connects: it
// reads what the switch holds, adds every desired flow with the other
// epoch, deletes the rest of sdnli's flows by cookie mask, and waits for
// the barrier. Traffic never meets a table without its flows.
func (s *Switch) Install(ctx context.Context, want *flows.Table) (flows.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isSlave() {
		s.setApplied(want.WithEpoch(s.currentEpoch()))
		return flows.Plan{}, ErrSlave
	}
	have, err := s.read(ctx)
	if err != nil {
		return flows.Plan{}, err
	}
	epoch := !flows.CurrentEpoch(have)
	p := flows.PlanReinstall(have, want, epoch)
	if err := s.send(ctx, "install", p, true); err != nil {
		return p, err
	}
	applied := want.WithEpoch(epoch)
	s.stateMu.Lock()
	s.epoch, s.applied = epoch, applied
	s.installed, s.lastCheck = len(applied.Flows), time.Now()
	s.stateMu.Unlock()
	s.log.Info("flows installed", "flows", len(want.Flows), "groups", len(want.Groups), "epoch", epoch, "removed", p.Removed)
	return p, nil
}

// Apply changes the switch from the last applied table to want and
// waits for the barrier, which is sent even when nothing changes, so a
// switch that does not answer is reported.
func (s *Switch) Apply(ctx context.Context, want *flows.Table) (flows.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want = want.WithEpoch(s.currentEpoch())
	if s.isSlave() {
		s.setApplied(want)
		return flows.Plan{}, ErrSlave
	}
	from := s.Applied()
	if from == nil {
		return flows.Plan{}, fmt.Errorf("session: switch %s: apply before install", s.DPID)
	}
	p := flows.PlanUpdate(from, want)
	// Recorded whatever happens: after a failure what the switch holds is
	// uncertain, and the next check repairs it against want.
	err := s.send(ctx, "apply", p, true)
	s.setApplied(want)
	return p, err
}

// Check compares the switch's flows and groups in sdnli's space with the
// last applied table and repairs the difference: missing or altered
// flows are added, foreign ones deleted. Dynamic flows found missing
// expired on the switch; they are returned in Plan.Gone, not re-added.
func (s *Switch) Check(ctx context.Context) (flows.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := s.Applied()
	if want == nil {
		return flows.Plan{}, nil
	}
	have, err := s.read(ctx)
	if err != nil {
		return flows.Plan{}, err
	}
	s.stateMu.Lock()
	s.installed, s.lastCheck = len(have.Flows), time.Now()
	s.stateMu.Unlock()
	if s.isSlave() {
		return flows.Plan{}, nil
	}
	p := flows.PlanRepair(have, want)
	if p.Empty() {
		return p, nil
	}
	if err := s.send(ctx, "repair", p, false); err != nil {
		return p, err
	}
	s.stateMu.Lock()
	s.repairs += p.Added + p.Removed
	s.installed += p.Added - p.Removed
	s.stateMu.Unlock()
	s.log.Warn("flows repaired", "added", p.Added, "removed", p.Removed, "groups", p.Groups)
	return p, nil
}

// Installed reads the switch's flows in sdnli's space (for the API).
func (s *Switch) Installed(ctx context.Context) (flows.Installed, error) {
	return s.read(ctx)
}

// SendLLDP sends a discovery probe out of every port that is up, except
// those skip rejects (IRS ports).
func (s *Switch) SendLLDP(ctx context.Context, skip func(port uint32) bool) error {
	if s.conn == nil {
		return nil
	}
	var errs []error
	for _, p := range s.Ports() {
		if !p.Up || (skip != nil && skip(p.No)) {
			continue
		}
		frame := topology.EncodeLLDP(s.DPID, p.No, p.HWAddr)
		if _, err := s.conn.Send(ctx, openflow.NewPacketOut(frame, openflow.Output(p.No))); err != nil {
			errs = append(errs, fmt.Errorf("session: switch %s: lldp out of port %d: %w", s.DPID, p.No, err))
			break // the connection is gone
		}
	}
	return errors.Join(errs...)
}
