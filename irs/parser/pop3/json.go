package pop3

import "github.com/sdnli/sdnli/irs/event"

// LogList is a logoff event's "commands": it writes its JSON itself
// (event.JSONValue), the bytes encoding/json writes for []LogEntry.
type LogList []LogEntry

// AppendJSON implements event.JSONValue.
func (l LogList) AppendJSON(e *event.JSONEncoder, b []byte) []byte {
	return event.AppendList(b, l, func(b []byte, x *LogEntry) []byte {
		b = append(b, '{')
		b = e.AppendField(b, "command", x.Command, false)
		b = e.AppendField(b, "arg", x.Arg, true)
		b = e.AppendField(b, "status", x.Status, true)
		b = e.AppendField(b, "reply", x.Reply, true)
		return append(b, '}')
	})
}
