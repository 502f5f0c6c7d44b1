package flows

import (
	"cmp"
	"slices"

	"github.com/sdnli/sdnli/openflow"
)

// Installed is what a switch holds in sdnli's space: its flows with an
// sdnli cookie and its groups in sdnli's id range.
type Installed struct {
	Flows  []openflow.FlowStats
	Groups []openflow.GroupDesc
}

// Plan is a list of messages that brings a switch to a desired table,
// to be sent as one batch followed by a barrier.
type Plan struct {
	Msgs []openflow.Message
	// Counts of what the plan does.
	Added, Removed, Groups int
	// Gone lists dynamic requests (by id) whose flow is no longer on the
	// switch: expired, so not to be put back.
	Gone []uint32
}

// Empty reports a plan with nothing to send.
func (p Plan) Empty() bool { return len(p.Msgs) == 0 }

// WithEpoch returns a copy of t whose cookies carry the epoch bit e.
func (t *Table) WithEpoch(e bool) *Table {
	out := &Table{}
	if t == nil {
		return out
	}
	for _, f := range t.Flows {
		c := *f
		if e {
			c.Cookie |= CookieEpoch
		} else {
			c.Cookie &^= CookieEpoch
		}
		out.Flows = append(out.Flows, &c)
	}
	out.Groups = slices.Clone(t.Groups)
	return out
}

// FromStats turns an installed flow into the ADD that would create it.
func FromStats(s openflow.FlowStats) *openflow.FlowMod {
	fm := openflow.NewFlowMod(openflow.FlowAdd)
	fm.TableID, fm.Priority, fm.Cookie = s.TableID, s.Priority, s.Cookie
	fm.IdleTimeout, fm.HardTimeout, fm.Flags = s.IdleTimeout, s.HardTimeout, s.Flags
	fm.Match, fm.Instructions = s.Match, s.Instructions
	return fm
}

// FromDesc turns an installed group into the ADD that would create it.
func FromDesc(g openflow.GroupDesc) *openflow.GroupMod {
	return &openflow.GroupMod{Command: openflow.GroupAdd, GroupType: g.GroupType, GroupID: g.GroupID, Buckets: g.Buckets}
}

// SameFlow reports whether two flows with one key behave alike: same
// cookie, instructions and timeouts (counters and flags aside).
func SameFlow(a, b *openflow.FlowMod) bool {
	return a.Cookie == b.Cookie && a.IdleTimeout == b.IdleTimeout && a.HardTimeout == b.HardTimeout &&
		openflow.InstructionsString(a.Instructions) == openflow.InstructionsString(b.Instructions)
}

// SameGroup reports whether two groups are alike.
func SameGroup(a, b *openflow.GroupMod) bool {
	return a.GroupType == b.GroupType && a.String() == b.String()
}

func deleteStrict(f *openflow.FlowMod) *openflow.FlowMod {
	d := openflow.NewFlowMod(openflow.FlowDeleteStrict)
	d.TableID, d.Priority, d.Match = f.TableID, f.Priority, f.Match
	d.Cookie, d.CookieMask = f.Cookie, ^uint64(0)
	return d
}

func groupMod(cmd openflow.GroupModCommand, g *openflow.GroupMod) *openflow.GroupMod {
	c := *g
	c.Command = cmd
	if cmd == openflow.GroupDelete {
		c.Buckets = nil
	}
	return &c
}

// diff builds the messages from have to want. With repair set, a
// dynamic flow missing from have is reported Gone instead of re-added
// (it expired). Order: groups added or changed, flows added, flows
// removed, groups removed, so no flow ever points at a missing group.
func diff(haveFlows []*openflow.FlowMod, haveGroups []*openflow.GroupMod, want *Table, repair bool) Plan {
	var p Plan
	if want == nil {
		want = &Table{}
	}
	have := map[string]*openflow.FlowMod{}
	for _, f := range haveFlows {
		have[Key(f)] = f
	}
	hg := map[uint32]*openflow.GroupMod{}
	for _, g := range haveGroups {
		hg[g.GroupID] = g
	}
	wantGroups := map[uint32]bool{}
	for _, g := range want.Groups {
		wantGroups[g.GroupID] = true
		old, ok := hg[g.GroupID]
		switch {
		case !ok:
			p.Msgs = append(p.Msgs, groupMod(openflow.GroupAdd, g))
			p.Groups++
		case !SameGroup(old, g):
			p.Msgs = append(p.Msgs, groupMod(openflow.GroupModify, g))
			p.Groups++
		}
	}
	wantKeys := map[string]bool{}
	for _, f := range want.Flows {
		k := Key(f)
		wantKeys[k] = true
		old, ok := have[k]
		if ok && SameFlow(old, f) {
			continue
		}
		if !ok && repair {
			if c, ours := DecodeCookie(f.Cookie); ours && c.Kind == KindDynamic {
				p.Gone = append(p.Gone, c.ID)
				continue
			}
		}
		p.Msgs = append(p.Msgs, f)
		p.Added++
	}
	var stale []*openflow.FlowMod
	for k, f := range have {
		if !wantKeys[k] {
			stale = append(stale, f)
		}
	}
	SortFlows(stale)
	for _, f := range stale {
		p.Msgs = append(p.Msgs, deleteStrict(f))
		p.Removed++
	}
	var gone []uint32
	for id := range hg {
		if !wantGroups[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		p.Msgs = append(p.Msgs, groupMod(openflow.GroupDelete, hg[id]))
		p.Groups++
	}
	slices.Sort(p.Gone)
	p.Gone = slices.Compact(p.Gone)
	return p
}

// PlanUpdate returns what changes a switch from the table last applied
// to it (from) to want. Both carry the switch's epoch.
func PlanUpdate(from, want *Table) Plan {
	if from == nil {
		from = &Table{}
	}
	return diff(from.Flows, from.Groups, want, false)
}

// PlanRepair compares what a switch holds with what it should hold and
// returns the repairs: missing or altered flows re-added, flows in
// sdnli's space that should not be there deleted, groups likewise.
// Missing dynamic flows are listed in Gone, not re-added.
func PlanRepair(have Installed, want *Table) Plan {
	return diff(statsFlows(have), descGroups(have), want, true)
}

// PlanReinstall puts a (re)connecting switch in the desired state
// without a moment where traffic lacks a flow: every desired flow is
// added with the new epoch (an ADD replaces a flow with the same match
// and priority), then everything of sdnli's left with the old epoch is
// deleted by cookie mask, and the flows and groups of the new epoch
// that should not exist are deleted one by one.
func PlanReinstall(have Installed, want *Table, epoch bool) Plan {
	want = want.WithEpoch(epoch)
	var p Plan
	hg := descGroups(have)
	current := map[uint32]*openflow.GroupMod{}
	for _, g := range hg {
		current[g.GroupID] = g
	}
	wantGroups := map[uint32]bool{}
	for _, g := range want.Groups {
		wantGroups[g.GroupID] = true
		old, ok := current[g.GroupID]
		switch {
		case !ok:
			p.Msgs = append(p.Msgs, groupMod(openflow.GroupAdd, g))
			p.Groups++
		case !SameGroup(old, g):
			p.Msgs = append(p.Msgs, groupMod(openflow.GroupModify, g))
			p.Groups++
		}
	}
	wantKeys := map[string]bool{}
	for _, f := range want.Flows {
		wantKeys[Key(f)] = true
		p.Msgs = append(p.Msgs, f)
		p.Added++
	}
	oldEpoch := openflow.NewFlowMod(openflow.FlowDelete)
	oldEpoch.TableID = openflow.TableAll
	oldEpoch.Cookie, oldEpoch.CookieMask = CookieMarker, CookieMarkerMask|CookieEpoch
	if !epoch {
		oldEpoch.Cookie |= CookieEpoch
	}
	p.Msgs = append(p.Msgs, oldEpoch)
	var stale []*openflow.FlowMod
	for _, f := range statsFlows(have) {
		if (f.Cookie&CookieEpoch != 0) == epoch && !wantKeys[Key(f)] {
			stale = append(stale, f)
		}
	}
	SortFlows(stale)
	for _, f := range stale {
		p.Msgs = append(p.Msgs, deleteStrict(f))
		p.Removed++
	}
	var gone []uint32
	for id := range current {
		if !wantGroups[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		p.Msgs = append(p.Msgs, groupMod(openflow.GroupDelete, current[id]))
		p.Groups++
	}
	return p
}

// CurrentEpoch returns the epoch most of the installed sdnli flows carry
// (false when there are none).
func CurrentEpoch(have Installed) bool {
	n1, n0 := 0, 0
	for _, f := range have.Flows {
		if !IsOurs(f.Cookie) {
			continue
		}
		if f.Cookie&CookieEpoch != 0 {
			n1++
		} else {
			n0++
		}
	}
	return n1 > n0
}

func statsFlows(have Installed) []*openflow.FlowMod {
	var out []*openflow.FlowMod
	for _, s := range have.Flows {
		if IsOurs(s.Cookie) {
			out = append(out, FromStats(s))
		}
	}
	return out
}

func descGroups(have Installed) []*openflow.GroupMod {
	var out []*openflow.GroupMod
	for _, g := range have.Groups {
		if IsOurGroup(g.GroupID) {
			out = append(out, FromDesc(g))
		}
	}
	slices.SortFunc(out, func(a, b *openflow.GroupMod) int { return cmp.Compare(a.GroupID, b.GroupID) })
	return out
}
