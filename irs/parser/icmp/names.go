package icmp

import "strconv"

// ICMPv4 types (RFC 792 and later registrations).
var v4Types = map[uint8]string{0: "echo reply", 3: "destination unreachable", 4: "source quench",
	5: "redirect", 8: "echo request", 9: "router advertisement", 10: "router solicitation",
	11: "time exceeded", 12: "parameter problem", 13: "timestamp", 14: "timestamp reply",
	15: "information request", 16: "information reply", 17: "address mask request",
	18: "address mask reply", 30: "traceroute", 40: "photuris", 42: "extended echo request",
	43: "extended echo reply"}

var v4Unreach = []string{"net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
	"fragmentation needed", "source route failed", "destination network unknown",
	"destination host unknown", "source host isolated", "network administratively prohibited",
	"host administratively prohibited", "network unreachable for TOS", "host unreachable for TOS",
	"communication administratively prohibited", "host precedence violation", "precedence cutoff in effect"}

var v4Redirect = []string{"redirect for network", "redirect for host", "redirect for TOS and network", "redirect for TOS and host"}

var v4TimeExceeded = []string{"TTL exceeded in transit", "fragment reassembly time exceeded"}

var v4ParamProblem = []string{"pointer indicates the error", "missing a required option", "bad length"}

// ICMPv6 types (RFC 4443, 4861 and others).
var v6Types = map[uint8]string{1: "destination unreachable", 2: "packet too big", 3: "time exceeded",
	4: "parameter problem", 128: "echo request", 129: "echo reply", 130: "multicast listener query",
	131: "multicast listener report", 132: "multicast listener done", 133: "router solicitation",
	134: "router advertisement", 135: "neighbor solicitation", 136: "neighbor advertisement",
	137: "redirect", 138: "router renumbering", 139: "node information query",
	140: "node information response", 141: "inverse neighbor discovery solicitation",
	142: "inverse neighbor discovery advertisement", 143: "multicast listener report v2",
	144: "home agent address discovery request", 145: "home agent address discovery reply",
	146: "mobile prefix solicitation", 147: "mobile prefix advertisement", 151: "multicast router advertisement",
	152: "multicast router solicitation", 153: "multicast router termination", 155: "RPL control",
	160: "extended echo request", 161: "extended echo reply"}

var v6Unreach = []string{"no route to destination", "communication administratively prohibited",
	"beyond scope of source address", "address unreachable", "port unreachable",
	"source address failed ingress/egress policy", "reject route to destination",
	"error in source routing header"}

var v6TimeExceeded = []string{"hop limit exceeded in transit", "fragment reassembly time exceeded"}

var v6ParamProblem = []string{"erroneous header field", "unrecognized next header type",
	"unrecognized IPv6 option", "IPv6 first fragment has incomplete header chain"}

// typeName names a type; known is false for unassigned types.
func typeName(v6 bool, t uint8) (string, bool) {
	m := v4Types
	if v6 {
		m = v6Types
	}
	if n, ok := m[t]; ok {
		return n, true
	}
	return "type " + strconv.Itoa(int(t)), false
}

// codeName names a code of the types that define codes.
func codeName(v6 bool, t, c uint8) string {
	var list []string
	switch {
	case !v6 && t == 3:
		list = v4Unreach
	case !v6 && t == 5:
		list = v4Redirect
	case !v6 && t == 11:
		list = v4TimeExceeded
	case !v6 && t == 12:
		list = v4ParamProblem
	case v6 && t == 1:
		list = v6Unreach
	case v6 && t == 3:
		list = v6TimeExceeded
	case v6 && t == 4:
		list = v6ParamProblem
	}
	if int(c) < len(list) {
		return list[c]
	}
	if c == 0 {
		return ""
	}
	return "code " + strconv.Itoa(int(c))
}

// isError reports the types that carry the datagram that caused them.
func isError(v6 bool, t uint8) bool {
	if v6 {
		return t >= 1 && t <= 4
	}
	return t == 3 || t == 4 || t == 5 || t == 11 || t == 12
}

func isEchoRequest(v6 bool, t uint8) bool { return (!v6 && t == 8) || (v6 && t == 128) }
func isEchoReply(v6 bool, t uint8) bool   { return (!v6 && t == 0) || (v6 && t == 129) }

var protoNames = map[uint8]string{1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6",
	47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 89: "ospf", 132: "sctp"}

func protoName(p uint8) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return "proto " + strconv.Itoa(int(p))
}
