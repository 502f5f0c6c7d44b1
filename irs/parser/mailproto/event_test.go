package mailproto

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

func TestNewEvent(t *testing.T) {
	c := &parser.Conn{
		Client: netip.MustParseAddrPort("10.0.0.1:40000"),
		Server: netip.MustParseAddrPort("10.0.0.2:25"),
	}
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name               string
		first, start, end  time.Time
		wantStart, wantEnd time.Time
	}{
		{"given span", t0, t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(time.Second), t0.Add(2 * time.Second)},
		{"no start: the first byte", t0, time.Time{}, t0.Add(time.Second), t0, t0.Add(time.Second)},
		{"no end", t0, t0.Add(time.Second), time.Time{}, t0.Add(time.Second), t0.Add(time.Second)},
		{"end before start", t0, t0.Add(time.Second), t0, t0.Add(time.Second), t0.Add(time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := NewEvent("smtp", "logon", c, tc.first, tc.start, tc.end)
			if !ev.Start.Equal(tc.wantStart) || !ev.End.Equal(tc.wantEnd) {
				t.Errorf("span %v..%v; want %v..%v", ev.Start, ev.End, tc.wantStart, tc.wantEnd)
			}
			if ev.Protocol != "smtp" || ev.Type != "logon" || ev.Transport != "tcp" || ev.Client != c.Client || ev.Server != c.Server {
				t.Errorf("event %s/%s/%s %v->%v; want smtp/logon/tcp %v->%v", ev.Protocol, ev.Type, ev.Transport, ev.Client, ev.Server, c.Client, c.Server)
			}
			if ev.Summary == nil || len(ev.Summary) != 0 {
				t.Errorf("summary %v; want an empty map", ev.Summary)
			}
		})
	}
}

func TestArtifactLimit(t *testing.T) {
	def := parser.DefaultOptions().MaxArtifactBytes
	tests := []struct {
		name string
		o    parser.Options
		want int
	}{
		{"set", parser.Options{MaxArtifactBytes: 1000}, 1000},
		{"unset", parser.Options{}, def},
		{"negative", parser.Options{MaxArtifactBytes: -1}, def},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ArtifactLimit(tc.o); got != tc.want {
				t.Errorf("ArtifactLimit = %d; want %d", got, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	list := []string{"a", "b"}
	s := SummaryOf(&event.Event{})
	s.Str("empty", "")
	s.Str("user", "alice")
	s.List("none", nil)
	s.List("capabilities", list)
	s.Flag("off", false)
	s.Flag("quit", true)
	s.Count("zero", 0)
	s.Count("negative", -1)
	s.Count("gaps", 2)
	want := map[string]any{"user": "alice", "capabilities": []string{"a", "b"}, "quit": true, "gaps": 2}
	if len(*s.Fields) != len(want) {
		t.Errorf("summary %v; want %v", s, want)
	}
	for k, w := range want {
		if got := fmt.Sprint(s.Get(k)); got != fmt.Sprint(w) {
			t.Errorf("%s = %v; want %v", k, got, w)
		}
	}
	list[0] = "changed"
	if got := s.Get("capabilities").([]string)[0]; got != "a" {
		t.Errorf("List kept the caller's slice (%q); want a copy", got)
	}
}

func TestSpan(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name                string
		start               time.Time
		touch               []time.Duration
		wantFirst, wantLast time.Duration
	}{
		{"from zero", time.Time{}, []time.Duration{2, 1, 3}, 1, 3},
		{"start kept", t0, []time.Duration{5, 4}, 0, 5},
		{"earlier than the start", t0.Add(10), []time.Duration{12, 7}, 7, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Span{First: tc.start}
			for _, d := range tc.touch {
				s.Touch(t0.Add(d))
			}
			if !s.First.Equal(t0.Add(tc.wantFirst)) || !s.Last.Equal(t0.Add(tc.wantLast)) {
				t.Errorf("span %v..%v; want %v..%v", s.First, s.Last, t0.Add(tc.wantFirst), t0.Add(tc.wantLast))
			}
		})
	}
}

func TestPutLogon(t *testing.T) {
	tests := []struct {
		name                 string
		verb, mech, user, pw string
		canceled             bool
		subject              string
		want                 map[string]any
	}{
		{"user and password", "AUTH", "PLAIN", "alice", "pw", false, "alice",
			map[string]any{"mechanism": "PLAIN", "user": "alice", "password": "pw"}},
		{"no user", "AUTHENTICATE", "CRAM-MD5", "", "", false, "AUTHENTICATE CRAM-MD5",
			map[string]any{"mechanism": "CRAM-MD5"}},
		{"canceled", "AUTH", "LOGIN", "bob", "", true, "bob",
			map[string]any{"mechanism": "LOGIN", "user": "bob", "canceled": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := &event.Event{Summary: event.Fields{}}
			PutLogon(ev, tc.verb, tc.mech, tc.user, tc.pw, tc.canceled)
			if ev.Subject != tc.subject {
				t.Errorf("subject %q; want %q", ev.Subject, tc.subject)
			}
			if fmt.Sprint(ev.Summary.Map()) != fmt.Sprint(tc.want) {
				t.Errorf("summary %v; want %v", ev.Summary, tc.want)
			}
		})
	}
}
