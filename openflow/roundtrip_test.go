package openflow

import (
	"reflect"
	"testing"
)

func TestRoundTripEveryMessage(t *testing.T) {
	seen := map[MsgType]bool{}
	for _, s := range allSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			b, err := Marshal(0x1234, s.msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			h, got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(% x): %v", b, err)
			}
			want := Header{Version: Version, Type: s.msg.Type(), Length: uint16(len(b)), XID: 0x1234}
			if h != want {
				t.Errorf("header = %+v, want %+v", h, want)
			}
			if !reflect.DeepEqual(got, s.msg) {
				t.Errorf("decoded message differs\n got: %#v\nwant: %#v", got, s.msg)
			}
			again, err := Marshal(0x1234, got)
			if err != nil {
				t.Fatalf("re-Marshal: %v", err)
			}
			if string(again) != string(b) {
				t.Errorf("re-encoded bytes differ\n got % x\nwant % x", again, b)
			}
			seen[s.msg.Type()] = true
		})
	}
	for ty := TypeHello; ty <= TypeMeterMod; ty++ {
		if !seen[ty] {
			t.Errorf("no round-trip sample for %s", ty)
		}
	}
}
