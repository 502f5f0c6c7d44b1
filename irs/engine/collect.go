package engine

import (
	"cmp"
	"encoding/json"
	"slices"
	"sync"

	"github.com/sdnli/sdnli/irs/event"
)

// SortEvents orders events by start, end, protocol, type, client,
// server, subject and raw reference: a stable order for output that must
// not depend on how flows were spread over workers.
func SortEvents(evs []*event.Event) {
	slices.SortStableFunc(evs, func(a, b *event.Event) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := a.End.Compare(b.End); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Protocol, b.Protocol); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		if c := a.Client.Compare(b.Client); c != 0 {
			return c
		}
		if c := a.Server.Compare(b.Server); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		if c := cmp.Compare(a.RawRef, b.RawRef); c != 0 {
			return c
		}
		// Still tied: compare everything else, so that the order never
		// depends on arrival.
		return cmp.Compare(content(a), content(b))
	})
}

// content renders an event without its random UID.
func content(ev *event.Event) string {
	cp := *ev
	cp.UID = ""
	b, _ := json.Marshal(&cp)
	return string(b)
}

// Collector is a Sink that keeps every event in memory, for tests,
// golden files and `sdnli inspect`.
type Collector struct {
	mu  sync.Mutex
	evs []*event.Event
}

// Put keeps the event.
func (c *Collector) Put(ev *event.Event) {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
}

// Events returns the events so far, sorted with SortEvents.
func (c *Collector) Events() []*event.Event {
	c.mu.Lock()
	out := append([]*event.Event(nil), c.evs...)
	c.mu.Unlock()
	SortEvents(out)
	return out
}
