package mail

// SetReferenceDecoding turns the decoding shortcuts off (on) for the
// differential tests of the external test package.
func SetReferenceDecoding(on bool) { referenceDecoding = on }

// SameMessage compares two decodings of one message (see sameMessage).
func SameMessage(a, b *Message) bool { return sameMessage(a, b) }

// PlainDecodes reports whether the plain decoder (not enmime) decodes raw.
func PlainDecodes(raw []byte) bool {
	_, ok := plainDecode(raw)
	return ok
}
