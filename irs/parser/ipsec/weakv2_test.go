package ipsec

import (
	"strconv"
	"testing"
)

// TestWeakV2: every IKEv2 transform that flagWeakBytes would flag, with
// or without a key length, passes the ID test proposalsV2 makes first;
// and the test lets through only IDs whose names are weak.
func TestWeakV2(t *testing.T) {
	for typ := 0; typ <= 6; typ++ {
		for id := 0; id < 1<<12; id++ {
			name := transformNameV2(typ, id)
			if name == "" {
				if weakV2(typ, id) {
					t.Errorf("weakV2(%d, %d) = true for a transform without a name", typ, id)
				}
				continue
			}
			for _, desc := range []string{name, name + "-128", name + "-256"} {
				var f flow
				f.flagWeakBytes([]byte(desc))
				if flagged := len(f.weak) > 0; flagged && !weakV2(typ, id) {
					t.Errorf("%s (type %d, ID %d) is flagged weak; weakV2 = false", desc, typ, id)
				}
			}
			if weakV2(typ, id) && !weakNames[name] {
				t.Errorf("weakV2(%d, %d) = true; name %s is not weak", typ, id, name)
			}
		}
	}
	// the known weak ones are still caught
	for _, tc := range []struct {
		typ, id int
		want    string
	}{{1, 3, "ENCR_3DES"}, {2, 1, "PRF_HMAC_MD5"}, {3, 1, "AUTH_HMAC_MD5_96"}, {4, 2, "MODP_1024"}, {3, 0, "NONE"}} {
		t.Run(strconv.Itoa(tc.typ)+"/"+strconv.Itoa(tc.id), func(t *testing.T) {
			if got := transformNameV2(tc.typ, tc.id); got != tc.want || !weakV2(tc.typ, tc.id) {
				t.Errorf("transform %d/%d = %s, weakV2 %v; want %s, true", tc.typ, tc.id, got, weakV2(tc.typ, tc.id), tc.want)
			}
		})
	}
}
