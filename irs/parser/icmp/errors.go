package icmp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// original is what an error message quotes of the datagram that caused it.
type original struct {
	src, dst     netip.Addr
	proto        uint8
	sport, dport uint16 // TCP/UDP/SCTP
	hasPorts     bool
	icmpType     uint8 // ICMP inside ICMP
	icmpCode     uint8
	echoID       uint16
	hasICMP      bool
	hasEchoID    bool
	truncated    bool
}

// icmpError reports one error message.
func (f *flow) icmpError(dir parser.Direction, typ, code uint8, m []byte, ts time.Time) {
	f.errors++
	if f.errors > maxErrors {
		return
	}
	tname, _ := typeName(f.v6, typ)
	cname := codeName(f.v6, typ, code)
	reporter, _ := f.ends(dir)
	s := event.Fields{{Key: "type", Value: typ}, {Key: "code", Value: code}, {Key: "type_name", Value: tname}, {Key: "reporter", Value: reporter.Addr().String()}}
	if cname != "" {
		s.Set("code_name", cname)
	}
	var anoms []string
	if len(m) < 8 {
		anoms = append(anoms, fmt.Sprintf("error message of %d bytes, shorter than 8", len(m)))
	} else {
		rest := m[4:8]
		switch {
		case !f.v6 && typ == 3 && code == 4:
			s.Set("mtu", binary.BigEndian.Uint16(rest[2:]))
		case f.v6 && typ == 2:
			s.Set("mtu", binary.BigEndian.Uint32(rest))
		case !f.v6 && typ == 5:
			s.Set("gateway", netip.AddrFrom4([4]byte(rest)).String())
		case typ == 12 && !f.v6:
			s.Set("pointer", rest[0])
		case typ == 4 && f.v6:
			s.Set("pointer", binary.BigEndian.Uint32(rest))
		}
	}
	subject := tname
	if cname != "" {
		subject += " (" + cname + ")"
	}
	if len(m) > 8 {
		o, err := parseOriginal(m[8:])
		if err != nil {
			anoms = append(anoms, "quoted datagram: "+err.Error())
		} else {
			s.Set("orig_src", o.src.String())
			s.Set("orig_dst", o.dst.String())
			s.Set("orig_proto", protoName(o.proto))
			if o.hasPorts {
				s.Set("orig_sport", o.sport)
				s.Set("orig_dport", o.dport)
				subject += fmt.Sprintf(": %s %s → %s", protoName(o.proto),
					netip.AddrPortFrom(o.src, o.sport), netip.AddrPortFrom(o.dst, o.dport))
			} else {
				subject += fmt.Sprintf(": %s %s → %s", protoName(o.proto), o.src, o.dst)
			}
			if o.hasICMP {
				s.Set("orig_icmp_type", o.icmpType)
				s.Set("orig_icmp_code", o.icmpCode)
				if o.hasEchoID {
					s.Set("orig_echo_id", o.echoID)
				}
			}
			if o.truncated {
				anoms = append(anoms, "quoted datagram too short for its transport header")
			}
		}
	} else {
		anoms = append(anoms, "no quoted datagram")
	}
	f.emit(&event.Event{Type: TypeError, Start: ts, End: ts, Subject: subject, Summary: s, Anomalies: anoms})
}

// parseOriginal decodes the IP header (and the first transport bytes)
// quoted in an error message.
func parseOriginal(b []byte) (original, error) {
	var o original
	if len(b) < 1 {
		return o, fmt.Errorf("empty")
	}
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0xf) * 4
		if ihl < 20 || len(b) < ihl {
			return o, fmt.Errorf("IPv4 header of %d bytes cut to %d", ihl, len(b))
		}
		o.proto = b[9]
		o.src = netip.AddrFrom4([4]byte(b[12:16]))
		o.dst = netip.AddrFrom4([4]byte(b[16:20]))
		if binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
			return o, nil // a later fragment: no transport header
		}
		l4 = b[ihl:]
	case 6:
		if len(b) < 40 {
			return o, fmt.Errorf("IPv6 header cut to %d bytes", len(b))
		}
		o.src = netip.AddrFrom16([16]byte(b[8:24]))
		o.dst = netip.AddrFrom16([16]byte(b[24:40]))
		next := b[6]
		p := b[40:]
		// walk the extension headers (bounded)
		for i := 0; i < 8; i++ {
			var n int
			switch next {
			case 0, 43, 60:
				if len(p) < 2 {
					o.proto, o.truncated = next, true
					return o, nil
				}
				n = (int(p[1]) + 1) * 8
			case 44:
				if len(p) >= 4 && binary.BigEndian.Uint16(p[2:])&0xfff8 != 0 {
					o.proto = p[0]
					return o, nil // a later fragment
				}
				n = 8
			case 51:
				if len(p) < 2 {
					o.proto, o.truncated = next, true
					return o, nil
				}
				n = (int(p[1]) + 2) * 4
			default:
				n = -1
			}
			if n < 0 {
				break
			}
			if len(p) < n {
				o.proto, o.truncated = next, true
				return o, nil
			}
			next, p = p[0], p[n:]
		}
		o.proto = next
		l4 = p
	default:
		return o, fmt.Errorf("IP version %d", b[0]>>4)
	}
	switch o.proto {
	case 6, 17, 132, 136:
		if len(l4) < 4 {
			o.truncated = true
			return o, nil
		}
		o.sport, o.dport, o.hasPorts = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]), true
	case 1, 58:
		if len(l4) < 2 {
			o.truncated = true
			return o, nil
		}
		o.icmpType, o.icmpCode, o.hasICMP = l4[0], l4[1], true
		v6 := o.proto == 58
		if (isEchoRequest(v6, l4[0]) || isEchoReply(v6, l4[0])) && len(l4) >= 6 {
			o.echoID, o.hasEchoID = binary.BigEndian.Uint16(l4[4:]), true
		}
	}
	return o, nil
}
