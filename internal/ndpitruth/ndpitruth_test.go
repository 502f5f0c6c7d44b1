package ndpitruth

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `Detected protocols:
	OpenVPN              120 28172 1

Protocol statistics:

	1	UDP 192.168.43.18:13680 <-> 139.59.151.137:13680 [proto: 159/OpenVPN][IP: 0/Unknown][Encrypted][Confidence: DPI][DPI packets: 3][cat: VPN/2][62 pkts/11508 bytes <-> 58 pkts/16664 bytes]
	2	UDP 192.168.10.210:5060 -> 192.168.103.40:5060 [VLAN: 142][proto: GRE:100/SIP][IP: 0/Unknown]
	3	TCP [2001:470:1f17:13f:3e97:eff:fe73:4dec]:53234 <-> [2a03:2880:1010:6f03:face:b00c::2]:443 [proto: 91.119/TLS.Facebook][IP: 119/Facebook]
	4	ESP 10.2.3.2:0 <-> 10.3.4.4:0 [proto: 79/IPSec][IP: 0/Unknown]
	5	TCP 10.0.0.227:56865 <-> 10.0.0.149:8008 [proto: 161/CiscoVPN][IP: 0/Unknown][Encrypted][Confidence: Match by port][cat: VPN/2][2 pkts/132 bytes]
	1	 192.168.1.178            	 2      
`

func TestParse(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.out")
	if err := os.WriteFile(p, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	fl, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(fl) != 5 {
		t.Fatalf("%d flows, want 5", len(fl))
	}
	cases := []struct {
		i                       int
		l4, name, encap, master string
		oneWay                  bool
		class                   string
	}{
		{0, "udp", "OpenVPN", "", "OpenVPN", false, "openvpn"},
		{1, "udp", "SIP", "GRE", "SIP", true, NotVPN},
		{2, "tcp", "TLS.Facebook", "", "TLS", false, "tls"},
		{3, "esp", "IPSec", "", "IPSec", false, "ipsec"},
		{4, "tcp", "CiscoVPN", "", "CiscoVPN", false, OtherVPN},
	}
	for _, tc := range cases {
		f := fl[tc.i]
		if f.L4 != tc.l4 || f.Name != tc.name || f.Encap != tc.encap || f.Master() != tc.master || f.OneWay != tc.oneWay || NDPIClass(f) != tc.class {
			t.Errorf("flow %d = %+v (master %s class %s), want %+v", tc.i, f, f.Master(), NDPIClass(f), tc)
		}
	}
	if got, want := fl[2].A.String(), "[2001:470:1f17:13f:3e97:eff:fe73:4dec]:53234"; got != want {
		t.Errorf("A = %s, want %s", got, want)
	}
}

func TestKey(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.2:443"), netip.MustParseAddrPort("10.0.0.1:5000")
	if Key("TCP", a, b) != Key("tcp", b, a) {
		t.Error("key depends on direction")
	}
	if got := Key("esp", netip.MustParseAddrPort("10.0.0.2:7"), b); got != "esp 10.0.0.1:0 10.0.0.2:0" {
		t.Errorf("esp key keeps ports: %s", got)
	}
	if Key("icmpv6", a, b) != Key("icmp", a, b) {
		t.Error("icmpv6 and icmp keys differ")
	}
}

func TestAgree(t *testing.T) {
	cases := []struct {
		ndpi, sdnli string
		want        bool
	}{
		{"openvpn", "openvpn", true},
		{NotVPN, None, true},
		{NotVPN, NotVPN, true},
		{NotVPN, "tls", false},
		{"tls", None, false},
		{Unknown, None, true},
		{OtherVPN, "wireguard", false},
	}
	for _, tc := range cases {
		if got := Agree(tc.ndpi, tc.sdnli); got != tc.want {
			t.Errorf("Agree(%s, %s) = %v, want %v", tc.ndpi, tc.sdnli, got, tc.want)
		}
	}
	if SdnliClass("dns") != NotVPN || SdnliClass("") != None || SdnliClass("6in4") != "6in4" {
		t.Error("sdnli classes")
	}
	c := Confusion{}
	c.Add("tls", "tls")
	c.Add("tls", "tls")
	c.Add("openvpn", None)
	if s := c.String(); !strings.Contains(s, "openvpn") || !strings.Contains(s, "        2") {
		t.Errorf("table:\n%s", s)
	}
}

func TestResultFile(t *testing.T) {
	dir := t.TempDir()
	c := filepath.Join(dir, "ndpi__x.pcap")
	for _, n := range []string{"ndpi__x.pcap", "ndpi__x.pcap.expected.result__x.pcap.out", "ndpi__x.pcap.expected.heur__result__x.pcap.out"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := ResultFile(c), c+".expected.result__x.pcap.out"; got != want {
		t.Errorf("ResultFile = %s, want %s", got, want)
	}
	if got := ResultFile(filepath.Join(dir, "none.pcap")); got != "" {
		t.Errorf("ResultFile of a capture without results = %q", got)
	}
}
