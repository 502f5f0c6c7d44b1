package openflow

import (
	"fmt"
)

// QueueAll selects every queue in queue requests.
const QueueAll uint32 = 0xffffffff

// QueuePropertyType is ofp_queue_properties.
type QueuePropertyType uint16

// Queue property types.
const (
	QueuePropMinRate      QueuePropertyType = 1
	QueuePropMaxRate      QueuePropertyType = 2
	QueuePropExperimenter QueuePropertyType = 0xffff
)

// QueueProperty is one property of a queue. Rate is in 1/10 of a percent
// for min/max rate properties; Experimenter and Data for experimenter ones.
type QueueProperty struct {
	Type         QueuePropertyType
	Rate         uint16
	Experimenter uint32
	Data         []byte
}

// PacketQueue is ofp_packet_queue.
type PacketQueue struct {
	QueueID    uint32
	Port       uint32
	Properties []QueueProperty
}

// QueueGetConfigRequest (OFPT_QUEUE_GET_CONFIG_REQUEST).
type QueueGetConfigRequest struct{ Port uint32 }

// Type implements Message.
func (*QueueGetConfigRequest) Type() MsgType { return TypeQueueGetConfigRequest }

// AppendBody implements Message.
func (m *QueueGetConfigRequest) AppendBody(b []byte) ([]byte, error) {
	return pad4(be.AppendUint32(b, m.Port)), nil
}

// UnmarshalBody implements Message.
func (m *QueueGetConfigRequest) UnmarshalBody(body []byte) error {
	if len(body) != 8 {
		return fmt.Errorf("%w: queue get config request body is %d bytes, want 8", ErrBadLength, len(body))
	}
	m.Port = be.Uint32(body)
	return nil
}

// QueueGetConfigReply (OFPT_QUEUE_GET_CONFIG_REPLY).
type QueueGetConfigReply struct {
	Port   uint32
	Queues []PacketQueue
}

// Type implements Message.
func (*QueueGetConfigReply) Type() MsgType { return TypeQueueGetConfigReply }

// AppendBody implements Message.
func (m *QueueGetConfigReply) AppendBody(b []byte) ([]byte, error) {
	b = pad4(be.AppendUint32(b, m.Port))
	for i, q := range m.Queues {
		start := len(b)
		b = be.AppendUint32(b, q.QueueID)
		b = be.AppendUint32(b, q.Port)
		b = append(b, 0, 0)
		b = appendZeros(b, 6)
		for j, p := range q.Properties {
			pstart := len(b)
			b = be.AppendUint16(b, uint16(p.Type))
			b = append(b, 0, 0)
			b = pad4(b)
			switch p.Type {
			case QueuePropMinRate, QueuePropMaxRate:
				b = be.AppendUint16(b, p.Rate)
				b = appendZeros(b, 6)
			case QueuePropExperimenter:
				b = be.AppendUint32(b, p.Experimenter)
				b = pad4(b)
				b = append(b, p.Data...)
				b = appendZeros(b, pad8(len(b)-pstart)-(len(b)-pstart))
			default:
				return b, fmt.Errorf("%w: queue %d property %d has unknown type %d", ErrInvalid, i, j, p.Type)
			}
			if err := putLen16(b, pstart+2, pstart, "queue property"); err != nil {
				return b, err
			}
		}
		if err := putLen16(b, start+8, start, "queue"); err != nil {
			return b, err
		}
	}
	return b, nil
}

// UnmarshalBody implements Message.
func (m *QueueGetConfigReply) UnmarshalBody(body []byte) error {
	if len(body) < 8 {
		return short("queue get config reply", 8, len(body))
	}
	*m = QueueGetConfigReply{Port: be.Uint32(body)}
	b := body[8:]
	for i := 0; len(b) > 0; i++ {
		if len(b) < 16 {
			return short(fmt.Sprintf("queue %d", i), 16, len(b))
		}
		n := int(be.Uint16(b[8:]))
		if n < 16 || n > len(b) {
			return fmt.Errorf("%w: queue %d length %d with %d bytes left", ErrBadLength, i, n, len(b))
		}
		q := PacketQueue{QueueID: be.Uint32(b), Port: be.Uint32(b[4:])}
		for pb := b[16:n]; len(pb) > 0; {
			if len(pb) < 8 {
				return short(fmt.Sprintf("queue %d property", i), 8, len(pb))
			}
			t, pn := QueuePropertyType(be.Uint16(pb)), int(be.Uint16(pb[2:]))
			if pn < 8 || pn > len(pb) {
				return fmt.Errorf("%w: queue %d property length %d with %d bytes left", ErrBadLength, i, pn, len(pb))
			}
			p := QueueProperty{Type: t}
			switch t {
			case QueuePropMinRate, QueuePropMaxRate:
				if pn != 16 {
					return fmt.Errorf("%w: queue %d rate property length %d, want 16", ErrBadLength, i, pn)
				}
				p.Rate = be.Uint16(pb[8:])
			case QueuePropExperimenter:
				if pn < 16 {
					return fmt.Errorf("%w: queue %d experimenter property length %d", ErrBadLength, i, pn)
				}
				p.Experimenter = be.Uint32(pb[8:])
				p.Data = cloneBytes(pb[16:pn])
			default:
				return fmt.Errorf("%w: queue %d property type %d", ErrUnknownType, i, uint16(t))
			}
			q.Properties = append(q.Properties, p)
			pb = pb[pn:]
		}
		m.Queues = append(m.Queues, q)
		b = b[n:]
	}
	return nil
}
