package event

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

// FuzzAppendJSON builds events from hostile strings and numbers (invalid
// UTF-8, control characters, U+2028, NaN, times outside year 0..9999) and
// requires JSONEncoder to write exactly encoding/json's bytes, or fail
// with exactly its error.
func FuzzAppendJSON(f *testing.F) {
	f.Add("subject", "key", int64(1700000000), uint64(42), 0.5, float32(1), int32(0), true)
	f.Add("a\xffb\u2028<&>\x00\"\\", "\xc3\x28", int64(-62135596801), uint64(math.MaxUint64), math.NaN(), float32(1e21), int32(-3600*25), false)
	f.Add("\t\n\r\b\f\x7f\u2029é", "", int64(253402300800), uint64(0), 1e-7, float32(math.Inf(1)), int32(5400), true)
	f.Add("", "\ufffd", int64(0), uint64(1<<53+1), 1e21, float32(9.99e-7), int32(1), false)
	f.Fuzz(func(t *testing.T, s, k string, sec int64, u uint64, fl float64, f32 float32, offset int32, flag bool) {
		ts := time.Unix(sec, int64(u%1e9)).In(time.FixedZone(k, int(offset)))
		ap := netip.AddrPortFrom(netip.AddrFrom16([16]byte{0xfe, 0x80, 15: byte(u)}).WithZone(k), uint16(u))
		if flag {
			ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(u), byte(u >> 8), 0, 1}), uint16(u>>16))
		}
		ev := &Event{
			UID: s, Node: k, Protocol: s + k, Type: k, Start: ts, End: ts.Add(time.Duration(u)),
			Transport: s, Client: ap, Server: netip.AddrPortFrom(ap.Addr(), 0), Subject: s,
			Anomalies: []string{s, k},
			Addresses: []Address{{Address: s, Role: k}},
			Artifacts: []Artifact{{Kind: k, Name: s, ContentType: k, Size: sec, SHA256: s, MD5: k, Path: s, Parent: k}},
			RawRef:    k,
		}
		// set in this order, s or k may override a field set before
		ev.Summary.Set("fields", Fields{{s, k}, {k, s}, {"l", []Fields{{{k, u}}, nil}}})
		ev.Summary.Set(k, s)
		ev.Summary.Set(s, k)
		for _, f := range FieldsOf(map[string]any{
			"n": sec, "u": u, "f": fl, "f32": f32, "b": flag, "i": int(offset), "u16": uint16(u),
			"list": []string{s, k}, "ints": []int{int(sec), int(offset)}, "when": ts,
			"nested": map[string]any{s: []any{k, fl, u, nil, map[string]any{k: sec}}},
			"maps":   []map[string]any{{s: f32}, {k: flag}},
			"ms":     map[string]string{s: k, k: s}, "mi": map[string]int{s: int(offset), k: 1},
		}) {
			ev.Summary.Set(f.Key, f.Value)
		}
		if flag {
			ev.Subject, ev.Artifacts[0].Name = "", ""
		}
		checkSame(t, ev)
		checkSame(t, ev.Summary)
	})
}
