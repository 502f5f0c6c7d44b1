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
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range l {
		r := &l[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"address":`...)
		b = e.AppendString(b, r.Address)
		if r.Code != 0 {
			b = append(b, `,"code":`...)
			b = strconv.AppendInt(b, int64(r.Code), 10)
		}
		if r.Reply != "" {
			b = append(b, `,"reply":`...)
			b = e.AppendString(b, r.Reply)
		}
		b = append(b, `,"accepted":`...)
		b = strconv.AppendBool(b, r.Accepted)
		if len(r.Params) > 0 {
			b = append(b, `,"params":`...)
			b = e.AppendStringMap(b, r.Params)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// abortedList is a logoff event's "aborted_transactions", written as
// encoding/json writes []abortedTx.
type abortedList []abortedTx

// AppendJSON implements event.JSONValue.
func (l abortedList) AppendJSON(e *event.JSONEncoder, b []byte) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range l {
		a := &l[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"mail_from":`...)
		b = e.AppendString(b, a.MailFrom)
		if len(a.RcptTo) > 0 {
			b = append(b, `,"rcpt_to":[`...)
			for j, r := range a.RcptTo {
				if j > 0 {
					b = append(b, ',')
				}
				b = e.AppendString(b, r)
			}
			b = append(b, ']')
		}
		b = append(b, `,"reason":`...)
		b = e.AppendString(b, a.Reason)
		b = append(b, '}')
	}
	return append(b, ']')
}
