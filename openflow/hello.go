package openflow

import (
	"fmt"
)

// HelloElemType is ofp_hello_elem_header.type.
type HelloElemType uint16

// HelloElemVersionBitmap (OFPHET_VERSIONBITMAP) lists the versions a peer
// speaks as a bitmap: bit v of word v/32 set for version v.
const HelloElemVersionBitmap HelloElemType = 1

// HelloElement is one element of a HELLO. Bitmaps is used for
// HelloElemVersionBitmap; Data keeps the payload of element types this
// package does not know (the spec says to ignore them).
type HelloElement struct {
	Type    HelloElemType
	Bitmaps []uint32
	Data    []byte
}

// Hello (OFPT_HELLO) opens every connection.
type Hello struct {
	Elements []HelloElement
}

// NewHello returns a HELLO that advertises the given versions in a
// version bitmap element.
func NewHello(versions ...uint8) *Hello {
	var words []uint32
	for _, v := range versions {
		w := int(v / 32)
		for len(words) <= w {
			words = append(words, 0)
		}
		words[w] |= 1 << (v % 32)
	}
	return &Hello{Elements: []HelloElement{{Type: HelloElemVersionBitmap, Bitmaps: words}}}
}

// Type implements Message.
func (*Hello) Type() MsgType { return TypeHello }

// Bitmap returns the words of the first version bitmap element.
func (h *Hello) Bitmap() ([]uint32, bool) {
	for _, e := range h.Elements {
		if e.Type == HelloElemVersionBitmap {
			return e.Bitmaps, true
		}
	}
	return nil, false
}

// Negotiate picks the version to speak with a peer whose HELLO had header
// version peerVersion and body peer (nil if the body could not be read).
// With a version bitmap the peer must list 1.3; without one the spec's
// rule applies: min(ours, theirs), which must be 1.3. The error wraps
// HelloFailedIncompatible.
func Negotiate(peerVersion uint8, peer *Hello) (uint8, error) {
	if peer != nil {
		if words, ok := peer.Bitmap(); ok {
			w, bit := int(Version/32), Version%32
			if w < len(words) && words[w]&(1<<bit) != 0 {
				return Version, nil
			}
			return 0, fmt.Errorf("openflow: peer version bitmap %#x does not include OpenFlow 1.3: %w", words, HelloFailedIncompatible)
		}
	}
	if peerVersion >= Version {
		return Version, nil
	}
	return 0, fmt.Errorf("openflow: peer speaks version 0x%02x, need 0x%02x: %w", peerVersion, Version, HelloFailedIncompatible)
}

// AppendBody implements Message.
func (h *Hello) AppendBody(b []byte) ([]byte, error) {
	for i, e := range h.Elements {
		start := len(b)
		b = be.AppendUint16(b, uint16(e.Type))
		b = append(b, 0, 0)
		if e.Type == HelloElemVersionBitmap {
			for _, w := range e.Bitmaps {
				b = be.AppendUint32(b, w)
			}
		} else {
			b = append(b, e.Data...)
		}
		if err := putLen16(b, start+2, start, fmt.Sprintf("hello element %d", i)); err != nil {
			return b, err
		}
		b = appendZeros(b, pad8(len(b)-start)-(len(b)-start))
	}
	return b, nil
}

// UnmarshalBody implements Message.
func (h *Hello) UnmarshalBody(body []byte) error {
	h.Elements = nil
	for len(body) > 0 {
		if len(body) < 4 {
			return short("hello element header", 4, len(body))
		}
		t, n := HelloElemType(be.Uint16(body)), int(be.Uint16(body[2:]))
		if n < 4 || n > len(body) {
			return fmt.Errorf("%w: hello element length %d with %d bytes left", ErrBadLength, n, len(body))
		}
		e := HelloElement{Type: t}
		payload := body[4:n]
		if t == HelloElemVersionBitmap {
			if len(payload)%4 != 0 {
				return fmt.Errorf("%w: version bitmap of %d bytes is not whole words", ErrBadLength, len(payload))
			}
			for i := 0; i+4 <= len(payload); i += 4 {
				e.Bitmaps = append(e.Bitmaps, be.Uint32(payload[i:]))
			}
		} else {
			e.Data = cloneBytes(payload)
		}
		h.Elements = append(h.Elements, e)
		// The padding after the last element may be missing in the wild.
		body = body[min(pad8(n), len(body)):]
	}
	return nil
}
