package openflow

import (
	"fmt"
	"strconv"
)

// NoBuffer is the buffer id meaning "no buffered packet".
const NoBuffer uint32 = 0xffffffff

// DefaultPriority is OFP_DEFAULT_PRIORITY.
const DefaultPriority uint16 = 0x8000

// FlowModCommand is ofp_flow_mod_command.
type FlowModCommand uint8

// Flow mod commands.
const (
	FlowAdd          FlowModCommand = 0
	FlowModify       FlowModCommand = 1
	FlowModifyStrict FlowModCommand = 2
	FlowDelete       FlowModCommand = 3
	FlowDeleteStrict FlowModCommand = 4
)

func (c FlowModCommand) String() string {
	switch c {
	case FlowAdd:
		return "ADD"
	case FlowModify:
		return "MOD"
	case FlowModifyStrict:
		return "MOD_STRICT"
	case FlowDelete:
		return "DEL"
	case FlowDeleteStrict:
		return "DEL_STRICT"
	}
	return "command" + strconv.Itoa(int(c))
}

// FlowModFlags is ofp_flow_mod_flags.
type FlowModFlags uint16

// Flow mod flags.
const (
	FlowFlagSendFlowRem  FlowModFlags = 1 << 0
	FlowFlagCheckOverlap FlowModFlags = 1 << 1
	FlowFlagResetCounts  FlowModFlags = 1 << 2
	FlowFlagNoPktCounts  FlowModFlags = 1 << 3
	FlowFlagNoBytCounts  FlowModFlags = 1 << 4
)

var flowFlagNames = []string{"send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts"}

// FlowMod (OFPT_FLOW_MOD) adds, changes or removes flows. Start from
// NewFlowMod, which sets the "none/any" defaults that a zero value lacks
// (buffer, out_port, out_group).
type FlowMod struct {
	Cookie       uint64
	CookieMask   uint64 // for modify/delete: which cookie bits must match
	TableID      uint8
	Command      FlowModCommand
	IdleTimeout  uint16
	HardTimeout  uint16
	Priority     uint16
	BufferID     uint32
	OutPort      uint32 // delete filter; PortAny for none
	OutGroup     uint32 // delete filter; GroupAny for none
	Flags        FlowModFlags
	Match        Match
	Instructions []Instruction
}

// NewFlowMod returns a flow mod for cmd with buffer NoBuffer, out_port
// PortAny, out_group GroupAny and the default priority.
func NewFlowMod(cmd FlowModCommand) *FlowMod {
	return &FlowMod{Command: cmd, Priority: DefaultPriority, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny}
}

// Type implements Message.
func (*FlowMod) Type() MsgType { return TypeFlowMod }

// AppendBody implements Message.
func (m *FlowMod) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint64(b, m.CookieMask)
	b = append(b, m.TableID, byte(m.Command))
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint16(b, m.Priority)
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint32(b, m.OutPort)
	b = be.AppendUint32(b, m.OutGroup)
	b = be.AppendUint16(b, uint16(m.Flags))
	b = append(b, 0, 0)
	b, err := m.Match.appendMatch(b)
	if err != nil {
		return b, err
	}
	return appendInstructions(b, m.Instructions)
}

// UnmarshalBody implements Message.
func (m *FlowMod) UnmarshalBody(body []byte) error {
	if len(body) < 40 {
		return short("flow mod", 40, len(body))
	}
	*m = FlowMod{
		Cookie:      be.Uint64(body),
		CookieMask:  be.Uint64(body[8:]),
		TableID:     body[16],
		Command:     FlowModCommand(body[17]),
		IdleTimeout: be.Uint16(body[18:]),
		HardTimeout: be.Uint16(body[20:]),
		Priority:    be.Uint16(body[22:]),
		BufferID:    be.Uint32(body[24:]),
		OutPort:     be.Uint32(body[28:]),
		OutGroup:    be.Uint32(body[32:]),
		Flags:       FlowModFlags(be.Uint16(body[36:])),
	}
	match, n, err := decodeMatch(body[40:])
	if err != nil {
		return err
	}
	m.Match = match
	m.Instructions, err = decodeInstructions(body[40+n:])
	return err
}

// FlowRemovedReason is ofp_flow_removed_reason.
type FlowRemovedReason uint8

// Reasons of a FLOW_REMOVED.
const (
	FlowRemovedIdleTimeout FlowRemovedReason = 0
	FlowRemovedHardTimeout FlowRemovedReason = 1
	FlowRemovedDelete      FlowRemovedReason = 2
	FlowRemovedGroupDelete FlowRemovedReason = 3
)

func (r FlowRemovedReason) String() string {
	switch r {
	case FlowRemovedIdleTimeout:
		return "idle"
	case FlowRemovedHardTimeout:
		return "hard"
	case FlowRemovedDelete:
		return "delete"
	case FlowRemovedGroupDelete:
		return "group_delete"
	}
	return "reason" + strconv.Itoa(int(r))
}

// FlowRemoved (OFPT_FLOW_REMOVED) reports a flow that expired or was
// deleted (for flows added with FlowFlagSendFlowRem).
type FlowRemoved struct {
	Cookie       uint64
	Priority     uint16
	Reason       FlowRemovedReason
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	IdleTimeout  uint16
	HardTimeout  uint16
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
}

// Type implements Message.
func (*FlowRemoved) Type() MsgType { return TypeFlowRemoved }

// AppendBody implements Message.
func (m *FlowRemoved) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint16(b, m.Priority)
	b = append(b, byte(m.Reason), m.TableID)
	b = be.AppendUint32(b, m.DurationSec)
	b = be.AppendUint32(b, m.DurationNsec)
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint64(b, m.PacketCount)
	b = be.AppendUint64(b, m.ByteCount)
	return m.Match.appendMatch(b)
}

// UnmarshalBody implements Message.
func (m *FlowRemoved) UnmarshalBody(body []byte) error {
	if len(body) < 40 {
		return short("flow removed", 40, len(body))
	}
	*m = FlowRemoved{
		Cookie:       be.Uint64(body),
		Priority:     be.Uint16(body[8:]),
		Reason:       FlowRemovedReason(body[10]),
		TableID:      body[11],
		DurationSec:  be.Uint32(body[12:]),
		DurationNsec: be.Uint32(body[16:]),
		IdleTimeout:  be.Uint16(body[20:]),
		HardTimeout:  be.Uint16(body[22:]),
		PacketCount:  be.Uint64(body[24:]),
		ByteCount:    be.Uint64(body[32:]),
	}
	match, n, err := decodeMatch(body[40:])
	if err != nil {
		return err
	}
	if 40+n != len(body) {
		return fmt.Errorf("%w: %d bytes after the match", ErrBadLength, len(body)-40-n)
	}
	m.Match = match
	return nil
}
