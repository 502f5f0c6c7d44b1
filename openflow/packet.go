package openflow

import (
	"fmt"
	"strconv"
)

// PacketInReason is ofp_packet_in_reason.
type PacketInReason uint8

// Reasons of a PACKET_IN.
const (
	PacketInNoMatch    PacketInReason = 0 // table-miss flow entry
	PacketInAction     PacketInReason = 1 // output to controller
	PacketInInvalidTTL PacketInReason = 2
)

func (r PacketInReason) String() string {
	switch r {
	case PacketInNoMatch:
		return "no_match"
	case PacketInAction:
		return "action"
	case PacketInInvalidTTL:
		return "invalid_ttl"
	}
	return "reason" + strconv.Itoa(int(r))
}

// PacketIn (OFPT_PACKET_IN) hands a packet to the controller. Match holds
// the pipeline fields (in_port at least) of the packet.
type PacketIn struct {
	BufferID uint32
	TotalLen uint16
	Reason   PacketInReason
	TableID  uint8
	Cookie   uint64
	Match    Match
	Data     []byte
}

// InPort returns the in_port field of the packet-in match.
func (m *PacketIn) InPort() (uint32, bool) {
	o, ok := m.Match.Get(OXMInPort)
	if !ok {
		return 0, false
	}
	return uint32(o.Uint()), true
}

// Type implements Message.
func (*PacketIn) Type() MsgType { return TypePacketIn }

// AppendBody implements Message.
func (m *PacketIn) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint16(b, m.TotalLen)
	b = append(b, byte(m.Reason), m.TableID)
	b = be.AppendUint64(b, m.Cookie)
	b, err := m.Match.appendMatch(b)
	if err != nil {
		return b, err
	}
	b = append(b, 0, 0)
	return append(b, m.Data...), nil
}

// UnmarshalBody implements Message.
func (m *PacketIn) UnmarshalBody(body []byte) error {
	if len(body) < 16 {
		return short("packet in", 16, len(body))
	}
	*m = PacketIn{
		BufferID: be.Uint32(body),
		TotalLen: be.Uint16(body[4:]),
		Reason:   PacketInReason(body[6]),
		TableID:  body[7],
		Cookie:   be.Uint64(body[8:]),
	}
	match, n, err := decodeMatch(body[16:])
	if err != nil {
		return err
	}
	rest := body[16+n:]
	if len(rest) < 2 {
		return short("packet in padding", 2, len(rest))
	}
	m.Match = match
	m.Data = cloneBytes(rest[2:])
	return nil
}

// PacketOut (OFPT_PACKET_OUT) injects a packet (Data, or a buffered one)
// and runs Actions on it. InPort is PortController for packets that did
// not come from the switch.
type PacketOut struct {
	BufferID uint32
	InPort   uint32
	Actions  []Action
	Data     []byte
}

// NewPacketOut returns an unbuffered packet-out of data from the
// controller with the given actions.
func NewPacketOut(data []byte, actions ...Action) *PacketOut {
	return &PacketOut{BufferID: NoBuffer, InPort: PortController, Actions: actions, Data: data}
}

// Type implements Message.
func (*PacketOut) Type() MsgType { return TypePacketOut }

// AppendBody implements Message.
func (m *PacketOut) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint32(b, m.InPort)
	at := len(b)
	b = append(b, 0, 0)
	b = appendZeros(b, 6)
	start := len(b)
	b, err := appendActions(b, m.Actions)
	if err != nil {
		return b, err
	}
	if err := putLen16(b, at, start, "packet out actions"); err != nil {
		return b, err
	}
	return append(b, m.Data...), nil
}

// UnmarshalBody implements Message.
func (m *PacketOut) UnmarshalBody(body []byte) error {
	if len(body) < 16 {
		return short("packet out", 16, len(body))
	}
	n := int(be.Uint16(body[8:]))
	if 16+n > len(body) {
		return fmt.Errorf("%w: packet out actions_len %d with %d bytes left", ErrBadLength, n, len(body)-16)
	}
	acts, err := decodeActions(body[16 : 16+n])
	if err != nil {
		return err
	}
	*m = PacketOut{BufferID: be.Uint32(body), InPort: be.Uint32(body[4:]), Actions: acts, Data: cloneBytes(body[16+n:])}
	return nil
}
