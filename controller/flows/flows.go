// Package flows turns the mirror policy and the topology into the flows
// and groups each switch must hold. It is pure: Compute takes a
// snapshot (policy states, IRS ports, topology graph, dynamic requests)
// and returns the desired table of every switch, without touching one;
// tests assert the exact flow text and walk packets through the result
// (Walk). Package session installs and repairs what Compute returns.
//
// # Pipeline
//
// Table 0 sorts packets by where they enter; table 1 mirrors traffic
// that entered at an edge port (a host port: neither an inter-switch link
// nor an IRS port). Forwarding is always the switch's own NORMAL action,
// so mirroring never changes where traffic goes.
//
//	table 0
//	  1000  dl_type=0x88cc                      CONTROLLER (LLDP discovery)
//	   900  in_port=IRS                         drop (an IRS only receives)
//	   800  in_port=LINK,dl_vlan=MIRROR_i       output toward IRS i, or
//	                                            pop_vlan,output:IRS_i at its switch
//	   700  dl_vlan=MIRROR_i                    drop (stray copies never reach NORMAL)
//	   500  in_port=LINK                        NORMAL (entered elsewhere: no copy)
//	     0                                      goto_table:1
//	table 1
//	   300  dynamic request, both directions    NORMAL + copy (idle_timeout)
//	   210  protocol, tp_dst=PORT / ip_proto    NORMAL + copy
//	   200  protocol, tp_src=PORT               NORMAL + copy
//	     0                                      NORMAL
//
// A copy to an IRS on the same switch is output:IRS_PORT. A copy to an
// IRS elsewhere is tagged with that IRS's mirror VLAN and sent out of the
// port on a shortest path toward it (push_vlan, set_field vlan_vid,
// output); every switch on the way forwards the tag with a priority-800
// flow that never reaches NORMAL, so MAC learning and flooding never see
// copies, and the IRS's switch pops the tag. A copy is made once, where
// the packet enters the network: on other switches the packet arrives on
// a link and takes the priority-500 flow. A protocol spread over several
// IRS nodes copies through a select group with one bucket per IRS.
//
// The IRS port must also be kept out of NORMAL's floods; OpenFlow has no
// way to say so, so the topology puts the IRS port in an access VLAN of
// its own (ovs-vsctl set port IRS tag=4094): NORMAL floods untagged
// traffic only within VLAN 0, while explicit output actions still reach
// the port.
//
// Cookies follow the layout described at CookieMarker.
package flows

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/topology"
	"github.com/sdnli/sdnli/openflow"
)

// Tables.
const (
	TableClassify uint8 = 0
	TableMirror   uint8 = 1
)

// Priorities.
const (
	PrioLLDP      uint16 = 1000
	PrioIRSDrop   uint16 = 900
	PrioTransit   uint16 = 800
	PrioVLANDrop  uint16 = 700
	PrioLinkFwd   uint16 = 500
	PrioDynamic   uint16 = 300
	PrioServer    uint16 = 210 // tp_dst = the protocol's port, or ip_proto alone
	PrioClient    uint16 = 200 // tp_src = the protocol's port
	PrioTableMiss uint16 = 0
)

// GroupBase is the first group id sdnli uses; groups GroupBase..
// GroupBase+0xffff are its own.
const GroupBase uint32 = 0x5d000000

// IsOurGroup reports whether a group id is in sdnli's range.
func IsOurGroup(id uint32) bool { return id >= GroupBase && id <= GroupBase+0xffff }

// IRSPort is an IRS node's capture port, resolved on the topology.
type IRSPort struct {
	Name   string
	DPID   topology.DPID
	Port   uint32 // 0 when the port could not be resolved (switch absent, unknown name)
	VLAN   uint16
	Weight uint16
}

// Dynamic is a mirror request of an IRS: a connection (or GRE call)
// between A and B, mirrored in both directions until idle.
type Dynamic struct {
	ID       uint32
	Protocol string // catalogue name; its IRS assignment applies
	IPProto  uint8
	A, B     netip.AddrPort // port 0: any
	Idle     uint16         // idle_timeout, seconds
	// Gone lists switches on which the flow expired: not reinstalled there.
	Gone map[topology.DPID]bool
}

// Input is everything Compute needs.
type Input struct {
	Graph     *topology.Graph
	Protocols []policy.State
	IRS       []IRSPort
	Dynamic   []Dynamic
}

// Table is one switch's desired flows and groups, each flow an ADD.
type Table struct {
	Flows  []*openflow.FlowMod
	Groups []*openflow.GroupMod
}

// Desired maps each switch to its table.
type Desired map[topology.DPID]*Table

// Key identifies a flow within a switch: table, priority and match, the
// fields an ADD replaces on.
func Key(fm *openflow.FlowMod) string {
	return fmt.Sprintf("table=%d,priority=%d,%s", fm.TableID, fm.Priority, fm.Match.String())
}

// Lines prints the table in ovs-ofctl syntax, flows first (table
// ascending, priority descending, then by text), then groups by id.
func (t *Table) Lines() []string {
	if t == nil {
		return nil
	}
	flows := slices.Clone(t.Flows)
	SortFlows(flows)
	var out []string
	for _, f := range flows {
		out = append(out, f.String())
	}
	groups := slices.Clone(t.Groups)
	slices.SortFunc(groups, func(a, b *openflow.GroupMod) int { return cmp.Compare(a.GroupID, b.GroupID) })
	for _, g := range groups {
		out = append(out, g.String())
	}
	return out
}

// SortFlows orders flows by table, descending priority, then match text.
func SortFlows(flows []*openflow.FlowMod) {
	sortFlows(flows, nil)
}

// sortFlows is SortFlows with the match texts already known for some
// flows (printing a match is the costly part).
func sortFlows(flows []*openflow.FlowMod, known map[*openflow.FlowMod]string) {
	type keyed struct {
		f     *openflow.FlowMod
		match string
	}
	ks := make([]keyed, len(flows))
	for i, f := range flows {
		m, ok := known[f]
		if !ok {
			m = f.Match.String() // once per flow, not per comparison
		}
		ks[i] = keyed{f, m}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if c := cmp.Compare(a.f.TableID, b.f.TableID); c != 0 {
			return c
		}
		if c := cmp.Compare(b.f.Priority, a.f.Priority); c != 0 {
			return c
		}
		return strings.Compare(a.match, b.match)
	})
	for i, k := range ks {
		flows[i] = k.f
	}
}

// builder accumulates one switch's table.
type builder struct {
	dpid    topology.DPID
	t       *Table
	keys    map[string]bool
	matches map[*openflow.FlowMod]string // match texts, for sorting
	groups  map[string]uint32            // IRS set key -> group id
	errs    *[]error
}

func (b *builder) add(table uint8, prio uint16, cookie uint64, fields []openflow.OXM, insts []openflow.Instruction) *openflow.FlowMod {
	m, err := openflow.NewMatch(fields...)
	if err != nil {
		*b.errs = append(*b.errs, fmt.Errorf("flows: switch %s: %w", b.dpid, err))
		return nil
	}
	fm := openflow.NewFlowMod(openflow.FlowAdd)
	fm.TableID, fm.Priority, fm.Cookie, fm.Match, fm.Instructions = table, prio, cookie, m, insts
	ms := m.String()
	k := fmt.Sprintf("table=%d,priority=%d,%s", table, prio, ms) // as Key
	if b.keys[k] {
		return nil // the same match twice (e.g. a dynamic request A==B): once is enough
	}
	b.keys[k] = true
	b.matches[fm] = ms
	b.t.Flows = append(b.t.Flows, fm)
	return fm
}

func apply(actions ...openflow.Action) []openflow.Instruction {
	return []openflow.Instruction{openflow.ApplyActions(actions...)}
}

// Compute returns the desired table of every switch in the graph. The
// errors name what could not be honoured (an IRS whose switch is absent,
// a protocol with no reachable IRS from some switch); the tables are
// complete for everything else.
func Compute(in Input) (Desired, []error) {
	var errs []error
	out := Desired{}
	if in.Graph == nil {
		return out, nil
	}
	irsByName := map[string]IRSPort{}
	nextHops := map[string]map[topology.DPID]uint32{}
	for _, r := range in.IRS {
		irsByName[r.Name] = r
		if r.Port == 0 {
			errs = append(errs, fmt.Errorf("flows: irs %s: port not found on switch %s (not connected, or no such port)", r.Name, r.DPID))
			continue
		}
		nextHops[r.Name] = in.Graph.NextHops(r.DPID)
	}
	// Group ids: one per distinct set of two or more IRS nodes, numbered
	// in order of first use by the catalogue then the dynamic requests,
	// identical on every switch.
	sets := map[string][]string{}
	var setOrder []string
	noteSet := func(names []string) {
		if len(names) < 2 {
			return
		}
		k := strings.Join(names, ",")
		if _, ok := sets[k]; !ok {
			sets[k] = names
			setOrder = append(setOrder, k)
		}
	}
	protoIRS := map[string][]string{}
	for _, p := range in.Protocols {
		names := slices.Clone(p.IRS)
		slices.Sort(names)
		names = slices.Compact(names)
		protoIRS[p.Name] = names
		if p.Enabled {
			noteSet(names)
		}
	}
	for _, d := range in.Dynamic {
		noteSet(protoIRS[d.Protocol])
	}
	groupID := map[string]uint32{}
	for i, k := range setOrder {
		groupID[k] = GroupBase + uint32(i)
	}

	for _, sw := range in.Graph.Switches() {
		b := &builder{dpid: sw.DPID, t: &Table{}, keys: map[string]bool{}, matches: map[*openflow.FlowMod]string{}, groups: map[string]uint32{}, errs: &errs}
		out[sw.DPID] = b.t
		links := in.Graph.LinkPorts(sw.DPID)

		// copyTo returns the actions that send a copy from this switch
		// to IRS r, or nil when r cannot be reached.
		copyTo := func(r IRSPort) []openflow.Action {
			if r.Port == 0 {
				return nil
			}
			if r.DPID == sw.DPID {
				return []openflow.Action{openflow.Output(r.Port)}
			}
			next, ok := nextHops[r.Name][sw.DPID]
			if !ok {
				return nil
			}
			return []openflow.Action{
				openflow.PushVLAN(openflow.EthTypeVLAN),
				openflow.SetField(openflow.VLANVID(r.VLAN)),
				openflow.Output(next),
			}
		}
		// copyActions returns the copy part of a mirror flow for a set
		// of IRS names: inline for one, a select group for several.
		copyActions := func(what string, names []string) []openflow.Action {
			if len(names) == 1 {
				r, ok := irsByName[names[0]]
				acts := copyTo(r)
				if !ok || acts == nil {
					errs = append(errs, fmt.Errorf("flows: switch %s: %s: irs %s unreachable", sw.DPID, what, names[0]))
				}
				return acts
			}
			k := strings.Join(names, ",")
			id, ok := groupID[k]
			if !ok {
				return nil
			}
			if _, done := b.groups[k]; !done {
				var buckets []openflow.Bucket
				for _, n := range names {
					r := irsByName[n]
					if acts := copyTo(r); acts != nil {
						buckets = append(buckets, openflow.NewBucket(r.Weight, acts...))
					}
				}
				if len(buckets) == 0 {
					errs = append(errs, fmt.Errorf("flows: switch %s: %s: no irs of %s reachable", sw.DPID, what, k))
					b.groups[k] = 0
					return nil
				}
				b.t.Groups = append(b.t.Groups, &openflow.GroupMod{Command: openflow.GroupAdd, GroupType: openflow.GroupTypeSelect, GroupID: id, Buckets: buckets})
				b.groups[k] = id
			}
			if b.groups[k] == 0 {
				return nil
			}
			return []openflow.Action{openflow.Group(id)}
		}

		infra := func(role uint32, irsIndex int) uint64 {
			return Cookie(KindInfra, uint16(irsIndex), role)
		}

		// Table 0.
		b.add(TableClassify, PrioLLDP, infra(RoleLLDP, 0),
			[]openflow.OXM{openflow.EthType(openflow.EthTypeLLDP)},
			apply(openflow.Output(openflow.PortController)))
		for _, r := range in.IRS {
			if r.DPID == sw.DPID && r.Port != 0 {
				b.add(TableClassify, PrioIRSDrop, infra(RoleIRSDrop, 0), []openflow.OXM{openflow.InPort(r.Port)}, nil)
			}
		}
		for i, r := range in.IRS {
			if r.Port == 0 {
				continue
			}
			for _, l := range links {
				var acts []openflow.Action
				if r.DPID == sw.DPID {
					acts = []openflow.Action{openflow.PopVLAN(), openflow.Output(r.Port)}
				} else if next, ok := nextHops[r.Name][sw.DPID]; ok && next != l {
					acts = []openflow.Action{openflow.Output(next)}
				} else {
					continue
				}
				b.add(TableClassify, PrioTransit, infra(RoleTransit, i+1),
					[]openflow.OXM{openflow.InPort(l), openflow.VLANVID(r.VLAN)}, apply(acts...))
			}
		}
		for i, r := range in.IRS {
			b.add(TableClassify, PrioVLANDrop, infra(RoleVLANDrop, i+1), []openflow.OXM{openflow.VLANVID(r.VLAN)}, nil)
		}
		for _, l := range links {
			b.add(TableClassify, PrioLinkFwd, infra(RoleLinkFwd, 0), []openflow.OXM{openflow.InPort(l)}, apply(openflow.Output(openflow.PortNormal)))
		}
		b.add(TableClassify, PrioTableMiss, infra(RoleMiss, 0), nil, []openflow.Instruction{openflow.GotoTable(TableMirror)})

		// Table 1: dynamic requests, then protocols.
		for _, d := range in.Dynamic {
			if d.Gone[sw.DPID] {
				continue
			}
			proto, ok := policy.Lookup(d.Protocol)
			if !ok {
				errs = append(errs, fmt.Errorf("flows: dynamic %d: unknown protocol %q", d.ID, d.Protocol))
				continue
			}
			acts := copyActions("dynamic "+fmt.Sprint(d.ID), protoIRS[proto.Name])
			if acts == nil {
				continue
			}
			inst := apply(append([]openflow.Action{openflow.Output(openflow.PortNormal)}, acts...)...)
			cookie := Cookie(KindDynamic, proto.ID, d.ID)
			for _, dir := range [][2]netip.AddrPort{{d.A, d.B}, {d.B, d.A}} {
				fields, err := dynamicMatch(d.IPProto, dir[0], dir[1])
				if err != nil {
					errs = append(errs, fmt.Errorf("flows: dynamic %d: %w", d.ID, err))
					break
				}
				if fm := b.add(TableMirror, PrioDynamic, cookie, fields, inst); fm != nil {
					fm.IdleTimeout = d.Idle
					fm.Flags = openflow.FlowFlagSendFlowRem
				}
			}
		}
		for _, p := range in.Protocols {
			if !p.Enabled {
				continue
			}
			acts := copyActions(p.Name, protoIRS[p.Name])
			if acts == nil {
				continue
			}
			inst := apply(append([]openflow.Action{openflow.Output(openflow.PortNormal)}, acts...)...)
			cookie := Cookie(KindProtocol, p.ID, 0)
			for _, eth := range []uint16{openflow.EthTypeIPv4, openflow.EthTypeIPv6} {
				for _, port := range p.Ports {
					dst, src := openflow.TCPDst(port.Port), openflow.TCPSrc(port.Port)
					if port.Transport == policy.UDP {
						dst, src = openflow.UDPDst(port.Port), openflow.UDPSrc(port.Port)
					}
					base := []openflow.OXM{openflow.EthType(eth), openflow.IPProto(port.Transport.Number())}
					b.add(TableMirror, PrioServer, cookie, append(slices.Clone(base), dst), inst)
					b.add(TableMirror, PrioClient, cookie, append(slices.Clone(base), src), inst)
				}
				for _, ipp := range p.IPProtos {
					n := ipp.V4
					if eth == openflow.EthTypeIPv6 {
						n = ipp.V6
					}
					b.add(TableMirror, PrioServer, cookie, []openflow.OXM{openflow.EthType(eth), openflow.IPProto(n)}, inst)
				}
			}
		}
		b.add(TableMirror, PrioTableMiss, infra(RoleMiss, 0), nil, apply(openflow.Output(openflow.PortNormal)))
		sortFlows(b.t.Flows, b.matches)
	}
	return out, errs
}

// dynamicMatch matches packets from a to b (ports 0: any).
func dynamicMatch(ipProto uint8, a, b netip.AddrPort) ([]openflow.OXM, error) {
	aa, ba := a.Addr().Unmap(), b.Addr().Unmap()
	if !aa.IsValid() || !ba.IsValid() || aa.Is4() != ba.Is4() {
		return nil, fmt.Errorf("addresses %s and %s are not of one IP family", a.Addr(), b.Addr())
	}
	var f []openflow.OXM
	if aa.Is4() {
		f = append(f, openflow.EthType(openflow.EthTypeIPv4), openflow.IPv4Src(aa), openflow.IPv4Dst(ba))
	} else {
		f = append(f, openflow.EthType(openflow.EthTypeIPv6), openflow.IPv6Src(aa), openflow.IPv6Dst(ba))
	}
	f = append(f, openflow.IPProto(ipProto))
	if a.Port() != 0 || b.Port() != 0 {
		var src, dst func(uint16) openflow.OXM
		switch ipProto {
		case policy.IPProtoTCP:
			src, dst = openflow.TCPSrc, openflow.TCPDst
		case policy.IPProtoUDP:
			src, dst = openflow.UDPSrc, openflow.UDPDst
		default:
			return nil, fmt.Errorf("ports given for ip protocol %d, which has none", ipProto)
		}
		if a.Port() != 0 {
			f = append(f, src(a.Port()))
		}
		if b.Port() != 0 {
			f = append(f, dst(b.Port()))
		}
	}
	return f, nil
}
