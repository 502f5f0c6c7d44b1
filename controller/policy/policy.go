package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrUnknownProtocol is returned for a protocol name not in the catalogue.
var ErrUnknownProtocol = errors.New("policy: unknown protocol")

// State is one protocol's effective policy.
type State struct {
	Protocol
	// Enabled: its flows are installed.
	Enabled bool
	// Ports in force (the catalogue's or the file's).
	Ports []Port
	// IRS names the IRS nodes that receive its copies; several share
	// the traffic through a select group.
	IRS []string
}

func (s State) clone() State {
	s.Protocol = s.Protocol.clone()
	s.Ports = slices.Clone(s.Ports)
	s.IRS = slices.Clone(s.IRS)
	return s
}

// Store keeps the on/off state of protocols across restarts.
type Store interface {
	// Load returns the stored state of every protocol that has one.
	Load(ctx context.Context) (map[string]bool, error)
	// Save records a protocol's state; by names who asked.
	Save(ctx context.Context, protocol string, enabled bool, by string) error
}

// Policy is the runtime mirror policy: the configuration's defaults
// overlaid with stored toggles. It is safe for concurrent use.
type Policy struct {
	store Store

	mu     sync.Mutex
	states []State // catalogue order
}

// New builds the policy from a normalized configuration. store may be
// nil (no persistence); otherwise the stored toggles are loaded and win
// over the file's defaults.
func New(ctx context.Context, c *Config, store Store) (*Policy, error) {
	if c == nil {
		c = &Config{}
		if err := c.Normalize(); err != nil {
			return nil, err
		}
	}
	var allIRS []string
	for _, r := range c.IRS {
		allIRS = append(allIRS, r.Name)
	}
	p := &Policy{store: store}
	for _, proto := range Catalogue() {
		s := State{Protocol: proto, Ports: slices.Clone(proto.Ports), IRS: slices.Clone(allIRS)}
		if pc, ok := c.Protocols[proto.Name]; ok {
			if pc.Enabled != nil {
				s.Enabled = *pc.Enabled
			}
			if pc.Ports != nil {
				s.Ports = slices.Clone(pc.Ports)
			}
			if len(pc.IRS) > 0 {
				s.IRS = slices.Clone(pc.IRS)
			}
		}
		p.states = append(p.states, s)
	}
	if store != nil {
		stored, err := store.Load(ctx)
		if err != nil {
			return nil, err
		}
		for i := range p.states {
			if on, ok := stored[p.states[i].Name]; ok {
				p.states[i].Enabled = on
			}
		}
	}
	return p, nil
}

// Snapshot returns a copy of every protocol's state, in catalogue order.
func (p *Policy) Snapshot() []State {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]State, len(p.states))
	for i, s := range p.states {
		out[i] = s.clone()
	}
	return out
}

// Get returns one protocol's state.
func (p *Policy) Get(name string) (State, error) {
	proto, ok := Lookup(name)
	if !ok {
		return State{}, fmt.Errorf("%w: %q", ErrUnknownProtocol, name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.states {
		if s.Name == proto.Name {
			return s.clone(), nil
		}
	}
	return State{}, fmt.Errorf("%w: %q", ErrUnknownProtocol, name)
}

// Set turns a protocol on or off: stored first (so a failed store leaves
// the policy unchanged), then in force. It returns the new state.
func (p *Policy) Set(ctx context.Context, name string, enabled bool, by string) (State, error) {
	proto, ok := Lookup(name)
	if !ok {
		return State{}, fmt.Errorf("%w: %q", ErrUnknownProtocol, name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.store != nil {
		if err := p.store.Save(ctx, proto.Name, enabled, by); err != nil {
			return State{}, err
		}
	}
	for i := range p.states {
		if p.states[i].Name == proto.Name {
			p.states[i].Enabled = enabled
			return p.states[i].clone(), nil
		}
	}
	return State{}, fmt.Errorf("%w: %q", ErrUnknownProtocol, name)
}
