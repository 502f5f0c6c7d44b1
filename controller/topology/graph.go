// Package topology models the switches the controller sees, their ports
// and the links between them, discovered with LLDP probes (EncodeLLDP,
// DecodeLLDP, Discovery). A Graph is an immutable snapshot from which
// package flows computes copy paths: NextHops gives, for every switch,
// the port toward a destination switch on a shortest path.
//
// A port is a link port when LLDP found a neighbour switch on it; every
// other port (hosts, IRS nodes) is an edge port.
package topology

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"time"
)

// Port is one switch port.
type Port struct {
	No     uint32
	Name   string
	HWAddr net.HardwareAddr
	// Up: link up and not administratively down.
	Up bool
}

// Switch is a connected switch and its ports (by number, ascending).
type Switch struct {
	DPID  DPID
	Ports []Port
}

// Port returns the port numbered no.
func (s Switch) Port(no uint32) (Port, bool) {
	i, ok := slices.BinarySearchFunc(s.Ports, no, func(p Port, n uint32) int { return cmp.Compare(p.No, n) })
	if !ok {
		return Port{}, false
	}
	return s.Ports[i], true
}

// PortByName returns the port named name.
func (s Switch) PortByName(name string) (Port, bool) {
	for _, p := range s.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return Port{}, false
}

// End is one end of a link: a switch port.
type End struct {
	DPID DPID
	Port uint32
}

func (e End) String() string { return fmt.Sprintf("%s:%d", e.DPID, e.Port) }

func compareEnd(a, b End) int {
	if c := cmp.Compare(a.DPID, b.DPID); c != 0 {
		return c
	}
	return cmp.Compare(a.Port, b.Port)
}

// Link joins two switch ports. A is the smaller end.
type Link struct {
	A, B End
}

// NewLink returns the link between a and b in canonical order.
func NewLink(a, b End) Link {
	if compareEnd(b, a) < 0 {
		a, b = b, a
	}
	return Link{a, b}
}

func (l Link) String() string { return l.A.String() + "-" + l.B.String() }

// Graph is a snapshot of switches and links. Build it with NewGraph and
// treat it as read-only.
type Graph struct {
	switches map[DPID]Switch
	links    []Link
	peer     map[End]End
}

// NewGraph builds a snapshot. Links whose ends are not both ports that
// are up on known switches are left out, as are links sharing a port
// with another (a port has at most one neighbour; the smallest link
// wins, which keeps the result deterministic).
func NewGraph(switches []Switch, links []Link) *Graph {
	g := &Graph{switches: map[DPID]Switch{}, peer: map[End]End{}}
	for _, s := range switches {
		s.Ports = slices.Clone(s.Ports)
		slices.SortFunc(s.Ports, func(a, b Port) int { return cmp.Compare(a.No, b.No) })
		g.switches[s.DPID] = s
	}
	links = slices.Clone(links)
	for i, l := range links {
		links[i] = NewLink(l.A, l.B)
	}
	slices.SortFunc(links, func(a, b Link) int {
		if c := compareEnd(a.A, b.A); c != 0 {
			return c
		}
		return compareEnd(a.B, b.B)
	})
	links = slices.Compact(links)
	for _, l := range links {
		if l.A == l.B || !g.up(l.A) || !g.up(l.B) {
			continue
		}
		if _, used := g.peer[l.A]; used {
			continue
		}
		if _, used := g.peer[l.B]; used {
			continue
		}
		g.peer[l.A], g.peer[l.B] = l.B, l.A
		g.links = append(g.links, l)
	}
	return g
}

func (g *Graph) up(e End) bool {
	s, ok := g.switches[e.DPID]
	if !ok {
		return false
	}
	p, ok := s.Port(e.Port)
	return ok && p.Up
}

// Switches returns the switches ordered by DPID.
func (g *Graph) Switches() []Switch {
	out := slices.Collect(maps.Values(g.switches))
	slices.SortFunc(out, func(a, b Switch) int { return cmp.Compare(a.DPID, b.DPID) })
	return out
}

// Switch returns the switch dpid.
func (g *Graph) Switch(dpid DPID) (Switch, bool) {
	s, ok := g.switches[dpid]
	return s, ok
}

// Links returns the links, ordered.
func (g *Graph) Links() []Link { return slices.Clone(g.links) }

// Peer returns the far end of the link on e.
func (g *Graph) Peer(e End) (End, bool) {
	p, ok := g.peer[e]
	return p, ok
}

// IsLinkPort reports whether e leads to another switch.
func (g *Graph) IsLinkPort(e End) bool {
	_, ok := g.peer[e]
	return ok
}

// LinkPorts returns the ports of dpid that lead to other switches, ascending.
func (g *Graph) LinkPorts(dpid DPID) []uint32 {
	var out []uint32
	for e := range g.peer {
		if e.DPID == dpid {
			out = append(out, e.Port)
		}
	}
	slices.Sort(out)
	return out
}

// NextHops returns, for every switch from which dst can be reached, the
// port toward dst on a shortest path (dst itself is absent). Ties go to
// the neighbour with the smaller DPID, then the smaller port, so the
// result is the same on every run; the ports form a tree rooted at dst,
// so copies following them never loop.
func (g *Graph) NextHops(dst DPID) map[DPID]uint32 {
	out := map[DPID]uint32{}
	if _, ok := g.switches[dst]; !ok {
		return out
	}
	// Adjacency ordered for determinism.
	adj := map[DPID][]End{} // switch -> local ends with a peer
	for e := range g.peer {
		adj[e.DPID] = append(adj[e.DPID], e)
	}
	for d := range adj {
		slices.SortFunc(adj[d], func(a, b End) int {
			pa, pb := g.peer[a], g.peer[b]
			if c := cmp.Compare(pa.DPID, pb.DPID); c != 0 {
				return c
			}
			return cmp.Compare(a.Port, b.Port)
		})
	}
	seen := map[DPID]bool{dst: true}
	frontier := []DPID{dst}
	for len(frontier) > 0 {
		slices.Sort(frontier)
		var next []DPID
		for _, d := range frontier {
			// Switches adjacent to d that are not reached yet forward to d.
			for _, e := range adj[d] {
				far := g.peer[e]
				if seen[far.DPID] {
					continue
				}
				seen[far.DPID] = true
				out[far.DPID] = far.Port
				next = append(next, far.DPID)
			}
		}
		frontier = next
	}
	return out
}

// Discovery tracks links seen by LLDP. A link lives for TTL after it was
// last seen in either direction. It is safe for concurrent use.
type Discovery struct {
	TTL time.Duration

	mu   sync.Mutex
	seen map[Link]time.Time
}

// NewDiscovery returns a tracker whose links expire ttl after their last probe.
func NewDiscovery(ttl time.Duration) *Discovery {
	return &Discovery{TTL: ttl, seen: map[Link]time.Time{}}
}

// Observe records a probe sent from `from` and received on `to`; it
// reports whether the link is new.
func (d *Discovery) Observe(from, to End, now time.Time) bool {
	if from.DPID == to.DPID && from.Port == to.Port {
		return false
	}
	l := NewLink(from, to)
	d.mu.Lock()
	defer d.mu.Unlock()
	_, known := d.seen[l]
	d.seen[l] = now
	return !known
}

// Expire forgets links not seen for TTL; it reports whether any went.
func (d *Discovery) Expire(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := false
	for l, t := range d.seen {
		if now.Sub(t) > d.TTL {
			delete(d.seen, l)
			changed = true
		}
	}
	return changed
}

// DropPort forgets links on port e (it went down); it reports a change.
func (d *Discovery) DropPort(e End) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := false
	for l := range d.seen {
		if l.A == e || l.B == e {
			delete(d.seen, l)
			changed = true
		}
	}
	return changed
}

// DropSwitch forgets the links of a switch that disconnected.
func (d *Discovery) DropSwitch(dpid DPID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := false
	for l := range d.seen {
		if l.A.DPID == dpid || l.B.DPID == dpid {
			delete(d.seen, l)
			changed = true
		}
	}
	return changed
}

// Links returns the live links, ordered.
func (d *Discovery) Links() []Link {
	d.mu.Lock()
	out := slices.Collect(maps.Keys(d.seen))
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b Link) int {
		if c := compareEnd(a.A, b.A); c != 0 {
			return c
		}
		return compareEnd(a.B, b.B)
	})
	return out
}
