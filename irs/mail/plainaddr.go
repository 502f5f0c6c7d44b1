package mail

import (
	netmail "net/mail"
	"strings"
)

// plainAddressList is enmime.ParseAddressList for the address lists most
// headers carry: comma-separated "local@domain" and "Name <local@domain>"
// (the name plain words or one quoted string), printable ASCII, no
// comments, groups, escapes, encoded words or empty entries. It reports
// ok false for anything else, which is then left to enmime; where it
// answers, the answer is enmime's (TestPlainAddressList and
// FuzzPlainAddressList compare the two).
func plainAddressList(v string) (list []*netmail.Address, ok bool) {
	if v == "" || strings.Contains(v, "=?") {
		return nil, false
	}
	for item := range strings.SplitSeq(v, ",") {
		name, addr, ok := plainAddress(strings.Trim(item, " \t"))
		if !ok {
			return nil, false
		}
		list = append(list, &netmail.Address{Name: name, Address: addr})
	}
	return list, true
}

// plainAddresses is plainAddressList as Message.addressList keeps it (at
// most maxAddresses, clipped), and it also reads a comma inside a quoted
// name ("Doe, Jane" <jane@example.com>, as address books write names).
// TestPlainAddresses and FuzzPlainAddresses hold it to enmime's result.
func plainAddresses(v string) (out []Address, ok bool) {
	if v == "" || strings.Contains(v, "=?") {
		return nil, false
	}
	for {
		// The next comma outside a quoted string ends the item.
		end, quoted := -1, false
		for i := 0; i < len(v) && end < 0; i++ {
			switch v[i] {
			case '"':
				quoted = !quoted
			case ',':
				if !quoted {
					end = i
				}
			}
		}
		if quoted {
			return nil, false
		}
		item := v
		if end >= 0 {
			item = v[:end]
		}
		name, addr, ok := plainAddress(strings.Trim(item, " \t"))
		if !ok {
			return nil, false
		}
		if len(out) < maxAddresses {
			out = append(out, Address{Name: clip(name), Address: clip(addr)})
		}
		if end < 0 {
			return out, true
		}
		v = v[end+1:]
	}
}

func plainAddress(s string) (name, addr string, ok bool) {
	i := strings.IndexByte(s, '<')
	if i < 0 {
		return "", s, plainAddrSpec(s)
	}
	if !strings.HasSuffix(s, ">") || !plainAddrSpec(s[i+1:len(s)-1]) {
		return "", "", false
	}
	name, ok = plainPhrase(strings.TrimRight(s[:i], " \t"))
	return name, s[i+1 : len(s)-1], ok
}

// plainPhrase is a display name: words of atom characters (dots
// allowed, as net/mail allows them) joined by single spaces, or the
// content of one quoted string.
func plainPhrase(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	if s[0] == '"' {
		inner, ok := strings.CutSuffix(s[1:], `"`)
		if !ok || inner == "" {
			return "", false
		}
		for i := 0; i < len(inner); i++ {
			if c := inner[i]; c != '\t' && (c < ' ' || c > '~' || c == '"' || c == '\\') {
				return "", false
			}
		}
		return inner, true
	}
	if s[0] != ' ' && s[len(s)-1] != ' ' && !strings.Contains(s, "  ") && strings.IndexByte(s, '\t') < 0 {
		// Words already joined by single spaces: s is the name.
		for w := range strings.SplitSeq(s, " ") {
			if !plainAtom(w, true) {
				return "", false
			}
		}
		return s, true
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
	for _, w := range words {
		if !plainAtom(w, true) {
			return "", false
		}
	}
	return strings.Join(words, " "), true
}

// plainAddrSpec is local@domain, each a dot-atom: atoms of atom
// characters joined by single dots.
func plainAddrSpec(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && plainDotAtom(local) && plainDotAtom(domain)
}

func plainDotAtom(s string) bool {
	return plainAtom(s, true) && s[0] != '.' && s[len(s)-1] != '.' && !strings.Contains(s, "..")
}

// plainAtom reports a non-empty run of RFC 5322 atom characters
// (printable ASCII but the specials), and dots if dot.
func plainAtom(s string, dot bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0 || c == '.' && !dot {
			return false
		}
	}
	return true
}
