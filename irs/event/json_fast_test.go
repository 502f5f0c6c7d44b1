package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// plainRunRef is plainRun byte by byte: the first byte from i on that
// is not plain ASCII for the escaping chosen.
func plainRunRef(s string, i int, html bool) int {
	safe := &htmlSafe
	if !html {
		safe = &plainSafe
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !safe[c] {
			return i
		}
	}
	return len(s)
}

// TestPlainRun puts every byte value at every position of a string long
// enough for two words and a tail, and requires plainRun, started at
// every index (before and after that byte), to stop exactly where the
// byte-by-byte table does (a false mark above a true one must not
// matter, a miss would leave a byte unescaped).
func TestPlainRun(t *testing.T) {
	for _, html := range []bool{true, false} {
		t.Run(fmt.Sprintf("html=%v", html), func(t *testing.T) {
			for pos := range 19 {
				for c := range 256 {
					b := []byte(strings.Repeat("a", 19))
					b[pos] = byte(c)
					for from := 0; from <= len(b); from++ {
						want := plainRunRef(string(b), from, html)
						if got := plainRun(string(b), from, html); got != want {
							t.Fatalf("byte %#02x at %d, from %d: want %d, got %d", c, pos, from, want, got)
						}
					}
				}
			}
		})
	}
}

// TestPlainRunRandom compares plainRun with the table on random strings
// made mostly of the bytes that sit next to the ones to escape (where a
// borrow or a carry could hide one).
func TestPlainRunRandom(t *testing.T) {
	alphabet := []byte("aZ~\x00\x01\x1f\x20\x21\"#\\]<=>?&%'\x7f\x80\xbf\xc3\xe2\xff")
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		from := r.IntN(len(s) + 1)
		for _, html := range []bool{true, false} {
			want := plainRunRef(s, from, html)
			if got := plainRun(s, from, html); got != want {
				t.Fatalf("case %d %q from %d html=%v: want %d, got %d", n, s, from, html, want, got)
			}
		}
	}
}

// TestSortOrder compares sortOrder with a sort by strings.Compare on
// key sets that defeat the prefix: shared first seven bytes, keys of
// seven and eight bytes, NUL and 0xff bytes, the empty key, and more
// keys than the index byte holds.
func TestSortOrder(t *testing.T) {
	many := func(n int) []string {
		var l []string
		for i := range n {
			l = append(l, fmt.Sprintf("key_%03d", n-i))
		}
		return l
	}
	cases := []struct {
		name string
		keys []string
	}{
		{"empty", nil},
		{"one", []string{"x"}},
		{"shared prefix", []string{"encrypted_bytes_s2c", "encrypted_bytes_c2s", "encrypted_packets_c2s", "encrypted", "encrypte", "encrypt", "encryp"}},
		{"seven and eight bytes", []string{"abcdefg", "abcdefgh", "abcdefg\x00", "abcdefg\x00\x00", "abcdef", "abcdefh"}},
		{"NUL and high bytes", []string{"a", "a\x00", "a\x00\x00", "a\x00b", "\x00", "", "\xff", "\xff\xff\xff\xff\xff\xff\xff\xff", "é", "z"}},
		{"256 keys", many(256)},
		{"257 keys", many(257)},
		{"300 keys", many(300)},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				keys := slices.Clone(tc.keys)
				r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
				var fields []Field
				for i, k := range keys {
					fields = append(fields, Field{k, i})
				}
				prefix := []uint64{7, 8} // entries already there are kept
				order, mask := sortOrder(slices.Clone(prefix), fields)
				if !slices.Equal(order[:len(prefix)], prefix) || len(order) != len(prefix)+len(keys) {
					t.Fatalf("want %v and %d entries, got %v", prefix, len(keys), order)
				}
				want := slices.Clone(keys)
				slices.Sort(want)
				for i, o := range order[len(prefix):] {
					f := fields[o&mask]
					if f.Key != want[i] || keys[f.Value.(int)] != f.Key {
						t.Fatalf("position %d: want key %q, got %q (value of %q)", i, want[i], f.Key, keys[f.Value.(int)])
					}
				}
			}
		})
	}
}

// pair is a parser-like summary value: encoding/json writes it from its
// tags, AppendJSON by hand.
type pair struct {
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
}

type pairs []pair

func (l pairs) AppendJSON(e *JSONEncoder, b []byte) []byte {
	return AppendList(b, l, func(b []byte, p *pair) []byte {
		b = append(b, '{')
		b = e.AppendField(b, "name", p.Name, false)
		if p.Count != 0 {
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, int64(p.Count), 10)
		}
		return append(b, '}')
	})
}

var countedAppends int

type countingPairs struct{ pairs }

func (c countingPairs) AppendJSON(e *JSONEncoder, b []byte) []byte {
	countedAppends++
	return c.pairs.AppendJSON(e, b)
}

// A JSONValue in a summary is written by its AppendJSON, with the
// encoder's escaping, giving encoding/json's bytes.
func TestJSONValue(t *testing.T) {
	for _, html := range []bool{true, false} {
		e := JSONEncoder{NoHTMLEscape: !html}
		v := pairs{{"<a&b>", 2}, {"\u2028x\xff", 0}}
		ev := &Event{Summary: Fields{{"list", countingPairs{v}}, {"nil", pairs(nil)}, {"plain", v}}}
		countedAppends = 0
		got, err := e.Append(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(html)
		if err := enc.Encode(&refEvent{Summary: map[string]any{"list": []pair(v), "nil": []pair(nil), "plain": []pair(v)}}); err != nil {
			t.Fatal(err)
		}
		if w := bytes.TrimSuffix(want.Bytes(), []byte("\n")); !bytes.Equal(got, w) {
			t.Errorf("html=%v:\n got %s\nwant %s", html, got, w)
		}
		if countedAppends != 1 {
			t.Errorf("AppendJSON called %d times, want 1", countedAppends)
		}
	}
}

// Times are written as time.Time.MarshalJSON writes them: UTC ones by the
// encoder's own digits, over the whole range of years and every shape of
// fraction; others (zones, years out of range) through the time package.
func TestTimesAsMarshalJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	zone := time.FixedZone("X", -(3*3600 + 30*60))
	var times []time.Time
	for range 20000 {
		sec := rng.Int64N(253402300800+62135596800) - 62135596800 // years 0001..9999
		ns := rng.Int64N(1e9)
		switch rng.IntN(4) {
		case 0:
			ns = 0
		case 1:
			ns = ns / 1e6 * 1e6 // milliseconds
		case 2:
			ns = ns / 1e3 * 1e3
		}
		times = append(times, time.Unix(sec, ns).UTC(), time.Unix(sec, ns).In(zone))
	}
	times = append(times, time.Time{}, time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(1700000000, 100).UTC())
	for _, tm := range times {
		want, werr := tm.MarshalJSON()
		got, gerr := appendTime(nil, tm)
		if (werr != nil) != (gerr != nil) || werr == nil && string(got) != string(want) {
			t.Fatalf("%v: got %s (%v), want %s (%v)", tm, got, gerr, want, werr)
		}
	}
}
