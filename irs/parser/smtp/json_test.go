package smtp

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// The summary lists that write their own JSON write encoding/json's bytes.
func TestListsJSON(t *testing.T) {
	odd := "<a&b> \"q\" \\ \u2028 \xff\t\x01é"
	rcpts := []RcptStatus{
		{Address: "a@b"},
		{Address: odd, Code: 250, Reply: "2.1.5 " + odd, Accepted: true},
		{Address: "c@d", Code: 550, Reply: "no", Params: map[string]string{"NOTIFY": "NEVER", "ORCPT": odd, "": ""}},
		{Address: "", Params: map[string]string{}},
	}
	for _, l := range [][]RcptStatus{nil, {}, rcpts} {
		parsertest.SameJSON(t, RcptList(l), l)
	}
	aborted := []abortedTx{{MailFrom: "a@b", Reason: "RSET"}, {MailFrom: odd, RcptTo: []string{"x@y", odd, ""}, Reason: odd}, {RcptTo: []string{}}}
	for _, l := range [][]abortedTx{nil, {}, aborted} {
		parsertest.SameJSON(t, abortedList(l), l)
	}
}
