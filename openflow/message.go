package openflow

import "fmt"

// Message is the body of an OpenFlow message: everything after the common
// header. The transaction id and length live in the Header, so the same
// value can be sent many times (Conn assigns a fresh xid each time).
//
// AppendBody appends the wire form of the body to b. UnmarshalBody replaces
// the receiver's contents with the decoded body; it copies what it keeps,
// so body may be reused afterwards, and it never panics.
type Message interface {
	Type() MsgType
	AppendBody(b []byte) ([]byte, error)
	UnmarshalBody(body []byte) error
}

// AppendMessage appends header and body of m with the given xid to b.
// On error b is returned unchanged in length.
func AppendMessage(b []byte, xid uint32, m Message) ([]byte, error) {
	start := len(b)
	b = append(b, Version, byte(m.Type()), 0, 0)
	b = be.AppendUint32(b, xid)
	b, err := m.AppendBody(b)
	if err != nil {
		return b[:start], fmt.Errorf("openflow: encode %s: %w", m.Type(), err)
	}
	if err := putLen16(b, start+2, start, m.Type().String()); err != nil {
		return b[:start], fmt.Errorf("openflow: encode %s: %w", m.Type(), err)
	}
	return b, nil
}

// Marshal returns the wire form of m with the given xid.
func Marshal(xid uint32, m Message) ([]byte, error) {
	return AppendMessage(make([]byte, 0, 64), xid, m)
}

// New returns an empty message of type t, ready for UnmarshalBody.
func New(t MsgType) (Message, error) {
	switch t {
	case TypeHello:
		return new(Hello), nil
	case TypeError:
		return new(Error), nil
	case TypeEchoRequest:
		return new(EchoRequest), nil
	case TypeEchoReply:
		return new(EchoReply), nil
	case TypeExperimenter:
		return new(Experimenter), nil
	case TypeFeaturesRequest:
		return new(FeaturesRequest), nil
	case TypeFeaturesReply:
		return new(FeaturesReply), nil
	case TypeGetConfigRequest:
		return new(GetConfigRequest), nil
	case TypeGetConfigReply:
		return new(GetConfigReply), nil
	case TypeSetConfig:
		return new(SetConfig), nil
	case TypePacketIn:
		return new(PacketIn), nil
	case TypeFlowRemoved:
		return new(FlowRemoved), nil
	case TypePortStatus:
		return new(PortStatus), nil
	case TypePacketOut:
		return new(PacketOut), nil
	case TypeFlowMod:
		return new(FlowMod), nil
	case TypeGroupMod:
		return new(GroupMod), nil
	case TypePortMod:
		return new(PortMod), nil
	case TypeTableMod:
		return new(TableMod), nil
	case TypeMultipartRequest:
		return new(MultipartRequest), nil
	case TypeMultipartReply:
		return new(MultipartReply), nil
	case TypeBarrierRequest:
		return new(BarrierRequest), nil
	case TypeBarrierReply:
		return new(BarrierReply), nil
	case TypeQueueGetConfigRequest:
		return new(QueueGetConfigRequest), nil
	case TypeQueueGetConfigReply:
		return new(QueueGetConfigReply), nil
	case TypeRoleRequest:
		return new(RoleRequest), nil
	case TypeRoleReply:
		return new(RoleReply), nil
	case TypeGetAsyncRequest:
		return new(GetAsyncRequest), nil
	case TypeGetAsyncReply:
		return new(GetAsyncReply), nil
	case TypeSetAsync:
		return new(SetAsync), nil
	case TypeMeterMod:
		return new(MeterMod), nil
	}
	return nil, fmt.Errorf("openflow: %w: message type %d", ErrUnknownType, uint8(t))
}

// Decode decodes exactly one message. data must hold the whole message and
// nothing else (Reader does the framing). HELLO and ERROR are accepted in
// any version, since they are how peers of different versions talk; every
// other message must be OpenFlow 1.3.
func Decode(data []byte) (Header, Message, error) {
	h, err := ParseHeader(data)
	if err != nil {
		return h, nil, err
	}
	if int(h.Length) != len(data) {
		return h, nil, fmt.Errorf("openflow: %w: %s header says %d bytes, have %d", ErrBadLength, h.Type, h.Length, len(data))
	}
	if h.Version != Version && h.Type != TypeHello && h.Type != TypeError {
		return h, nil, fmt.Errorf("openflow: %w: %s in version 0x%02x", ErrBadVersion, h.Type, h.Version)
	}
	m, err := New(h.Type)
	if err != nil {
		return h, nil, err
	}
	if err := m.UnmarshalBody(data[HeaderLen:]); err != nil {
		return h, nil, fmt.Errorf("openflow: decode %s (xid 0x%x): %w", h.Type, h.XID, err)
	}
	return h, m, nil
}

// emptyBody is shared by the messages that carry nothing but a header.
func decodeEmpty(t MsgType, body []byte) error {
	if len(body) != 0 {
		return fmt.Errorf("%w: %s carries %d unexpected bytes", ErrBadLength, t, len(body))
	}
	return nil
}
