package openflow

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Port numbers: physical ports are 1..PortMax; the rest are reserved.
const (
	PortMax        uint32 = 0xffffff00
	PortInPort     uint32 = 0xfffffff8
	PortTable      uint32 = 0xfffffff9
	PortNormal     uint32 = 0xfffffffa
	PortFlood      uint32 = 0xfffffffb
	PortAll        uint32 = 0xfffffffc
	PortController uint32 = 0xfffffffd
	PortLocal      uint32 = 0xfffffffe
	PortAny        uint32 = 0xffffffff
)

var reservedPortNames = map[uint32]string{
	PortInPort: "IN_PORT", PortTable: "TABLE", PortNormal: "NORMAL", PortFlood: "FLOOD",
	PortAll: "ALL", PortController: "CONTROLLER", PortLocal: "LOCAL", PortAny: "ANY",
}

// PortName returns a port number as ovs-ofctl prints it: the number, or
// the name of a reserved port (LOCAL, CONTROLLER, ...).
func PortName(p uint32) string {
	if s, ok := reservedPortNames[p]; ok {
		return s
	}
	return strconv.FormatUint(uint64(p), 10)
}

// PortConfig is ofp_port_config.
type PortConfig uint32

// Port configuration flags.
const (
	PortConfigDown       PortConfig = 1 << 0
	PortConfigNoRecv     PortConfig = 1 << 2
	PortConfigNoFwd      PortConfig = 1 << 5
	PortConfigNoPacketIn PortConfig = 1 << 6
)

// PortState is ofp_port_state.
type PortState uint32

// Port state flags.
const (
	PortStateLinkDown PortState = 1 << 0
	PortStateBlocked  PortState = 1 << 1
	PortStateLive     PortState = 1 << 2
)

// PortFeatures is ofp_port_features.
type PortFeatures uint32

// Port feature flags.
const (
	PortFeature10MbHD    PortFeatures = 1 << 0
	PortFeature10MbFD    PortFeatures = 1 << 1
	PortFeature100MbHD   PortFeatures = 1 << 2
	PortFeature100MbFD   PortFeatures = 1 << 3
	PortFeature1GbHD     PortFeatures = 1 << 4
	PortFeature1GbFD     PortFeatures = 1 << 5
	PortFeature10GbFD    PortFeatures = 1 << 6
	PortFeature40GbFD    PortFeatures = 1 << 7
	PortFeature100GbFD   PortFeatures = 1 << 8
	PortFeature1TbFD     PortFeatures = 1 << 9
	PortFeatureOther     PortFeatures = 1 << 10
	PortFeatureCopper    PortFeatures = 1 << 11
	PortFeatureFiber     PortFeatures = 1 << 12
	PortFeatureAutoneg   PortFeatures = 1 << 13
	PortFeaturePause     PortFeatures = 1 << 14
	PortFeaturePauseAsym PortFeatures = 1 << 15
)

func flagString(v uint32, names []string) string {
	var parts []string
	for i, n := range names {
		if v&(1<<i) != 0 && n != "" {
			parts = append(parts, n)
			v &^= 1 << i
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", v))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

func (c PortConfig) String() string {
	return flagString(uint32(c), []string{"PORT_DOWN", "", "NO_RECV", "", "", "NO_FWD", "NO_PACKET_IN"})
}

func (s PortState) String() string {
	return flagString(uint32(s), []string{"LINK_DOWN", "BLOCKED", "LIVE"})
}

func (f PortFeatures) String() string {
	return flagString(uint32(f), []string{"10MB_HD", "10MB_FD", "100MB_HD", "100MB_FD", "1GB_HD", "1GB_FD",
		"10GB_FD", "40GB_FD", "100GB_FD", "1TB_FD", "OTHER", "COPPER", "FIBER", "AUTO_NEG", "PAUSE", "PAUSE_ASYM"})
}

// portLen is sizeof(struct ofp_port).
const portLen = 64

// Port is ofp_port: the description of one switch port.
type Port struct {
	PortNo     uint32
	HWAddr     net.HardwareAddr
	Name       string
	Config     PortConfig
	State      PortState
	Curr       PortFeatures
	Advertised PortFeatures
	Supported  PortFeatures
	Peer       PortFeatures
	CurrSpeed  uint32 // kbps
	MaxSpeed   uint32 // kbps
}

func appendMAC(b []byte, a net.HardwareAddr, what string) ([]byte, error) {
	switch len(a) {
	case 0:
		return appendZeros(b, 6), nil
	case 6:
		return append(b, a...), nil
	}
	return b, fmt.Errorf("%w: %s %v is not a 6-byte MAC address", ErrInvalid, what, a)
}

// AppendBinary appends the 64-byte ofp_port.
func (p *Port) AppendBinary(b []byte) ([]byte, error) {
	b, err := p.appendPort(b)
	if err != nil {
		return b, fmt.Errorf("openflow: %w", err)
	}
	return b, nil
}

func (p *Port) appendPort(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, p.PortNo)
	b = pad4(b)
	b, err := appendMAC(b, p.HWAddr, "port hw_addr")
	if err != nil {
		return b, err
	}
	b = append(b, 0, 0)
	if b, err = appendCString(b, p.Name, 16, "port name"); err != nil {
		return b, err
	}
	for _, v := range []uint32{uint32(p.Config), uint32(p.State), uint32(p.Curr), uint32(p.Advertised),
		uint32(p.Supported), uint32(p.Peer), p.CurrSpeed, p.MaxSpeed} {
		b = be.AppendUint32(b, v)
	}
	return b, nil
}

func decodePort(b []byte) (Port, error) {
	if len(b) < portLen {
		return Port{}, short("port", portLen, len(b))
	}
	return Port{
		PortNo:     be.Uint32(b),
		HWAddr:     net.HardwareAddr(cloneBytes(b[8:14])),
		Name:       cString(b[16:32]),
		Config:     PortConfig(be.Uint32(b[32:])),
		State:      PortState(be.Uint32(b[36:])),
		Curr:       PortFeatures(be.Uint32(b[40:])),
		Advertised: PortFeatures(be.Uint32(b[44:])),
		Supported:  PortFeatures(be.Uint32(b[48:])),
		Peer:       PortFeatures(be.Uint32(b[52:])),
		CurrSpeed:  be.Uint32(b[56:]),
		MaxSpeed:   be.Uint32(b[60:]),
	}, nil
}

func (p Port) String() string {
	return fmt.Sprintf("%s(%s): addr:%s config:%s state:%s speed:%d/%d kbps",
		PortName(p.PortNo), p.Name, p.HWAddr, p.Config, p.State, p.CurrSpeed, p.MaxSpeed)
}

// PortReason is ofp_port_reason.
type PortReason uint8

// Reasons of a PORT_STATUS.
const (
	PortReasonAdd    PortReason = 0
	PortReasonDelete PortReason = 1
	PortReasonModify PortReason = 2
)

func (r PortReason) String() string {
	switch r {
	case PortReasonAdd:
		return "ADD"
	case PortReasonDelete:
		return "DELETE"
	case PortReasonModify:
		return "MODIFY"
	}
	return "reason" + strconv.Itoa(int(r))
}

// PortStatus (OFPT_PORT_STATUS) reports a port added, removed or changed.
type PortStatus struct {
	Reason PortReason
	Port   Port
}

// Type implements Message.
func (*PortStatus) Type() MsgType { return TypePortStatus }

// AppendBody implements Message.
func (m *PortStatus) AppendBody(b []byte) ([]byte, error) {
	b = append(b, byte(m.Reason))
	b = appendZeros(b, 7)
	return m.Port.appendPort(b)
}

// UnmarshalBody implements Message.
func (m *PortStatus) UnmarshalBody(body []byte) error {
	if len(body) != 8+portLen {
		return fmt.Errorf("%w: port status body is %d bytes, want %d", ErrBadLength, len(body), 8+portLen)
	}
	p, err := decodePort(body[8:])
	*m = PortStatus{Reason: PortReason(body[0]), Port: p}
	return err
}

// PortMod (OFPT_PORT_MOD) changes a port's configuration bits under Mask.
type PortMod struct {
	PortNo    uint32
	HWAddr    net.HardwareAddr // must match the port's
	Config    PortConfig
	Mask      PortConfig
	Advertise PortFeatures // 0: leave unchanged
}

// Type implements Message.
func (*PortMod) Type() MsgType { return TypePortMod }

// AppendBody implements Message.
func (m *PortMod) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, m.PortNo)
	b = pad4(b)
	b, err := appendMAC(b, m.HWAddr, "port_mod hw_addr")
	if err != nil {
		return b, err
	}
	b = append(b, 0, 0)
	b = be.AppendUint32(b, uint32(m.Config))
	b = be.AppendUint32(b, uint32(m.Mask))
	b = be.AppendUint32(b, uint32(m.Advertise))
	return pad4(b), nil
}

// UnmarshalBody implements Message.
func (m *PortMod) UnmarshalBody(body []byte) error {
	if len(body) != 32 {
		return fmt.Errorf("%w: port mod body is %d bytes, want 32", ErrBadLength, len(body))
	}
	*m = PortMod{
		PortNo:    be.Uint32(body),
		HWAddr:    net.HardwareAddr(cloneBytes(body[8:14])),
		Config:    PortConfig(be.Uint32(body[16:])),
		Mask:      PortConfig(be.Uint32(body[20:])),
		Advertise: PortFeatures(be.Uint32(body[24:])),
	}
	return nil
}
