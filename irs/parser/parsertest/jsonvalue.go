package parsertest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
)

// SameJSON fails t unless v, a parser's summary value that writes its own
// JSON, writes what encoding/json writes for plain (the same value as its
// plain type), with and without HTML escaping, alone and inside a summary.
func SameJSON(t testing.TB, v event.JSONValue, plain any) {
	t.Helper()
	for _, html := range []bool{true, false} {
		e := event.JSONEncoder{NoHTMLEscape: !html}
		for _, wrap := range []bool{false, true} {
			var fast, slow any = v, plain
			if wrap {
				fast, slow = map[string]any{"v": v, "w": 1}, map[string]any{"v": plain, "w": 1}
			}
			got, err := e.Append(nil, fast)
			if err != nil {
				t.Fatalf("JSONEncoder: %v", err)
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(html)
			if err := enc.Encode(slow); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if w := bytes.TrimSuffix(want.Bytes(), []byte("\n")); !bytes.Equal(got, w) {
				t.Errorf("%T (html escaping %v, in a summary %v):\n got %s\nwant %s", v, html, wrap, got, w)
			}
		}
	}
}
