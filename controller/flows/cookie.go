package flows

import "fmt"

// Cookie layout. Every flow the controller installs carries a cookie
// that says it is sdnli's and why it exists:
//
//	bits 63..56  0x5d     marker: the flow belongs to sdnli
//	bit  55      epoch    flips on every full reinstall of a switch
//	bits 54..48  kind     1 infrastructure, 2 protocol mirror,
//	                      3 dynamic mirror, 4 target mirror (warrant)
//	bits 47..32  protocol protocol number (policy catalogue ID);
//	                      for infrastructure flows the IRS index + 1
//	                      of a copy path, else 0
//	bits 31..0   id       infrastructure role, dynamic request id, or
//	                      (kind 4) the warrant's numeric LIID
//
// So `cookie=0x5d02000300000000/0xff7fffff00000000` selects SMTP's
// mirror flows on any epoch, `0x5d00000000000000/0xff00000000000000`
// everything of sdnli's. Per-target flows of a later stage carry the
// warrant's LIID number in the low 32 bits with kind 4, so they can be
// removed with one delete when a warrant ends.
const (
	CookieMarker     uint64 = 0x5d << 56
	CookieMarkerMask uint64 = 0xff << 56
	CookieEpoch      uint64 = 1 << 55
	cookieKindShift         = 48
	cookieKindMask   uint64 = 0x7f << cookieKindShift
	cookieProtoShift        = 32
	cookieProtoMask  uint64 = 0xffff << cookieProtoShift
	cookieIDMask     uint64 = 0xffffffff
)

// Kind says why a flow exists.
type Kind uint8

// Kinds of flows.
const (
	KindInfra    Kind = 1 // LLDP, table miss, IRS isolation, copy transit
	KindProtocol Kind = 2 // per-protocol mirror
	KindDynamic  Kind = 3 // mirror on an IRS's request (FTP data, GRE)
	KindTarget   Kind = 4 // per-target mirror of a warrant (planned)
)

func (k Kind) String() string {
	switch k {
	case KindInfra:
		return "infra"
	case KindProtocol:
		return "protocol"
	case KindDynamic:
		return "dynamic"
	case KindTarget:
		return "target"
	}
	return fmt.Sprintf("kind%d", uint8(k))
}

// Infrastructure roles (the id of KindInfra cookies).
const (
	RoleLLDP     uint32 = 1 // LLDP to the controller
	RoleIRSDrop  uint32 = 2 // drop what an IRS port sends
	RoleTransit  uint32 = 3 // carry tagged copies toward their IRS
	RoleVLANDrop uint32 = 4 // drop stray tagged copies
	RoleLinkFwd  uint32 = 5 // inter-switch traffic: NORMAL, no copy
	RoleMiss     uint32 = 6 // table misses
)

// Cookie builds a cookie (epoch 0).
func Cookie(kind Kind, proto uint16, id uint32) uint64 {
	return CookieMarker | uint64(kind&0x7f)<<cookieKindShift | uint64(proto)<<cookieProtoShift | uint64(id)
}

// CookieFields is a decoded cookie.
type CookieFields struct {
	Epoch    bool
	Kind     Kind
	Protocol uint16
	ID       uint32
}

// DecodeCookie splits a cookie; ok is false for cookies that are not sdnli's.
func DecodeCookie(c uint64) (CookieFields, bool) {
	if c&CookieMarkerMask != CookieMarker {
		return CookieFields{}, false
	}
	return CookieFields{
		Epoch:    c&CookieEpoch != 0,
		Kind:     Kind((c & cookieKindMask) >> cookieKindShift),
		Protocol: uint16((c & cookieProtoMask) >> cookieProtoShift),
		ID:       uint32(c & cookieIDMask),
	}, true
}

// IsOurs reports whether a cookie is in sdnli's space.
func IsOurs(c uint64) bool { return c&CookieMarkerMask == CookieMarker }

// ProtocolCookieMask selects a protocol's mirror flows on either epoch,
// with cookie Cookie(KindProtocol, id, 0).
const ProtocolCookieMask = CookieMarkerMask | cookieKindMask | cookieProtoMask
