package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JSONEncoder writes events and summary values as JSON without
// reflection: `sdnli inspect` prints one line per event and the sink
// encodes every summary, so encoding/json's reflection and map sorting
// were a large share of the CPU. The bytes are exactly those encoding/json
// writes for the same value (sorted map keys, its escaping, its number
// formats, omitempty), which the tests check against encoding/json
// itself. Values of types the parsers do not put in summaries are handed
// to encoding/json, and so are values it refuses (NaN, a time outside
// year 0..9999, a cycle): the error is then encoding/json's own.
//
// The zero value escapes <, > and & as json.Marshal does. A JSONEncoder
// keeps scratch space between calls and must not be used concurrently.
type JSONEncoder struct {
	// NoHTMLEscape leaves <, > and & as they are, like
	// json.Encoder.SetEscapeHTML(false).
	NoHTMLEscape bool

	keys   []string // map keys being sorted, a stack shared by nested maps
	fields []Field  // the same for map[string]any, with the values
	order  []uint64 // the fields' order, by sortOrder, a stack too
}

// AppendJSON appends ev as json.Marshal(ev) would, without a newline.
func (ev *Event) AppendJSON(dst []byte) ([]byte, error) {
	var e JSONEncoder
	return e.Append(dst, ev)
}

// JSONValue is a summary value of a parser's own type that writes its
// JSON itself instead of through encoding/json's reflection: exactly the
// bytes encoding/json writes for the value (the parser's tests hold it to
// that), since other code encodes summaries with encoding/json.
type JSONValue interface {
	AppendJSON(e *JSONEncoder, b []byte) []byte
}

// AppendString appends s as a JSON string, escaped as encoding/json
// escapes it with e's HTML setting: for JSONValue implementations.
func (e *JSONEncoder) AppendString(b []byte, s string) []byte { return e.str(b, s) }

// AppendField appends the field "name": v of an object being written
// (after a comma unless it is the object's first), or nothing when v is
// empty and omitEmpty is set; name is written as it is. For JSONValue
// implementations.
func (e *JSONEncoder) AppendField(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	if n := len(b); n > 0 && b[n-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return e.str(b, v)
}

// AppendList appends l as a JSON array of the elements elem writes, or
// null for a nil l, as encoding/json writes a slice. For JSONValue
// implementations.
func AppendList[T any](b []byte, l []T, elem func(b []byte, x *T) []byte) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, &l[i])
	}
	return append(b, ']')
}

// AppendStringMap appends m as encoding/json writes a map[string]string
// (keys sorted; null when nil): for JSONValue implementations.
func (e *JSONEncoder) AppendStringMap(b []byte, m map[string]string) []byte {
	return appendMap(e, b, m, e.str)
}

// errSlow says the fast path cannot produce encoding/json's result (an
// error to report, or nesting deep enough for its cycle check); the whole
// value is then encoded by encoding/json.
var errSlow = errors.New("event: value left to encoding/json")

// maxDepth bounds the nesting the fast path follows: deeper values (and
// cyclic maps) go to encoding/json, which detects cycles.
const maxDepth = 100

// Append appends v's JSON encoding to dst, without a newline. On error dst
// is returned unchanged with encoding/json's error.
func (e *JSONEncoder) Append(dst []byte, v any) ([]byte, error) {
	n := len(dst)
	out, err := e.value(dst, v, 0)
	e.keys, e.order = e.keys[:0], e.order[:0]
	clear(e.fields)
	e.fields = e.fields[:0]
	if err == nil {
		return out, nil
	}
	b, err := e.marshal(v)
	if err != nil {
		return dst[:n], err
	}
	return append(dst[:n], b...), nil
}

// marshal encodes v with encoding/json and the encoder's escaping.
func (e *JSONEncoder) marshal(v any) ([]byte, error) {
	if !e.NoHTMLEscape {
		return json.Marshal(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

func (e *JSONEncoder) event(b []byte, ev *Event) ([]byte, error) {
	if ev == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"uid":`...)
	b = e.str(b, ev.UID)
	b = append(b, `,"node":`...)
	b = e.str(b, ev.Node)
	b = append(b, `,"protocol":`...)
	b = e.str(b, ev.Protocol)
	b = append(b, `,"type":`...)
	b = e.str(b, ev.Type)
	b = append(b, `,"start":`...)
	if b, err = appendTime(b, ev.Start); err != nil {
		return b, err
	}
	b = append(b, `,"end":`...)
	if b, err = appendTime(b, ev.End); err != nil {
		return b, err
	}
	b = append(b, `,"transport":`...)
	b = e.str(b, ev.Transport)
	b = append(b, `,"client":`...)
	b = e.addrPort(b, ev.Client)
	b = append(b, `,"server":`...)
	b = e.addrPort(b, ev.Server)
	if ev.Subject != "" {
		b = append(b, `,"subject":`...)
		b = e.str(b, ev.Subject)
	}
	if len(ev.Summary) > 0 {
		b = append(b, `,"summary":`...)
		if b, err = e.summary(b, ev.Summary, 1); err != nil {
			return b, err
		}
	}
	if len(ev.Anomalies) > 0 {
		b = append(b, `,"anomalies":`...)
		b = e.strings(b, ev.Anomalies)
	}
	if len(ev.Addresses) > 0 {
		b = append(b, `,"addresses":`...)
		b = e.addresses(b, ev.Addresses)
	}
	if len(ev.Artifacts) > 0 {
		b = append(b, `,"artifacts":`...)
		b = e.artifacts(b, ev.Artifacts)
	}
	if ev.RawRef != "" {
		b = append(b, `,"raw_ref":`...)
		b = e.str(b, ev.RawRef)
	}
	return append(b, '}'), nil
}

func (e *JSONEncoder) addresses(b []byte, l []Address) []byte {
	b = append(b, '[')
	for i := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"address":`...)
		b = e.str(b, l[i].Address)
		b = append(b, `,"role":`...)
		b = e.str(b, l[i].Role)
		b = append(b, '}')
	}
	return append(b, ']')
}

func (e *JSONEncoder) artifacts(b []byte, l []Artifact) []byte {
	b = append(b, '[')
	for i := range l {
		a := &l[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":`...)
		b = e.str(b, a.Kind)
		if a.Name != "" {
			b = append(b, `,"name":`...)
			b = e.str(b, a.Name)
		}
		if a.ContentType != "" {
			b = append(b, `,"content_type":`...)
			b = e.str(b, a.ContentType)
		}
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, a.Size, 10)
		b = append(b, `,"sha256":`...)
		b = e.str(b, a.SHA256)
		if a.MD5 != "" {
			b = append(b, `,"md5":`...)
			b = e.str(b, a.MD5)
		}
		if a.Path != "" {
			b = append(b, `,"path":`...)
			b = e.str(b, a.Path)
		}
		if a.Parent != "" {
			b = append(b, `,"parent":`...)
			b = e.str(b, a.Parent)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// value encodes the types parsers put in summaries; any other type is
// encoded alone by encoding/json, which gives the same bytes it would
// give inside the whole value.
func (e *JSONEncoder) value(b []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return e.str(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		return appendFloat(b, x, 64)
	case float32:
		return appendFloat(b, float64(x), 32)
	case time.Time:
		return appendTime(b, x)
	case []string:
		return e.strings(b, x), nil
	case []int:
		return appendList(b, x, func(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }), nil
	case []uint32:
		return appendList(b, x, func(b []byte, n uint32) []byte { return strconv.AppendUint(b, uint64(n), 10) }), nil
	case [2]int:
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(x[0]), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(x[1]), 10)
		return append(b, ']'), nil
	case Fields:
		return e.summary(b, x, depth+1)
	case []Fields:
		return appendObjects(e, b, x, depth+1, (*JSONEncoder).summary)
	case map[string]any:
		return e.object(b, x, depth+1)
	case []map[string]any:
		return appendObjects(e, b, x, depth+1, (*JSONEncoder).object)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		if depth >= maxDepth {
			return b, errSlow
		}
		b = append(b, '[')
		var err error
		for i, el := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = e.value(b, el, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		return appendMap(e, b, x, e.str), nil
	case map[string]int:
		return appendMap(e, b, x, func(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }), nil
	case *Event:
		return e.event(b, x)
	case JSONValue:
		return x.AppendJSON(e, b), nil
	}
	enc, err := e.marshal(v)
	if err != nil {
		return b, errSlow
	}
	return append(b, enc...), nil
}

// object encodes a map with its keys sorted, as encoding/json does.
func (e *JSONEncoder) object(b []byte, m map[string]any, depth int) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	if depth >= maxDepth {
		return b, errSlow
	}
	// One pass over the map keeps each value with its key: no lookup
	// after the sort. The entries stay valid when a nested value grows
	// e.fields: the nested entries go after them, in it or a new array.
	start := len(e.fields)
	for k, v := range m {
		e.fields = append(e.fields, Field{k, v})
	}
	b, err := e.sorted(b, e.fields[start:], depth)
	clear(e.fields[start:]) // drop the references to the values
	e.fields = e.fields[:start]
	return b, err
}

// summary encodes f as encoding/json encodes f.Map().
func (e *JSONEncoder) summary(b []byte, f Fields, depth int) ([]byte, error) {
	if f == nil {
		return append(b, "null"...), nil
	}
	if depth >= maxDepth {
		return b, errSlow
	}
	if len(f) > 256 { // sortOrder would reorder them: a copy
		start := len(e.fields)
		e.fields = append(e.fields, f...)
		b, err := e.sorted(b, e.fields[start:], depth)
		clear(e.fields[start:])
		e.fields = e.fields[:start]
		return b, err
	}
	return e.sorted(b, f, depth)
}

// sorted encodes fields as an object with their keys in order; of fields
// with the same key only the last is written, as it would be the one left
// in a map.
func (e *JSONEncoder) sorted(b []byte, fields []Field, depth int) ([]byte, error) {
	// order stays valid when a nested value grows e.order: the nested
	// entries go after it, in e.order or a new array.
	ostart := len(e.order)
	var mask uint64
	e.order, mask = sortOrder(e.order, fields)
	order := e.order[ostart:]
	b = append(b, '{')
	var err error
	first := true
	for i, o := range order {
		f := &fields[o&mask]
		if i+1 < len(order) && fields[order[i+1]&mask].Key == f.Key {
			continue // overridden by a later Set
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = e.str(b, f.Key)
		b = append(b, ':')
		if b, err = e.value(b, f.Value, depth); err != nil {
			break
		}
	}
	e.order = e.order[:ostart]
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// sortOrder appends to order an entry per field, in the order of their
// keys, fields with equal keys in their own order; entry&mask is the
// field's index. A summary has up to some 60
// keys and every event has one: rather than sorting by strings.Compare,
// it sorts integers made of each key's first bytes and the index, then
// orders by the whole key only the runs whose first bytes are equal.
func sortOrder(order []uint64, fields []Field) ([]uint64, uint64) {
	start := len(order)
	if len(fields) > 256 { // more than the index byte holds
		slices.SortStableFunc(fields, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })
		for i := range fields {
			order = append(order, uint64(i))
		}
		return order, ^uint64(0)
	}
	for i := range fields {
		order = append(order, keyPrefix(fields[i].Key)|uint64(i))
	}
	o := order[start:]
	sortSmall(o)
	for i := 0; i < len(o); {
		j := i + 1
		for j < len(o) && o[j]>>8 == o[i]>>8 {
			j++
		}
		// o[i:j] share their prefix: insertion sort by the whole key.
		for k := i + 1; k < j; k++ {
			for l := k; l > i && fields[o[l]&0xff].Key < fields[o[l-1]&0xff].Key; l-- {
				o[l], o[l-1] = o[l-1], o[l]
			}
		}
		i = j
	}
	return order, 0xff
}

// keyPrefix is k's first seven bytes, big-endian and padded with zeros,
// above a zero low byte. Keys whose prefixes differ compare as their
// prefixes do: the first byte that differs decides both, a key's end
// being below every byte but 0, which pads it.
func keyPrefix(k string) uint64 {
	if len(k) >= 8 {
		return bits.ReverseBytes64(load64(k, 0)) &^ 0xff
	}
	var p uint64
	for i := 0; i < len(k); i++ {
		p |= uint64(k[i]) << (56 - 8*i)
	}
	return p
}

func (e *JSONEncoder) strings(b []byte, l []string) []byte {
	return appendList(b, l, e.str)
}

// addrPort encodes p as its text, as encoding/json does for a
// TextMarshaler: "" when p is the zero value.
func (e *JSONEncoder) addrPort(b []byte, p netip.AddrPort) []byte {
	if !p.IsValid() {
		return append(b, `""`...)
	}
	if p.Addr().Zone() == "" {
		// Digits, hex letters, dots, colons and brackets: nothing to escape.
		b = append(b, '"')
		b = p.AppendTo(b)
		return append(b, '"')
	}
	var buf [64]byte
	return e.str(b, string(p.AppendTo(buf[:0])))
}

// appendTime encodes t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds); a time it refuses goes to encoding/json for the error.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if t.Location() == time.UTC {
		// Event times are UTC: written here digit by digit, as the time
		// package would, without its general layout machinery.
		year, month, day := t.Date()
		if year >= 0 && year <= 9999 {
			hour, minute, sec := t.Clock()
			b = append(b, '"')
			b = append4(b, year)
			b = append(b, '-')
			b = append2(b, int(month))
			b = append(b, '-')
			b = append2(b, day)
			b = append(b, 'T')
			b = append2(b, hour)
			b = append(b, ':')
			b = append2(b, minute)
			b = append(b, ':')
			b = append2(b, sec)
			if ns := t.Nanosecond(); ns != 0 {
				// Nine digits, trailing zeros dropped.
				var f [10]byte
				f[0] = '.'
				for i := 9; i >= 1; i-- {
					f[i] = byte('0' + ns%10)
					ns /= 10
				}
				n := 10
				for f[n-1] == '0' {
					n--
				}
				b = append(b, f[:n]...)
			}
			return append(b, 'Z', '"'), nil
		}
	}
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, errSlow // out is nil
	}
	return append(out, '"'), nil
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int) []byte {
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// appendFloat formats f as encoding/json does: like ES6, 'e' notation only
// below 1e-6 and from 1e21, exponents without leading zeros. NaN and the
// infinities are left to encoding/json for its error.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, errSlow
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 → e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// plainSafe and htmlSafe tell which ASCII bytes a JSON string holds as
// they are (a table: this loop runs for every byte of every event).
var plainSafe, htmlSafe = func() (plain, html [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}()

// load64 reads s[i:i+8] as a little-endian word (the compiler makes it
// one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainRun returns the index of the first byte from s[i] on that str
// must look at one by one (len(s) if none): a control character, '"',
// '\\', '<', '>' or '&' if html, or any byte of multi-byte UTF-8. It
// tests eight bytes at a time, most strings being long runs of plain
// ASCII.
func plainRun(s string, i int, html bool) int {
	for ; i+8 <= len(s); i += 8 {
		if m := escapeMask(load64(s, i), html); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	if i == len(s) {
		return i
	}
	if len(s) >= 8 {
		// The tail is the end of the last eight bytes: no mark there
		// means nothing to escape. (A mark may be false, from a byte
		// to escape before i: the table decides then.)
		j := len(s) - 8
		if escapeMask(load64(s, j), html)>>(8*(i-j)) == 0 {
			return len(s)
		}
	}
	safe := &htmlSafe
	if !html {
		safe = &plainSafe
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !safe[c] {
			return i
		}
	}
	return i
}

// escapeMask sets the high bit of each byte of x that is >= 0x80, below
// 0x20 ((x-n*ones)&^x), or one of the characters to escape
// (hasZero(x^c*ones) marks the bytes equal to c; '"' and '&', '<' and
// '>' differ by one bit, which OR sets in both). A borrow only carries
// upward, so the lowest mark is exact; higher ones may be false.
func escapeMask(x uint64, html bool) uint64 {
	m := x | (x-0x20*ones)&^x | hasZero(x^'\\'*ones)
	if html {
		m |= hasZero((x|0x04*ones)^'&'*ones) | hasZero((x|0x02*ones)^'>'*ones)
	} else {
		m |= hasZero(x ^ '"'*ones)
	}
	return m & highs
}

func hasZero(x uint64) uint64 { return (x - ones) &^ x }

// str encodes s as a JSON string with encoding/json's escapes: the short
// forms \" \\ \b \f \n \r \t, \u00XX for other control characters (and
// <, >, & unless NoHTMLEscape), \u2028 and \u2029 always, and \ufffd for
// each byte that is not valid UTF-8.
func (e *JSONEncoder) str(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = plainRun(s, i, !e.NoHTMLEscape); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf { // one to escape
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendObjects appends l as a JSON array, null when nil, each element
// by enc (a summary or a map).
func appendObjects[T any](e *JSONEncoder, b []byte, l []T, depth int, enc func(*JSONEncoder, []byte, T, int) ([]byte, error)) ([]byte, error) {
	if l == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	var err error
	for i, x := range l {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = enc(e, b, x, depth); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendList appends l as a JSON array, null when nil, each element by el.
func appendList[T any](b []byte, l []T, el func([]byte, T) []byte) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = el(b, x)
	}
	return append(b, ']')
}

// appendMap appends m as a JSON object with its keys sorted, null when
// nil, each value by val. The keys are sorted on e's shared stack.
func appendMap[V any](e *JSONEncoder, b []byte, m map[string]V, val func([]byte, V) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[start:]
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.str(b, k)
		b = append(b, ':')
		b = val(b, m[k])
	}
	e.keys = e.keys[:start]
	return append(b, '}')
}
