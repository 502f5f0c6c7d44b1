package openflow

import "fmt"

// AsyncConfig is the body of GET_ASYNC_REPLY and SET_ASYNC: which
// asynchronous messages the switch sends to this controller. Index 0 of
// each mask applies in the master/equal role, index 1 in the slave role.
// Bit n of a mask enables reason n (e.g. 1<<PacketInNoMatch).
type AsyncConfig struct {
	PacketInMask    [2]uint32
	PortStatusMask  [2]uint32
	FlowRemovedMask [2]uint32
}

func (c AsyncConfig) appendBody(b []byte) []byte {
	for _, m := range [][2]uint32{c.PacketInMask, c.PortStatusMask, c.FlowRemovedMask} {
		b = be.AppendUint32(b, m[0])
		b = be.AppendUint32(b, m[1])
	}
	return b
}

func (c *AsyncConfig) decode(t MsgType, body []byte) error {
	if len(body) != 24 {
		return fmt.Errorf("%w: %s body is %d bytes, want 24", ErrBadLength, t, len(body))
	}
	w := func(i int) uint32 { return be.Uint32(body[4*i:]) }
	*c = AsyncConfig{
		PacketInMask:    [2]uint32{w(0), w(1)},
		PortStatusMask:  [2]uint32{w(2), w(3)},
		FlowRemovedMask: [2]uint32{w(4), w(5)},
	}
	return nil
}

// GetAsyncRequest (OFPT_GET_ASYNC_REQUEST).
type GetAsyncRequest struct{}

// Type implements Message.
func (*GetAsyncRequest) Type() MsgType { return TypeGetAsyncRequest }

// AppendBody implements Message.
func (*GetAsyncRequest) AppendBody(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBody implements Message.
func (*GetAsyncRequest) UnmarshalBody(body []byte) error {
	return decodeEmpty(TypeGetAsyncRequest, body)
}

// GetAsyncReply (OFPT_GET_ASYNC_REPLY).
type GetAsyncReply struct{ AsyncConfig }

// Type implements Message.
func (*GetAsyncReply) Type() MsgType { return TypeGetAsyncReply }

// AppendBody implements Message.
func (m *GetAsyncReply) AppendBody(b []byte) ([]byte, error) { return m.appendBody(b), nil }

// UnmarshalBody implements Message.
func (m *GetAsyncReply) UnmarshalBody(body []byte) error {
	return m.decode(TypeGetAsyncReply, body)
}

// SetAsync (OFPT_SET_ASYNC).
type SetAsync struct{ AsyncConfig }

// Type implements Message.
func (*SetAsync) Type() MsgType { return TypeSetAsync }

// AppendBody implements Message.
func (m *SetAsync) AppendBody(b []byte) ([]byte, error) { return m.appendBody(b), nil }

// UnmarshalBody implements Message.
func (m *SetAsync) UnmarshalBody(body []byte) error { return m.decode(TypeSetAsync, body) }
