package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stdJSON is what the encoder must reproduce: encoding/json with or
// without HTML escaping, no trailing newline.
func stdJSON(v any, escapeHTML bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// refEvent is Event with its summary as the map encoding/json encodes
// on its own: the reference for Fields' encoding.
type refEvent struct {
	UID       string         `json:"uid"`
	Node      string         `json:"node"`
	Protocol  string         `json:"protocol"`
	Type      string         `json:"type"`
	Start     time.Time      `json:"start"`
	End       time.Time      `json:"end"`
	Transport string         `json:"transport"`
	Client    netip.AddrPort `json:"client"`
	Server    netip.AddrPort `json:"server"`
	Subject   string         `json:"subject,omitempty"`
	Summary   map[string]any `json:"summary,omitempty"`
	Anomalies []string       `json:"anomalies,omitempty"`
	Addresses []Address      `json:"addresses,omitempty"`
	Artifacts []Artifact     `json:"artifacts,omitempty"`
	RawRef    string         `json:"raw_ref,omitempty"`
}

// reference is v with every Fields in it made a map (its last value per
// key) and every Event a refEvent: what encoding/json writes for it is
// what Fields' encoding must give.
func reference(v any) any {
	switch x := v.(type) {
	case *Event:
		if x == nil {
			return (*refEvent)(nil)
		}
		r := refEvent{x.UID, x.Node, x.Protocol, x.Type, x.Start, x.End, x.Transport, x.Client, x.Server,
			x.Subject, nil, x.Anomalies, x.Addresses, x.Artifacts, x.RawRef}
		if x.Summary != nil {
			r.Summary = reference(x.Summary).(map[string]any)
		}
		return &r
	case Fields:
		if x == nil {
			return map[string]any(nil)
		}
		m := map[string]any{}
		for _, f := range x {
			m[f.Key] = reference(f.Value)
		}
		return m
	case []Fields:
		if x == nil {
			return []map[string]any(nil)
		}
		l := make([]map[string]any, len(x))
		for i, f := range x {
			l[i] = reference(f).(map[string]any)
		}
		return l
	}
	return v
}

// checkSame fails unless JSONEncoder writes exactly encoding/json's bytes
// for v (or returns exactly its error), with and without HTML escaping,
// and leaves dst's prefix alone; and unless those bytes are encoding/json's
// for v's reference, where every Fields is a map (or both fail).
func checkSame(t *testing.T, v any) {
	t.Helper()
	for _, escape := range []bool{true, false} {
		want, wantErr := stdJSON(v, escape)
		ref, refErr := stdJSON(reference(v), escape)
		if (wantErr != nil) != (refErr != nil) || !bytes.Equal(want, ref) {
			t.Fatalf("escapeHTML=%v: Fields not encoded as a map:\nmap    %s (%v)\nFields %s (%v)", escape, ref, refErr, want, wantErr)
		}
		e := JSONEncoder{NoHTMLEscape: !escape}
		prefix := []byte("prefix")
		got, gotErr := e.Append(prefix, v)
		switch {
		case wantErr != nil || gotErr != nil:
			if wantErr == nil || gotErr == nil || wantErr.Error() != gotErr.Error() {
				t.Fatalf("escapeHTML=%v: error: want %v, got %v (output %q)", escape, wantErr, gotErr, got)
			}
			if string(got) != "prefix" {
				t.Fatalf("escapeHTML=%v: on error want dst unchanged, got %q", escape, got)
			}
		case !bytes.HasPrefix(got, []byte("prefix")):
			t.Fatalf("escapeHTML=%v: dst prefix lost: %q", escape, got)
		case !bytes.Equal(got[len("prefix"):], want):
			t.Fatalf("escapeHTML=%v:\nwant %s\ngot  %s", escape, want, got[len("prefix"):])
		}
	}
}

// a type parsers might use that the fast path does not know.
type rcpt struct {
	Addr   string `json:"addr"`
	Status int    `json:"status,omitempty"`
}

type badText struct{}

func (badText) MarshalText() ([]byte, error) { return nil, errTest }

var errTest = &json.UnsupportedTypeError{Type: reflect.TypeOf(0)}

func fullEvent() *Event {
	return &Event{
		UID: "0123456789abcdef0123456789abcdef", Node: "irs-1", Protocol: "smtp", Type: "email-send",
		Start: time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC), End: time.Date(2024, 3, 1, 12, 0, 1, 0, time.FixedZone("X", 3600)),
		Transport: "tcp", Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("[2001:db8::25]:25"),
		Subject: "Hello <world> & you",
		Summary: FieldsOf(map[string]any{
			"from": "a@example.org", "rcpt": []string{"b@example.org", "c@example.org"}, "size": 1234,
			"tls": true, "codes": []int{250, 354}, "ratio": 0.5, "nested": map[string]any{"z": 1, "a": []any{"x", 2, nil}},
			"list": []map[string]any{{"k": "v"}, nil}, "ports": []uint32{1, 2}, "pair": [2]int{3, 4},
			"counts": map[string]int{"b": 2, "a": 1}, "headers": map[string]string{"To": "x", "From": "y"},
			"rcpts": []rcpt{{Addr: "x@y", Status: 250}}, "u8": uint8(7), "i64": int64(-9), "u64": uint64(math.MaxUint64),
			"f32": float32(0.1), "when": time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC), "nil": nil, "dur": time.Second,
			"fields": Fields{{"b", 1}, {"a", []Fields{{{"x", "<"}}, nil}}},
		}),
		Anomalies: []string{"gap of 10 bytes"},
		Addresses: []Address{{Address: "a@example.org", Role: RoleFrom}, {Address: "b@example.org", Role: RoleRcpt}},
		Artifacts: []Artifact{
			{Kind: KindEML, Size: 1234, SHA256: "ab", MD5: "cd", Path: "files/ab"},
			{Kind: KindAttachment, Name: "a<b>.pdf", ContentType: "application/pdf", SHA256: "ef", Parent: "ab"},
		},
		RawRef: "sessions/x.pcap",
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	deep := map[string]any{}
	m := deep
	for range 150 {
		n := map[string]any{}
		m["d"] = n
		m = n
	}
	// more keys than sortOrder's index byte holds, each with a nested
	// map that pushes its own order on the stack above
	many := map[string]any{}
	for i := range 300 {
		many[fmt.Sprintf("key_%03d_%s", 299-i, strings.Repeat("x", i%9))] = map[string]any{"b": i, "a": []any{i, "<" + fmt.Sprint(i) + ">"}, "c": nil}
	}
	zone := fullEvent()
	zone.Client = netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone(`eth0"<&>`), 22)
	var nilEvent *Event
	cases := []struct {
		name string
		v    any
	}{
		{"full event", fullEvent()},
		{"zero event", &Event{}},
		{"nil event", nilEvent},
		{"empty summary and lists", &Event{Summary: Fields{}, Anomalies: []string{}, Addresses: []Address{}, Artifacts: []Artifact{}}},
		{"zone in address", zone},
		{"IPv4-mapped address", &Event{Client: netip.MustParseAddrPort("[::ffff:10.0.0.1]:1")}},
		{"escapes", &Event{Subject: "\"\\/\b\f\n\r\t\x00\x01\x1f\x7f<>&\u2028\u2029\ufffd é 日本"}},
		{"invalid UTF-8", &Event{Subject: "a\xffb\xc3\x28c\xe2\x80d\xed\xa0\x80\xf4\x90\x80\x80", Summary: FieldsOf(map[string]any{"\xff<k>": "\xfe"})}},
		{"floats", map[string]any{"a": 0.0, "b": math.Copysign(0, -1), "c": 1e-6, "d": 9.99e-7, "e": 1e20, "f": 1e21, "g": 123456789.125, "h": -1e-300,
			"i": math.MaxFloat64, "j": math.SmallestNonzeroFloat64, "k": float32(1e21), "l": float32(9.9e-7), "m": float32(3.4e38), "n": 1e-10}},
		{"ints", map[string]any{"a": math.MinInt64, "b": int8(-128), "c": int16(-32768), "d": int32(math.MinInt32), "e": uint(math.MaxUint), "f": uint16(65535)}},
		{"nil containers", map[string]any{"a": []string(nil), "b": []int(nil), "c": []uint32(nil), "d": map[string]any(nil),
			"e": []map[string]any(nil), "f": []any(nil), "g": map[string]string(nil), "h": map[string]int(nil), "i": []byte(nil)}},
		{"bytes are base64", map[string]any{"raw": []byte("hi<>")}},
		{"sorted keys", map[string]any{"b": 1, "a": 2, "B": 3, "aa": 4, "": 5, "é": 6, "\u2028": 7}},
		{"keys sharing their first bytes", map[string]any{"encrypted_bytes_s2c": 1, "encrypted_bytes_c2s": 2, "encrypted": 3, "encrypte": 4,
			"abcdefg": 5, "abcdefg\x00": 6, "abcdefgh": 7, "abcdef": 8, "a\x00": 9, "a": 10, "\xff\xff\xff\xff\xff\xff\xff\xff": 11}},
		{"300 keys", many},
		{"NaN", &Event{Summary: FieldsOf(map[string]any{"x": math.NaN()})}},
		{"+Inf", map[string]any{"x": math.Inf(1)}},
		{"-Inf float32", map[string]any{"x": float32(math.Inf(-1))}},
		{"NaN deep in a list", map[string]any{"x": []any{1, map[string]any{"y": math.NaN()}}}},
		{"year out of range", &Event{Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"negative year in summary", map[string]any{"t": time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"unencodable type", map[string]any{"c": make(chan int)}},
		{"failing TextMarshaler", map[string]any{"t": badText{}}},
		{"cycle", cyclic},
		{"deep but finite", deep},
		{"anomalies", []string{"<a>", "b"}},
		{"plain string", "x<y"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkSame(t, tc.v)
			if m, ok := tc.v.(map[string]any); ok && !isCyclic(m) {
				checkSame(t, FieldsOf(m)) // the same fields in a summary
			}
		})
	}
}

func isCyclic(m map[string]any) bool {
	self, ok := m["self"].(map[string]any)
	return ok && len(self) == len(m)
}

// A later Set of a key overrides an earlier one, in Get and in the JSON.
func TestFieldsSetOverrides(t *testing.T) {
	var f Fields
	f.Set("b", 1)
	f.Set("a", "first")
	f.Set("c", []Fields{{{"y", 1}, {"x", 2}, {"y", 3}}})
	f.Set("a", "second")
	f.Set("a", "third")
	if v, ok := f.Lookup("a"); !ok || v != "third" || f.Get("b") != 1 || f.Get("none") != nil {
		t.Errorf("Lookup a = %v %v, Get b = %v, Get none = %v", v, ok, f.Get("b"), f.Get("none"))
	}
	want := `{"a":"third","b":1,"c":[{"x":2,"y":3}]}`
	if got, err := f.MarshalJSON(); err != nil || string(got) != want {
		t.Errorf("MarshalJSON = %s %v; want %s", got, err, want)
	}
	if got, err := json.Marshal(&Event{Summary: f}); err != nil || !strings.Contains(string(got), `"summary":`+want) {
		t.Errorf("event JSON = %s %v; want the summary %s", got, err, want)
	}
	checkSame(t, &Event{Summary: f})
	if got, want := f.String(), "map[a:third b:1 c:[map[x:2 y:3]]]"; got != want {
		t.Errorf("String = %s; want %s", got, want)
	}
	f.Delete("a")
	if _, ok := f.Lookup("a"); ok || len(f) != 2 {
		t.Errorf("after Delete a: %v", f)
	}
}

// UnmarshalJSON reads back what MarshalJSON wrote, as json.Unmarshal reads
// a map, and refuses what is not an object.
func TestFieldsUnmarshal(t *testing.T) {
	in := Fields{{"z", "x<y"}, {"n", 1.5}, {"big", uint64(12345678901234567890)}, {"l", []any{"a", nil}}, {"m", map[string]any{"k": true}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Fields
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Map(), m) || len(out) != len(in) || out[0].Key != "big" || out[0].Value != json.Number("12345678901234567890") {
		t.Errorf("read back %v; want %v in key order", out, m)
	}
	if err := json.Unmarshal([]byte("null"), &out); err != nil || out != nil {
		t.Errorf("null: %v %v", out, err)
	}
	for _, bad := range []string{`[1]`, `{"a":}`, `{"a":1`, `"s"`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestAppendJSONMethod checks the convenience method: json.Marshal's
// bytes.
func TestAppendJSONMethod(t *testing.T) {
	ev := fullEvent()
	want, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ev.AppendJSON(nil)
	if err != nil {
		t.Fatalf("AppendJSON: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("want %s\ngot  %s", want, got)
	}
}

// TestEventJSONFields fails when Event, Address or Artifact gains,
// loses or renames a field: JSONEncoder.event writes them by hand and
// must be updated with them.
func TestEventJSONFields(t *testing.T) {
	cases := []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeOf(Event{}), "UID:uid Node:node Protocol:protocol Type:type Start:start End:end Transport:transport " +
			"Client:client Server:server Subject:subject,omitempty Summary:summary,omitempty Anomalies:anomalies,omitempty " +
			"Addresses:addresses,omitempty Artifacts:artifacts,omitempty RawRef:raw_ref,omitempty"},
		{reflect.TypeOf(Address{}), "Address:address Role:role"},
		{reflect.TypeOf(Artifact{}), "Kind:kind Name:name,omitempty ContentType:content_type,omitempty Size:size " +
			"SHA256:sha256 MD5:md5,omitempty Path:path,omitempty Parent:parent,omitempty"},
	}
	for _, tc := range cases {
		t.Run(tc.typ.Name(), func(t *testing.T) {
			var got []string
			for i := range tc.typ.NumField() {
				f := tc.typ.Field(i)
				got = append(got, f.Name+":"+f.Tag.Get("json"))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("fields changed: update JSONEncoder (json.go) and this test\nwant %s\ngot  %s", tc.want, g)
			}
		})
	}
}

// TestAppendJSONReuse encodes several values with one encoder: the key
// scratch space must not leak from one value into the next, even after
// an error.
func TestAppendJSONReuse(t *testing.T) {
	var e JSONEncoder
	vals := []any{fullEvent(), map[string]any{"x": math.NaN(), "a": map[string]any{"b": 1}}, fullEvent(), map[string]any{"q": 1}}
	for i, v := range vals {
		want, wantErr := stdJSON(v, true)
		got, err := e.Append(nil, v)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("value %d: want %s (%v), got %s (%v)", i, want, wantErr, got, err)
		}
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	ev := fullEvent()
	ev.Summary.Delete("rcpts") // these two are left to encoding/json: it allocates
	ev.Summary.Delete("dur")
	var e JSONEncoder
	buf, _ := e.Append(nil, ev)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = e.Append(buf[:0], ev)
	})
	if allocs != 0 {
		t.Errorf("allocs per event: want 0, got %v", allocs)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	ev := fullEvent()
	ev.Summary.Delete("rcpts")
	ev.Summary.Delete("dur")
	b.Run("encoding/json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JSONEncoder", func(b *testing.B) {
		var e JSONEncoder
		var buf []byte
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			var err error
			if buf, err = e.Append(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuTime is the process's user and system CPU time: on a shared machine
// CPU time per op says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	if cpu := cpuTime() - start; cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
