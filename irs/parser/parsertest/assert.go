package parsertest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
)

// Assertions on events that every parser's tests use.

// ByType returns the events of one type.
func ByType(evs []*event.Event, typ string) []*event.Event {
	var out []*event.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// Field reads a value from an event by a dotted JSON path
// ("summary.rcpt_to.0.code"), rendered with fmt.Sprint; "<nil>" when
// absent.
func Field(t testing.TB, ev *event.Event, path string) string {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("marshal event: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("unmarshal event: %v", err)
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return "<nil>"
			}
			v = x[i]
		default:
			return "<nil>"
		}
	}
	if v == nil {
		return "<nil>"
	}
	if l, ok := v.([]any); ok {
		s := make([]string, len(l))
		for i, e := range l {
			s[i] = fmt.Sprint(e)
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	return fmt.Sprint(v)
}

// Want compares event fields: path → expected rendering.
func Want(t testing.TB, ev *event.Event, fields map[string]string) {
	t.Helper()
	if ev == nil {
		t.Errorf("no event; want one with %v", fields)
		return
	}
	for path, w := range fields {
		if got := Field(t, ev, path); got != w {
			t.Errorf("%s %s = %q; want %q", ev.Type, path, got, w)
		}
	}
}

// HasAnomaly reports whether an event lists an anomaly containing s.
func HasAnomaly(ev *event.Event, s string) bool {
	if ev == nil {
		return false
	}
	for _, a := range ev.Anomalies {
		if strings.Contains(a, s) {
			return true
		}
	}
	return false
}

func WantAnomaly(t testing.TB, ev *event.Event, s string) {
	t.Helper()
	if !HasAnomaly(ev, s) {
		var got []string
		if ev != nil {
			got = ev.Anomalies
		}
		t.Errorf("anomalies %q; want one containing %q", got, s)
	}
}

// EML returns the stored eml artifact of an email-send event.
func EML(t testing.TB, env *Env, ev *event.Event) string {
	t.Helper()
	if ev == nil || len(ev.Artifacts) == 0 || ev.Artifacts[0].Kind != event.KindEML {
		t.Fatalf("event has no eml artifact first: %+v", ev)
	}
	b, ok := env.Files[ev.Artifacts[0].SHA256]
	if !ok {
		t.Fatalf("eml %s not stored", ev.Artifacts[0].SHA256)
	}
	return string(b)
}

func HasAddress(ev *event.Event, role, addr string) bool {
	for _, a := range ev.Addresses {
		if a.Role == role && a.Address == addr {
			return true
		}
	}
	return false
}

// Attachment finds an attachment artifact by name.
func Attachment(ev *event.Event, name string) *event.Artifact {
	for i, a := range ev.Artifacts {
		if a.Kind == event.KindAttachment && a.Name == name {
			return &ev.Artifacts[i]
		}
	}
	return nil
}

// One returns the only event of a type, failing the test otherwise.
func One(t testing.TB, evs []*event.Event, typ string) *event.Event {
	t.Helper()
	s := ByType(evs, typ)
	if len(s) != 1 {
		t.Fatalf("events %s; want one %s", Types(evs), typ)
	}
	return s[0]
}

// Types lists the event types, for messages.
func Types(evs []*event.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func ByRole(ev *event.Event, role string) []event.Address {
	var out []event.Address
	for _, a := range ev.Addresses {
		if a.Role == role {
			out = append(out, a)
		}
	}
	return out
}

// Stored returns the stored content of an event's artifact i.
func Stored(t testing.TB, env *Env, ev *event.Event, i int) string {
	t.Helper()
	if ev == nil || i >= len(ev.Artifacts) {
		t.Fatalf("event has no artifact %d: %+v", i, ev)
	}
	b, ok := env.Files[ev.Artifacts[i].SHA256]
	if !ok {
		t.Fatalf("artifact %s not stored", ev.Artifacts[i].SHA256)
	}
	return string(b)
}

func FileKeys(env *Env) []string {
	var k []string
	for h := range env.Files {
		k = append(k, h)
	}
	sort.Strings(k)
	return k
}

// SHA256Hex is the hex SHA-256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
