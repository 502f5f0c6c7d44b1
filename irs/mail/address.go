package mail

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/sdnli/sdnli/irs/event"
)

// Limits on what is accepted as an address: RFC 5321 allows 64 octets of
// local part and 255 of domain; real traffic stretches the local part, so
// the caps are generous but keep hostile input from filling the index.
const (
	maxAddressInput = 1024
	maxLocalPart    = 256
	maxDomain       = 255
	maxUserName     = 256
	// maxSetAddresses caps one event's address list.
	maxSetAddresses = 1000
)

// NormalizeAddress turns what a mail header or an SMTP envelope gives
// ("Name <User@Example.COM>", "<user@xn--mnchen-3ya.de>", "@relay:u@d",
// "\"john\"@example.com") into the one canonical form the event index
// stores, so that a search finds every spelling of an address:
//
//   - display names, angle brackets, comments after the address and
//     source routes are dropped;
//   - ASCII letters are lower-cased in the whole address (local parts are
//     case-sensitive by RFC 5321, but no mail system in use treats them
//     so, and searches are case-insensitive); non-ASCII characters of the
//     local part are kept as they are;
//   - a quoted local part loses its quotes when it is a plain dot-atom
//     without them ("john"@x → john@x) and keeps them, with only '"' and
//     '\' escaped, when they are needed;
//   - the domain is lower-cased, a trailing dot removed, and IDNA
//     A-labels are converted to Unicode (xn--mnchen-3ya.de → münchen.de);
//     domain literals ([192.0.2.1]) are kept.
//
// It reports false for the null path "<>", for strings without a local
// part and a domain, and for strings with control characters or beyond
// the length caps.
func NormalizeAddress(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxAddressInput {
		return "", false
	}
	spec := addrSpec(s)
	// Source route (RFC 5321 4.1.2): "@a,@b:user@dom".
	if strings.HasPrefix(spec, "@") {
		i := strings.IndexByte(spec, ':')
		if i < 0 {
			return "", false
		}
		spec = spec[i+1:]
	}
	at := lastAtOutsideQuotes(spec)
	if at <= 0 || at == len(spec)-1 {
		return "", false
	}
	local, ok := normalizeLocal(strings.TrimSpace(spec[:at]))
	if !ok {
		return "", false
	}
	domain, ok := normalizeDomain(strings.TrimSpace(spec[at+1:]))
	if !ok {
		return "", false
	}
	if local == spec[:at] && domain == spec[at+1:] {
		return spec, true // already normal: no new string
	}
	return local + "@" + domain, true
}

// NormalizeUser canonicalises a login name: an email-shaped name is
// normalised as an address, anything else is trimmed and its ASCII letters
// lower-cased. It reports false for an empty name or one with control
// characters.
func NormalizeUser(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxUserName || !utf8.ValidString(s) {
		return "", false
	}
	if strings.IndexByte(s, '@') > 0 {
		if a, ok := NormalizeAddress(s); ok {
			return a, true
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return "", false
		}
	}
	return asciiLower(s), true
}

// addrSpec returns the part of s inside the last angle brackets outside
// quotes, or s itself (without a trailing comment) when there are none.
func addrSpec(s string) string {
	inQuote, esc := false, false
	open, close := -1, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == '<' && !inQuote:
			open, close = i, -1
		case c == '>' && !inQuote && open >= 0 && close < 0:
			close = i
		}
	}
	if open >= 0 {
		if close < 0 {
			return strings.TrimSpace(s[open+1:])
		}
		return strings.TrimSpace(s[open+1 : close])
	}
	// "user@dom (comment)": drop the comment unless it is quoted.
	if !strings.HasPrefix(s, "\"") {
		if i := strings.IndexByte(s, '('); i > 0 {
			return strings.TrimSpace(s[:i])
		}
	}
	return s
}

func lastAtOutsideQuotes(s string) int {
	inQuote, esc := false, false
	at := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == '@' && !inQuote:
			at = i
		}
	}
	return at
}

func normalizeLocal(l string) (string, bool) {
	if l == "" || len(l) > maxLocalPart || !utf8.ValidString(l) {
		return "", false
	}
	if len(l) >= 2 && l[0] == '"' && l[len(l)-1] == '"' {
		var b strings.Builder
		esc := false
		for i := 1; i < len(l)-1; i++ {
			c := l[i]
			if esc {
				b.WriteByte(c)
				esc = false
				continue
			}
			if c == '\\' {
				esc = true
				continue
			}
			b.WriteByte(c)
		}
		l = b.String()
		if l == "" {
			return "", false
		}
	}
	for i := 0; i < len(l); i++ {
		if l[i] < 0x20 || l[i] == 0x7f {
			return "", false
		}
	}
	l = asciiLower(l)
	if isDotAtom(l) {
		return l, true
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(l); i++ {
		if l[i] == '"' || l[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(l[i])
	}
	b.WriteByte('"')
	return b.String(), true
}

// isDotAtom reports whether s is an RFC 5322 dot-atom (with RFC 6532
// UTF-8 allowed): atext runs separated by single dots.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c == '.' || isAtext(c) {
			continue
		}
		return false
	}
	return true
}

func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func normalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > maxDomain || !utf8.ValidString(d) {
		return "", false
	}
	if d[0] == '[' {
		if d[len(d)-1] != ']' {
			return "", false
		}
		for i := 1; i < len(d)-1; i++ {
			c := d[i]
			if c <= 0x20 || c == 0x7f || c == '[' || c == ']' || c == '\\' {
				return "", false
			}
		}
		return asciiLower(d), true
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c >= 0x80 {
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "", false
		}
	}
	if strings.HasPrefix(d, ".") || strings.Contains(d, "..") {
		return "", false
	}
	if plainDomain(d) {
		return asciiLower(d), true
	}
	return idnaDomain(d), true
}

// idnaDomain is a domain in the form the index keeps: IDNA labels in
// Unicode, lower case.
func idnaDomain(d string) string {
	if u, err := idna.Lookup.ToUnicode(d); err == nil && u != "" {
		return u
	}
	// Not valid IDNA (underscores, bad punycode): still an address worth
	// indexing, in lower case.
	return strings.ToLower(d)
}

// plainDomain reports whether d is a host name of ASCII letters, digits
// and inner hyphens with no punycode label: the IDNA conversion would
// only lower-case it (it is most of an address's cost otherwise). The
// caller has checked the dots.
func plainDomain(d string) bool {
	label := 0 // length of the current label
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case c == '.':
			if i == 0 || d[i-1] == '-' {
				return false
			}
			label = 0
			continue
		case c == '-':
			// A leading hyphen, or "xn--" (or any "??--") starting a label.
			if label == 0 || label == 2 && i+1 < len(d) && d[i+1] == '-' {
				return false
			}
		case !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'):
			return false
		}
		if label++; label > 63 {
			return false
		}
	}
	return d[len(d)-1] != '-'
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// AddressSet collects the addresses an event names, normalised and
// without duplicates (the same address may appear under several roles).
// The zero value is ready to use.
type AddressSet struct {
	list []event.Address
	seen map[event.Address]struct{}
}

// Add normalises raw (NormalizeUser for event.RoleUser, NormalizeAddress
// otherwise) and adds it under role; it reports whether it was added.
func (s *AddressSet) Add(role, raw string) bool {
	var a string
	var ok bool
	if role == event.RoleUser {
		a, ok = NormalizeUser(raw)
	} else {
		a, ok = NormalizeAddress(raw)
	}
	if !ok || len(s.list) >= maxSetAddresses {
		return false
	}
	e := event.Address{Address: a, Role: role}
	if len(s.list) < setScan {
		// A few addresses (nearly every event): a look through the
		// list costs less than a map.
		for _, x := range s.list {
			if x == e {
				return false
			}
		}
	} else {
		if s.seen == nil {
			s.seen = make(map[event.Address]struct{}, 2*setScan)
			for _, x := range s.list {
				s.seen[x] = struct{}{}
			}
		}
		if _, dup := s.seen[e]; dup {
			return false
		}
		s.seen[e] = struct{}{}
	}
	s.list = append(s.list, e)
	return true
}

// setScan: an AddressSet of fewer addresses finds duplicates by looking
// through its list; from this many on, in a map.
const setScan = 16

// AddMessage adds a message's header addresses: From, To, Cc and Bcc.
func (s *AddressSet) AddMessage(m *Message) {
	if m == nil {
		return
	}
	for _, r := range []struct {
		role string
		l    []Address
	}{{event.RoleFrom, m.From}, {event.RoleTo, m.To}, {event.RoleCc, m.Cc}, {event.RoleBcc, m.Bcc}} {
		for _, a := range r.l {
			s.Add(r.role, a.Address)
		}
	}
}

// List returns the collected addresses in the order they were added.
func (s *AddressSet) List() []event.Address {
	if len(s.list) == 0 {
		return nil
	}
	return append([]event.Address(nil), s.list...)
}

// Addresses collects, de-duplicated, the envelope sender (role mail), the
// envelope recipients (role rcpt) and the message's header addresses
// (roles from, to, cc, bcc). m may be nil.
func Addresses(m *Message, mailFrom string, rcptTo []string) []event.Address {
	var s AddressSet
	s.Add(event.RoleMail, mailFrom)
	for _, r := range rcptTo {
		s.Add(event.RoleRcpt, r)
	}
	s.AddMessage(m)
	return s.List()
}
