// Package apiv1 holds the JSON documents of the controller's HTTP API,
// version 1, shared by the server (package api) and the Go client
// (package client). Field names are snake_case; times are RFC 3339 in
// UTC; datapath ids are 16 hex digits ("0000000000000001"); cookies are
// hex strings ("0x5d02000300000000").
//
// Endpoints (all under /api/v1 except /healthz):
//
//	GET  /healthz                 Health
//	GET  /api/v1/switches         SwitchList
//	GET  /api/v1/mirror           MirrorList
//	PUT  /api/v1/mirror/{name}    MirrorUpdate -> MirrorUpdateResult
//	GET  /api/v1/mirror/dynamic   DynamicList
//	POST /api/v1/mirror/dynamic   DynamicRequest -> DynamicFlow (201 new, 200 existing)
//	GET  /api/v1/flows            FlowList
//	GET  /api/v1/topology         Topology
//
// Errors come back as Error with a 4xx or 5xx status: 400 bad request,
// 401 missing or wrong bearer token, 404 unknown protocol, 409 the
// controller is slave, 429 too many dynamic flows, 502 a switch failed
// to confirm (Error.Switches says which).
package apiv1

import "time"

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
	// Switches, for 502, lists every switch's outcome.
	Switches []SwitchResult `json:"switches,omitempty"`
}

// Health is GET /healthz.
type Health struct {
	// Status is "ok", or "degraded" when part of the policy cannot be
	// honoured (Problems says why: an IRS whose switch is not connected,
	// a protocol with no reachable IRS from some switch).
	Status   string    `json:"status"`
	Role     string    `json:"role"` // requested role: master, slave, equal
	Switches int       `json:"switches"`
	Started  time.Time `json:"started"`
	Problems []string  `json:"problems,omitempty"`
}

// Port is a switch port.
type Port struct {
	Number uint32 `json:"number"`
	Name   string `json:"name"`
	HWAddr string `json:"hw_addr"`
	Up     bool   `json:"up"`
	// Kind: "host" (an edge port where traffic is copied), "link" (to
	// another switch), "irs" (an IRS capture port).
	Kind string `json:"kind"`
	// Peer is the far end of a link: "DPID:PORT".
	Peer string `json:"peer,omitempty"`
	// IRS is the IRS name of an irs port.
	IRS string `json:"irs,omitempty"`
}

// FlowCounts summarises a switch's flows in sdnli's cookie space.
type FlowCounts struct {
	Desired   int `json:"desired"`
	Installed int `json:"installed"` // at the last check
	// Repaired counts flows the periodic check added or removed so far.
	Repaired int `json:"repaired"`
}

// Switch is one connected switch.
type Switch struct {
	DPID           string     `json:"dpid"`
	Address        string     `json:"address"`
	Role           string     `json:"role"` // granted by the switch: master, slave, equal
	ConnectedSince time.Time  `json:"connected_since"`
	Manufacturer   string     `json:"manufacturer,omitempty"`
	Software       string     `json:"software,omitempty"`
	Epoch          int        `json:"epoch"` // cookie epoch bit of its flows
	Ports          []Port     `json:"ports"`
	Flows          FlowCounts `json:"flows"`
	LastCheck      *time.Time `json:"last_check,omitempty"`
}

// SwitchList is GET /api/v1/switches.
type SwitchList struct {
	Switches []Switch `json:"switches"`
}

// PortSpec is a transport port.
type PortSpec struct {
	Transport string `json:"transport"` // tcp or udp
	Port      uint16 `json:"port"`
}

// Protocol is one protocol's mirror policy.
type Protocol struct {
	Name    string     `json:"name"`
	Title   string     `json:"title"`
	Enabled bool       `json:"enabled"`
	Ports   []PortSpec `json:"ports"`
	// IPProtocols are matched on the IP protocol alone (GRE 47, ESP 50,
	// ICMP 1 / ICMPv6 58).
	IPProtocols []int `json:"ip_protocols,omitempty"`
	// IRS names the IRS nodes receiving the copies (several: spread by a
	// select group, both directions of a connection to the same one).
	IRS []string `json:"irs"`
	// Cookie is the cookie of its flows (epoch bit clear).
	Cookie string `json:"cookie"`
	// Dynamic: IRS nodes ask for some of its connections (FTP data, GRE).
	Dynamic bool `json:"dynamic"`
}

// MirrorList is GET /api/v1/mirror.
type MirrorList struct {
	Protocols []Protocol `json:"protocols"`
}

// MirrorUpdate is the body of PUT /api/v1/mirror/{protocol}.
type MirrorUpdate struct {
	Enabled *bool `json:"enabled"`
}

// SwitchResult is one switch's outcome of a change.
type SwitchResult struct {
	DPID       string  `json:"dpid"`
	OK         bool    `json:"ok"`
	Error      string  `json:"error,omitempty"`
	Added      int     `json:"added"`   // flows added or replaced
	Removed    int     `json:"removed"` // flows deleted
	DurationMS float64 `json:"duration_ms"`
}

// MirrorUpdateResult is the answer to PUT /api/v1/mirror/{protocol}: the
// protocol's new state and every connected switch's confirmation
// (barrier). The PUT returns when every switch confirmed.
type MirrorUpdateResult struct {
	Protocol Protocol       `json:"protocol"`
	Switches []SwitchResult `json:"switches"`
}

// SwitchFlows compares a switch's desired and installed flows, in
// ovs-ofctl syntax without counters.
type SwitchFlows struct {
	DPID      string   `json:"dpid"`
	Desired   []string `json:"desired"`
	Installed []string `json:"installed"`
	// Missing are desired but not installed; Unexpected are installed in
	// sdnli's cookie space but not desired (the next check repairs both).
	Missing    []string `json:"missing"`
	Unexpected []string `json:"unexpected"`
	Error      string   `json:"error,omitempty"`
}

// FlowList is GET /api/v1/flows.
type FlowList struct {
	Switches []SwitchFlows `json:"switches"`
}

// DynamicRequest is the body of POST /api/v1/mirror/dynamic: mirror the
// connection between A and B, both directions, at every edge, until it
// is idle for IdleTimeoutSeconds.
type DynamicRequest struct {
	// Protocol is the catalogue name whose IRS assignment applies
	// (e.g. "ftp" for an FTP data connection, "pptp" for a GRE call).
	Protocol string `json:"protocol"`
	// Transport: tcp, udp, gre or esp.
	Transport string `json:"transport"`
	// A and B are "ip:port" ("[v6]:port"); port 0 means any. Ports must
	// be 0 for gre and esp.
	A string `json:"a"`
	B string `json:"b"`
	// IdleTimeoutSeconds; 0 takes the controller's default.
	IdleTimeoutSeconds int `json:"idle_timeout_seconds,omitempty"`
}

// DynamicFlow is a live dynamic mirror.
type DynamicFlow struct {
	ID                 uint32    `json:"id"`
	Protocol           string    `json:"protocol"`
	Transport          string    `json:"transport"`
	A                  string    `json:"a"`
	B                  string    `json:"b"`
	IdleTimeoutSeconds int       `json:"idle_timeout_seconds"`
	Cookie             string    `json:"cookie"`
	CreatedAt          time.Time `json:"created_at"`
	// Created is true when the request made a new flow, false when the
	// same connection was already mirrored.
	Created bool `json:"created"`
	// Expired lists switches where the flow already timed out.
	Expired []string `json:"expired,omitempty"`
	// Switches, in the answer to POST, lists each switch's confirmation.
	Switches []SwitchResult `json:"switches,omitempty"`
}

// DynamicList is GET /api/v1/mirror/dynamic.
type DynamicList struct {
	Flows []DynamicFlow `json:"flows"`
	Max   int           `json:"max"`
}

// Endpoint is a switch port in the topology.
type Endpoint struct {
	DPID string `json:"dpid"`
	Port uint32 `json:"port"`
	Name string `json:"name,omitempty"`
}

// Link joins two switch ports (found by LLDP).
type Link struct {
	A Endpoint `json:"a"`
	B Endpoint `json:"b"`
}

// IRSPort is a configured IRS capture port.
type IRSPort struct {
	Name     string   `json:"name"`
	Endpoint Endpoint `json:"endpoint"`
	VLAN     uint16   `json:"vlan"`
	Weight   uint16   `json:"weight"`
	// Resolved: its switch is connected and the port exists.
	Resolved bool `json:"resolved"`
}

// TopologySwitch is a switch in the topology.
type TopologySwitch struct {
	DPID    string `json:"dpid"`
	Address string `json:"address"`
}

// Topology is GET /api/v1/topology.
type Topology struct {
	Switches []TopologySwitch `json:"switches"`
	Links    []Link           `json:"links"`
	IRS      []IRSPort        `json:"irs"`
	// Hosts are the edge ports where traffic enters and is copied.
	Hosts []Endpoint `json:"hosts"`
}
