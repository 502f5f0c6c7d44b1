package auth

import (
	"sync"
	"time"
)

// Limiter counts failed logins per key (a user name, a client address)
// in a sliding window and refuses further attempts once a key reaches
// Max failures within Window. Memory is bounded: at most maxKeys keys
// are tracked, the stalest dropped first.
type Limiter struct {
	Max    int
	Window time.Duration

	mu   sync.Mutex
	keys map[string][]time.Time // failure times, oldest first
	now  func() time.Time
}

const maxKeys = 100000

// NewLimiter returns a limiter allowing max failures per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, keys: map[string][]time.Time{}, now: time.Now}
}

// Check reports whether an attempt for all keys may go ahead; if not, it
// returns how long until it may.
func (l *Limiter) Check(keys ...string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		ts := l.prune(k, now)
		if len(ts) >= l.Max {
			if wait := ts[len(ts)-l.Max].Add(l.Window).Sub(now); wait > retryAfter {
				retryAfter = wait
			}
		}
	}
	return retryAfter <= 0, retryAfter
}

// Fail records a failed attempt for every key.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		ts := l.prune(k, now)
		if ts == nil && len(l.keys) >= maxKeys {
			l.evict(now)
		}
		if len(ts) >= l.Max {
			ts = ts[1:] // only the newest Max matter
		}
		l.keys[k] = append(ts, now)
	}
}

// prune drops failures older than the window and returns what is left.
func (l *Limiter) prune(k string, now time.Time) []time.Time {
	ts := l.keys[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.Window {
		i++
	}
	if i == len(ts) {
		delete(l.keys, k)
		return nil
	}
	if i > 0 {
		ts = append(ts[:0:0], ts[i:]...)
		l.keys[k] = ts
	}
	return ts
}

// evict makes room: first every expired key, then, if still full, the
// key whose last failure is oldest.
func (l *Limiter) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k := range l.keys {
		ts := l.prune(k, now)
		if ts != nil && (oldestKey == "" || ts[len(ts)-1].Before(oldest)) {
			oldestKey, oldest = k, ts[len(ts)-1]
		}
	}
	if len(l.keys) >= maxKeys && oldestKey != "" {
		delete(l.keys, oldestKey)
	}
}
