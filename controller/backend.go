package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sdnli/sdnli/controller/api"
	"github.com/sdnli/sdnli/controller/apiv1"
	"github.com/sdnli/sdnli/controller/flows"
	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/controller/session"
	"github.com/sdnli/sdnli/controller/topology"
	"github.com/sdnli/sdnli/openflow"
)

// Handler returns the HTTP API (see package apiv1).
func (c *Controller) Handler(token string) http.Handler {
	return api.New(c, api.Options{Token: token, Timeout: c.opt.ProgramTimeout + 5*time.Second, Logger: c.log})
}

var _ api.Backend = (*Controller)(nil)

// Health implements api.Backend.
func (c *Controller) Health() apiv1.Health {
	h := apiv1.Health{Status: "ok", Role: c.opt.Role.String(), Switches: len(c.sessions()), Started: c.started}
	c.mu.Lock()
	h.Problems = slices.Clone(c.problems)
	c.mu.Unlock()
	if len(h.Problems) > 0 {
		h.Status = "degraded"
	}
	return h
}

func protocolDoc(s policy.State) apiv1.Protocol {
	p := apiv1.Protocol{
		Name: s.Name, Title: s.Title, Enabled: s.Enabled, IRS: s.IRS, Dynamic: s.Protocol.Dynamic,
		Cookie: fmt.Sprintf("0x%016x", flows.Cookie(flows.KindProtocol, s.ID, 0)),
		Ports:  []apiv1.PortSpec{},
	}
	if p.IRS == nil {
		p.IRS = []string{}
	}
	for _, port := range s.Ports {
		p.Ports = append(p.Ports, apiv1.PortSpec{Transport: string(port.Transport), Port: port.Port})
	}
	for _, ipp := range s.IPProtos {
		p.IPProtocols = append(p.IPProtocols, int(ipp.V4))
		if ipp.V6 != ipp.V4 {
			p.IPProtocols = append(p.IPProtocols, int(ipp.V6))
		}
	}
	return p
}

// Mirror implements api.Backend.
func (c *Controller) Mirror() apiv1.MirrorList {
	var out apiv1.MirrorList
	for _, s := range c.policy.Snapshot() {
		out.Protocols = append(out.Protocols, protocolDoc(s))
	}
	return out
}

func results(rs []result) ([]apiv1.SwitchResult, bool) {
	out := []apiv1.SwitchResult{}
	ok := true
	for _, r := range rs {
		sr := apiv1.SwitchResult{DPID: r.dpid.String(), OK: r.err == nil, Added: r.plan.Added, Removed: r.plan.Removed,
			DurationMS: float64(r.duration.Microseconds()) / 1000}
		if r.err != nil {
			sr.Error = r.err.Error()
			ok = false
		}
		out = append(out, sr)
	}
	return out, ok
}

// SetMirror implements api.Backend: the toggle is stored, then applied
// to every connected switch; it returns when all confirmed.
func (c *Controller) SetMirror(ctx context.Context, protocol string, enabled bool, by string) (apiv1.MirrorUpdateResult, error) {
	if c.opt.Role == openflow.RoleSlave {
		return apiv1.MirrorUpdateResult{}, fmt.Errorf("controller: %w: toggles go to the master", api.ErrSlave)
	}
	st, err := c.policy.Set(ctx, protocol, enabled, by)
	if errors.Is(err, policy.ErrUnknownProtocol) {
		return apiv1.MirrorUpdateResult{}, fmt.Errorf("controller: %w: %v", api.ErrNotFound, err)
	}
	if err != nil {
		return apiv1.MirrorUpdateResult{}, fmt.Errorf("controller: %w", err)
	}
	c.log.Info("mirror policy changed", "protocol", st.Name, "enabled", enabled, "by", by)
	res, ok := results(c.sync(ctx))
	if !ok {
		return apiv1.MirrorUpdateResult{}, fmt.Errorf("controller: %s=%v stored but %w", st.Name, enabled, &api.SwitchesError{Results: res})
	}
	return apiv1.MirrorUpdateResult{Protocol: protocolDoc(st), Switches: res}, nil
}

func dynamicDoc(e dynEntry) apiv1.DynamicFlow {
	proto, _ := policy.Lookup(e.Protocol)
	f := apiv1.DynamicFlow{
		ID: e.ID, Protocol: e.Protocol, Transport: transportName(e.IPProto), A: e.A.String(), B: e.B.String(),
		IdleTimeoutSeconds: int(e.Idle), CreatedAt: e.created.UTC(),
		Cookie: fmt.Sprintf("0x%016x", flows.Cookie(flows.KindDynamic, proto.ID, e.ID)),
	}
	for d := range e.Gone {
		f.Expired = append(f.Expired, d.String())
	}
	slices.Sort(f.Expired)
	return f
}

// AddDynamic implements api.Backend: the flows are on every switch
// (barrier) when it returns.
func (c *Controller) AddDynamic(ctx context.Context, req apiv1.DynamicRequest, by string) (apiv1.DynamicFlow, bool, error) {
	if c.opt.Role == openflow.RoleSlave {
		return apiv1.DynamicFlow{}, false, fmt.Errorf("controller: %w: dynamic requests go to the master", api.ErrSlave)
	}
	d, err := parseDynamic(req, c.cfg.Dynamic)
	if err != nil {
		return apiv1.DynamicFlow{}, false, fmt.Errorf("controller: dynamic request: %w", err)
	}
	e, created, err := c.dyn.add(d, time.Now())
	if err != nil {
		return apiv1.DynamicFlow{}, false, fmt.Errorf("controller: dynamic request: %w", err)
	}
	c.log.Info("dynamic mirror", "id", e.ID, "protocol", e.Protocol, "a", e.A.String(), "b", e.B.String(),
		"idle", e.Idle, "new", created, "by", by)
	res, ok := results(c.sync(ctx))
	if !ok {
		return apiv1.DynamicFlow{}, false, fmt.Errorf("controller: dynamic %d recorded but %w", e.ID, &api.SwitchesError{Results: res})
	}
	doc := dynamicDoc(e)
	doc.Created, doc.Switches = created, res
	return doc, created, nil
}

// Dynamic implements api.Backend.
func (c *Controller) Dynamic() apiv1.DynamicList {
	var dpids []topology.DPID
	for _, s := range c.sessions() {
		dpids = append(dpids, s.DPID)
	}
	out := apiv1.DynamicList{Flows: []apiv1.DynamicFlow{}, Max: c.cfg.Dynamic.MaxFlows}
	for _, e := range c.dyn.live(dpids) {
		out.Flows = append(out.Flows, dynamicDoc(e))
	}
	return out
}

// Switches implements api.Backend.
func (c *Controller) Switches(context.Context) apiv1.SwitchList {
	st := c.snapshot()
	out := apiv1.SwitchList{Switches: []apiv1.Switch{}}
	for _, s := range c.sessions() {
		stats := s.Stats()
		sw := apiv1.Switch{
			DPID: s.DPID.String(), Address: s.Addr, Role: s.Role().String(), ConnectedSince: s.Since.UTC(),
			Manufacturer: s.Desc.Manufacturer, Software: s.Desc.Software, Ports: []apiv1.Port{},
			Flows: apiv1.FlowCounts{Desired: stats.Desired, Installed: stats.Installed, Repaired: stats.Repairs},
		}
		if stats.Epoch {
			sw.Epoch = 1
		}
		if !stats.LastCheck.IsZero() {
			t := stats.LastCheck.UTC()
			sw.LastCheck = &t
		}
		for _, p := range s.Ports() {
			e := topology.End{DPID: s.DPID, Port: p.No}
			doc := apiv1.Port{Number: p.No, Name: p.Name, HWAddr: p.HWAddr.String(), Up: p.Up, Kind: "host"}
			if peer, ok := st.graph.Peer(e); ok {
				doc.Kind, doc.Peer = "link", peer.String()
			}
			for _, r := range st.irs {
				if r.DPID == s.DPID && r.Port == p.No && r.Port != 0 {
					doc.Kind, doc.IRS = "irs", r.Name
				}
			}
			sw.Ports = append(sw.Ports, doc)
		}
		out.Switches = append(out.Switches, sw)
	}
	return out
}

// Flows implements api.Backend: each switch's desired flows against what
// it holds, read now.
func (c *Controller) Flows(ctx context.Context) apiv1.FlowList {
	out := apiv1.FlowList{Switches: []apiv1.SwitchFlows{}}
	for _, s := range c.sessions() {
		sf := apiv1.SwitchFlows{DPID: s.DPID.String(), Desired: []string{}, Installed: []string{}, Missing: []string{}, Unexpected: []string{}}
		want := s.Applied()
		wantText := map[string]bool{}
		if want != nil {
			sf.Desired = want.Lines()
			for _, l := range sf.Desired {
				wantText[l] = true
			}
		}
		have, err := s.Installed(ctx)
		if err != nil {
			sf.Error = err.Error()
			out.Switches = append(out.Switches, sf)
			continue
		}
		var t flows.Table
		for _, f := range have.Flows {
			t.Flows = append(t.Flows, flows.FromStats(f))
		}
		for _, g := range have.Groups {
			if flows.IsOurGroup(g.GroupID) {
				t.Groups = append(t.Groups, flows.FromDesc(g))
			}
		}
		sf.Installed = t.Lines()
		haveText := map[string]bool{}
		for _, l := range sf.Installed {
			haveText[l] = true
			if !wantText[l] {
				sf.Unexpected = append(sf.Unexpected, l)
			}
		}
		for _, l := range sf.Desired {
			if !haveText[l] {
				sf.Missing = append(sf.Missing, l)
			}
		}
		out.Switches = append(out.Switches, sf)
	}
	return out
}

func endpoint(sws map[topology.DPID]topology.Switch, e topology.End) apiv1.Endpoint {
	ep := apiv1.Endpoint{DPID: e.DPID.String(), Port: e.Port}
	if p, ok := sws[e.DPID].Port(e.Port); ok {
		ep.Name = p.Name
	}
	return ep
}

// Topology implements api.Backend.
func (c *Controller) Topology() apiv1.Topology {
	st := c.snapshot()
	out := apiv1.Topology{Switches: []apiv1.TopologySwitch{}, Links: []apiv1.Link{}, IRS: []apiv1.IRSPort{}, Hosts: []apiv1.Endpoint{}}
	sws := map[topology.DPID]topology.Switch{}
	for _, s := range c.sessions() {
		out.Switches = append(out.Switches, apiv1.TopologySwitch{DPID: s.DPID.String(), Address: s.Addr})
	}
	for _, sw := range st.graph.Switches() {
		sws[sw.DPID] = sw
	}
	for _, l := range st.graph.Links() {
		out.Links = append(out.Links, apiv1.Link{A: endpoint(sws, l.A), B: endpoint(sws, l.B)})
	}
	for i, r := range st.irs {
		ep := apiv1.Endpoint{DPID: r.DPID.String(), Port: r.Port}
		if r.Port != 0 {
			ep = endpoint(sws, topology.End{DPID: r.DPID, Port: r.Port})
		} else {
			ep.Name = c.cfg.IRS[i].Port.Name
		}
		out.IRS = append(out.IRS, apiv1.IRSPort{Name: r.Name, Endpoint: ep, VLAN: r.VLAN, Weight: r.Weight, Resolved: r.Port != 0})
	}
	for _, sw := range st.graph.Switches() {
		for _, p := range sw.Ports {
			e := topology.End{DPID: sw.DPID, Port: p.No}
			if st.graph.IsLinkPort(e) || isIRS(st.irs, e) {
				continue
			}
			out.Hosts = append(out.Hosts, endpoint(sws, e))
		}
	}
	return out
}

// Sessions is for tests and tools: the connected switches.
func (c *Controller) Sessions() []*session.Switch { return c.sessions() }
