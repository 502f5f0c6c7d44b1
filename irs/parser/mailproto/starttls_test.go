package mailproto

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
)

func TestInjection(t *testing.T) {
	tests := []struct {
		name   string
		verb   string
		pieces []string
		want   string // "" : nothing reported
	}{
		{"nothing", "STARTTLS", nil, ""},
		{"one reply", "STARTTLS", []string{"250 OK\r\n"},
			`STARTTLS response injection: the server sent 8 bytes after accepting STARTTLS, before the client's TLS handshake: "250 OK\r\n"`},
		{"pieces, long", "STLS", []string{"+OK a\r\n", strings.Repeat("x", 100)},
			`STLS response injection: the server sent 107 bytes after accepting STLS, before the client's TLS handshake: "+OK a\r\n` + strings.Repeat("x", 33) + `"...`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var j Injection
			for _, p := range tc.pieces {
				j.Add([]byte(p))
			}
			if j.Seen() != (tc.want != "") {
				t.Errorf("Seen() = %v; want %v", j.Seen(), tc.want != "")
			}
			if j.Buffered() > MaxInjected {
				t.Errorf("Buffered() = %d; want at most %d", j.Buffered(), MaxInjected)
			}
			var a parser.Anomalies
			j.Report(&a, tc.verb)
			got := fmt.Sprint(a.Out())
			if want := fmt.Sprint(nilIfEmpty(tc.want)); got != want {
				t.Errorf("reported %s; want %s", got, want)
			}
			if j.Seen() || j.Buffered() != 0 {
				t.Errorf("after Report: Seen %v, Buffered %d; want false, 0", j.Seen(), j.Buffered())
			}
		})
	}
}

func nilIfEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
