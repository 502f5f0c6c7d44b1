package parser

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Registry holds the known detectors and whether each is switched on.
// Enable/Disable are safe while the IRS runs; workers read the state with
// one atomic load per lookup.
type Registry struct {
	mu      sync.RWMutex
	entries map[string]*entry
	order   []*entry // registration order, for stable detection order
	// cands holds the enabled detectors per transport, rebuilt when a
	// detector is added or switched: every new flow asks for them.
	cands atomic.Pointer[candidates]
}

type candidates [8][]Detector // indexed by Transport

type entry struct {
	det     Detector
	enabled atomic.Bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{entries: map[string]*entry{}}
}

// Default is the registry protocols join from init().
var Default = NewRegistry()

// Register adds a detector, switched on. It panics on a duplicate name:
// that is a programming error caught at start-up.
func Register(d Detector) { Default.Add(d) }

// Add adds a detector to r, switched on.
func (r *Registry) Add(d Detector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.entries[d.Name()]; dup {
		panic("parser: duplicate registration of " + d.Name())
	}
	e := &entry{det: d}
	e.enabled.Store(true)
	r.entries[d.Name()] = e
	r.order = append(r.order, e)
	r.rebuild()
}

// rebuild recomputes the candidates; r.mu must be held for writing.
func (r *Registry) rebuild() {
	var c candidates
	for _, e := range r.order {
		if !e.enabled.Load() {
			continue
		}
		for _, t := range e.det.Transports() {
			if int(t) < len(c) && !containsDetector(c[t], e.det) {
				c[t] = append(c[t], e.det)
			}
		}
	}
	r.cands.Store(&c)
}

func containsDetector(ds []Detector, d Detector) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// SetEnabled switches a protocol's parser on or off. Connections already
// being parsed go on; new ones are not handed to a disabled parser.
func (r *Registry) SetEnabled(name string, on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[name]
	if !ok {
		return fmt.Errorf("parser: unknown protocol %q", name)
	}
	e.enabled.Store(on)
	r.rebuild()
	return nil
}

// Enabled reports whether a protocol's parser is on.
func (r *Registry) Enabled(name string) bool {
	r.mu.RLock()
	e, ok := r.entries[name]
	r.mu.RUnlock()
	return ok && e.enabled.Load()
}

// Names lists the registered protocols, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Candidates returns the enabled detectors that read transport t, in
// registration order. The slice is shared: callers must not modify it.
func (r *Registry) Candidates(t Transport) []Detector {
	c := r.cands.Load()
	if c == nil || int(t) >= len(c) {
		return nil
	}
	return c[t]
}

// Lookup returns a detector by name.
func (r *Registry) Lookup(name string) (Detector, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[name]
	if !ok {
		return nil, false
	}
	return e.det, true
}
