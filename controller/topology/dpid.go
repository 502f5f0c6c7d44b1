package topology

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// DPID is an OpenFlow datapath id. It prints and marshals as 16 hex
// digits, the way `ovs-ofctl show` prints it ("0000000000000001").
type DPID uint64

func (d DPID) String() string { return fmt.Sprintf("%016x", uint64(d)) }

// ParseDPID accepts 16 hex digits with or without colons
// ("00:00:00:00:00:00:00:01"), with a 0x prefix ("0x1"), or plain hex
// digits ("1", "a"), as Mininet and ovs-vsctl spell datapath ids.
func ParseDPID(s string) (DPID, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "dpid:")
	t = strings.TrimPrefix(t, "0x")
	t = strings.ReplaceAll(t, ":", "")
	if t == "" || len(t) > 16 {
		return 0, fmt.Errorf("topology: datapath id %q: want up to 16 hex digits", s)
	}
	v, err := strconv.ParseUint(t, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("topology: datapath id %q: want up to 16 hex digits", s)
	}
	return DPID(v), nil
}

// MarshalText implements encoding.TextMarshaler.
func (d DPID) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *DPID) UnmarshalText(b []byte) error {
	v, err := ParseDPID(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalJSON accepts a string (see ParseDPID) or a JSON number.
func (d *DPID) UnmarshalJSON(b []byte) error {
	var n uint64
	if err := json.Unmarshal(b, &n); err == nil {
		*d = DPID(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("topology: datapath id %s: want a string or a number", b)
	}
	return d.UnmarshalText([]byte(s))
}
