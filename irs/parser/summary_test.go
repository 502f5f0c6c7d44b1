package parser

import (
	"encoding/json"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
)

func TestPutDetectionAndTraffic(t *testing.T) {
	var s event.Fields
	PutDetection(&s, "content+port", 0.95, []string{"a header"})
	PutTraffic(&s, [2]int{3, 4}, [2]int{100, 200}, EndClosed)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bytes_to_client":200,"bytes_to_server":100,"confidence":0.95,"detection":"content+port",` +
		`"end_reason":"` + EndClosed.String() + `","evidence":["a header"],"packets_to_client":4,"packets_to_server":3}`
	if string(b) != want {
		t.Errorf("summary %s\nwant    %s", b, want)
	}
}
