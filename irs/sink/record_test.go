package sink

import (
	"encoding/json"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sdnli/sdnli/irs/event"
)

func TestFit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"cut ascii", "abcdef", 3, "abc"},
		{"cut counts characters not bytes", "ééééé", 3, "ééé"},
		{"multibyte fits by characters", "日本語", 3, "日本語"},
		{"invalid utf8 replaced", "a\xffb", 10, "a\uFFFDb"},
		{"emoji (4-byte utf8mb4)", "😀😀😀", 2, "😀😀"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fit(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("fit(%q, %d) = %q; want %q", tc.in, tc.n, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("fit(%q) = %q is not valid UTF-8", tc.in, got)
			}
		})
	}
}

func TestNormUID(t *testing.T) {
	tests := []struct {
		name, in string
		same     bool // output equals the input lower-cased
	}{
		{"canonical", "0123456789abcdef0123456789abcdef", true},
		{"upper-case hex", "0123456789ABCDEF0123456789ABCDEF", true},
		{"short", "abc", false},
		{"non-hex", strings.Repeat("z", 32), false},
		{"long", strings.Repeat("a", 40), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := normUID(tc.in)
			if len(got) != 32 || !isHex(got) {
				t.Fatalf("normUID(%q) = %q; want 32 lower-case hex digits", tc.in, got)
			}
			if (got == strings.ToLower(tc.in)) != tc.same {
				t.Errorf("normUID(%q) = %q; kept as is: %v, want %v", tc.in, got, !tc.same, tc.same)
			}
			if again := normUID(tc.in); again != got {
				t.Errorf("normUID not stable: %q then %q", got, again)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	now := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	t1 := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("CET", 3600))
	tests := []struct {
		name          string
		ev            event.Event
		wantStart     time.Time
		wantEnd       time.Time
		wantAnomalies int
		wantSummary   string // JSON of the resulting summary
	}{
		{"both times", event.Event{Start: t1, End: t1.Add(time.Second)}, t1.UTC(), t1.Add(time.Second).UTC(), 0, "null"},
		{"no end", event.Event{Start: t1}, t1.UTC(), t1.UTC(), 0, "null"},
		{"no start", event.Event{End: t1}, t1.UTC(), t1.UTC(), 0, "null"},
		{"no times", event.Event{}, now, now, 0, "null"},
		{"year 0", event.Event{Start: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), End: t1}, t1.UTC(), t1.UTC(), 1, "null"},
		{"year 20000", event.Event{Start: t1, End: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)}, t1.UTC(), t1.UTC(), 1, "null"},
		{"NaN in summary", event.Event{Start: t1, Summary: event.FieldsOf(map[string]any{"x": math.NaN()})}, t1.UTC(), t1.UTC(), 1, `{"sink_unencodable":true}`},
		{"oversize summary", event.Event{Start: t1, Summary: event.FieldsOf(map[string]any{"x": strings.Repeat("a", maxSummary)})}, t1.UTC(), t1.UTC(), 1, `{"sink_oversize_bytes":1048584}`},
		{"fine summary", event.Event{Start: t1, Summary: event.FieldsOf(map[string]any{"a<b": "c&d"})}, t1.UTC(), t1.UTC(), 0, `{"a<b":"c&d"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := tc.ev
			got := sanitize(&tc.ev, now)
			if !got.Start.Equal(tc.wantStart) || !got.End.Equal(tc.wantEnd) {
				t.Errorf("times = %v..%v; want %v..%v", got.Start, got.End, tc.wantStart, tc.wantEnd)
			}
			if got.Start.Location() != time.UTC {
				t.Errorf("start location = %v; want UTC", got.Start.Location())
			}
			if len(got.Anomalies) != tc.wantAnomalies {
				t.Errorf("anomalies = %q; want %d", got.Anomalies, tc.wantAnomalies)
			}
			var sum []byte
			if got.Summary == nil {
				sum = []byte("null")
			} else {
				var err error
				if sum, err = marshalJSON(got.Summary); err != nil {
					t.Fatalf("sanitized summary does not encode: %v", err)
				}
			}
			if string(sum) != tc.wantSummary {
				t.Errorf("summary = %s; want %s", sum, tc.wantSummary)
			}
			if len(tc.ev.Anomalies) != len(orig.Anomalies) || !tc.ev.Start.Equal(orig.Start) {
				t.Errorf("sanitize modified its input")
			}
			if _, err := encodeEvent(&tc.ev, now); err != nil {
				t.Errorf("encodeEvent: %v", err)
			}
		})
	}
}

func TestEncodeEventRoundTrip(t *testing.T) {
	ev := &event.Event{
		UID: event.NewUID(), Node: "n1", Protocol: "smtp", Type: "email-send",
		Start: time.Date(2024, 3, 4, 5, 6, 7, 123456000, time.UTC), End: time.Date(2024, 3, 4, 5, 6, 8, 0, time.UTC),
		Transport: "tcp", Client: netip.MustParseAddrPort("[2001:db8::1]:40000"), Server: netip.MustParseAddrPort("192.0.2.1:25"),
		Subject: "Grüße <html>", Summary: event.FieldsOf(map[string]any{"size": json.Number("123")}),
		Anomalies: []string{"gap"}, Addresses: []event.Address{{Address: "a@b.c", Role: event.RoleFrom}},
		Artifacts: []event.Artifact{{Kind: event.KindEML, Size: 10, SHA256: strings.Repeat("ab", 32)}},
		RawRef:    "pcap/x.pcap",
	}
	line, err := encodeEvent(ev, time.Now())
	if err != nil {
		t.Fatalf("encodeEvent: %v", err)
	}
	if strings.ContainsRune(string(line), '\n') {
		t.Fatalf("spool line contains a newline: %s", line)
	}
	got, err := decodeLine(line)
	if err != nil {
		t.Fatalf("decodeLine: %v", err)
	}
	a, _ := json.Marshal(ev)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Errorf("round trip changed the event:\n got %s\nwant %s", b, a)
	}
}

func TestToRecord(t *testing.T) {
	now := time.Now()
	ev := &event.Event{
		UID: "ABCDEF0123456789ABCDEF0123456789", Node: strings.Repeat("n", 100), Protocol: "imap",
		Client: netip.MustParseAddrPort("[fe80::1%eth0]:993"),
		Addresses: []event.Address{
			{Address: "Alice@Example.org", Role: event.RoleTo},
			{Address: "alice@example.org", Role: event.RoleTo}, // same, other case
			{Address: "alice@example.org", Role: event.RoleFrom},
			{Address: "  ", Role: event.RoleCc}, // empty after trim
		},
		Artifacts: []event.Artifact{{Kind: "eml", SHA256: strings.ToUpper(strings.Repeat("ab", 32)), Size: -5, Parent: ""}},
	}
	r := toRecord(ev, now)
	if r.uid != strings.ToLower(ev.UID) {
		t.Errorf("uid = %q; want %q", r.uid, strings.ToLower(ev.UID))
	}
	if utf8.RuneCountInString(r.node) != lenNode {
		t.Errorf("node length = %d; want cut to %d", len(r.node), lenNode)
	}
	if r.clientIP != "fe80::1%eth0" || r.clientPort != 993 {
		t.Errorf("client = %s:%d; want fe80::1%%eth0:993", r.clientIP, r.clientPort)
	}
	if r.serverIP != "" || r.serverPt != 0 {
		t.Errorf("server = %q:%d; want empty for a zero AddrPort", r.serverIP, r.serverPt)
	}
	if len(r.addresses) != 2 {
		t.Errorf("addresses = %v; want 2 (case-duplicate and blank dropped)", r.addresses)
	}
	if len(r.artifacts) != 1 || r.artifacts[0].sha256 != strings.Repeat("ab", 32) || r.artifacts[0].size != 0 || r.artifacts[0].parent != nil || r.artifacts[0].md5 != nil {
		t.Errorf("artifact = %+v; want lower-case sha256, size 0, NULL parent and md5", r.artifacts)
	}
	if r.summary != nil || r.anomalies != nil {
		t.Errorf("summary, anomalies = %v, %v; want NULLs", r.summary, r.anomalies)
	}
}
