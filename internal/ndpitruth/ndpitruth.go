// Package ndpitruth uses nDPI's published classifications as ground
// truth for sdnli's VPN and tunnel detection: it parses nDPI's
// ndpiReader result files (one line per flow, "[proto: N/NAME]"), maps
// both nDPI's protocol names and sdnli's parser names onto a small set
// of comparable classes, matches flows by 5-tuple, and counts the
// agreement in a confusion table.
//
// The result files are the "*.expected.result__*.out" files next to each
// nDPI capture in ../shared/pcaps (nDPI 4.11 development build).
package ndpitruth

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Flow is one flow line of an nDPI result file.
type Flow struct {
	Line     int    // the flow's number in the file
	L4       string // lower case: tcp, udp, icmp, icmpv6, esp, ah, igmp...
	A, B     netip.AddrPort
	OneWay   bool   // "->" rather than "<->"
	Encap    string // "GRE" for "[proto: GRE:100/SIP]": nDPI decapsulated the flow
	ID       string // "91.259"
	Name     string // "TLS.FortiClient"
	Category string // nDPI's category: "VPN", "Web", "Network"...
}

// Master returns the first part of the protocol name ("TLS" of
// "TLS.FortiClient").
func (f Flow) Master() string {
	m, _, _ := strings.Cut(f.Name, ".")
	return m
}

// App returns the second part of the name ("FortiClient"), or "".
func (f Flow) App() string {
	_, a, _ := strings.Cut(f.Name, ".")
	return a
}

// Key is the flow's direction-free 5-tuple (ports dropped for
// transports without ports).
func (f Flow) Key() string { return Key(f.L4, f.A, f.B) }

func (f Flow) String() string {
	arrow := "<->"
	if f.OneWay {
		arrow = "->"
	}
	return fmt.Sprintf("%s %s %s %s", strings.ToUpper(f.L4), f.A, arrow, f.B)
}

// Key builds a direction-free flow key. l4 is lower case ("tcp",
// "udp"...); ports count only for TCP and UDP.
func Key(l4 string, a, b netip.AddrPort) string {
	l4 = strings.ToLower(l4)
	if l4 == "icmpv6" {
		l4 = "icmp"
	}
	if l4 != "tcp" && l4 != "udp" {
		a, b = netip.AddrPortFrom(a.Addr(), 0), netip.AddrPortFrom(b.Addr(), 0)
	}
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	b = netip.AddrPortFrom(b.Addr().Unmap(), b.Port())
	if b.Addr().Less(a.Addr()) || b.Addr() == a.Addr() && b.Port() < a.Port() {
		a, b = b, a
	}
	return l4 + " " + a.String() + " " + b.String()
}

var (
	lineRE  = regexp.MustCompile(`^\s+(\d+)\s+([A-Z0-9]+) (\S+) (<->|->) (\S+) .*?\[proto: ([^\]]+)\]`)
	protoRE = regexp.MustCompile(`^(?:([A-Za-z0-9]+):)?([0-9.]+)/(\S+)$`)
	catRE   = regexp.MustCompile(`\[cat: ([^/\]]+)/`)
)

// Parse reads the flow lines of an nDPI result file.
func Parse(path string) ([]Flow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ndpitruth: %w", err)
	}
	defer f.Close()
	var out []Flow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		a, err1 := netip.ParseAddrPort(m[3])
		b, err2 := netip.ParseAddrPort(m[5])
		p := protoRE.FindStringSubmatch(m[6])
		if err1 != nil || err2 != nil || p == nil {
			return nil, fmt.Errorf("ndpitruth: %s line %d: cannot parse flow %q", path, n, sc.Text())
		}
		var line int
		fmt.Sscan(m[1], &line)
		fl := Flow{Line: line, L4: strings.ToLower(m[2]), A: a, B: b, OneWay: m[4] == "->", Encap: p[1], ID: p[2], Name: p[3]}
		if c := catRE.FindStringSubmatch(sc.Text()); c != nil {
			fl.Category = c[1]
		}
		out = append(out, fl)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ndpitruth: %s: %w", path, err)
	}
	return out, nil
}

// ResultFile returns the default-configuration nDPI result file of a
// capture ("<capture>.expected.result__<name>.out"; files of other
// configurations have another prefix before "result__"), or "" when
// there is none.
func ResultFile(capture string) string {
	m, _ := filepath.Glob(globEscape(capture) + ".expected.result__*.out")
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m)
	return m[0]
}

// globEscape escapes the glob metacharacters of a path.
func globEscape(p string) string {
	r := strings.NewReplacer("*", "\\*", "?", "\\?", "[", "\\[", "\\", "\\\\")
	return r.Replace(p)
}

// Classes both sides are mapped to.
const (
	NotVPN   = "not-vpn"   // a protocol outside sdnli's VPN/tunnel scope (DNS, HTTP, Google...)
	OtherVPN = "other-vpn" // a VPN sdnli has no parser for (SoftEther, tinc, Tailscale...)
	Unknown  = "unknown"   // nDPI could not tell
	None     = "none"      // sdnli: no parser claimed the flow
)

// ndpiClasses maps nDPI master protocol names to classes; names not
// listed are NotVPN. TLS-wrapped mail protocols are TLS on the wire.
var ndpiClasses = map[string]string{
	"PPTP": "pptp", "L2TP": "l2tp", "IPSec": "ipsec", "OpenVPN": "openvpn", "WireGuard": "wireguard",
	"GRE": "gre", "Teredo": "teredo", "SSH": "ssh", "SSTP": "sstp",
	"TLS": "tls", "SMTPS": "tls", "IMAPS": "tls", "POPS": "tls", "FTPS": "tls",
	// Tailscale's data plane is WireGuard (with its disco messages).
	"Tailscale": "wireguard",
	"Softether": OtherVPN, "TINC": OtherVPN, "CloudflareWarp": OtherVPN, "NordVPN": OtherVPN,
	"Unknown": Unknown,
}

// NDPIClass maps an nDPI flow to a class: by its master protocol when
// listed, else OtherVPN for flows nDPI files under its VPN category
// (CiscoVPN, HotspotShield...), else NotVPN.
func NDPIClass(f Flow) string {
	if c, ok := ndpiClasses[f.Master()]; ok {
		return c
	}
	if f.Category == "VPN" {
		return OtherVPN
	}
	return NotVPN
}

// sdnliClasses maps sdnli parser names to classes; names not listed
// (dns, http, smtp, ftp, icmp, pop3, imap...) are NotVPN.
var sdnliClasses = map[string]string{
	"pptp": "pptp", "l2tp": "l2tp", "ipsec": "ipsec", "openvpn": "openvpn", "wireguard": "wireguard", "sstp": "sstp",
	"gre": "gre", "ipip": "ipip", "6in4": "6in4", "teredo": "teredo", "tls": "tls", "ssh": "ssh",
}

// SdnliClass maps an sdnli protocol name ("" for no parser) to a class.
func SdnliClass(proto string) string {
	if proto == "" {
		return None
	}
	if c, ok := sdnliClasses[proto]; ok {
		return c
	}
	return NotVPN
}

// Agree reports whether the two classes agree: equal, or both outside
// the VPN scope (sdnli leaving a not-VPN flow alone counts as agreeing).
func Agree(ndpi, sdnli string) bool {
	if ndpi == sdnli {
		return true
	}
	switch ndpi {
	case NotVPN:
		return sdnli == None
	case Unknown:
		return sdnli == None || sdnli == NotVPN
	}
	return false
}

// Confusion counts flows by nDPI class (rows) and sdnli class (columns).
type Confusion map[string]map[string]int

// Add counts one flow.
func (c Confusion) Add(ndpi, sdnli string) {
	if c[ndpi] == nil {
		c[ndpi] = map[string]int{}
	}
	c[ndpi][sdnli]++
}

// String renders the table with sorted rows and columns.
func (c Confusion) String() string {
	var rows []string
	cols := map[string]bool{}
	for r, m := range c {
		rows = append(rows, r)
		for k := range m {
			cols[k] = true
		}
	}
	sort.Strings(rows)
	var cl []string
	for k := range cols {
		cl = append(cl, k)
	}
	sort.Strings(cl)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-12s", "nDPI \\ sdnli")
	for _, k := range cl {
		fmt.Fprintf(&sb, " %9s", k)
	}
	sb.WriteByte('\n')
	for _, r := range rows {
		fmt.Fprintf(&sb, "%-12s", r)
		for _, k := range cl {
			if n := c[r][k]; n > 0 {
				fmt.Fprintf(&sb, " %9d", n)
			} else {
				fmt.Fprintf(&sb, " %9s", ".")
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
