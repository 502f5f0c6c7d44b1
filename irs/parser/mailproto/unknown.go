package mailproto

// MaxUnknown caps the distinct unknown command names a session records.
const MaxUnknown = 16

// Unknown records the unknown commands of a session: every one is
// counted, the first MaxUnknown distinct names are kept. The zero value
// is ready to use.
type Unknown struct {
	names []string
	n     int
}

// Add counts one unknown command; malformed says its name is not shaped
// like a command (stray base64 or binary), which is then recorded as
// "(malformed)" rather than as itself.
func (u *Unknown) Add(name string, malformed bool) {
	u.n++
	if malformed {
		name = "(malformed)"
	}
	for _, x := range u.names {
		if x == name {
			return
		}
	}
	if len(u.names) < MaxUnknown {
		u.names = append(u.names, name)
	}
}

// Put writes unknown_commands and unknown_command_count into a session
// summary, when there were any.
func (u *Unknown) Put(s Summary) {
	if len(u.names) > 0 {
		s.Set("unknown_commands", append([]string(nil), u.names...))
		s.Set("unknown_command_count", u.n)
	}
}
