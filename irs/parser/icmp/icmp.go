// Package icmp parses ICMP and ICMPv6 for the IRS: echo requests and
// replies become one "icmp-echo" event per echo session (loss, round-trip
// times, payload profile), errors become "icmp-error" events with the
// header of the datagram that caused them decoded, and tunnelling over
// echo messages is flagged with an "icmp-tunnel-suspected" event.
//
// What the parser expects from the engine: for each ICMP packet, the ICMP
// message from its type byte to the end (type, code, checksum, then the
// rest: for echo the identifier, sequence number and data). ICMPv4 or
// ICMPv6 is told by the flow's address family. A flow may hold several
// echo identifiers; they are kept apart.
package icmp

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Event types.
const (
	TypeEcho   = "icmp-echo"
	TypeError  = "icmp-error"
	TypeTunnel = "icmp-tunnel-suspected"
	TypeOther  = "icmp-other"
)

// Limits.
const (
	maxSessions    = 256  // echo identifiers per flow
	maxOutstanding = 1024 // requests waiting for a reply per session
	maxErrors      = 256  // error events per flow; more are counted
	maxSizes       = 64   // distinct payload sizes remembered
)

// Tunnel thresholds, per echo session. Ordinary ping (iputils, BSD,
// Windows, Cisco, busybox) sends one payload pattern (a timestamp
// followed by incrementing bytes, or a repeated fill), the reply echoes
// the request byte for byte, sequence numbers advance, and the size is
// fixed. Suspected when any holds:
//
//   - tunMismatch replies whose data differs from their request's;
//   - tunEncap payloads that are themselves IPv4/IPv6 packets;
//   - tunNonStd payloads that match no ping pattern, together with
//     tunHighEnt of them at high entropy (at least tunEntropyRatio of
//     the maximum for their length), or tunSizes distinct sizes, or
//     tunSeqReuse requests reusing a sequence number.
const (
	tunMismatch     = 3
	tunEncap        = 3
	tunNonStd       = 10
	tunHighEnt      = 5
	tunSizes        = 5
	tunSeqReuse     = 5
	tunEntropyRatio = 0.75
	tunMinEntLen    = 32 // payloads shorter than this are not judged by entropy
)

const protocol = "icmp"

func init() { parser.Register(Detector{}) }

// Detector claims every ICMP flow: no other protocol reads ICMP, and a
// malformed message is itself worth an anomaly.
type Detector struct{}

// Name returns "icmp".
func (Detector) Name() string { return protocol }

// Transports returns ICMP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.ICMP} }

// IsRelative says Yes, or YesReversed when the first message the
// "client" sent is an echo reply (the capture missed the request).
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) > 0 && dir == parser.ClientToServer && isEchoReply(isV6(c), data[0]) {
		return parser.YesReversed
	}
	return parser.Yes
}

// New returns the parser for one flow.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &flow{c: c, env: env, v6: isV6(c), sessions: map[uint16]*session{}, other: map[string]int{}}
}

func isV6(c *parser.Conn) bool { return !c.Client.Addr().Unmap().Is4() }

// flow parses the ICMP messages of one flow.
type flow struct {
	c          *parser.Conn
	env        parser.Env
	v6         bool
	sessions   map[uint16]*session
	order      []*session
	errors     int
	other      map[string]int
	otherFirst time.Time
	otherLast  time.Time
	anoms      parser.Anomalies
	badSum     int
	ended      bool
}

// session is one echo identifier's exchange.
type session struct {
	id          uint16
	reqDir      parser.Direction // direction of requests
	start, end  time.Time
	requests    int
	replies     int
	matched     int
	dups        int
	unsolicited int
	out         map[uint16]sent // by sequence number, held by value: one allocation less per request
	outOrder    []uint16
	rttMin      time.Duration
	rttMax      time.Duration
	rttSum      time.Duration
	sizeMin     int
	sizeMax     int
	sizes       []int // distinct payload sizes, at most maxSizes: few, searched in place
	bytes       int64
	pattern     string // pattern of the first request payload
	nonStd      int
	highEnt     int
	mismatch    int
	encap       int
	seqReuse    int
	sample      string
	suspected   bool
}

type sent struct {
	ts      time.Time
	hash    uint64
	replied bool
}

func (f *flow) IsContinue() bool { return !f.ended }

// Gap means nothing for datagrams.
func (f *flow) Gap(parser.Direction, int, time.Time) {}

// src and dst of a direction.
func (f *flow) ends(dir parser.Direction) (netip.AddrPort, netip.AddrPort) {
	if dir == parser.ClientToServer {
		return f.c.Client, f.c.Server
	}
	return f.c.Server, f.c.Client
}

// ProcessPacket takes one ICMP message.
func (f *flow) ProcessPacket(dir parser.Direction, m []byte, ts time.Time) {
	if f.ended || dir > parser.ServerToClient {
		return
	}
	if len(m) < 4 {
		f.noteOther("truncated", ts)
		f.anoms.Addf("ICMP message of %d bytes, shorter than its header", len(m))
		return
	}
	if !f.checksumOK(dir, m) {
		f.badSum++
	}
	typ, code := m[0], m[1]
	switch {
	case isEchoRequest(f.v6, typ) || isEchoReply(f.v6, typ):
		if len(m) < 8 {
			f.noteOther("truncated echo", ts)
			f.anoms.Addf("echo message of %d bytes, shorter than 8", len(m))
			return
		}
		f.echo(dir, isEchoRequest(f.v6, typ), code, binary.BigEndian.Uint16(m[4:]), binary.BigEndian.Uint16(m[6:]), m[8:], ts)
	case isError(f.v6, typ):
		f.icmpError(dir, typ, code, m, ts)
	default:
		name, known := typeName(f.v6, typ)
		if !known {
			f.anoms.Addf("unassigned ICMP type %d code %d", typ, code)
		}
		f.noteOther(name, ts)
	}
}

func (f *flow) noteOther(name string, ts time.Time) {
	if len(f.other) == 0 {
		f.otherFirst = ts
	}
	f.otherLast = ts
	if _, ok := f.other[name]; ok || len(f.other) < 64 {
		f.other[name]++
	}
}

// checksumOK verifies the Internet checksum (ICMPv6: with the pseudo
// header of RFC 8200 section 8.1).
func (f *flow) checksumOK(dir parser.Direction, m []byte) bool {
	// 32-bit words summed in 64 bits fold to the same one's complement
	// sum as 16-bit ones (2^16 is 1 modulo 0xffff), at half the steps.
	var sum uint64
	add := func(b []byte) {
		for len(b) >= 8 {
			sum += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
			b = b[8:]
		}
		for len(b) >= 2 {
			sum += uint64(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint64(b[0]) << 8
		}
	}
	if f.v6 {
		src, dst := f.ends(dir)
		s, d := src.Addr().As16(), dst.Addr().As16()
		add(s[:])
		add(d[:])
		sum += uint64(len(m)) + 58
	}
	add(m)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

// echo accounts one echo request or reply.
func (f *flow) echo(dir parser.Direction, req bool, code uint8, id, seq uint16, data []byte, ts time.Time) {
	s := f.sessions[id]
	if s == nil {
		if len(f.order) >= maxSessions {
			old := f.order[0]
			f.order = f.order[1:]
			delete(f.sessions, old.id)
			f.emitSession(old)
		}
		s = &session{id: id, reqDir: dir, start: ts, out: map[uint16]sent{}, sizeMin: math.MaxInt}
		if !req {
			s.reqDir = dir.Reverse()
		}
		f.sessions[id] = s
		f.order = append(f.order, s)
	}
	s.end = ts
	s.bytes += int64(len(data))
	s.sizeMin = min(s.sizeMin, len(data))
	s.sizeMax = max(s.sizeMax, len(data))
	if len(s.sizes) < maxSizes && !slices.Contains(s.sizes, len(data)) {
		s.sizes = append(s.sizes, len(data))
	}
	if code != 0 {
		f.anoms.Addf("echo message with code %d (always 0)", code)
	}
	// a reply is matched to its request's data by a 64-bit hash;
	// maphash reads 16 bytes at a time where FNV-1a reads one
	sum := maphash.Bytes(payloadSeed, data)
	if req {
		s.requests++
		std, pat := classify(data)
		if s.requests == 1 {
			s.pattern = pat
		}
		if !std {
			s.nonStd++
			if s.sample == "" {
				s.sample = hex.EncodeToString(data[:min(len(data), 32)])
			}
			if len(data) >= tunMinEntLen && highEntropy(data, tunEntropyRatio*math.Log2(float64(min(len(data), 256)))) {
				s.highEnt++
			}
		}
		if looksLikeIP(data) {
			s.encap++
		}
		if p, ok := s.out[seq]; ok && !p.replied {
			s.seqReuse++
		}
		if _, ok := s.out[seq]; !ok {
			s.outOrder = append(s.outOrder, seq)
		}
		s.out[seq] = sent{ts: ts, hash: sum}
		for len(s.out) > maxOutstanding && len(s.outOrder) > 0 {
			delete(s.out, s.outOrder[0])
			s.outOrder = s.outOrder[1:]
		}
	} else {
		s.replies++
		p, ok := s.out[seq]
		switch {
		case !ok:
			s.unsolicited++
			if looksLikeIP(data) {
				s.encap++
			}
		case p.replied:
			s.dups++
		default:
			p.replied = true
			s.out[seq] = p
			s.matched++
			rtt := ts.Sub(p.ts)
			if s.matched == 1 || rtt < s.rttMin {
				s.rttMin = rtt
			}
			s.rttMax = max(s.rttMax, rtt)
			s.rttSum += rtt
			if p.hash != sum {
				s.mismatch++
				if looksLikeIP(data) {
					s.encap++
				}
			}
		}
	}
	if !s.suspected {
		if why := s.tunnelReasons(); len(why) > 0 {
			s.suspected = true
			f.emitTunnel(s, why, ts)
		}
	}
}

// tunnelReasons applies the thresholds.
func (s *session) tunnelReasons() []string {
	var why []string
	if s.mismatch >= tunMismatch {
		why = append(why, "replies do not echo their requests' data")
	}
	if s.encap >= tunEncap {
		why = append(why, "payloads are IP packets")
	}
	if s.nonStd >= tunNonStd && (s.highEnt >= tunHighEnt || len(s.sizes) >= tunSizes || s.seqReuse >= tunSeqReuse) {
		why = append(why, "non-standard payloads varying in content, size or sequence")
	}
	return why
}

// classify says whether a ping payload follows a usual pattern: after an
// optional timestamp of 8 or 16 bytes, incrementing bytes (iputils, BSD,
// macOS) or a repeated fill of period up to 32 (Windows' alphabet,
// ping -p, zeros, Cisco's 0xabcd).
func classify(p []byte) (bool, string) {
	switch {
	case len(p) == 0:
		return true, "empty"
	case len(p) <= 16:
		return true, "short"
	}
	for _, skip := range []int{0, 8, 16} {
		if len(p)-skip < 8 {
			continue
		}
		r := p[skip:]
		inc := true
		for i := 1; i < len(r) && inc; i++ {
			inc = r[i] == r[i-1]+1
		}
		if inc {
			return true, "incrementing"
		}
		for k := 1; k <= 32 && k+8 <= len(r); k++ {
			rep := true
			for i := k; i < len(r) && rep; i++ {
				rep = r[i] == r[i-k]
			}
			if rep {
				if k == 1 && r[0] == 0 {
					return true, "zeros"
				}
				return true, "repeating"
			}
		}
	}
	return false, "other"
}

// looksLikeIP reports a payload that is an IPv4 or IPv6 packet whose
// length field matches (what ICMP tunnels carry).
func looksLikeIP(p []byte) bool {
	switch {
	case len(p) >= 20 && p[0]>>4 == 4 && p[0]&0xf >= 5:
		n := int(binary.BigEndian.Uint16(p[2:]))
		return n >= 20 && n <= len(p) && n+8 >= len(p)
	case len(p) >= 40 && p[0]>>4 == 6:
		n := int(binary.BigEndian.Uint16(p[4:])) + 40
		return n <= len(p) && n+8 >= len(p)
	}
	return false
}

// payloadSeed seeds the payload hashes, which are compared within the
// process only.
var payloadSeed = maphash.MakeSeed()

// entropy is the Shannon entropy of b in bits per byte.
func entropy(b []byte) float64 {
	var freq [256]int
	for _, c := range b {
		freq[c]++
	}
	return entropyOf(&freq, float64(len(b)))
}

// entropyOf is the entropy of n bytes counted in freq.
func entropyOf(freq *[256]int, n float64) float64 {
	h := 0.0
	for _, k := range freq {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// entropyMargin exceeds the rounding error of entropyOf's sum (at most
// 256 terms below 1 bit, each off by a few parts in 10^16) many times.
const entropyMargin = 1e-9

// highEntropy reports entropy(b) >= limit, summing the entropy (a
// logarithm per byte value present, most of an echo request's cost)
// only when two bounds leave the answer open: the entropy is at most
// log2 of the number of distinct byte values and at least the collision
// entropy, -log2 of the sum of the squared frequencies (Rényi entropies
// do not grow with their order). With the margin the answer is always
// the one entropy(b) >= limit gives.
func highEntropy(b []byte, limit float64) bool {
	// The bounds' counts grow with the histogram (a count going from k
	// to k+1 adds 2k+1 to the sum of squares) rather than in a pass
	// over its 256 entries, which cost more than filling it for a ping.
	var freq [256]int
	distinct, sumSq := 0, 0
	for _, c := range b {
		k := freq[c]
		if k == 0 {
			distinct++
		}
		sumSq += 2*k + 1
		freq[c] = k + 1
	}
	if distinct == 0 {
		return 0 >= limit
	}
	n := float64(len(b))
	switch {
	case math.Log2(float64(distinct))+entropyMargin < limit:
		return false
	case math.Log2(n*n/float64(sumSq))-entropyMargin >= limit:
		return true
	}
	return entropyOf(&freq, n) >= limit
}

func (f *flow) emit(ev *event.Event) {
	ev.Protocol = protocol
	ev.Transport = "icmp"
	ev.Client, ev.Server = f.c.Client, f.c.Server
	f.env.Emit(ev)
}

func (f *flow) subject(s *session) string {
	a, b := f.ends(s.reqDir)
	return fmt.Sprintf("ping %s → %s", a.Addr(), b.Addr())
}

func (s *session) evidence() event.Fields {
	sizes := append(make([]int, 0, len(s.sizes)), s.sizes...)
	slices.Sort(sizes)
	if len(sizes) > 8 {
		sizes = sizes[:8]
	}
	return event.Fields{{Key: "non_standard_payloads", Value: s.nonStd}, {Key: "high_entropy_payloads", Value: s.highEnt},
		{Key: "reply_mismatches", Value: s.mismatch}, {Key: "encapsulated_ip", Value: s.encap}, {Key: "seq_reused", Value: s.seqReuse},
		{Key: "distinct_sizes", Value: len(s.sizes)}, {Key: "sizes", Value: sizes}}
}

func (f *flow) emitTunnel(s *session, why []string, ts time.Time) {
	e := s.evidence()
	e.Set("reasons", why)
	e.Set("identifier", s.id)
	e.Set("requests", s.requests)
	e.Set("replies", s.replies)
	e.Set("payload_max", s.sizeMax)
	if s.sample != "" {
		e.Set("sample", s.sample)
	}
	e.Set("thresholds", map[string]any{"mismatch": tunMismatch, "encapsulated": tunEncap, "non_standard": tunNonStd,
		"high_entropy": tunHighEnt, "sizes": tunSizes, "seq_reuse": tunSeqReuse, "entropy_ratio": tunEntropyRatio})
	f.emit(&event.Event{Type: TypeTunnel, Start: s.start, End: ts, Subject: f.subject(s), Summary: e})
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// emitSession reports one echo session.
func (f *flow) emitSession(s *session) {
	req, resp := f.ends(s.reqDir)
	sum := s.evidence()
	sum.Set("identifier", s.id)
	sum.Set("requester", req.Addr().String())
	sum.Set("responder", resp.Addr().String())
	sum.Set("requests", s.requests)
	sum.Set("replies", s.replies)
	lost := 0
	for _, p := range s.out {
		if !p.replied {
			lost++
		}
	}
	lost += s.seqReuse
	sum.Set("lost", lost)
	if s.requests > 0 {
		sum.Set("loss_pct", math.Round(float64(lost)/float64(s.requests)*1000)/10)
	}
	if s.dups > 0 {
		sum.Set("duplicates", s.dups)
	}
	if s.unsolicited > 0 {
		sum.Set("replies_without_request", s.unsolicited)
	}
	if s.matched > 0 {
		sum.Set("rtt_min_ms", ms(s.rttMin))
		sum.Set("rtt_avg_ms", ms(s.rttSum/time.Duration(s.matched)))
		sum.Set("rtt_max_ms", ms(s.rttMax))
	}
	if s.requests+s.replies > 0 {
		sum.Set("payload_min", s.sizeMin)
		sum.Set("payload_max", s.sizeMax)
	}
	sum.Set("bytes", s.bytes)
	if s.pattern != "" {
		sum.Set("pattern", s.pattern)
	}
	if s.suspected {
		sum.Set("tunnel_suspected", true)
	}
	f.emit(&event.Event{Type: TypeEcho, Start: s.start, End: s.end, Subject: f.subject(s), Summary: sum})
}

// EndProcess reports the echo sessions and the other messages.
func (f *flow) EndProcess(reason parser.EndReason, ts time.Time) {
	if f.ended {
		return
	}
	f.ended = true
	for _, s := range f.order {
		f.emitSession(s)
	}
	if f.errors > maxErrors {
		f.anoms.Addf("%d further error messages not reported one by one", f.errors-maxErrors)
	}
	if f.badSum > 0 {
		f.anoms.Addf("%d messages with a bad checksum", f.badSum)
	}
	if len(f.other) > 0 || f.anoms.Len() > 0 {
		start := f.otherFirst
		if start.IsZero() {
			start = f.c.Start
		}
		s := event.Fields{{Key: "end_reason", Value: reason.String()}}
		if len(f.other) > 0 {
			s.Set("types", f.other)
		}
		f.emit(&event.Event{Type: TypeOther, Start: start, End: ts, Summary: s, Anomalies: f.anoms.Out()})
	}
}
