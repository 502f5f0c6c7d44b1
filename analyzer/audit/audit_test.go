package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestComputeHashCoversEveryField(t *testing.T) {
	base := Entry{Seq: 7, Time: time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC), Actor: "ann", Role: "analyst",
		ClientIP: "192.0.2.1", Action: "search", Target: "events", Outcome: "ok", Detail: json.RawMessage(`{"email":"a@b"}`), PrevHash: GenesisHash}
	h := ComputeHash(&base)
	if len(h) != 64 {
		t.Fatalf("hash %q; want 64 hex digits", h)
	}
	if again := ComputeHash(&base); again != h {
		t.Fatalf("hash not deterministic: %s vs %s", h, again)
	}
	change := map[string]func(e *Entry){
		"seq":      func(e *Entry) { e.Seq++ },
		"time":     func(e *Entry) { e.Time = e.Time.Add(time.Microsecond) },
		"actor":    func(e *Entry) { e.Actor = "bob" },
		"role":     func(e *Entry) { e.Role = "admin" },
		"ip":       func(e *Entry) { e.ClientIP = "192.0.2.2" },
		"action":   func(e *Entry) { e.Action = "download" },
		"target":   func(e *Entry) { e.Target = "events/1" },
		"outcome":  func(e *Entry) { e.Outcome = "denied" },
		"detail":   func(e *Entry) { e.Detail = json.RawMessage(`{"email":"a@c"}`) },
		"prev":     func(e *Entry) { e.PrevHash = strings.Repeat("1", 64) },
		"boundary": func(e *Entry) { e.Actor, e.Role = "annanalyst", "" },
	}
	for name, f := range change {
		t.Run(name, func(t *testing.T) {
			e := base
			f(&e)
			if got := ComputeHash(&e); got == h {
				t.Errorf("changing %s leaves the hash unchanged", name)
			}
		})
	}
	// Time zone does not matter, only the instant.
	e := base
	e.Time = e.Time.In(time.FixedZone("x", 3600))
	if ComputeHash(&e) != h {
		t.Errorf("same instant in another zone hashes differently")
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"}, {"abcdef", 3, "abc"}, {"ééé", 2, "éé"}, {"a\xffb", 5, "a\uFFFDb"},
	} {
		if got := fit(tc.in, tc.n); got != tc.want {
			t.Errorf("fit(%q, %d) = %q; want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
