package openflow

import (
	"fmt"
)

// FeaturesRequest (OFPT_FEATURES_REQUEST) asks for the datapath id.
type FeaturesRequest struct{}

// Type implements Message.
func (*FeaturesRequest) Type() MsgType { return TypeFeaturesRequest }

// AppendBody implements Message.
func (*FeaturesRequest) AppendBody(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBody implements Message.
func (*FeaturesRequest) UnmarshalBody(body []byte) error {
	return decodeEmpty(TypeFeaturesRequest, body)
}

// Capabilities is ofp_capabilities.
type Capabilities uint32

// Switch capability flags.
const (
	CapFlowStats   Capabilities = 1 << 0
	CapTableStats  Capabilities = 1 << 1
	CapPortStats   Capabilities = 1 << 2
	CapGroupStats  Capabilities = 1 << 3
	CapIPReasm     Capabilities = 1 << 5
	CapQueueStats  Capabilities = 1 << 6
	CapPortBlocked Capabilities = 1 << 8
)

func (c Capabilities) String() string {
	return flagString(uint32(c), []string{"FLOW_STATS", "TABLE_STATS", "PORT_STATS", "GROUP_STATS", "",
		"IP_REASM", "QUEUE_STATS", "", "PORT_BLOCKED"})
}

// FeaturesReply (OFPT_FEATURES_REPLY) identifies the switch. OpenFlow 1.3
// moved the port list to the PORT_DESC multipart.
type FeaturesReply struct {
	DatapathID   uint64
	NBuffers     uint32
	NTables      uint8
	AuxiliaryID  uint8
	Capabilities Capabilities
	Reserved     uint32
}

// Type implements Message.
func (*FeaturesReply) Type() MsgType { return TypeFeaturesReply }

// AppendBody implements Message.
func (m *FeaturesReply) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint64(b, m.DatapathID)
	b = be.AppendUint32(b, m.NBuffers)
	b = append(b, m.NTables, m.AuxiliaryID, 0, 0)
	b = be.AppendUint32(b, uint32(m.Capabilities))
	return be.AppendUint32(b, m.Reserved), nil
}

// UnmarshalBody implements Message.
func (m *FeaturesReply) UnmarshalBody(body []byte) error {
	if len(body) != 24 {
		return fmt.Errorf("%w: features reply body is %d bytes, want 24", ErrBadLength, len(body))
	}
	*m = FeaturesReply{
		DatapathID:   be.Uint64(body),
		NBuffers:     be.Uint32(body[8:]),
		NTables:      body[12],
		AuxiliaryID:  body[13],
		Capabilities: Capabilities(be.Uint32(body[16:])),
		Reserved:     be.Uint32(body[20:]),
	}
	return nil
}

// ConfigFlags is ofp_config_flags: how IP fragments are handled.
type ConfigFlags uint16

// Fragment handling.
const (
	FragNormal ConfigFlags = 0
	FragDrop   ConfigFlags = 1
	FragReasm  ConfigFlags = 2
	FragMask   ConfigFlags = 3
)

func (f ConfigFlags) String() string {
	switch f & FragMask {
	case FragNormal:
		return "frags=normal"
	case FragDrop:
		return "frags=drop"
	case FragReasm:
		return "frags=reassemble"
	}
	return fmt.Sprintf("frags=0x%x", uint16(f))
}

// SwitchConfig is the body shared by GET_CONFIG_REPLY and SET_CONFIG.
type SwitchConfig struct {
	Flags       ConfigFlags
	MissSendLen uint16 // bytes of a table-miss packet sent to the controller
}

func (c SwitchConfig) appendBody(b []byte) []byte {
	b = be.AppendUint16(b, uint16(c.Flags))
	return be.AppendUint16(b, c.MissSendLen)
}

func (c *SwitchConfig) decode(t MsgType, body []byte) error {
	if len(body) != 4 {
		return fmt.Errorf("%w: %s body is %d bytes, want 4", ErrBadLength, t, len(body))
	}
	*c = SwitchConfig{Flags: ConfigFlags(be.Uint16(body)), MissSendLen: be.Uint16(body[2:])}
	return nil
}

// GetConfigRequest (OFPT_GET_CONFIG_REQUEST).
type GetConfigRequest struct{}

// Type implements Message.
func (*GetConfigRequest) Type() MsgType { return TypeGetConfigRequest }

// AppendBody implements Message.
func (*GetConfigRequest) AppendBody(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBody implements Message.
func (*GetConfigRequest) UnmarshalBody(body []byte) error {
	return decodeEmpty(TypeGetConfigRequest, body)
}

// GetConfigReply (OFPT_GET_CONFIG_REPLY).
type GetConfigReply struct{ SwitchConfig }

// Type implements Message.
func (*GetConfigReply) Type() MsgType { return TypeGetConfigReply }

// AppendBody implements Message.
func (m *GetConfigReply) AppendBody(b []byte) ([]byte, error) { return m.appendBody(b), nil }

// UnmarshalBody implements Message.
func (m *GetConfigReply) UnmarshalBody(body []byte) error {
	return m.decode(TypeGetConfigReply, body)
}

// SetConfig (OFPT_SET_CONFIG).
type SetConfig struct{ SwitchConfig }

// Type implements Message.
func (*SetConfig) Type() MsgType { return TypeSetConfig }

// AppendBody implements Message.
func (m *SetConfig) AppendBody(b []byte) ([]byte, error) { return m.appendBody(b), nil }

// UnmarshalBody implements Message.
func (m *SetConfig) UnmarshalBody(body []byte) error { return m.decode(TypeSetConfig, body) }
