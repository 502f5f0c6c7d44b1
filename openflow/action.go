package openflow

import (
	"fmt"
	"strconv"
)

// ActionType is ofp_action_type.
type ActionType uint16

// Action types of OpenFlow 1.3.
const (
	ActOutput       ActionType = 0
	ActCopyTTLOut   ActionType = 11
	ActCopyTTLIn    ActionType = 12
	ActSetMPLSTTL   ActionType = 15
	ActDecMPLSTTL   ActionType = 16
	ActPushVLAN     ActionType = 17
	ActPopVLAN      ActionType = 18
	ActPushMPLS     ActionType = 19
	ActPopMPLS      ActionType = 20
	ActSetQueue     ActionType = 21
	ActGroup        ActionType = 22
	ActSetNWTTL     ActionType = 23
	ActDecNWTTL     ActionType = 24
	ActSetField     ActionType = 25
	ActPushPBB      ActionType = 26
	ActPopPBB       ActionType = 27
	ActExperimenter ActionType = 0xffff
)

var actionTypeNames = map[ActionType]string{
	ActOutput: "OFPAT_OUTPUT", ActCopyTTLOut: "OFPAT_COPY_TTL_OUT", ActCopyTTLIn: "OFPAT_COPY_TTL_IN",
	ActSetMPLSTTL: "OFPAT_SET_MPLS_TTL", ActDecMPLSTTL: "OFPAT_DEC_MPLS_TTL", ActPushVLAN: "OFPAT_PUSH_VLAN",
	ActPopVLAN: "OFPAT_POP_VLAN", ActPushMPLS: "OFPAT_PUSH_MPLS", ActPopMPLS: "OFPAT_POP_MPLS",
	ActSetQueue: "OFPAT_SET_QUEUE", ActGroup: "OFPAT_GROUP", ActSetNWTTL: "OFPAT_SET_NW_TTL",
	ActDecNWTTL: "OFPAT_DEC_NW_TTL", ActSetField: "OFPAT_SET_FIELD", ActPushPBB: "OFPAT_PUSH_PBB",
	ActPopPBB: "OFPAT_POP_PBB", ActExperimenter: "OFPAT_EXPERIMENTER",
}

func (t ActionType) String() string {
	if s, ok := actionTypeNames[t]; ok {
		return s
	}
	return "OFPAT_" + strconv.Itoa(int(t))
}

// Controller max_len values for an output to PortController.
const (
	ControllerMaxLen   uint16 = 0xffe5 // OFPCML_MAX: the most the switch may buffer-and-cut
	ControllerNoBuffer uint16 = 0xffff // OFPCML_NO_BUFFER: send the whole packet
)

// Action is one OpenFlow action. The concrete types are the Action*
// structs of this package; String gives ovs-ofctl syntax.
type Action interface {
	ActionType() ActionType
	String() string
	appendBody(b []byte) ([]byte, error) // after type and length
}

// ActionOutput (OFPAT_OUTPUT) sends the packet to a port. MaxLen only
// matters for PortController.
type ActionOutput struct {
	Port   uint32
	MaxLen uint16
}

// ActionCopyTTLOut (OFPAT_COPY_TTL_OUT) copies the TTL outwards.
type ActionCopyTTLOut struct{}

// ActionCopyTTLIn (OFPAT_COPY_TTL_IN) copies the TTL inwards.
type ActionCopyTTLIn struct{}

// ActionSetMPLSTTL (OFPAT_SET_MPLS_TTL).
type ActionSetMPLSTTL struct{ TTL uint8 }

// ActionDecMPLSTTL (OFPAT_DEC_MPLS_TTL).
type ActionDecMPLSTTL struct{}

// ActionPushVLAN (OFPAT_PUSH_VLAN) pushes a tag with EtherType 0x8100 or 0x88a8.
type ActionPushVLAN struct{ EtherType uint16 }

// ActionPopVLAN (OFPAT_POP_VLAN) removes the outer VLAN tag.
type ActionPopVLAN struct{}

// ActionPushMPLS (OFPAT_PUSH_MPLS) pushes an MPLS shim (0x8847 or 0x8848).
type ActionPushMPLS struct{ EtherType uint16 }

// ActionPopMPLS (OFPAT_POP_MPLS) pops the outer MPLS shim; EtherType is
// the payload's.
type ActionPopMPLS struct{ EtherType uint16 }

// ActionSetQueue (OFPAT_SET_QUEUE).
type ActionSetQueue struct{ QueueID uint32 }

// ActionGroup (OFPAT_GROUP) processes the packet through a group.
type ActionGroup struct{ GroupID uint32 }

// ActionSetNWTTL (OFPAT_SET_NW_TTL).
type ActionSetNWTTL struct{ TTL uint8 }

// ActionDecNWTTL (OFPAT_DEC_NW_TTL).
type ActionDecNWTTL struct{}

// ActionSetField (OFPAT_SET_FIELD) rewrites one header field. The field
// must be unmasked in OpenFlow 1.3.
type ActionSetField struct{ Field OXM }

// ActionPushPBB (OFPAT_PUSH_PBB).
type ActionPushPBB struct{ EtherType uint16 }

// ActionPopPBB (OFPAT_POP_PBB).
type ActionPopPBB struct{}

// ActionExperimenter (OFPAT_EXPERIMENTER) carries an opaque body; Data is
// the body after the experimenter id, padding included.
type ActionExperimenter struct {
	Experimenter uint32
	Data         []byte
}

// Output sends to port. For PortController it asks for the whole packet
// (max_len OFPCML_NO_BUFFER); use ActionOutput for another max_len.
func Output(port uint32) ActionOutput {
	if port == PortController {
		return ActionOutput{Port: port, MaxLen: ControllerNoBuffer}
	}
	return ActionOutput{Port: port}
}

// CopyTTLOut returns OFPAT_COPY_TTL_OUT.
func CopyTTLOut() ActionCopyTTLOut { return ActionCopyTTLOut{} }

// CopyTTLIn returns OFPAT_COPY_TTL_IN.
func CopyTTLIn() ActionCopyTTLIn { return ActionCopyTTLIn{} }

// SetMPLSTTL returns OFPAT_SET_MPLS_TTL.
func SetMPLSTTL(ttl uint8) ActionSetMPLSTTL { return ActionSetMPLSTTL{ttl} }

// DecMPLSTTL returns OFPAT_DEC_MPLS_TTL.
func DecMPLSTTL() ActionDecMPLSTTL { return ActionDecMPLSTTL{} }

// PushVLAN returns OFPAT_PUSH_VLAN with the tag's EtherType (EthTypeVLAN or EthTypeQinQ).
func PushVLAN(etherType uint16) ActionPushVLAN { return ActionPushVLAN{etherType} }

// PopVLAN returns OFPAT_POP_VLAN.
func PopVLAN() ActionPopVLAN { return ActionPopVLAN{} }

// PushMPLS returns OFPAT_PUSH_MPLS.
func PushMPLS(etherType uint16) ActionPushMPLS { return ActionPushMPLS{etherType} }

// PopMPLS returns OFPAT_POP_MPLS; etherType is the payload's.
func PopMPLS(etherType uint16) ActionPopMPLS { return ActionPopMPLS{etherType} }

// SetQueue returns OFPAT_SET_QUEUE.
func SetQueue(id uint32) ActionSetQueue { return ActionSetQueue{id} }

// Group returns OFPAT_GROUP.
func Group(id uint32) ActionGroup { return ActionGroup{id} }

// SetNWTTL returns OFPAT_SET_NW_TTL.
func SetNWTTL(ttl uint8) ActionSetNWTTL { return ActionSetNWTTL{ttl} }

// DecNWTTL returns OFPAT_DEC_NW_TTL.
func DecNWTTL() ActionDecNWTTL { return ActionDecNWTTL{} }

// SetField returns OFPAT_SET_FIELD for an unmasked field, e.g.
// SetField(VLANVID(100)).
func SetField(f OXM) ActionSetField { return ActionSetField{f} }

// PushPBB returns OFPAT_PUSH_PBB.
func PushPBB(etherType uint16) ActionPushPBB { return ActionPushPBB{etherType} }

// PopPBB returns OFPAT_POP_PBB.
func PopPBB() ActionPopPBB { return ActionPopPBB{} }

// ActionType implementations.
func (ActionOutput) ActionType() ActionType       { return ActOutput }
func (ActionCopyTTLOut) ActionType() ActionType   { return ActCopyTTLOut }
func (ActionCopyTTLIn) ActionType() ActionType    { return ActCopyTTLIn }
func (ActionSetMPLSTTL) ActionType() ActionType   { return ActSetMPLSTTL }
func (ActionDecMPLSTTL) ActionType() ActionType   { return ActDecMPLSTTL }
func (ActionPushVLAN) ActionType() ActionType     { return ActPushVLAN }
func (ActionPopVLAN) ActionType() ActionType      { return ActPopVLAN }
func (ActionPushMPLS) ActionType() ActionType     { return ActPushMPLS }
func (ActionPopMPLS) ActionType() ActionType      { return ActPopMPLS }
func (ActionSetQueue) ActionType() ActionType     { return ActSetQueue }
func (ActionGroup) ActionType() ActionType        { return ActGroup }
func (ActionSetNWTTL) ActionType() ActionType     { return ActSetNWTTL }
func (ActionDecNWTTL) ActionType() ActionType     { return ActDecNWTTL }
func (ActionSetField) ActionType() ActionType     { return ActSetField }
func (ActionPushPBB) ActionType() ActionType      { return ActPushPBB }
func (ActionPopPBB) ActionType() ActionType       { return ActPopPBB }
func (ActionExperimenter) ActionType() ActionType { return ActExperimenter }

func pad4(b []byte) []byte { return append(b, 0, 0, 0, 0) }

func ttlBody(b []byte, ttl uint8) []byte { return append(b, ttl, 0, 0, 0) }

func etherBody(b []byte, et uint16) []byte { return append(be.AppendUint16(b, et), 0, 0) }

func (a ActionOutput) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, a.Port)
	b = be.AppendUint16(b, a.MaxLen)
	return appendZeros(b, 6), nil
}
func (ActionCopyTTLOut) appendBody(b []byte) ([]byte, error)   { return pad4(b), nil }
func (ActionCopyTTLIn) appendBody(b []byte) ([]byte, error)    { return pad4(b), nil }
func (a ActionSetMPLSTTL) appendBody(b []byte) ([]byte, error) { return ttlBody(b, a.TTL), nil }
func (ActionDecMPLSTTL) appendBody(b []byte) ([]byte, error)   { return pad4(b), nil }
func (a ActionPushVLAN) appendBody(b []byte) ([]byte, error)   { return etherBody(b, a.EtherType), nil }
func (ActionPopVLAN) appendBody(b []byte) ([]byte, error)      { return pad4(b), nil }
func (a ActionPushMPLS) appendBody(b []byte) ([]byte, error)   { return etherBody(b, a.EtherType), nil }
func (a ActionPopMPLS) appendBody(b []byte) ([]byte, error)    { return etherBody(b, a.EtherType), nil }
func (a ActionSetQueue) appendBody(b []byte) ([]byte, error) {
	return be.AppendUint32(b, a.QueueID), nil
}
func (a ActionGroup) appendBody(b []byte) ([]byte, error)    { return be.AppendUint32(b, a.GroupID), nil }
func (a ActionSetNWTTL) appendBody(b []byte) ([]byte, error) { return ttlBody(b, a.TTL), nil }
func (ActionDecNWTTL) appendBody(b []byte) ([]byte, error)   { return pad4(b), nil }
func (a ActionPushPBB) appendBody(b []byte) ([]byte, error)  { return etherBody(b, a.EtherType), nil }
func (ActionPopPBB) appendBody(b []byte) ([]byte, error)     { return pad4(b), nil }

func (a ActionSetField) appendBody(b []byte) ([]byte, error) {
	if a.Field.Mask != nil {
		return b, fmt.Errorf("%w: set_field %s: OpenFlow 1.3 has no masked set-field", ErrInvalid, a.Field.name())
	}
	return a.Field.appendTLV(b)
}

func (a ActionExperimenter) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, a.Experimenter)
	return append(b, a.Data...), nil
}

// AppendActions appends an action list; each action is padded to 8 bytes.
func AppendActions(b []byte, actions []Action) ([]byte, error) {
	b, err := appendActions(b, actions)
	if err != nil {
		return b, fmt.Errorf("openflow: %w", err)
	}
	return b, nil
}

func appendActions(b []byte, actions []Action) ([]byte, error) {
	for i, a := range actions {
		if a == nil {
			return b, fmt.Errorf("%w: action %d is nil", ErrInvalid, i)
		}
		start := len(b)
		b = be.AppendUint16(b, uint16(a.ActionType()))
		b = append(b, 0, 0)
		var err error
		if b, err = a.appendBody(b); err != nil {
			return b[:start], fmt.Errorf("action %d (%s): %w", i, a.ActionType(), err)
		}
		b = appendZeros(b, pad8(len(b)-start)-(len(b)-start))
		if err := putLen16(b, start+2, start, "action"); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

// DecodeActions decodes a whole action list.
func DecodeActions(b []byte) ([]Action, error) {
	a, err := decodeActions(b)
	if err != nil {
		return nil, fmt.Errorf("openflow: %w", err)
	}
	return a, nil
}

func decodeActions(b []byte) ([]Action, error) {
	if len(b) == 0 {
		return nil, nil
	}
	// Every action takes at least 8 bytes: that bounds the slice.
	out := make([]Action, 0, min(len(b)/8, 64))
	for i := 0; len(b) > 0; i++ {
		if len(b) < 4 {
			return nil, short(fmt.Sprintf("action %d header", i), 4, len(b))
		}
		t, n := ActionType(be.Uint16(b)), int(be.Uint16(b[2:]))
		if n < 8 || n%8 != 0 || n > len(b) {
			return nil, fmt.Errorf("%w: action %d (%s) length %d with %d bytes left", ErrBadLength, i, t, n, len(b))
		}
		a, err := decodeAction(t, b[4:n])
		if err != nil {
			return nil, fmt.Errorf("action %d (%s): %w", i, t, err)
		}
		out = append(out, a)
		b = b[n:]
	}
	return out, nil
}

func decodeAction(t ActionType, body []byte) (Action, error) {
	fixed := func(n int) error {
		if len(body) != n {
			return fmt.Errorf("%w: body is %d bytes, want %d", ErrBadLength, len(body), n)
		}
		return nil
	}
	switch t {
	case ActOutput:
		if err := fixed(12); err != nil {
			return nil, err
		}
		return ActionOutput{Port: be.Uint32(body), MaxLen: be.Uint16(body[4:])}, nil
	case ActCopyTTLOut, ActCopyTTLIn, ActDecMPLSTTL, ActPopVLAN, ActDecNWTTL, ActPopPBB:
		if err := fixed(4); err != nil {
			return nil, err
		}
		switch t {
		case ActCopyTTLOut:
			return ActionCopyTTLOut{}, nil
		case ActCopyTTLIn:
			return ActionCopyTTLIn{}, nil
		case ActDecMPLSTTL:
			return ActionDecMPLSTTL{}, nil
		case ActPopVLAN:
			return ActionPopVLAN{}, nil
		case ActDecNWTTL:
			return ActionDecNWTTL{}, nil
		}
		return ActionPopPBB{}, nil
	case ActSetMPLSTTL, ActSetNWTTL:
		if err := fixed(4); err != nil {
			return nil, err
		}
		if t == ActSetMPLSTTL {
			return ActionSetMPLSTTL{body[0]}, nil
		}
		return ActionSetNWTTL{body[0]}, nil
	case ActPushVLAN, ActPushMPLS, ActPopMPLS, ActPushPBB:
		if err := fixed(4); err != nil {
			return nil, err
		}
		et := be.Uint16(body)
		switch t {
		case ActPushVLAN:
			return ActionPushVLAN{et}, nil
		case ActPushMPLS:
			return ActionPushMPLS{et}, nil
		case ActPopMPLS:
			return ActionPopMPLS{et}, nil
		}
		return ActionPushPBB{et}, nil
	case ActSetQueue, ActGroup:
		if err := fixed(4); err != nil {
			return nil, err
		}
		if t == ActSetQueue {
			return ActionSetQueue{be.Uint32(body)}, nil
		}
		return ActionGroup{be.Uint32(body)}, nil
	case ActSetField:
		o, used, err := parseOXM(body)
		if err != nil {
			return nil, err
		}
		if pad8(4+used) != 4+len(body) {
			return nil, fmt.Errorf("%w: set_field of %d bytes holds a %d-byte field", ErrBadLength, 4+len(body), used)
		}
		o.Value, o.Mask = cloneBytes(o.Value), cloneBytes(o.Mask)
		return ActionSetField{o}, nil
	case ActExperimenter:
		if len(body) < 4 {
			return nil, short("experimenter action", 8, 4+len(body))
		}
		return ActionExperimenter{Experimenter: be.Uint32(body), Data: cloneBytes(body[4:])}, nil
	}
	return nil, fmt.Errorf("%w: action type %d", ErrUnknownType, uint16(t))
}
