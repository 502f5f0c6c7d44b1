package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Fields is an event's summary: the protocol's own fields, each a name
// and a value, in the order the parser set them. Every event has one, so
// it is a slice rather than a map: making, filling and walking a map per
// event cost the pipeline some 4% of its time on the mixed capture.
//
// Set appends without looking for the name: a later Set of a name
// overrides an earlier one for Get, Lookup, Map and the JSON encoding,
// which drop the earlier value. Its JSON is the object encoding/json
// writes for the same fields in a map[string]any: keys sorted, null for
// a nil Fields.
type Fields []Field

// Field is one summary field.
type Field struct {
	Key   string
	Value any
}

// Set sets k to v.
func (f *Fields) Set(k string, v any) { *f = append(*f, Field{k, v}) }

// Get returns k's value, nil when k is not set.
func (f Fields) Get(k string) any {
	v, _ := f.Lookup(k)
	return v
}

// Lookup returns k's value and whether k is set.
func (f Fields) Lookup(k string) (any, bool) {
	for i := len(f) - 1; i >= 0; i-- { // the last Set wins
		if f[i].Key == k {
			return f[i].Value, true
		}
	}
	return nil, false
}

// Delete unsets k.
func (f *Fields) Delete(k string) {
	out := (*f)[:0]
	for _, x := range *f {
		if x.Key != k {
			out = append(out, x)
		}
	}
	clear((*f)[len(out):]) // drop the references to the values
	*f = out
}

// Map returns the fields as a map, each name with its last value; nil
// for a nil Fields.
func (f Fields) Map() map[string]any {
	if f == nil {
		return nil
	}
	m := make(map[string]any, len(f))
	for _, x := range f {
		m[x.Key] = x.Value
	}
	return m
}

// String renders f as fmt renders f.Map(): keys sorted, later values
// overriding earlier ones.
func (f Fields) String() string { return fmt.Sprint(f.Map()) }

// MarshalJSON writes f as encoding/json writes f.Map(). It does not
// escape <, > and &: encoding/json escapes them in what MarshalJSON
// returns when its own setting says so.
func (f Fields) MarshalJSON() ([]byte, error) {
	e := JSONEncoder{NoHTMLEscape: true}
	b, err := e.summary(nil, f, 0)
	if err == nil {
		return b, nil
	}
	// errSlow: encoding/json's own answer, for the map it would have been
	return e.marshal(f.Map())
}

// UnmarshalJSON reads a JSON object into f, its members in their order,
// each value as a json.Decoder with UseNumber gives it: numbers are kept
// as json.Number, so that a large integer survives a round trip through
// the spool exactly. null gives nil.
func (f *Fields) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*f = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil {
		return err
	} else if t != json.Delim('{') {
		return fmt.Errorf("event: summary is %v, not a JSON object", t)
	}
	out := Fields{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, ok := t.(string)
		if !ok {
			return errors.New("event: summary key is not a string")
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("event: summary field %q: %w", k, err)
		}
		out.Set(k, v)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	*f = out
	return nil
}

// FieldsOf returns m's fields in the order of their keys; nil for a nil m.
func FieldsOf(m map[string]any) Fields {
	if m == nil {
		return nil
	}
	f := make(Fields, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		f = append(f, Field{k, m[k]})
	}
	return f
}
