package golden

import (
	"fmt"
	"strings"
)

// diff returns the first differing lines of two texts with a little
// context: enough to see what changed without a diff tool.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	from := max(0, i-3)
	for j := from; j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	for j := i; j < min(len(w), i+8); j++ {
		fmt.Fprintf(&b, "- %s\n", w[j])
	}
	for j := i; j < min(len(g), i+8); j++ {
		fmt.Fprintf(&b, "+ %s\n", g[j])
	}
	fmt.Fprintf(&b, "(first difference at line %d; want %d lines, got %d)", i+1, len(w), len(g))
	return b.String()
}
