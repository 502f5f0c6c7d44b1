package mail

import (
	"bytes"
	"strings"
	"testing"
)

// TestMimeComplexity counts the lines that begin with "--" and the
// boundary parameters, stopping past the limits.
func TestMimeComplexity(t *testing.T) {
	many := strings.Repeat("--x\r\n", maxParts+50)
	for _, c := range []struct {
		in          string
		parts, nest int
	}{
		{"", 0, 0},
		{"--a", 1, 0},
		{"a--b\r\n--c\n--\n---\nx--\n-\n--", 4, 0},
		{"\n\n--\n--", 2, 0},
		{"Content-Type: multipart/mixed; boundary=a; BOUNDARY=b; bOUNDARY=c; Boundary=d; BoUnDaRy=e", 0, 4},
		{many, maxParts + 1, 0},
		{strings.Repeat("boundary ", maxNesting+10), 0, maxNesting + 1},
		{"UNDARY oUNDARYOUNDARY xUNDARY oUNDAR", 0, 2},
	} {
		parts, nest := mimeComplexity([]byte(c.in))
		if parts != c.parts || nest != c.nest {
			t.Errorf("mimeComplexity(%.40q) = %d parts, %d boundaries; want %d, %d", c.in, parts, nest, c.parts, c.nest)
		}
		if lines := dashLines([]byte(c.in)); lines <= maxParts && lines != parts {
			t.Errorf("%.40q: %d lines begin with --, counted %d", c.in, lines, parts)
		}
	}
}

// dashLines counts the lines that begin with "--", line by line.
func dashLines(b []byte) int {
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("--")) {
			n++
		}
	}
	return n
}
