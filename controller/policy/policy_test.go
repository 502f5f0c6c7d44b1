package policy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/topology"
)

func TestCatalogueNamesMatchTheIRSParsers(t *testing.T) {
	want := []string{"http", "ftp", "smtp", "pop3", "imap", "dns", "icmp", "ssh", "pptp", "l2tp", "ipsec", "openvpn", "wireguard", "sstp"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v; want %v", got, want)
	}
	ids := map[uint16]string{}
	for _, p := range Catalogue() {
		if other, dup := ids[p.ID]; dup || p.ID == 0 {
			t.Errorf("protocol %s: id %d invalid or shared with %s", p.Name, p.ID, other)
		}
		ids[p.ID] = p.Name
		if len(p.Ports) == 0 && len(p.IPProtos) == 0 {
			t.Errorf("protocol %s matches nothing", p.Name)
		}
	}
}

func TestCatalogueDefaults(t *testing.T) {
	tests := []struct {
		name  string
		ports string
		ipp   []IPProto
	}{
		{"http", "tcp/80 tcp/8080", nil},
		{"ftp", "tcp/21", nil},
		{"smtp", "tcp/25 tcp/465 tcp/587", nil},
		{"pop3", "tcp/110 tcp/995", nil},
		{"imap", "tcp/143 tcp/993", nil},
		{"dns", "udp/53 tcp/53", nil},
		{"icmp", "", []IPProto{{1, 58}}},
		{"ssh", "tcp/22", nil},
		{"pptp", "tcp/1723", []IPProto{{47, 47}}},
		{"l2tp", "udp/1701", nil},
		{"ipsec", "udp/500 udp/4500", []IPProto{{50, 50}}},
		{"openvpn", "udp/1194 tcp/1194", nil},
		{"wireguard", "udp/51820", nil},
		{"sstp", "tcp/443", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := Lookup(tc.name)
			if !ok {
				t.Fatalf("Lookup(%q) failed", tc.name)
			}
			var ports []string
			for _, x := range p.Ports {
				ports = append(ports, x.String())
			}
			if got := strings.Join(ports, " "); got != tc.ports {
				t.Errorf("ports %q; want %q", got, tc.ports)
			}
			if !slices.Equal(p.IPProtos, tc.ipp) {
				t.Errorf("ip protocols %v; want %v", p.IPProtos, tc.ipp)
			}
		})
	}
}

func TestParseConfigExample(t *testing.T) {
	c, err := LoadConfig("../../topologies/controller-example.json")
	if err != nil {
		t.Fatalf("example configuration: %v", err)
	}
	if len(c.IRS) == 0 {
		t.Fatalf("example names no IRS")
	}
	if c.IRS[0].VLAN != c.MirrorVLANBase || c.IRS[0].Weight != 1 {
		t.Errorf("irs[0] vlan %d weight %d; want defaults %d and 1", c.IRS[0].VLAN, c.IRS[0].Weight, c.MirrorVLANBase)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{
		"mirror_vlan_base": 3000, "lldp_interval": "2s", "check_interval": 4,
		"irs": [{"name": "a", "dpid": "00:00:00:00:00:00:00:03", "port": "s3-eth3"},
		        {"name": "b", "dpid": 4, "port": 2, "weight": 3, "vlan": 100}],
		"protocols": {"smtp": {"enabled": true, "ports": [{"transport": "tcp", "port": 2525}], "irs": ["b"]},
		              "icmp": {"enabled": false}}
	}`))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if got, want := c.IRS[0], (IRS{Name: "a", DPID: 3, Port: PortRef{Name: "s3-eth3"}, Weight: 1, VLAN: 3000}); got != want {
		t.Errorf("irs a = %+v; want %+v", got, want)
	}
	if got, want := c.IRS[1], (IRS{Name: "b", DPID: 4, Port: PortRef{Number: 2}, Weight: 3, VLAN: 100}); got != want {
		t.Errorf("irs b = %+v; want %+v", got, want)
	}
	if time.Duration(c.LLDPInterval) != 2*time.Second || time.Duration(c.CheckInterval) != 4*time.Second {
		t.Errorf("intervals %v %v; want 2s 4s", time.Duration(c.LLDPInterval), time.Duration(c.CheckInterval))
	}
	if c.Dynamic.MaxFlows != DefaultDynamicMaxFlows || c.Dynamic.DefaultIdleTimeout != DefaultDynamicIdleTimeout {
		t.Errorf("dynamic defaults %+v", c.Dynamic)
	}
	p, err := New(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	smtp, _ := p.Get("smtp")
	if !smtp.Enabled || len(smtp.Ports) != 1 || smtp.Ports[0].Port != 2525 || !slices.Equal(smtp.IRS, []string{"b"}) {
		t.Errorf("smtp state %+v; want enabled on tcp/2525 to b", smtp)
	}
	http, _ := p.Get("HTTP")
	if http.Enabled || !slices.Equal(http.IRS, []string{"a", "b"}) || len(http.Ports) != 2 {
		t.Errorf("http state %+v; want off, catalogue ports, every irs", http)
	}
}

func TestParseConfigErrors(t *testing.T) {
	irs := `"irs": [{"name": "a", "dpid": 1, "port": 1}]`
	tests := []struct {
		name, json, want string
	}{
		{"unknown field", `{"irs_nodes": []}`, `unknown field "irs_nodes"`},
		{"unknown protocol", `{"protocols": {"smtps": {}}}`, "protocols.smtps: unknown protocol"},
		{"upper-case protocol", `{"protocols": {"SMTP": {}}}`, "protocols.SMTP: unknown protocol"},
		{"port zero", `{"protocols": {"ssh": {"ports": [{"transport": "tcp", "port": 0}]}}}`, "protocols.ssh.ports: policy: port 0"},
		{"bad transport", `{"protocols": {"ssh": {"ports": [{"transport": "sctp", "port": 22}]}}}`, `transport "sctp"`},
		{"port of two protocols", `{"protocols": {"ssh": {"ports": [{"transport": "tcp", "port": 25}]}}}`, "protocols.ssh.ports: tcp/25 is already a port of smtp"},
		{"unknown irs", `{` + irs + `, "protocols": {"ssh": {"irs": ["b"]}}}`, `protocols.ssh.irs: no irs named "b"`},
		{"irs twice in a protocol", `{` + irs + `, "protocols": {"ssh": {"irs": ["a", "a"]}}}`, "an irs is named twice"},
		{"irs without dpid", `{"irs": [{"name": "a", "port": 1}]}`, `irs "a": dpid is required`},
		{"irs without port", `{"irs": [{"name": "a", "dpid": 1}]}`, `irs "a": port is required`},
		{"irs reserved port", `{"irs": [{"name": "a", "dpid": 1, "port": 4294967294}]}`, "reserved OpenFlow port"},
		{"irs bad name", `{"irs": [{"name": "a b", "dpid": 1, "port": 1}]}`, `irs[0].name "a b"`},
		{"irs name twice", `{"irs": [{"name": "a", "dpid": 1, "port": 1}, {"name": "a", "dpid": 1, "port": 2}]}`, `irs[1].name "a" appears twice`},
		{"vlan shared", `{"irs": [{"name": "a", "dpid": 1, "port": 1, "vlan": 5}, {"name": "b", "dpid": 1, "port": 2, "vlan": 5}]}`, `mirror vlan 5 already used by irs "a"`},
		{"vlan too high", `{"mirror_vlan_base": 4094, "irs": [{"name": "a", "dpid": 1, "port": 1}, {"name": "b", "dpid": 1, "port": 2}]}`, "mirror vlan 4095 outside 1..4094"},
		{"bad dpid", `{"irs": [{"name": "a", "dpid": "xyz", "port": 1}]}`, `datapath id "xyz"`},
		{"bad duration", `{"lldp_interval": "5 parsecs"}`, `duration "5 parsecs"`},
		{"idle above max", `{"dynamic": {"default_idle_timeout_seconds": 100, "max_idle_timeout_seconds": 50}}`, "exceeds max_idle_timeout_seconds"},
		{"idle above openflow", `{"dynamic": {"max_idle_timeout_seconds": 70000}}`, "exceeds OpenFlow's 65535"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestStoredTogglesWinOverTheFile(t *testing.T) {
	c, err := ParseConfig([]byte(`{"protocols": {"smtp": {"enabled": true}, "http": {"enabled": false}}}`))
	if err != nil {
		t.Fatal(err)
	}
	store := &MemStore{}
	p, err := New(context.Background(), c, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Set(context.Background(), "smtp", false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Set(context.Background(), "http", true, "test"); err != nil {
		t.Fatal(err)
	}
	// A restart: same file, same store.
	p2, err := New(context.Background(), c, store)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"smtp": false, "http": true, "icmp": false} {
		st, _ := p2.Get(name)
		if st.Enabled != want {
			t.Errorf("%s enabled = %v after restart; want %v", name, st.Enabled, want)
		}
	}
}

func TestSetFailures(t *testing.T) {
	store := &MemStore{}
	p, err := New(context.Background(), nil, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Set(context.Background(), "gopher", true, ""); !errors.Is(err, ErrUnknownProtocol) {
		t.Errorf("Set(gopher) error %v; want ErrUnknownProtocol", err)
	}
	store.Err = errors.New("database down")
	if _, err := p.Set(context.Background(), "smtp", true, ""); err == nil {
		t.Errorf("Set with a failing store succeeded")
	}
	if st, _ := p.Get("smtp"); st.Enabled {
		t.Errorf("smtp enabled although storing failed; want the policy unchanged")
	}
	store.Err = errors.New("database down")
	if _, err := New(context.Background(), nil, store); err == nil {
		t.Errorf("New with a failing store succeeded")
	}
}

func TestDPIDForms(t *testing.T) {
	tests := []struct {
		in   string
		want topology.DPID
		ok   bool
	}{
		{"0000000000000001", 1, true},
		{"00:00:00:00:00:00:00:0a", 10, true},
		{"0x1f", 31, true},
		{"dpid:00000000000000ff", 255, true},
		{"", 0, false},
		{"00000000000000001", 0, false},
		{"g", 0, false},
	}
	for _, tc := range tests {
		got, err := topology.ParseDPID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDPID(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
