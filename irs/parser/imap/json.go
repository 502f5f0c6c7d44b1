package imap

import "github.com/sdnli/sdnli/irs/event"

// LogList is a logoff event's "commands": it writes its JSON itself
// (event.JSONValue), the bytes encoding/json writes for []LogEntry.
type LogList []LogEntry

// AppendJSON implements event.JSONValue.
func (l LogList) AppendJSON(e *event.JSONEncoder, b []byte) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range l {
		x := &l[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"tag":`...)
		b = e.AppendString(b, x.Tag)
		b = append(b, `,"command":`...)
		b = e.AppendString(b, x.Command)
		if x.Args != "" {
			b = append(b, `,"args":`...)
			b = e.AppendString(b, x.Args)
		}
		if x.Status != "" {
			b = append(b, `,"status":`...)
			b = e.AppendString(b, x.Status)
		}
		if x.Reply != "" {
			b = append(b, `,"reply":`...)
			b = e.AppendString(b, x.Reply)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}
