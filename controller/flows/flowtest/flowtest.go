// Package flowtest is an in-memory OpenFlow flow and group table with
// the semantics Open vSwitch gives flow and group mods (ADD replaces a
// flow with the same table, priority and match; DELETE filters by cookie
// mask and match; deleting a group deletes the flows that use it). Tests
// of the controller program it instead of a switch and compare its dump
// with the expected flow text.
package flowtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sdnli/sdnli/openflow"
)

// Table is a fake switch table. It is safe for concurrent use.
type Table struct {
	mu     sync.Mutex
	flows  map[string]openflow.FlowStats
	groups map[uint32]openflow.GroupDesc
	// Batches counts batches applied; Msgs counts messages.
	Batches, Msgs int
	// FailNext, when set, makes the next batch fail with it (after
	// applying nothing), as a switch that went away would.
	FailNext error
}

// New returns an empty table.
func New() *Table {
	return &Table{flows: map[string]openflow.FlowStats{}, groups: map[uint32]openflow.GroupDesc{}}
}

func key(table uint8, prio uint16, m openflow.Match) string {
	return fmt.Sprintf("table=%d,priority=%d,%s", table, prio, m.String())
}

// SendBatch applies flow and group mods in order, like a switch before
// a barrier: it returns the errors of the messages that failed (the
// others take effect).
func (t *Table) SendBatch(_ context.Context, msgs ...openflow.Message) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.FailNext; err != nil {
		t.FailNext = nil
		return err
	}
	t.Batches++
	var errs []error
	for i, m := range msgs {
		t.Msgs++
		var err error
		switch m := m.(type) {
		case *openflow.FlowMod:
			err = t.flowMod(m)
		case *openflow.GroupMod:
			err = t.groupMod(m)
		default:
			err = fmt.Errorf("flowtest: unexpected %s in a batch", m.Type())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("message %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (t *Table) flowMod(m *openflow.FlowMod) error {
	switch m.Command {
	case openflow.FlowAdd:
		if m.TableID == openflow.TableAll {
			return errors.New("flowtest: add to table all")
		}
		for _, in := range m.Instructions {
			if g, ok := in.(openflow.InstructionApplyActions); ok {
				for _, a := range g.Actions {
					if ga, ok := a.(openflow.ActionGroup); ok {
						if _, exists := t.groups[ga.GroupID]; !exists {
							return fmt.Errorf("flowtest: flow uses missing group %d", ga.GroupID)
						}
					}
				}
			}
		}
		t.flows[key(m.TableID, m.Priority, m.Match)] = openflow.FlowStats{
			TableID: m.TableID, Priority: m.Priority, IdleTimeout: m.IdleTimeout, HardTimeout: m.HardTimeout,
			Flags: m.Flags, Cookie: m.Cookie, Match: m.Match, Instructions: m.Instructions,
		}
	case openflow.FlowDeleteStrict:
		k := key(m.TableID, m.Priority, m.Match)
		if f, ok := t.flows[k]; ok && f.Cookie&m.CookieMask == m.Cookie&m.CookieMask {
			delete(t.flows, k)
		}
	case openflow.FlowDelete:
		for k, f := range t.flows {
			if m.TableID != openflow.TableAll && f.TableID != m.TableID {
				continue
			}
			if f.Cookie&m.CookieMask != m.Cookie&m.CookieMask {
				continue
			}
			if !covers(m.Match, f.Match) {
				continue
			}
			delete(t.flows, k)
		}
	default:
		return fmt.Errorf("flowtest: flow mod command %s not modelled", m.Command)
	}
	return nil
}

// covers reports whether every field of general appears, identical, in
// specific (the non-strict delete rule for exact fields).
func covers(general, specific openflow.Match) bool {
	for _, g := range general.Fields {
		found := false
		for _, s := range specific.Fields {
			if s.Class == g.Class && s.Field == g.Field && string(s.Value) == string(g.Value) && string(s.Mask) == string(g.Mask) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (t *Table) groupMod(m *openflow.GroupMod) error {
	switch m.Command {
	case openflow.GroupAdd:
		if _, ok := t.groups[m.GroupID]; ok {
			return fmt.Errorf("flowtest: group %d exists (GROUP_EXISTS)", m.GroupID)
		}
		t.groups[m.GroupID] = openflow.GroupDesc{GroupType: m.GroupType, GroupID: m.GroupID, Buckets: m.Buckets}
	case openflow.GroupModify:
		if _, ok := t.groups[m.GroupID]; !ok {
			return fmt.Errorf("flowtest: group %d does not exist (UNKNOWN_GROUP)", m.GroupID)
		}
		t.groups[m.GroupID] = openflow.GroupDesc{GroupType: m.GroupType, GroupID: m.GroupID, Buckets: m.Buckets}
	case openflow.GroupDelete:
		for id := range t.groups {
			if m.GroupID != openflow.GroupAll && id != m.GroupID {
				continue
			}
			delete(t.groups, id)
			for k, f := range t.flows {
				if usesGroup(f.Instructions, id) {
					delete(t.flows, k)
				}
			}
		}
	default:
		return fmt.Errorf("flowtest: group mod command %s not modelled", m.Command)
	}
	return nil
}

func usesGroup(insts []openflow.Instruction, id uint32) bool {
	for _, in := range insts {
		if a, ok := in.(openflow.InstructionApplyActions); ok {
			for _, act := range a.Actions {
				if g, ok := act.(openflow.ActionGroup); ok && g.GroupID == id {
					return true
				}
			}
		}
	}
	return false
}

// FlowStats returns the flows selected by the request's table and cookie mask.
func (t *Table) FlowStats(_ context.Context, req *openflow.FlowStatsRequest) ([]openflow.FlowStats, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []openflow.FlowStats
	for _, f := range t.flows {
		if req.TableID != openflow.TableAll && f.TableID != req.TableID {
			continue
		}
		if f.Cookie&req.CookieMask != req.Cookie&req.CookieMask {
			continue
		}
		out = append(out, f)
	}
	sortStats(out)
	return out, nil
}

// Groups returns every group.
func (t *Table) Groups(context.Context) ([]openflow.GroupDesc, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []openflow.GroupDesc
	for _, g := range t.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b openflow.GroupDesc) int { return cmp.Compare(a.GroupID, b.GroupID) })
	return out, nil
}

func sortStats(out []openflow.FlowStats) {
	slices.SortFunc(out, func(a, b openflow.FlowStats) int {
		if c := cmp.Compare(a.TableID, b.TableID); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		return strings.Compare(a.Match.String(), b.Match.String())
	})
}

// Dump prints the table like `ovs-ofctl dump-flows` without counters
// (table ascending, priority descending), then the groups.
func (t *Table) Dump() []string {
	t.mu.Lock()
	flows := make([]openflow.FlowStats, 0, len(t.flows))
	for _, f := range t.flows {
		flows = append(flows, f)
	}
	groups := make([]openflow.GroupDesc, 0, len(t.groups))
	for _, g := range t.groups {
		groups = append(groups, g)
	}
	t.mu.Unlock()
	sortStats(flows)
	var out []string
	for _, f := range flows {
		fm := openflow.NewFlowMod(openflow.FlowAdd)
		fm.TableID, fm.Priority, fm.Cookie, fm.Match, fm.Instructions = f.TableID, f.Priority, f.Cookie, f.Match, f.Instructions
		fm.IdleTimeout, fm.HardTimeout, fm.Flags = f.IdleTimeout, f.HardTimeout, f.Flags
		out = append(out, fm.String())
	}
	slices.SortFunc(groups, func(a, b openflow.GroupDesc) int { return cmp.Compare(a.GroupID, b.GroupID) })
	for _, g := range groups {
		out = append(out, g.String())
	}
	return out
}

// Add installs a flow directly (a flow added by hand on the switch).
func (t *Table) Add(fm *openflow.FlowMod) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := *fm
	c.Command = openflow.FlowAdd
	_ = t.flowMod(&c)
}

// Remove deletes the flow with this table, priority and match (a flow
// deleted by hand, or expired).
func (t *Table) Remove(table uint8, prio uint16, m openflow.Match) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := key(table, prio, m)
	_, ok := t.flows[k]
	delete(t.flows, k)
	return ok
}
