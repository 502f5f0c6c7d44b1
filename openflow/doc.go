// Package openflow implements the OpenFlow 1.3 wire protocol (OpenFlow
// Switch Specification 1.3.5) and a controller-side connection. It holds
// no controller logic: sdnli's controller builds on it to program Open
// vSwitch.
//
// sdnli writes this codec itself because the Go module proxy refuses every
// existing OpenFlow Go library; the package is proved against Open vSwitch
// instead: `ovs-ofctl ofp-print` decodes every message it encodes, a live
// bridge accepts them, and bytes captured from that bridge decode and
// re-encode identically.
//
// # Messages
//
// A Message is the body of an OpenFlow message; the transaction id lives
// in the Header. AppendMessage and Marshal encode (appending to a byte
// slice), Decode decodes exactly one message, Reader splits a byte stream
// into messages. Every OpenFlow 1.3 message type is covered, including
// all multipart requests and replies (Reassemble joins REPLY_MORE parts).
// Decoding never panics, copies what it keeps, and allocates in
// proportion to the input: every count is bounded by the bytes that carry
// it.
//
// # Matches, actions, instructions
//
// Matches are lists of OXM fields built with typed constructors
// (EthType, IPProto, TCPDst, IPv4SrcPrefix, VLANVID, ... for all 40 basic
// fields). NewMatch checks lengths, masks, ranges and the prerequisites of
// the spec, so a tcp_dst without eth_type and ip_proto is an error naming
// tcp_dst. Actions (Output, PushVLAN, SetField, Group, ...) and
// instructions (ApplyActions, WriteActions, GotoTable, Meter, ...) are
// small typed values. String methods print flows, matches and actions the
// way `ovs-ofctl dump-flows` does:
//
//	priority=100,tcp,tp_dst=25 actions=NORMAL,push_vlan:0x8100,set_field:4196->vlan_vid,output:3
//
// # Connections
//
// NewConn performs the HELLO exchange on a net.Conn (a peer without
// OpenFlow 1.3 gets ERROR HELLO_FAILED/INCOMPATIBLE and is closed), then
// serves it: Send assigns transaction ids, Request waits for the matching
// reply (reassembling multipart replies; a switch ERROR with that xid comes
// back as an *Error), SendBatch sends flow and group mods followed by a
// barrier and returns exactly the errors the switch reported for them, and
// Messages delivers packet-ins, port status, flow removed and unclaimed
// errors. Echo requests are answered, an idle peer is probed, a dead one
// closes the connection. All methods take a context and are safe for
// concurrent use.
//
// Errors wrap the sentinels ErrShort, ErrBadLength, ErrUnknownType,
// ErrBadVersion, ErrTooLong, ErrInvalid, ErrClosed and ErrPeerDead; switch
// errors match their ErrorCode with errors.Is.
package openflow
