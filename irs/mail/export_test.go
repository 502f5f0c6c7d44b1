package mail

// SetReferenceDecoding turns the decoding shortcuts off (on) for the
// differential tests of the external test package.
func SetReferenceDecoding(on bool) { referenceDecoding = on }
