// Package ascii compares protocol text without regard to ASCII case.
//
// Protocol keywords (SMTP verbs, IMAP atoms, header names, DNS labels)
// are ASCII and compare case-insensitively, but the bytes around them on
// the wire are whatever a peer sent. strings.ToLower and strings.EqualFold
// fold Unicode too: ToLower changes the length of some runes (İ, invalid
// bytes) so an index into the lowered copy does not fit the original, and
// EqualFold matches "ſ" to "s" or "K" (Kelvin) to "k". These functions fold
// A-Z only, work on strings and byte slices alike without converting, and
// their indexes always fit the text given.
package ascii

// Text is what the functions read: a string or a byte slice.
type Text interface{ ~string | ~[]byte }

// Lower is c lowered if it is an ASCII capital.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Upper is c raised if it is an ASCII small letter.
func Upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// HasPrefixFold reports whether s begins with prefix, ignoring ASCII case.
func HasPrefixFold[S, P Text](s S, prefix P) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i] != prefix[i] && Lower(s[i]) != Lower(prefix[i]) {
			return false
		}
	}
	return true
}

// EqualFold reports whether s and t are equal, ignoring ASCII case.
func EqualFold[S, T Text](s S, t T) bool {
	return len(s) == len(t) && HasPrefixFold(s, t)
}

// IndexFold is the index in s of the first sub, ignoring ASCII case, or
// -1.
func IndexFold[S, T Text](s S, sub T) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if HasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}

// ContainsFold reports whether sub is in s, ignoring ASCII case.
func ContainsFold[S, T Text](s S, sub T) bool { return IndexFold(s, sub) >= 0 }
