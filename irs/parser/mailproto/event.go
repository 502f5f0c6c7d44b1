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
		Summary:   map[string]any{},
	}
}

// ArtifactLimit is the cap on one restored message's bytes.
func ArtifactLimit(o parser.Options) int {
	if o.MaxArtifactBytes > 0 {
		return o.MaxArtifactBytes
	}
	return parser.DefaultOptions().MaxArtifactBytes
}
