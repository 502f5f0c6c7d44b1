package topology

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// LLDP (IEEE 802.1AB) frames the controller sends out of every switch
// port and receives back as packet-ins from the neighbour: the chassis
// ID names the sending switch, the port ID its port.

// LLDPMulticast is the nearest-bridge group address; bridges never
// forward it, so a probe only crosses one link.
var LLDPMulticast = net.HardwareAddr{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// EthTypeLLDP is LLDP's EtherType.
const EthTypeLLDP = 0x88cc

// chassisPrefix marks probes of sdnli: other LLDP speakers (hosts,
// foreign bridges) are ignored.
const chassisPrefix = "sdnli:"

// LLDP TLV types and subtypes used.
const (
	tlvEnd        = 0
	tlvChassisID  = 1
	tlvPortID     = 2
	tlvTTL        = 3
	subtypeLocal  = 7 // locally assigned
	lldpTTL       = 120
	minFrameBytes = 60
)

// ErrNotProbe is returned by DecodeLLDP for frames that are not sdnli's
// LLDP probes.
var ErrNotProbe = errors.New("topology: not an sdnli LLDP probe")

func appendTLV(b []byte, typ int, value []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(typ<<9|len(value)))
	return append(b, value...)
}

// EncodeLLDP returns the probe frame sent out of port of switch dpid.
// src is the port's MAC address (a locally administered one is used when
// it is not 6 bytes).
func EncodeLLDP(dpid DPID, port uint32, src net.HardwareAddr) []byte {
	if len(src) != 6 {
		src = net.HardwareAddr{0x02, 0x5d, 0, 0, 0, 1}
	}
	b := make([]byte, 0, 64)
	b = append(b, LLDPMulticast...)
	b = append(b, src...)
	b = binary.BigEndian.AppendUint16(b, EthTypeLLDP)
	b = appendTLV(b, tlvChassisID, append([]byte{subtypeLocal}, chassisPrefix+dpid.String()...))
	b = appendTLV(b, tlvPortID, append([]byte{subtypeLocal}, strconv.FormatUint(uint64(port), 10)...))
	b = appendTLV(b, tlvTTL, []byte{0, lldpTTL})
	b = appendTLV(b, tlvEnd, nil)
	for len(b) < minFrameBytes {
		b = append(b, 0)
	}
	return b
}

// DecodeLLDP returns the sending switch and port of an sdnli probe.
// Anything else, including malformed or truncated frames, gives an error
// wrapping ErrNotProbe.
func DecodeLLDP(frame []byte) (DPID, uint32, error) {
	if len(frame) < 14 {
		return 0, 0, fmt.Errorf("%w: %d-byte frame", ErrNotProbe, len(frame))
	}
	if binary.BigEndian.Uint16(frame[12:]) != EthTypeLLDP {
		return 0, 0, fmt.Errorf("%w: ethertype 0x%04x", ErrNotProbe, binary.BigEndian.Uint16(frame[12:]))
	}
	b := frame[14:]
	var chassis, port string
	var haveChassis, havePort bool
	for len(b) >= 2 {
		h := binary.BigEndian.Uint16(b)
		typ, n := int(h>>9), int(h&0x1ff)
		b = b[2:]
		if n > len(b) {
			return 0, 0, fmt.Errorf("%w: TLV %d of %d bytes with %d left", ErrNotProbe, typ, n, len(b))
		}
		v := b[:n]
		b = b[n:]
		switch typ {
		case tlvEnd:
			b = nil
		case tlvChassisID:
			if n < 2 || v[0] != subtypeLocal {
				return 0, 0, fmt.Errorf("%w: chassis id subtype", ErrNotProbe)
			}
			chassis, haveChassis = string(v[1:]), true
		case tlvPortID:
			if n < 2 || v[0] != subtypeLocal {
				return 0, 0, fmt.Errorf("%w: port id subtype", ErrNotProbe)
			}
			port, havePort = string(v[1:]), true
		}
	}
	if !haveChassis || !havePort || !strings.HasPrefix(chassis, chassisPrefix) {
		return 0, 0, fmt.Errorf("%w: no sdnli chassis and port id", ErrNotProbe)
	}
	dpid, err := ParseDPID(strings.TrimPrefix(chassis, chassisPrefix))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrNotProbe, err)
	}
	p, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: port id %q", ErrNotProbe, port)
	}
	return dpid, uint32(p), nil
}
