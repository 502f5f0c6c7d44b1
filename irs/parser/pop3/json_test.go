package pop3

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// The command log writes encoding/json's bytes.
func TestLogListJSON(t *testing.T) {
	odd := "<a&b> \"q\" \\ \u2028 \xff\t\x01é"
	l := []LogEntry{{Command: "USER"}, {Command: "PASS", Arg: "****", Status: "+OK", Reply: odd}, {Command: odd, Status: "none"}, {}}
	for _, v := range [][]LogEntry{nil, {}, l} {
		parsertest.SameJSON(t, LogList(v), v)
	}
}
