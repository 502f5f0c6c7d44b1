package imap

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// C, S and G build conversation segments: client bytes, server bytes and
// a gap.
var (
	C = parsertest.C
	S = parsertest.S
)

func Gap(dir parser.Direction, n int) parsertest.Segment {
	return parsertest.Segment{Dir: dir, Gap: n}
}

// runOpts feeds a conversation like parsertest.Run, with operator
// options of the test's choosing.
func runOpts(c *parser.Conn, segs []parsertest.Segment, split parsertest.Split, seed int64, opts *parser.Options) (*parsertest.Env, []*event.Event, *conn) {
	env := parsertest.NewEnv()
	if opts != nil {
		env.Opts = *opts
	}
	p := Detector{}.New(c, env).(*conn)
	ts := c.Start
	rng := rand.New(rand.NewSource(seed))
	for i, s := range segs {
		segTS := ts.Add(time.Duration(i) * time.Millisecond)
		if !p.IsContinue() {
			break
		}
		if s.Gap != 0 {
			p.Gap(s.Dir, s.Gap, segTS)
			continue
		}
		data := s.Data
		for len(data) > 0 && p.IsContinue() {
			n := len(data)
			switch split {
			case parsertest.Bytes:
				n = 1
			case parsertest.Random:
				n = 1 + rng.Intn(len(data))
			}
			p.ProcessPacket(s.Dir, data[:n], segTS)
			data = data[n:]
		}
	}
	end := ts.Add(time.Duration(len(segs)) * time.Millisecond)
	reason := parser.EndClosed
	if !p.IsContinue() {
		reason = parser.EndDone
	}
	p.EndProcess(reason, end)
	return env, env.Events, p
}

// byType returns the events of one type.
func byType(evs []*event.Event, typ string) []*event.Event {
	var out []*event.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// field reads a value from an event by a dotted JSON path
// ("summary.rcpt_to.0.code"), rendered with fmt.Sprint; "<nil>" when
// absent.
func field(t *testing.T, ev *event.Event, path string) string {
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

// want compares event fields: path → expected rendering.
func want(t *testing.T, ev *event.Event, fields map[string]string) {
	t.Helper()
	if ev == nil {
		t.Errorf("no event; want one with %v", fields)
		return
	}
	for path, w := range fields {
		if got := field(t, ev, path); got != w {
			t.Errorf("%s %s = %q; want %q", ev.Type, path, got, w)
		}
	}
}

// hasAnomaly reports whether an event lists an anomaly containing s.
func hasAnomaly(ev *event.Event, s string) bool {
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

func wantAnomaly(t *testing.T, ev *event.Event, s string) {
	t.Helper()
	if !hasAnomaly(ev, s) {
		var got []string
		if ev != nil {
			got = ev.Anomalies
		}
		t.Errorf("anomalies %q; want one containing %q", got, s)
	}
}

// eml returns the stored eml artifact of an email-send event.
func eml(t *testing.T, env *parsertest.Env, ev *event.Event) string {
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

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func hasAddress(ev *event.Event, role, addr string) bool {
	for _, a := range ev.Addresses {
		if a.Role == role && a.Address == addr {
			return true
		}
	}
	return false
}

// attachment finds an attachment artifact by name.
func attachment(ev *event.Event, name string) *event.Artifact {
	for i, a := range ev.Artifacts {
		if a.Kind == event.KindAttachment && a.Name == name {
			return &ev.Artifacts[i]
		}
	}
	return nil
}

// one returns the only event of a type, failing the test otherwise.
func one(t *testing.T, evs []*event.Event, typ string) *event.Event {
	t.Helper()
	s := byType(evs, typ)
	if len(s) != 1 {
		t.Fatalf("events %s; want one %s", types(evs), typ)
	}
	return s[0]
}

// types lists the event types, for messages.
func types(evs []*event.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func byRole(ev *event.Event, role string) []event.Address {
	var out []event.Address
	for _, a := range ev.Addresses {
		if a.Role == role {
			out = append(out, a)
		}
	}
	return out
}

// stored returns the stored content of an event's artifact i.
func stored(t *testing.T, env *parsertest.Env, ev *event.Event, i int) string {
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

func fileKeys(env *parsertest.Env) []string {
	var k []string
	for h := range env.Files {
		k = append(k, h)
	}
	sort.Strings(k)
	return k
}
