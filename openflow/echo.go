package openflow

// EchoRequest (OFPT_ECHO_REQUEST) carries arbitrary data to be echoed.
type EchoRequest struct{ Data []byte }

// EchoReply (OFPT_ECHO_REPLY) returns the request's data.
type EchoReply struct{ Data []byte }

// Type implements Message.
func (*EchoRequest) Type() MsgType { return TypeEchoRequest }

// AppendBody implements Message.
func (m *EchoRequest) AppendBody(b []byte) ([]byte, error) { return append(b, m.Data...), nil }

// UnmarshalBody implements Message.
func (m *EchoRequest) UnmarshalBody(body []byte) error { m.Data = cloneBytes(body); return nil }

// Type implements Message.
func (*EchoReply) Type() MsgType { return TypeEchoReply }

// AppendBody implements Message.
func (m *EchoReply) AppendBody(b []byte) ([]byte, error) { return append(b, m.Data...), nil }

// UnmarshalBody implements Message.
func (m *EchoReply) UnmarshalBody(body []byte) error { m.Data = cloneBytes(body); return nil }

// BarrierRequest (OFPT_BARRIER_REQUEST): the switch answers once every
// earlier message has been processed.
type BarrierRequest struct{}

// BarrierReply (OFPT_BARRIER_REPLY).
type BarrierReply struct{}

// Type implements Message.
func (*BarrierRequest) Type() MsgType { return TypeBarrierRequest }

// AppendBody implements Message.
func (*BarrierRequest) AppendBody(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBody implements Message.
func (*BarrierRequest) UnmarshalBody(body []byte) error {
	return decodeEmpty(TypeBarrierRequest, body)
}

// Type implements Message.
func (*BarrierReply) Type() MsgType { return TypeBarrierReply }

// AppendBody implements Message.
func (*BarrierReply) AppendBody(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBody implements Message.
func (*BarrierReply) UnmarshalBody(body []byte) error { return decodeEmpty(TypeBarrierReply, body) }

// Experimenter (OFPT_EXPERIMENTER) is a vendor message with an opaque body.
type Experimenter struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

// Type implements Message.
func (*Experimenter) Type() MsgType { return TypeExperimenter }

// AppendBody implements Message.
func (m *Experimenter) AppendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, m.Experimenter)
	b = be.AppendUint32(b, m.ExpType)
	return append(b, m.Data...), nil
}

// UnmarshalBody implements Message.
func (m *Experimenter) UnmarshalBody(body []byte) error {
	if len(body) < 8 {
		return short("experimenter", 8, len(body))
	}
	m.Experimenter, m.ExpType = be.Uint32(body), be.Uint32(body[4:])
	m.Data = cloneBytes(body[8:])
	return nil
}
