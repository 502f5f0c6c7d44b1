package dns

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// pkey pairs a response with its query.
type pkey struct {
	id     uint16
	name   string // as sent: names compare without regard to ASCII case
	qtype  uint16
	qclass uint16
}

// same reports whether k and o pair (names equal but for ASCII case).
func (k pkey) same(o pkey) bool {
	return k.id == o.id && k.qtype == o.qtype && k.qclass == o.qclass && ascii.EqualFold(k.name, o.name)
}

// indexed is k as the pending index keys it: the name lowered.
func (k pkey) indexed() pkey {
	k.name = lowerName(k.name)
	return k
}

type query struct {
	key  pkey
	ikey pkey     // key.indexed(), once the flow's waiting queries are indexed
	m    *message // &msg when the query was seen, else nil
	ts   time.Time
	dir  parser.Direction
	done bool
	msg  message // the query's message, allocated with it
}

// tcpStream reassembles length-prefixed messages in one direction.
type tcpStream struct {
	buf  []byte
	dead bool
}

// flow parses one UDP flow or TCP connection.
type flow struct {
	c       *parser.Conn
	env     parser.Env
	det     *Detector
	tcp     bool
	streams [2]tcpStream
	// order holds the queries in arrival order, answered ones removed
	// lazily; a flow's few waiting queries are found by scanning it.
	// pending indexes the waiting queries by key once order grows past
	// indexAt (nil until then), so a flood of queries stays cheap.
	order     []*query
	orderArr  []*query  // order's array from its start, reused once order empties
	order0    [2]*query // order's first array: a flow rarely has more waiting
	pending   map[pkey][]*query
	npending  int
	malformed int
	anoms     parser.Anomalies
	anomAt    time.Time
	ended     bool
}

// responses are the messages responses (and the messages detection
// looks at) are decoded into, reused.
var responses = sync.Pool{New: func() any { return new(message) }}

func newFlow(c *parser.Conn, env parser.Env, det *Detector) *flow {
	f := &flow{c: c, env: env, det: det, tcp: c.Transport == parser.TCP}
	f.order = f.order0[:0]
	f.orderArr = f.order
	return f
}

func (f *flow) IsContinue() bool { return !f.ended }

func (f *flow) anomaly(ts time.Time, s string) {
	if f.anoms.Len() == 0 {
		f.anomAt = ts
	}
	f.anoms.Add(s)
}

// ProcessPacket takes one datagram (UDP) or stream bytes (TCP).
func (f *flow) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if f.ended || dir > parser.ServerToClient {
		return
	}
	if !f.tcp {
		f.message(dir, data, ts)
		return
	}
	st := &f.streams[dir]
	if st.dead {
		return
	}
	st.buf = append(st.buf, data...)
	p := st.buf
	for len(p) >= 2 {
		n := int(binary.BigEndian.Uint16(p))
		if n == 0 {
			f.anomaly(ts, fmt.Sprintf("zero-length message in the %s stream", dir))
			p = p[2:]
			continue
		}
		if len(p) < 2+n {
			break
		}
		f.message(dir, p[2:2+n], ts)
		p = p[2+n:]
	}
	st.buf = st.buf[:copy(st.buf, p)]
}

// Gap loses the framing of a TCP stream: that direction stops.
func (f *flow) Gap(dir parser.Direction, n int, ts time.Time) {
	if f.ended || dir > parser.ServerToClient {
		return
	}
	f.anomaly(ts, fmt.Sprintf("%d bytes missing from the %s stream (capture gap); its messages are no longer parsed", n, dir))
	if f.tcp {
		f.streams[dir] = tcpStream{dead: true}
	}
}

// message handles one DNS message.
func (f *flow) message(dir parser.Direction, b []byte, ts time.Time) {
	f.expire(ts)
	var m *message
	var q *query
	if len(b) >= headerLen && b[2]&0x80 != 0 {
		// A response is done with once its event is built (only
		// queries wait for their answer): it is decoded into a message
		// shared by all flows, not one per flow, which most flows (one
		// query, one answer) would hold unused until they time out.
		m = responses.Get().(*message)
		defer responses.Put(m)
	} else {
		// a query is decoded into the record that waits for its
		// answer: one allocation for both
		q = &query{}
		m = &q.msg
	}
	decodeInto(m, b)
	if m.err != nil && (m.errWhere == "header" || m.errWhere == "question") {
		if m.errWhere == "question" && m.h.response() {
			if q := f.takeByID(m.h.id); q != nil {
				f.emitPair(q, m, ts)
				return
			}
		}
		f.emitMalformed(dir, b, m, ts)
		return
	}
	if len(m.questions) == 0 {
		if m.h.response() {
			if q := f.takeByID(m.h.id); q != nil {
				f.emitPair(q, m, ts)
				return
			}
		}
		f.emitMalformed(dir, b, m, ts)
		return
	}
	q0 := m.questions[0]
	k := pkey{m.h.id, q0.name, q0.qtype, q0.qclass}
	if !m.h.response() {
		if ev := f.det.tun.observe(f.srcOf(dir).Addr(), m.questions, ts); ev != nil {
			f.emit(ev)
		}
		q.key, q.m, q.ts, q.dir = k, m, ts, dir
		f.addPending(q)
		if f.npending > maxPending {
			f.unansweredOldest("more than " + fmt.Sprint(maxPending) + " queries waiting")
		}
		return
	}
	q = f.oldestPending(k)
	if q != nil {
		f.dropPending(q)
	} else {
		q = f.takeByID(m.h.id)
	}
	if q == nil {
		q = &query{key: k, ts: ts, dir: dir.Reverse()}
	}
	f.emitPair(q, m, ts)
}

// indexAt is the length of order past which waiting queries are indexed
// by key rather than found by scanning.
const indexAt = 16

// addPending queues a query waiting for its response.
func (f *flow) addPending(q *query) {
	if len(f.order) == cap(f.order) {
		old := f.order
		f.order = append(f.order, q)
		f.orderArr = f.order[:0] // a new array, order at its start
		clear(old)               // the old array (the flow's own, maybe) keeps no query
	} else {
		f.order = append(f.order, q)
	}
	if len(f.order) > 2*maxPending {
		live := f.order[:0]
		for _, x := range f.order {
			if !x.done {
				live = append(live, x)
			}
		}
		clear(f.order[len(live):])
		f.order = live
	}
	f.npending++
	switch {
	case f.pending != nil:
		q.ikey = q.key.indexed()
		f.pending[q.ikey] = append(f.pending[q.ikey], q)
	case len(f.order) > indexAt:
		f.pending = map[pkey][]*query{}
		for _, x := range f.order {
			if !x.done {
				x.ikey = x.key.indexed()
				f.pending[x.ikey] = append(f.pending[x.ikey], x)
			}
		}
	}
}

// oldestPending returns the oldest waiting query with key k, or nil.
func (f *flow) oldestPending(k pkey) *query {
	if f.pending != nil {
		if l := f.pending[k.indexed()]; len(l) > 0 {
			return l[0]
		}
		return nil
	}
	for _, q := range f.order {
		if !q.done && q.key.same(k) {
			return q
		}
	}
	return nil
}

// dropPending marks a waiting query answered (or given up).
func (f *flow) dropPending(q *query) {
	q.done = true
	f.npending--
	if f.pending == nil {
		return
	}
	l := f.pending[q.ikey]
	for i, x := range l {
		if x == q {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(f.pending, q.ikey)
	} else {
		f.pending[q.ikey] = l
	}
}

// takeByID finds the oldest waiting query with an ID, whatever its
// question (for responses that omit or mangle the question).
func (f *flow) takeByID(id uint16) *query {
	for _, q := range f.order {
		if !q.done && q.key.id == id {
			f.dropPending(q)
			return q
		}
	}
	return nil
}

// expire reports queries that waited too long, oldest first.
func (f *flow) expire(ts time.Time) {
	for len(f.order) > 0 {
		q := f.order[0]
		if q.done {
			f.popOrder()
			continue
		}
		if ts.Sub(q.ts) <= pendingTimeout {
			return
		}
		f.unansweredOldest("")
	}
}

// popOrder removes the head of order; an emptied order starts again at
// the start of its array, so that a flow's queries one after another
// need no new one.
func (f *flow) popOrder() {
	f.order[0] = nil
	f.order = f.order[1:]
	if len(f.order) == 0 {
		f.order = f.orderArr[:0]
	}
}

// unansweredOldest reports the oldest waiting query as unanswered.
func (f *flow) unansweredOldest(why string) {
	for len(f.order) > 0 {
		q := f.order[0]
		f.popOrder()
		if q.done {
			continue
		}
		f.dropPending(q)
		if why != "" {
			f.anomaly(q.ts, why)
		}
		f.emitPair(q, nil, q.ts)
		return
	}
}

// EndProcess reports the queries never answered.
func (f *flow) EndProcess(reason parser.EndReason, ts time.Time) {
	if f.ended {
		return
	}
	for f.npending > 0 {
		f.unansweredOldest("")
	}
	if f.tcp {
		for d, st := range f.streams {
			if len(st.buf) > 0 && !st.dead {
				f.anomaly(ts, fmt.Sprintf("%s stream ended inside a message (%d bytes)", parser.Direction(d), len(st.buf)))
			}
		}
	}
	if f.malformed > maxMalformed {
		f.anomaly(ts, fmt.Sprintf("%d further malformed messages not reported one by one", f.malformed-maxMalformed))
	}
	if f.anoms.Len() > 0 {
		f.emit(&event.Event{Type: TypeAnomaly, Start: f.anomAt, End: ts, Anomalies: f.anoms.Take(),
			Summary: event.Fields{{Key: "end_reason", Value: reason.String()}}})
	}
	f.ended = true
}

func (f *flow) emit(ev *event.Event) {
	ev.Protocol = protocol
	ev.Transport = "udp"
	if f.tcp {
		ev.Transport = "tcp"
	}
	ev.Client, ev.Server = f.c.Client, f.c.Server
	f.env.Emit(ev)
}

// emitMalformed reports a message that could not be decoded far enough to
// pair it.
func (f *flow) emitMalformed(dir parser.Direction, b []byte, m *message, ts time.Time) {
	f.malformed++
	if f.malformed > maxMalformed {
		return
	}
	s := event.Fields{{Key: "direction", Value: dir.String()}, {Key: "size", Value: len(b)}, {Key: "error", Value: errText(m)},
		{Key: "head", Value: hex.EncodeToString(b[:min(len(b), 64)])}}
	if len(b) >= headerLen {
		s.Set("id", m.h.id)
		s.Set("flags", m.h.flagString())
	}
	ev := &event.Event{Type: TypeMalformed, Start: ts, End: ts, Summary: s, Anomalies: []string{"malformed DNS message: " + errText(m)}}
	if len(m.questions) > 0 {
		ev.Subject = m.questions[0].name
	}
	f.emit(ev)
}

func errText(m *message) string {
	if m.err == nil {
		if len(m.questions) == 0 {
			return "no question"
		}
		return ""
	}
	return m.errWhere + " section: " + m.err.Error()
}

// emitPair reports a query with its response (r nil: unanswered; q.m nil:
// the query was not seen).
func (f *flow) emitPair(q *query, r *message, rts time.Time) {
	// room for the fields an answered query has, a dozen or so, and for
	// the fewer of an unanswered one: the summary is not grown
	keys := 10
	if r != nil {
		keys = 16
	}
	ev := &event.Event{Type: TypeQuery, Start: q.ts, End: rts, Summary: make(event.Fields, 0, keys)}
	s := &ev.Summary
	base := q.m
	if base == nil {
		base = r
	}
	s.Set("id", base.h.id)
	if len(base.questions) > 0 {
		qq := base.questions[0]
		ev.Subject = qq.name
		s.Set("query", qq.name)
		s.Set("qtype", typeValue(qq.qtype))
		s.Set("qclass", classValue(qq.qclass))
		if len(base.questions) > 1 {
			var all []string
			for _, x := range base.questions {
				all = append(all, x.name+" "+typeName(x.qtype))
			}
			s.Set("questions", all)
		}
	}
	if op := base.h.opcode(); op != 0 {
		s.Set("opcode", opcodeName(op))
	}
	if q.m != nil {
		s.Set("query_flags", q.m.h.flagValue())
		if e := q.m.edns; e != nil {
			s.Set("edns_udp_size", e.udpSize)
			if e.do {
				s.Set("dnssec_ok", true)
			}
			if e.ecs != "" {
				s.Set("client_subnet", e.ecs)
			}
		}
		if q.m.err != nil {
			ev.Anomalies = append(ev.Anomalies, "query: "+errText(q.m))
		}
	} else {
		s.Set("query_not_seen", true)
	}
	if r == nil {
		s.Set("unanswered", true)
	} else {
		s.Set("rcode", rcodeValue(int(r.h.rcode())))
		s.Set("flags", r.h.flagValue())
		if r.h.flags&0x0200 != 0 {
			s.Set("truncated", true)
		}
		if q.m != nil {
			s.Set("rtt_ms", math.Round(float64(rts.Sub(q.ts).Microseconds()))/1000)
		}
		qname := ""
		if len(r.questions) > 0 {
			qname = r.questions[0].name
		}
		var answers []string
		var ttls []uint32
		if n := min(len(r.answers), maxAnswersShown); n > 0 {
			answers, ttls = make([]string, 0, n), make([]uint32, 0, n)
		}
		for _, a := range r.answers {
			if len(answers) >= maxAnswersShown {
				break
			}
			txt := a.line
			if !strings.EqualFold(a.name, qname) {
				txt = a.withName()
			}
			answers = append(answers, txt)
			ttls = append(ttls, a.ttl)
		}
		if len(answers) > 0 {
			s.Set("answers", answers)
			s.Set("ttls", ttls)
		}
		s.Set("answer_count", r.counts[0])
		if r.counts[1] > 0 {
			s.Set("authority_count", r.counts[1])
			var auth []string
			for _, a := range r.authority {
				if len(auth) >= maxAuthorityShown {
					break
				}
				auth = append(auth, a.withName())
			}
			s.Set("authority", auth)
		}
		if r.counts[2] > 0 {
			s.Set("additional_count", r.counts[2])
		}
		if r.err != nil {
			ev.Anomalies = append(ev.Anomalies, "response: "+errText(r))
		}
		if rq := r.questions; q.m != nil && q.key.id == r.h.id && len(rq) > 0 &&
			!q.key.same(pkey{r.h.id, rq[0].name, rq[0].qtype, rq[0].qclass}) {
			ev.Anomalies = append(ev.Anomalies, "response question differs from the query's")
		}
	}
	if f.anoms.Len() > 0 {
		ev.Anomalies = append(f.anoms.Take(), ev.Anomalies...)
	}
	f.emit(ev)
}

// lowerName is strings.ToLower for a rendered name, which is ASCII
// (appendLabel escapes every other byte): a name without upper-case
// letters is returned as it is, another lowered in one allocation.
func lowerName(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	var buf [256]byte
	b := append(buf[:0], s...)
	for j := i; j < len(b); j++ {
		b[j] = ascii.Lower(b[j])
	}
	return string(b)
}

// srcOf returns the address a direction's packets come from.
func (f *flow) srcOf(dir parser.Direction) netip.AddrPort {
	if dir == parser.ClientToServer {
		return f.c.Client
	}
	return f.c.Server
}
