package controller

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sdnli/sdnli/controller/api"
	"github.com/sdnli/sdnli/controller/apiv1"
	"github.com/sdnli/sdnli/controller/flows"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/topology"
)

// transports maps the names a dynamic request may use to IP protocols.
var transports = map[string]uint8{
	"tcp": policy.IPProtoTCP,
	"udp": policy.IPProtoUDP,
	"gre": policy.IPProtoGRE,
	"esp": policy.IPProtoESP,
}

func transportName(n uint8) string {
	for k, v := range transports {
		if v == n {
			return k
		}
	}
	return fmt.Sprint(n)
}

// dynEntry is a live dynamic mirror.
type dynEntry struct {
	flows.Dynamic
	key     string
	created time.Time
}

// dynamicTable holds the dynamic mirrors, bounded in number. An entry
// lives until its flow expired on every connected switch.
type dynamicTable struct {
	max int

	mu      sync.Mutex
	next    uint32
	entries map[uint32]*dynEntry
	byKey   map[string]uint32
}

func newDynamicTable(max int) *dynamicTable {
	return &dynamicTable{max: max, entries: map[uint32]*dynEntry{}, byKey: map[string]uint32{}}
}

func parseEndpoint(s, which string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a.Unmap(), 0), nil
	}
	return netip.AddrPort{}, fmt.Errorf("%w: %s %q: want ip:port (port 0 for any), [v6]:port for IPv6", api.ErrBadRequest, which, s)
}

// parseDynamic validates a request into a flows.Dynamic (without id).
func parseDynamic(req apiv1.DynamicRequest, cfg policy.DynamicConfig) (flows.Dynamic, error) {
	var d flows.Dynamic
	proto, ok := policy.Lookup(req.Protocol)
	if !ok {
		return d, fmt.Errorf("%w: protocol %q is not one of %v", api.ErrBadRequest, req.Protocol, policy.Names())
	}
	ipp, ok := transports[strings.ToLower(strings.TrimSpace(req.Transport))]
	if !ok {
		return d, fmt.Errorf("%w: transport %q: want tcp, udp, gre or esp", api.ErrBadRequest, req.Transport)
	}
	a, err := parseEndpoint(req.A, "a")
	if err != nil {
		return d, err
	}
	b, err := parseEndpoint(req.B, "b")
	if err != nil {
		return d, err
	}
	if a.Addr().Is4() != b.Addr().Is4() {
		return d, fmt.Errorf("%w: a %s and b %s are not of one IP family", api.ErrBadRequest, a.Addr(), b.Addr())
	}
	if a.Addr().IsUnspecified() || b.Addr().IsUnspecified() {
		return d, fmt.Errorf("%w: a and b must be host addresses, not %s", api.ErrBadRequest, netip.IPv4Unspecified())
	}
	if ipp != policy.IPProtoTCP && ipp != policy.IPProtoUDP && (a.Port() != 0 || b.Port() != 0) {
		return d, fmt.Errorf("%w: %s has no ports: give a and b with port 0", api.ErrBadRequest, req.Transport)
	}
	idle := req.IdleTimeoutSeconds
	switch {
	case idle == 0:
		idle = cfg.DefaultIdleTimeout
	case idle < 0 || idle > cfg.MaxIdleTimeout:
		return d, fmt.Errorf("%w: idle_timeout_seconds %d outside 1..%d", api.ErrBadRequest, idle, cfg.MaxIdleTimeout)
	}
	return flows.Dynamic{Protocol: proto.Name, IPProto: ipp, A: a, B: b, Idle: uint16(idle)}, nil
}

func dynKey(d flows.Dynamic) string {
	x, y := d.A.String(), d.B.String()
	if y < x {
		x, y = y, x
	}
	return fmt.Sprintf("%s/%d/%s/%s", d.Protocol, d.IPProto, x, y)
}

// add records a request; it returns the entry and whether it is new. A
// request for a connection already mirrored returns that entry, put
// back on switches where it had expired.
func (t *dynamicTable) add(d flows.Dynamic, now time.Time) (dynEntry, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := dynKey(d)
	if id, ok := t.byKey[k]; ok {
		e := t.entries[id]
		e.Gone = nil
		e.Idle = max(e.Idle, d.Idle)
		return e.copy(), false, nil
	}
	if len(t.entries) >= t.max {
		return dynEntry{}, false, fmt.Errorf("%w: %d dynamic flows live, the maximum", api.ErrTooMany, t.max)
	}
	for {
		t.next++
		if _, used := t.entries[t.next]; t.next != 0 && !used {
			break
		}
	}
	d.ID = t.next
	e := &dynEntry{Dynamic: d, key: k, created: now}
	t.entries[d.ID] = e
	t.byKey[k] = d.ID
	return e.copy(), true, nil
}

func (e *dynEntry) copy() dynEntry {
	c := *e
	if e.Gone != nil {
		c.Gone = map[topology.DPID]bool{}
		for k, v := range e.Gone {
			c.Gone[k] = v
		}
	}
	return c
}

// gone records that a dynamic flow expired on a switch.
func (t *dynamicTable) gone(id uint32, dpid topology.DPID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[id]
	if !ok || e.Gone[dpid] {
		return false
	}
	if e.Gone == nil {
		e.Gone = map[topology.DPID]bool{}
	}
	e.Gone[dpid] = true
	return true
}

// live returns the entries still wanted somewhere and forgets those
// expired on every connected switch.
func (t *dynamicTable) live(connected []topology.DPID) []dynEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []dynEntry
	for id, e := range t.entries {
		if len(connected) > 0 && !slices.ContainsFunc(connected, func(d topology.DPID) bool { return !e.Gone[d] }) {
			delete(t.entries, id)
			delete(t.byKey, e.key)
			continue
		}
		out = append(out, e.copy())
	}
	slices.SortFunc(out, func(a, b dynEntry) int { return int(a.ID) - int(b.ID) })
	return out
}
