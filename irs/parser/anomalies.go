package parser

import "fmt"

// MaxAnomalies caps the anomalies listed in one event; past it they are
// counted, and the count is the list's last entry.
const MaxAnomalies = 32

// Anomalies is a bounded (MaxAnomalies), de-duplicated list of findings
// for an event: a parser meeting hostile input may find the same fault in
// every packet, and the event must stay small while saying how many more
// there were. The zero value is ready to use.
type Anomalies struct {
	list    []string
	dropped int
}

// Add records s once; past the cap it is only counted.
func (a *Anomalies) Add(s string) {
	for _, x := range a.list {
		if x == s {
			return
		}
	}
	if len(a.list) >= MaxAnomalies {
		a.dropped++
		return
	}
	a.list = append(a.list, s)
}

// Addf is Add with formatting.
func (a *Anomalies) Addf(format string, args ...any) { a.Add(fmt.Sprintf(format, args...)) }

// Take is Out, and empties the list: for findings that travel with the
// next event rather than with the connection's last.
func (a *Anomalies) Take() []string {
	l := a.Out()
	*a = Anomalies{}
	return l
}

// Len is the number of anomalies listed so far.
func (a *Anomalies) Len() int { return len(a.list) }

// Out returns a copy of the list for an event, with extra findings that
// are not in it yet, noting how many were left out; nil when there is
// nothing to report.
func (a *Anomalies) Out(extra ...string) []string {
	var l []string
	l = append(l, a.list...)
	for _, e := range extra {
		dup := false
		for _, x := range l {
			if x == e {
				dup = true
				break
			}
		}
		if !dup {
			l = append(l, e)
		}
	}
	if a.dropped > 0 {
		l = append(l, fmt.Sprintf("%d more anomalies not listed", a.dropped))
	}
	return l
}
