package parsertest

import (
	"testing"

	"github.com/sdnli/sdnli/irs/event"
)

func TestField(t *testing.T) {
	ev := &event.Event{Type: "email-send", Summary: event.FieldsOf(map[string]any{
		"rcpt_to": []map[string]any{{"address": "b@example.org", "code": 250}},
		"tags":    []string{"x", "y"},
	}), Anomalies: []string{"possible SMTP smuggling: 1 dot line"}}
	for path, want := range map[string]string{
		"type":                   "email-send",
		"summary.rcpt_to.0.code": "250",
		"summary.tags":           "[x y]",
		"summary.missing":        "<nil>",
		"summary.rcpt_to.7":      "<nil>",
	} {
		if got := Field(t, ev, path); got != want {
			t.Errorf("Field(%q) = %q, want %q", path, got, want)
		}
	}
	if !HasAnomaly(ev, "smuggling") || HasAnomaly(ev, "gap") || HasAnomaly(nil, "x") {
		t.Error("HasAnomaly does not find exactly the anomalies listed")
	}
	if got := Types([]*event.Event{ev, {Type: "logoff"}}); got != "[email-send logoff]" {
		t.Errorf("Types = %q", got)
	}
}
