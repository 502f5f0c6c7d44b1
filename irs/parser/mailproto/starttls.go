package mailproto

import "github.com/sdnli/sdnli/irs/parser"

const (
	// MaxInjected caps the injected bytes kept for quoting.
	MaxInjected = 64
	// injectedQuote is how many of them an anomaly quotes.
	injectedQuote = 40
)

// Injection collects server bytes sent after the server accepted
// STARTTLS (STLS) and before the client's TLS handshake. A server speaks
// there only inside TLS, so plaintext is a response injection: a man in
// the middle's answers that the client reads as if they came over TLS.
// The zero value is ready to use.
type Injection struct {
	quote []byte
	n     int
}

// Add records server bytes seen in that window.
func (j *Injection) Add(data []byte) {
	j.quote, _ = AppendBounded(j.quote, data, MaxInjected)
	j.n += len(data)
}

// Seen reports whether any bytes were injected (and not reported yet).
func (j *Injection) Seen() bool { return j.n > 0 }

// Buffered is the capacity held, for memory accounting.
func (j *Injection) Buffered() int { return cap(j.quote) }

// Report adds the injection, if any, to a, naming the command that was
// accepted (verb: "STARTTLS", "STLS"), and forgets it.
func (j *Injection) Report(a *parser.Anomalies, verb string) {
	if j.n == 0 {
		return
	}
	a.Addf("%s response injection: the server sent %d bytes after accepting %s, before the client's TLS handshake: %s",
		verb, j.n, verb, Quote(j.quote, injectedQuote))
	*j = Injection{}
}
