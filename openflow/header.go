package openflow

import (
	"fmt"
	"strconv"
)

// Version is the only wire version this package speaks: OpenFlow 1.3.
const Version uint8 = 0x04

// HeaderLen is the size of the common ofp_header.
const HeaderLen = 8

// MaxMessageLen is the largest message the 16-bit length field allows.
const MaxMessageLen = 0xffff

// MsgType is ofp_header.type.
type MsgType uint8

// OpenFlow 1.3 message types (ofp_type).
const (
	TypeHello                 MsgType = 0
	TypeError                 MsgType = 1
	TypeEchoRequest           MsgType = 2
	TypeEchoReply             MsgType = 3
	TypeExperimenter          MsgType = 4
	TypeFeaturesRequest       MsgType = 5
	TypeFeaturesReply         MsgType = 6
	TypeGetConfigRequest      MsgType = 7
	TypeGetConfigReply        MsgType = 8
	TypeSetConfig             MsgType = 9
	TypePacketIn              MsgType = 10
	TypeFlowRemoved           MsgType = 11
	TypePortStatus            MsgType = 12
	TypePacketOut             MsgType = 13
	TypeFlowMod               MsgType = 14
	TypeGroupMod              MsgType = 15
	TypePortMod               MsgType = 16
	TypeTableMod              MsgType = 17
	TypeMultipartRequest      MsgType = 18
	TypeMultipartReply        MsgType = 19
	TypeBarrierRequest        MsgType = 20
	TypeBarrierReply          MsgType = 21
	TypeQueueGetConfigRequest MsgType = 22
	TypeQueueGetConfigReply   MsgType = 23
	TypeRoleRequest           MsgType = 24
	TypeRoleReply             MsgType = 25
	TypeGetAsyncRequest       MsgType = 26
	TypeGetAsyncReply         MsgType = 27
	TypeSetAsync              MsgType = 28
	TypeMeterMod              MsgType = 29
)

var msgTypeNames = [...]string{
	"OFPT_HELLO", "OFPT_ERROR", "OFPT_ECHO_REQUEST", "OFPT_ECHO_REPLY",
	"OFPT_EXPERIMENTER", "OFPT_FEATURES_REQUEST", "OFPT_FEATURES_REPLY",
	"OFPT_GET_CONFIG_REQUEST", "OFPT_GET_CONFIG_REPLY", "OFPT_SET_CONFIG",
	"OFPT_PACKET_IN", "OFPT_FLOW_REMOVED", "OFPT_PORT_STATUS",
	"OFPT_PACKET_OUT", "OFPT_FLOW_MOD", "OFPT_GROUP_MOD", "OFPT_PORT_MOD",
	"OFPT_TABLE_MOD", "OFPT_MULTIPART_REQUEST", "OFPT_MULTIPART_REPLY",
	"OFPT_BARRIER_REQUEST", "OFPT_BARRIER_REPLY",
	"OFPT_QUEUE_GET_CONFIG_REQUEST", "OFPT_QUEUE_GET_CONFIG_REPLY",
	"OFPT_ROLE_REQUEST", "OFPT_ROLE_REPLY", "OFPT_GET_ASYNC_REQUEST",
	"OFPT_GET_ASYNC_REPLY", "OFPT_SET_ASYNC", "OFPT_METER_MOD",
}

func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return msgTypeNames[t]
	}
	return "OFPT_" + strconv.Itoa(int(t))
}

// Header is the ofp_header that starts every message.
type Header struct {
	Version uint8
	Type    MsgType
	Length  uint16 // whole message, header included
	XID     uint32
}

// ParseHeader reads the 8-byte header at the start of b and checks that
// its length can hold at least the header itself.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("openflow: %w", short("header", HeaderLen, len(b)))
	}
	h := Header{Version: b[0], Type: MsgType(b[1]), Length: be.Uint16(b[2:]), XID: be.Uint32(b[4:])}
	if h.Length < HeaderLen {
		return h, fmt.Errorf("openflow: %w: header length %d below %d (%s, xid %d)", ErrBadLength, h.Length, HeaderLen, h.Type, h.XID)
	}
	return h, nil
}

// AppendBinary appends the 8 header bytes.
func (h Header) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, h.Version, byte(h.Type))
	b = be.AppendUint16(b, h.Length)
	return be.AppendUint32(b, h.XID), nil
}

func (h Header) String() string {
	return fmt.Sprintf("%s (version 0x%02x, length %d, xid 0x%x)", h.Type, h.Version, h.Length, h.XID)
}
