package mailproto

import (
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// NewEvent starts an event of protocol proto on connection c with an
// empty summary. A zero start falls back to first (the connection's
// first byte); an end before the start is the start.
func NewEvent(proto, typ string, c *parser.Conn, first, start, end time.Time) *event.Event {
	if start.IsZero() {
		start = first
	}
	if end.IsZero() || end.Before(start) {
		end = start
	}
	return &event.Event{
		Protocol:  proto,
		Type:      typ,
		Start:     start,
		End:       end,
		Transport: "tcp",
		Client:    c.Client,
		Server:    c.Server,
		Summary:   make(event.Fields, 0, summaryKeys(typ)),
	}
}

// summaryKeys is room for the summary fields of an event of type typ: a
// logon has a handful, the others 10 to 20 (mail summaries of the shared
// captures), for which a summary made small would grow twice.
func summaryKeys(typ string) int {
	if typ == "logon" || typ == "logon-failure" {
		return 8
	}
	return 24
}

// Span is the time a connection was seen, from its first byte (or its
// start as the flow table knew it) to its last one.
type Span struct {
	First, Last time.Time
}

// Touch widens the span to ts.
func (s *Span) Touch(ts time.Time) {
	if s.First.IsZero() || ts.Before(s.First) {
		s.First = ts
	}
	if ts.After(s.Last) {
		s.Last = ts
	}
}

// ArtifactLimit is the cap on one restored message's bytes.
func ArtifactLimit(o parser.Options) int {
	if o.MaxArtifactBytes > 0 {
		return o.MaxArtifactBytes
	}
	return parser.DefaultOptions().MaxArtifactBytes
}

// Summary writes an event's summary fields, leaving out those with
// nothing to say, so that the three parsers' events read alike.
type Summary struct{ *event.Fields }

// SummaryOf writes ev's summary.
func SummaryOf(ev *event.Event) Summary { return Summary{&ev.Summary} }

// Str sets k to v unless v is empty.
func (s Summary) Str(k, v string) {
	if v != "" {
		s.Set(k, v)
	}
}

// List sets k to a copy of l unless l is empty.
func (s Summary) List(k string, l []string) {
	if len(l) > 0 {
		s.Set(k, append([]string(nil), l...))
	}
}

// Flag sets k to true when b holds.
func (s Summary) Flag(k string, b bool) {
	if b {
		s.Set(k, true)
	}
}

// Count sets k to n when n is above zero.
func (s Summary) Count(k string, n int) {
	if n > 0 {
		s.Set(k, n)
	}
}

// PutLogon fills what the logon and logon-failure events of the three
// parsers share: the subject (the user, else the command and mechanism,
// "AUTH PLAIN"), mechanism, user, password (only when the caller kept
// it) and canceled (the client sent "*").
func PutLogon(ev *event.Event, verb, mech, user, pass string, canceled bool) {
	ev.Subject = user
	if ev.Subject == "" {
		ev.Subject = verb + " " + mech
	}
	s := SummaryOf(ev)
	s.Set("mechanism", mech)
	s.Str("user", user)
	s.Str("password", pass)
	s.Flag("canceled", canceled)
}
