// Package policy holds the controller's mirror policy: the catalogue of
// protocols sdnli can mirror (names shared with the IRS parsers, default
// ports, IP protocols), the configuration file that sets defaults and IRS
// nodes, the runtime on/off state of each protocol, and its persistence
// in MySQL (table mirror_policy) so that a restart keeps the toggles.
//
// The policy says what to copy and to which IRS; package flows turns it
// into OpenFlow flows.
package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Transport is an L4 protocol a port refers to.
type Transport string

// Transports with ports.
const (
	TCP Transport = "tcp"
	UDP Transport = "udp"
)

// IP protocol numbers the catalogue uses.
const (
	IPProtoICMP   uint8 = 1
	IPProtoTCP    uint8 = 6
	IPProtoUDP    uint8 = 17
	IPProtoGRE    uint8 = 47
	IPProtoESP    uint8 = 50
	IPProtoICMPv6 uint8 = 58
)

// Number returns the IP protocol number of t.
func (t Transport) Number() uint8 {
	if t == UDP {
		return IPProtoUDP
	}
	return IPProtoTCP
}

// Port is one transport port of a protocol, e.g. tcp/25.
type Port struct {
	Transport Transport `json:"transport"`
	Port      uint16    `json:"port"`
}

func (p Port) String() string { return fmt.Sprintf("%s/%d", p.Transport, p.Port) }

// Validate checks the transport and that the port is not 0.
func (p Port) Validate() error {
	if p.Transport != TCP && p.Transport != UDP {
		return fmt.Errorf("policy: port %d: transport %q is neither tcp nor udp", p.Port, p.Transport)
	}
	if p.Port == 0 {
		return fmt.Errorf("policy: port 0 (%s) cannot be mirrored", p.Transport)
	}
	return nil
}

// IPProto is a protocol carried directly over IP (no ports), matched in
// IPv4 (V4) and IPv6 (V6) with possibly different numbers: ICMP is 1 in
// IPv4 and 58 in IPv6; GRE and ESP are the same in both.
type IPProto struct {
	V4 uint8 `json:"ipv4"`
	V6 uint8 `json:"ipv6"`
}

// Protocol is one entry of the catalogue.
type Protocol struct {
	// Name is the IRS parser's name (smtp, http, ...).
	Name string
	// ID is the protocol's number in flow cookies; it never changes.
	ID uint16
	// Title is a human description.
	Title string
	// Ports are the default ports, overridable in the configuration file.
	Ports []Port
	// IPProtos are matched on the IP protocol alone (GRE, ESP, ICMP).
	IPProtos []IPProto
	// Dynamic tells that some of its connections (FTP data, PPTP GRE
	// calls) are only found by the IRS and mirrored on its request.
	Dynamic bool
}

func tcp(ports ...uint16) []Port { return portsOf(TCP, ports) }
func udp(ports ...uint16) []Port { return portsOf(UDP, ports) }

func portsOf(t Transport, ports []uint16) []Port {
	out := make([]Port, len(ports))
	for i, p := range ports {
		out[i] = Port{t, p}
	}
	return out
}

// catalogue is every protocol sdnli mirrors. IDs are part of the cookie
// layout: append new protocols with new IDs, never renumber.
var catalogue = []Protocol{
	{Name: "http", ID: 1, Title: "HTTP", Ports: tcp(80, 8080)},
	{Name: "ftp", ID: 2, Title: "FTP (control; data connections on request)", Ports: tcp(21), Dynamic: true},
	{Name: "smtp", ID: 3, Title: "SMTP", Ports: tcp(25, 465, 587)},
	{Name: "pop3", ID: 4, Title: "POP3", Ports: tcp(110, 995)},
	{Name: "imap", ID: 5, Title: "IMAP", Ports: tcp(143, 993)},
	{Name: "dns", ID: 6, Title: "DNS", Ports: append(udp(53), tcp(53)...)},
	{Name: "icmp", ID: 7, Title: "ICMP and ICMPv6", IPProtos: []IPProto{{V4: IPProtoICMP, V6: IPProtoICMPv6}}},
	{Name: "ssh", ID: 8, Title: "SSH", Ports: tcp(22)},
	{Name: "pptp", ID: 9, Title: "PPTP (control and GRE)", Ports: tcp(1723), IPProtos: []IPProto{{V4: IPProtoGRE, V6: IPProtoGRE}}, Dynamic: true},
	{Name: "l2tp", ID: 10, Title: "L2TP", Ports: udp(1701)},
	{Name: "ipsec", ID: 11, Title: "IKE and IPsec (ESP)", Ports: udp(500, 4500), IPProtos: []IPProto{{V4: IPProtoESP, V6: IPProtoESP}}},
	{Name: "openvpn", ID: 12, Title: "OpenVPN", Ports: append(udp(1194), tcp(1194)...)},
	{Name: "wireguard", ID: 13, Title: "WireGuard", Ports: udp(51820)},
	{Name: "sstp", ID: 14, Title: "SSTP", Ports: tcp(443)},
}

// Catalogue returns every known protocol, ordered by ID.
func Catalogue() []Protocol {
	out := make([]Protocol, len(catalogue))
	for i, p := range catalogue {
		out[i] = p.clone()
	}
	return out
}

// Lookup returns the catalogue entry named name (case-insensitive).
func Lookup(name string) (Protocol, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, p := range catalogue {
		if p.Name == name {
			return p.clone(), true
		}
	}
	return Protocol{}, false
}

// ByID returns the catalogue entry with cookie number id.
func ByID(id uint16) (Protocol, bool) {
	for _, p := range catalogue {
		if p.ID == id {
			return p.clone(), true
		}
	}
	return Protocol{}, false
}

// Names returns the protocol names in catalogue order.
func Names() []string {
	out := make([]string, len(catalogue))
	for i, p := range catalogue {
		out[i] = p.Name
	}
	return out
}

func (p Protocol) clone() Protocol {
	p.Ports = slices.Clone(p.Ports)
	p.IPProtos = slices.Clone(p.IPProtos)
	return p
}
