package sink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
)

// stdMarshal is how marshalJSON encoded before event.JSONEncoder:
// encoding/json without HTML escaping, no newline.
func stdMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// TestMarshalJSONMatchesEncodingJSON: what the sink stores and spools
// (events, summaries, anomalies, its heartbeat) is byte for byte what
// encoding/json wrote, errors included.
func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	type check struct {
		name string
		v    any
	}
	cases := []check{
		{"NaN summary", map[string]any{"r": math.NaN(), "a": "<&>"}},
		{"Inf in event", &event.Event{Summary: event.FieldsOf(map[string]any{"r": math.Inf(-1)})}},
		{"time out of range", &event.Event{Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"json.Number", map[string]any{"n": json.Number("12")}},
		{"bad json.Number", map[string]any{"n": json.Number("x")}},
		{"anomalies", []string{"a <b> & \u2028 \xff"}},
		{"node info", NodeInfo{Name: "n<1>", StartedAt: time.Unix(1, 0).UTC()}},
	}
	for i, ev := range captureEvents(t) {
		cases = append(cases,
			check{fmt.Sprintf("capture event %d %s %s", i, ev.Protocol, ev.Type), ev},
			check{fmt.Sprintf("capture summary %d %s %s", i, ev.Protocol, ev.Type), ev.Summary})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := stdMarshal(tc.v)
			got, err := marshalJSON(tc.v)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("error: want %v, got %v", wantErr, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("\nwant %s\ngot  %s", want, got)
			}
		})
	}
}

// TestSanitizeNoteUnchanged: the anomaly sanitize writes for a summary
// JSON cannot encode still quotes encoding/json's error.
func TestSanitizeNoteUnchanged(t *testing.T) {
	ev := &event.Event{Start: time.Unix(1, 0), Summary: event.FieldsOf(map[string]any{"x": math.NaN()})}
	got := sanitize(ev, time.Now())
	want := "sink: summary not JSON-encodable, dropped: json: error calling MarshalJSON for type event.Fields: json: unsupported value: NaN"
	if len(got.Anomalies) != 1 || got.Anomalies[0] != want {
		t.Errorf("anomalies: want [%q], got %q", want, got.Anomalies)
	}
}

// TestToRecordSummary: the summary column holds encoding/json's bytes of
// the summary, or of the note that replaced it, or NULL.
func TestToRecordSummary(t *testing.T) {
	big := map[string]any{"x": strings.Repeat("a", maxSummary)}
	cases := []struct {
		name    string
		summary map[string]any
		want    any
	}{
		{"none", nil, nil},
		{"empty", map[string]any{}, nil},
		{"fine", map[string]any{"b<": []string{"&"}, "a": 1.5}, `{"a":1.5,"b<":["&"]}`},
		{"NaN", map[string]any{"x": math.NaN()}, `{"sink_unencodable":true}`},
		{"oversize", big, `{"sink_oversize_bytes":1048584}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := toRecord(&event.Event{Start: time.Unix(1, 0), Summary: event.FieldsOf(tc.summary)}, time.Now())
			if r.summary != tc.want {
				t.Errorf("summary: want %v, got %v", tc.want, r.summary)
			}
		})
	}
}
