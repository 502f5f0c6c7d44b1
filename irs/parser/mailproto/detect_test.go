package mailproto

import (
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
)

func TestFirstLine(t *testing.T) {
	tests := []struct {
		in       string
		max      int
		want     string
		complete bool
	}{
		{"220 mx ESMTP\r\nrest", 512, "220 mx ESMTP", true},
		{"+OK\n", 512, "+OK", true},
		{"+O", 512, "+O", false},
		{"a\r", 512, "a", false},
		{strings.Repeat("x", 20), 8, "xxxxxxxx", true},
		{"", 512, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, complete := FirstLine([]byte(tc.in), tc.max)
			if string(got) != tc.want || complete != tc.complete {
				t.Errorf("FirstLine(%q, %d) = %q, %v; want %q, %v", tc.in, tc.max, got, complete, tc.want, tc.complete)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	const (
		c2s = parser.ClientToServer
		s2c = parser.ServerToClient
	)
	tests := []struct {
		name  string
		shape Shape
		hint  bool
		dir   parser.Direction
		want  parser.Verdict
	}{
		{"server line from the server", ShapeServer, false, s2c, parser.Yes},
		{"server line from the client side", ShapeServer, false, c2s, parser.YesReversed},
		{"client line from the client", ShapeClient, false, c2s, parser.Yes},
		{"client line from the server side", ShapeClient, false, s2c, parser.YesReversed},
		{"need more", ShapeNeedMore, true, s2c, parser.NeedMore},
		{"vague server, no port hint", ShapeServerVague, false, s2c, parser.NeedMore},
		{"vague server on the port", ShapeServerVague, true, s2c, parser.Yes},
		{"vague server on the port, reversed", ShapeServerVague, true, c2s, parser.YesReversed},
		{"vague client, no port hint", ShapeClientVague, false, c2s, parser.NeedMore},
		{"vague client on the port", ShapeClientVague, true, c2s, parser.Yes},
		{"nothing, no port hint", ShapeNone, false, c2s, parser.No},
		{"nothing on the port", ShapeNone, true, c2s, parser.NeedMore},
		{"text on the port", ShapeText, true, s2c, parser.NeedMore},
		{"text, no port hint", ShapeText, false, s2c, parser.No},
		{"foreign on the port", ShapeForeign, true, s2c, parser.No},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verdict(tc.shape, tc.hint, tc.dir); got != tc.want {
				t.Errorf("Verdict = %v; want %v", got, tc.want)
			}
		})
	}
}

func TestCommandsShape(t *testing.T) {
	cmds := Commands{
		Strong:      []string{"EHLO ", "MAIL FROM:"},
		StrongWords: []string{"DATA"},
		Vague:       []string{"USER "},
		VagueWords:  []string{"QUIT"},
	}
	tests := []struct {
		line     string
		complete bool
		want     Shape
	}{
		{"ehlo mx.example", true, ShapeClient},
		{"MAIL FROM:<a@b>", false, ShapeClient},
		{"DATA", true, ShapeClient},
		{"USER bob", true, ShapeClientVague},
		{"quit", true, ShapeClientVague},
		{"DATA x", true, ShapeNone},
		{"QUITS", true, ShapeNone},
		{"EHL", false, ShapeNeedMore},
		{"MAIL F", false, ShapeNeedMore},
		{"", false, ShapeNeedMore},
		{"EHL", true, ShapeNone},
		{"HELLO", false, ShapeNone},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			if got := cmds.Shape([]byte(tc.line), tc.complete); got != tc.want {
				t.Errorf("Shape(%q, complete %v) = %d; want %d", tc.line, tc.complete, got, tc.want)
			}
		})
	}
}
