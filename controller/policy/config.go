package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/sdnli/sdnli/controller/topology"
)

// Defaults of the configuration file, in one place.
const (
	DefaultMirrorVLANBase        = 4000
	DefaultLLDPInterval          = 5 * time.Second
	DefaultCheckInterval         = 10 * time.Second
	DefaultDynamicMaxFlows       = 1024
	DefaultDynamicIdleTimeout    = 60   // seconds
	DefaultDynamicMaxIdleTimeout = 3600 // seconds
)

// Config is the controller's configuration file (JSON). Every field is
// optional; see topologies/controller-example.json and the controller's
// README for a full example.
type Config struct {
	// MirrorVLANBase is the mirror VLAN of the first IRS; IRS i gets
	// base+i unless it names its own. Copies cross other switches
	// tagged with their IRS's VLAN. Default 4000.
	MirrorVLANBase uint16 `json:"mirror_vlan_base,omitempty"`
	// LLDPInterval is how often LLDP probes go out of every port; links
	// not confirmed for three intervals are dropped. Default "5s".
	LLDPInterval Duration `json:"lldp_interval,omitempty"`
	// CheckInterval is how often each switch's flow table is compared
	// with the desired flows and repaired. Default "10s".
	CheckInterval Duration `json:"check_interval,omitempty"`
	// Dynamic bounds the flows IRS nodes ask for (FTP data, GRE calls).
	Dynamic DynamicConfig `json:"dynamic"`
	// IRS lists the IRS ports that receive the copies.
	IRS []IRS `json:"irs"`
	// Protocols sets, per protocol name, the default on/off state, the
	// ports and the IRS nodes. Protocols not listed keep the catalogue
	// ports, are off, and go to every IRS.
	Protocols map[string]ProtocolConfig `json:"protocols,omitempty"`
}

// DynamicConfig bounds dynamic flows.
type DynamicConfig struct {
	// MaxFlows caps live dynamic mirror requests. Default 1024.
	MaxFlows int `json:"max_flows,omitempty"`
	// DefaultIdleTimeout applies to requests that give none (seconds).
	// Default 60.
	DefaultIdleTimeout int `json:"default_idle_timeout_seconds,omitempty"`
	// MaxIdleTimeout caps what a request may ask for (seconds). Default 3600.
	MaxIdleTimeout int `json:"max_idle_timeout_seconds,omitempty"`
}

// IRS is one IRS node's capture port.
type IRS struct {
	// Name identifies the IRS (as in irs_nodes), e.g. "irs1".
	Name string `json:"name"`
	// DPID is the switch the IRS is attached to.
	DPID topology.DPID `json:"dpid"`
	// Port is the switch port, by name ("s3-eth3") or number (3).
	Port PortRef `json:"port"`
	// Weight is its share when a protocol is spread over several IRS
	// nodes with a select group. Default 1.
	Weight uint16 `json:"weight,omitempty"`
	// VLAN is its mirror VLAN. Default mirror_vlan_base + position.
	VLAN uint16 `json:"vlan,omitempty"`
}

// ProtocolConfig is the file's settings for one protocol.
type ProtocolConfig struct {
	// Enabled is the default state; a toggle stored in MySQL wins.
	Enabled *bool `json:"enabled,omitempty"`
	// Ports replace the catalogue's ports when given.
	Ports []Port `json:"ports,omitempty"`
	// IRS names the IRS nodes receiving the copies; several spread the
	// traffic with a select group. Default: every IRS.
	IRS []string `json:"irs,omitempty"`
}

// PortRef names a switch port by name or number. JSON: "s1-eth3" or 3.
type PortRef struct {
	Number uint32
	Name   string
}

func (r PortRef) String() string {
	if r.Name != "" {
		return r.Name
	}
	return strconv.FormatUint(uint64(r.Number), 10)
}

// IsZero reports an unset reference.
func (r PortRef) IsZero() bool { return r.Number == 0 && r.Name == "" }

// MarshalJSON writes the name, or the number when there is no name.
func (r PortRef) MarshalJSON() ([]byte, error) {
	if r.Name != "" {
		return json.Marshal(r.Name)
	}
	return json.Marshal(r.Number)
}

// UnmarshalJSON accepts a port name or number.
func (r *PortRef) UnmarshalJSON(b []byte) error {
	var n uint32
	if err := json.Unmarshal(b, &n); err == nil {
		*r = PortRef{Number: n}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("port %s: want a port name or number", b)
	}
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		*r = PortRef{Number: uint32(v)}
		return nil
	}
	*r = PortRef{Name: s}
	return nil
}

// Duration is a time.Duration written as "5s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "5s" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err == nil {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: want a string like \"5s\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// LoadConfig reads and validates a configuration file. Unknown fields are
// errors, so a typo cannot silently leave a default in force.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("policy: config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses and validates a configuration, filling defaults.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return &c, nil
}

var irsName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Normalize fills the defaults and validates the configuration. Errors
// name the field at fault.
func (c *Config) Normalize() error {
	if c.MirrorVLANBase == 0 {
		c.MirrorVLANBase = DefaultMirrorVLANBase
	}
	if c.LLDPInterval <= 0 {
		c.LLDPInterval = Duration(DefaultLLDPInterval)
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = Duration(DefaultCheckInterval)
	}
	if c.Dynamic.MaxFlows <= 0 {
		c.Dynamic.MaxFlows = DefaultDynamicMaxFlows
	}
	if c.Dynamic.MaxIdleTimeout <= 0 {
		c.Dynamic.MaxIdleTimeout = DefaultDynamicMaxIdleTimeout
	}
	if c.Dynamic.MaxIdleTimeout > 65535 {
		return fmt.Errorf("dynamic.max_idle_timeout_seconds %d exceeds OpenFlow's 65535", c.Dynamic.MaxIdleTimeout)
	}
	if c.Dynamic.DefaultIdleTimeout <= 0 {
		c.Dynamic.DefaultIdleTimeout = min(DefaultDynamicIdleTimeout, c.Dynamic.MaxIdleTimeout)
	}
	if c.Dynamic.DefaultIdleTimeout > c.Dynamic.MaxIdleTimeout {
		return fmt.Errorf("dynamic.default_idle_timeout_seconds %d exceeds max_idle_timeout_seconds %d", c.Dynamic.DefaultIdleTimeout, c.Dynamic.MaxIdleTimeout)
	}
	names := map[string]bool{}
	vlans := map[uint16]string{}
	for i := range c.IRS {
		r := &c.IRS[i]
		if !irsName.MatchString(r.Name) {
			return fmt.Errorf("irs[%d].name %q: want 1-64 letters, digits, '.', '_' or '-'", i, r.Name)
		}
		if names[r.Name] {
			return fmt.Errorf("irs[%d].name %q appears twice", i, r.Name)
		}
		names[r.Name] = true
		if r.DPID == 0 {
			return fmt.Errorf("irs %q: dpid is required", r.Name)
		}
		if r.Port.IsZero() {
			return fmt.Errorf("irs %q: port is required (name or number)", r.Name)
		}
		if r.Port.Number > 0xffffff00 {
			return fmt.Errorf("irs %q: port %d is a reserved OpenFlow port", r.Name, r.Port.Number)
		}
		if r.Weight == 0 {
			r.Weight = 1
		}
		if r.VLAN == 0 {
			r.VLAN = c.MirrorVLANBase + uint16(i)
		}
		if r.VLAN < 1 || r.VLAN > 4094 {
			return fmt.Errorf("irs %q: mirror vlan %d outside 1..4094", r.Name, r.VLAN)
		}
		if other, dup := vlans[r.VLAN]; dup {
			return fmt.Errorf("irs %q: mirror vlan %d already used by irs %q", r.Name, r.VLAN, other)
		}
		vlans[r.VLAN] = r.Name
	}
	owner := map[Port]string{}
	for _, p := range catalogue {
		pc, ok := c.Protocols[p.Name]
		ports := p.Ports
		if ok && pc.Ports != nil {
			ports = pc.Ports
		}
		for _, port := range ports {
			if err := port.Validate(); err != nil {
				return fmt.Errorf("protocols.%s.ports: %w", p.Name, err)
			}
			if other, dup := owner[port]; dup {
				return fmt.Errorf("protocols.%s.ports: %s is already a port of %s", p.Name, port, other)
			}
			owner[port] = p.Name
		}
		if ok {
			for _, n := range pc.IRS {
				if !names[n] {
					return fmt.Errorf("protocols.%s.irs: no irs named %q", p.Name, n)
				}
			}
			if len(slices.Compact(slices.Sorted(slices.Values(pc.IRS)))) != len(pc.IRS) {
				return fmt.Errorf("protocols.%s.irs: an irs is named twice", p.Name)
			}
		}
	}
	for name := range c.Protocols {
		if _, ok := Lookup(name); !ok || name != toLower(name) {
			return fmt.Errorf("protocols.%s: unknown protocol (known: %v)", name, Names())
		}
	}
	return nil
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// IRSByName returns the IRS named name.
func (c *Config) IRSByName(name string) (IRS, bool) {
	for _, r := range c.IRS {
		if r.Name == name {
			return r, true
		}
	}
	return IRS{}, false
}
