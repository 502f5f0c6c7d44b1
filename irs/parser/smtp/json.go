package smtp

import (
	"strconv"

	"github.com/sdnli/sdnli/irs/event"
)

// RcptList is an email-send event's "rcpt_to": it writes its JSON itself
// (event.JSONValue), the bytes encoding/json writes for []RcptStatus.
type RcptList []RcptStatus

// AppendJSON implements event.JSONValue.
func (l RcptList) AppendJSON(e *event.JSONEncoder, b []byte) []byte {
	return event.AppendList(b, l, func(b []byte, r *RcptStatus) []byte {
		b = append(b, '{')
		b = e.AppendField(b, "address", r.Address, false)
		if r.Code != 0 {
			b = append(b, `,"code":`...)
			b = strconv.AppendInt(b, int64(r.Code), 10)
		}
		b = e.AppendField(b, "reply", r.Reply, true)
		b = append(b, `,"accepted":`...)
		b = strconv.AppendBool(b, r.Accepted)
		if len(r.Params) > 0 {
			b = append(b, `,"params":`...)
			b = e.AppendStringMap(b, r.Params)
		}
		return append(b, '}')
	})
}

// abortedList is a logoff event's "aborted_transactions", written as
// encoding/json writes []abortedTx.
type abortedList []abortedTx

// AppendJSON implements event.JSONValue.
func (l abortedList) AppendJSON(e *event.JSONEncoder, b []byte) []byte {
	return event.AppendList(b, l, func(b []byte, a *abortedTx) []byte {
		b = append(b, '{')
		b = e.AppendField(b, "mail_from", a.MailFrom, false)
		if len(a.RcptTo) > 0 {
			b = append(b, `,"rcpt_to":`...)
			b = event.AppendList(b, a.RcptTo, func(b []byte, s *string) []byte { return e.AppendString(b, *s) })
		}
		b = e.AppendField(b, "reason", a.Reason, false)
		return append(b, '}')
	})
}
