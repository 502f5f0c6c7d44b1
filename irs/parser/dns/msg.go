package dns

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Decoder limits.
const (
	maxNameWire   = 255 // RFC 1035 name length on the wire
	maxLabels     = 127
	maxPointers   = 64
	maxTextLen    = 512 // text kept from one record's data
	maxQuestions  = 64
	headerLen     = 12
	maxMessageLen = 65535
)

// Decoding errors, for anomaly wording and tests.
var (
	errShort       = errors.New("message shorter than its header")
	errTruncName   = errors.New("name runs past the end of the message")
	errNameTooLong = errors.New("name longer than 255 bytes")
	errPtrLoop     = errors.New("compression pointer loop (pointer not to an earlier name)")
	errTooManyPtr  = errors.New("too many compression pointers")
	errLabelType   = errors.New("reserved label type")
	errTruncRR     = errors.New("record runs past the end of the message")
	errRData       = errors.New("record data inconsistent with its length")
)

// header is the fixed DNS header.
type header struct {
	id             uint16
	flags          uint16
	qd, an, ns, ar uint16
}

func (h header) response() bool { return h.flags&0x8000 != 0 }
func (h header) opcode() uint8  { return uint8(h.flags>>11) & 0xf }
func (h header) rcode() uint8   { return uint8(h.flags & 0xf) }

// flagBits are the flags dig shows, in its order.
var flagBits = [...]struct {
	bit  uint16
	name string
}{{0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"}, {0x0100, "rd"}, {0x0080, "ra"}, {0x0020, "ad"}, {0x0010, "cd"}}

// flagTexts holds flagString's answer for each combination of the seven
// flags, built once: every dns-query event carries one or two.
var flagTexts, flagValues = func() (t [1 << len(flagBits)]string, v [1 << len(flagBits)]any) {
	for i := range t {
		var f []string
		for j, x := range flagBits {
			if i&(1<<j) != 0 {
				f = append(f, x.name)
			}
		}
		t[i] = strings.Join(f, " ")
		v[i] = t[i]
	}
	return
}()

func (h header) flagIndex() int {
	i := 0
	for j, x := range flagBits {
		if h.flags&x.bit != 0 {
			i |= 1 << j
		}
	}
	return i
}

// flagString lists the set flags the way dig does.
func (h header) flagString() string { return flagTexts[h.flagIndex()] }

// flagValue is flagString as a summary value, boxed once.
func (h header) flagValue() any { return flagValues[h.flagIndex()] }

// question is one entry of the question section.
type question struct {
	name   string // presentation form, lower case kept as sent
	labels [][]byte
	qtype  uint16
	qclass uint16
}

// rr is a decoded resource record.
type rr struct {
	name  string
	typ   uint16
	class uint16
	ttl   uint32
	text  string // data in presentation form (bounded)
	line  string // "TYPE text", of which text is the tail
	full  string // "name TYPE text" when rendered so, of which line is the tail
	size  int    // rdata length
}

// withName is the record's line after its owner name.
func (r *rr) withName() string {
	if r.full != "" {
		return r.full
	}
	return r.name + " " + r.line
}

// edns is what an OPT record says.
type edns struct {
	udpSize uint16
	do      bool
	version uint8
	ecs     string // client subnet option, "192.0.2.0/24"
}

// message is a decoded DNS message; decoding stops at the first error,
// keeping what came before it.
type message struct {
	h         header
	questions []question
	answers   []rr   // the first maxAnswersShown (OPT left out)
	authority []rr   // the first maxAuthorityShown
	counts    [3]int // records decoded per section (answers, authority, additional)
	edns      *edns  // nil, or &opt
	opt       edns   // storage for edns: an OPT record costs no allocation
	size      int
	err       error       // why decoding stopped early, if it did
	errWhere  string      // which section
	q1        [1]question // backing for questions: almost every message has one
	l1        [4][]byte   // backing for the first question's labels
	names     [4]nameAt   // names rendered so far, for pointers to them
	nnames    int
}

// nameAt is a name rendered from off, which took ptrs compression
// pointers: a name that is only a pointer to off is the same string
// (records' owner names point to the question's name, most of them).
type nameAt struct {
	s    string
	off  uint16 // a pointer's 14 bits
	ptrs uint8  // at most maxPointers
}

func (m *message) remember(off, ptrs int, s string) {
	// a name past a pointer's reach is never pointed to
	if m.nnames < len(m.names) && off < 1<<14 {
		m.names[m.nnames] = nameAt{s, uint16(off), uint8(ptrs)}
		m.nnames++
	}
}

// decode parses a DNS message. It never panics and never reads outside b.
func decode(b []byte) *message {
	m := &message{}
	decodeInto(m, b)
	return m
}

// decodeInto is decode into m, which it resets; the record lists reuse
// m's arrays.
func decodeInto(m *message, b []byte) {
	answers, authority := m.answers[:0], m.authority[:0]
	*m = message{size: len(b)}
	if len(b) < headerLen {
		m.err, m.errWhere = errShort, "header"
		return
	}
	m.h = readHeader(b)
	off := headerLen
	m.questions = m.q1[:0]
	for i := 0; i < int(m.h.qd); i++ {
		var name string
		var labels [][]byte
		var next int
		var err error
		if i == 0 {
			var ptrs int
			name, labels, next, ptrs, err = readNameN(b, off, m.l1[:0], true, true)
			if err == nil {
				m.remember(off, ptrs, name)
			}
		} else {
			name, next, err = readName(b, off) // only the first question's labels are used
		}
		if err == nil && next+4 > len(b) {
			err = errTruncRR
		}
		if err != nil {
			m.err, m.errWhere = err, "question"
			return
		}
		q := question{name: name, labels: labels, qtype: binary.BigEndian.Uint16(b[next:]), qclass: binary.BigEndian.Uint16(b[next+2:])}
		off = next + 4
		if len(m.questions) < maxQuestions {
			m.questions = append(m.questions, q)
		}
	}
	// Every record is checked, but only those the events show are
	// rendered to text and kept.
	sections := []struct {
		n     uint16
		where string
		dst   *[]rr
		shown int
	}{{m.h.an, "answer", &m.answers, maxAnswersShown}, {m.h.ns, "authority", &m.authority, maxAuthorityShown},
		{m.h.ar, "additional", nil, 0}}
	for si, sec := range sections {
		if sec.dst != nil && sec.n > 0 {
			// sized for the records shown, as far as the bytes left can
			// hold them (a record takes at least 11)
			n := min(int(sec.n), sec.shown, (len(b)-off)/11+1)
			switch {
			case si == 0 && cap(answers) >= n:
				*sec.dst = answers
			case si == 1 && cap(authority) >= n:
				*sec.dst = authority
			default:
				*sec.dst = make([]rr, 0, n)
			}
		}
		for i := 0; i < int(sec.n); i++ {
			render := sec.dst != nil && len(*sec.dst) < sec.shown
			r, next, err := readRR(b, off, m, render)
			if err != nil {
				m.err, m.errWhere = err, sec.where
				return
			}
			off = next
			m.counts[si]++
			if render && r.typ != 41 {
				*sec.dst = append(*sec.dst, r)
			}
		}
	}
	if off < len(b) {
		m.errWhere = "trailing"
		m.err = fmt.Errorf("%d bytes after the last record", len(b)-off)
	}
}

// readHeader reads the fixed header; b holds at least headerLen bytes.
func readHeader(b []byte) header {
	return header{binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint16(b[4:]),
		binary.BigEndian.Uint16(b[6:]), binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])}
}

// readName reads a possibly compressed name at off. A pointer must point
// before the start of the run of labels that holds it (a valid encoder
// only points back to names written earlier), so the runs start ever
// earlier and a loop is impossible; the wire length is capped at 255.
func readName(b []byte, off int) (string, int, error) {
	s, _, next, err := readNameAs(b, off, nil, false, true)
	return s, next, err
}

// skipName checks a name as readName does, without rendering it: for
// records the events do not show.
func skipName(b []byte, off int) (int, error) {
	_, _, next, err := readNameAs(b, off, nil, false, false)
	return next, err
}

func readNameAs(b []byte, off int, dst [][]byte, keepLabels, render bool) (string, [][]byte, int, error) {
	s, labels, next, _, err := readNameN(b, off, dst, keepLabels, render)
	return s, labels, next, err
}

// readNameN is readNameAs that also returns how many compression
// pointers the name took.
func readNameN(b []byte, off int, dst [][]byte, keepLabels, render bool) (string, [][]byte, int, int, error) {
	// the name is built in a stack buffer that fits almost every name,
	// so that a name costs one allocation (its string)
	var scratch [256]byte
	buf, labels, next, ptrs, err := walkName(b, off, scratch[:0], dst, keepLabels, render)
	if err != nil {
		return "", nil, 0, 0, err
	}
	name := "."
	if len(buf) > 0 {
		name = string(buf)
	} else if !render {
		name = ""
	}
	return name, labels, next, ptrs, nil
}

// walkName reads the name at off as readNameAs does, appending its
// rendering (nothing for the root) to out when render is set.
func walkName(b []byte, off int, out []byte, dst [][]byte, keepLabels, render bool) ([]byte, [][]byte, int, int, error) {
	buf := out
	start := len(out)
	labels := dst
	nlabels := 0
	next := -1
	wire := 0
	ptrs := 0
	pos := off
	run := off // where the current run of labels began
	for {
		if pos >= len(b) {
			return out, nil, 0, 0, errTruncName
		}
		l := int(b[pos])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if next < 0 {
					next = pos + 1
				}
				if !keepLabels || len(labels) == 0 {
					labels = nil
				}
				return buf, labels, next, ptrs, nil
			}
			if pos+1+l > len(b) {
				return out, nil, 0, 0, errTruncName
			}
			wire += l + 1
			if wire+1 > maxNameWire || nlabels >= maxLabels {
				return out, nil, 0, 0, errNameTooLong
			}
			label := b[pos+1 : pos+1+l]
			nlabels++
			if keepLabels {
				labels = append(labels, label)
			}
			if render {
				if len(buf) > start {
					buf = append(buf, '.')
				}
				buf = appendLabel(buf, label)
			}
			pos += 1 + l
		case 0xc0:
			if pos+2 > len(b) {
				return out, nil, 0, 0, errTruncName
			}
			target := int(binary.BigEndian.Uint16(b[pos:]) & 0x3fff)
			if target >= run {
				return out, nil, 0, 0, errPtrLoop
			}
			run = target
			ptrs++
			if ptrs > maxPointers {
				return out, nil, 0, 0, errTooManyPtr
			}
			if next < 0 {
				next = pos + 2
			}
			pos = target
		default:
			return out, nil, 0, 0, errLabelType
		}
	}
}

// labelPlain marks the bytes appendLabel keeps as they are.
var labelPlain = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = c != '.' && c != '\\'
	}
	return
}()

// appendLabel renders a label as dig does: letters, digits, '-' and '_'
// as they are, '.' and '\' escaped, other bytes as \DDD. The result is
// always ASCII.
func appendLabel(dst []byte, label []byte) []byte {
	// most labels are plain: copied in one go
	i := 0
	for i < len(label) && labelPlain[label[i]] {
		i++
	}
	dst = append(dst, label[:i]...)
	for _, c := range label[i:] {
		switch {
		case c == '.' || c == '\\':
			dst = append(dst, '\\', c)
		case c > 0x20 && c < 0x7f:
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		}
	}
	return dst
}

// readRR reads one resource record and, when render is set, renders its
// owner and data; otherwise it only checks them (and reads EDNS). A
// rendered record is one string, "owner TYPE data", its name, line and
// text parts of it, or "TYPE data" when its owner is a name the message
// rendered before.
func readRR(b []byte, off int, m *message, render bool) (rr, int, error) {
	// the record is rendered in a stack buffer that fits almost every
	// record, so that it costs one allocation
	var scratch [320]byte
	var line []byte
	var owner string // the owner, when remembered
	known := false
	var p, optrs int
	var err error
	switch {
	case !render:
		p, err = skipName(b, off)
	default:
		line = scratch[:0]
		if owner, p, known = m.known(b, off); !known {
			line, p, optrs, err = m.appendName(line, b, off)
		}
	}
	if err != nil {
		return rr{}, 0, err
	}
	if p+10 > len(b) {
		return rr{}, 0, errTruncRR
	}
	r := rr{typ: binary.BigEndian.Uint16(b[p:]), class: binary.BigEndian.Uint16(b[p+2:]),
		ttl: binary.BigEndian.Uint32(b[p+4:])}
	rdlen := int(binary.BigEndian.Uint16(b[p+8:]))
	start := p + 10
	end := start + rdlen
	if end > len(b) {
		return rr{}, 0, errTruncRR
	}
	r.size = rdlen
	ownerEnd, lineStart, head := len(line), 0, 0
	if render {
		if !known {
			line = append(line, ' ')
		}
		lineStart = len(line)
		line = append(append(line, typeName(r.typ)...), ' ')
		head = len(line)
	}
	line, ref, err := m.appendRdata(line, b, start, end, r, render)
	if err != nil {
		name := owner
		switch {
		case !render:
			name, _, _ = readName(b, off) // read fine above
		case !known:
			name = string(line[:ownerEnd])
		}
		return rr{}, 0, fmt.Errorf("%s record of %s: %w", typeName(r.typ), name, err)
	}
	if render && r.typ != 41 { // an OPT record is not shown
		s := string(line)
		if !known {
			owner = s[:ownerEnd]
			r.full = s
			m.remember(off, optrs, owner)
		}
		r.name, r.line, r.text = owner, s[lineStart:], s[head:]
		if ref.end > 0 {
			m.remember(ref.off, ref.ptrs, s[ref.start:ref.end])
		}
	}
	return r, end, nil
}

// known returns the name at off when it is only a pointer to a name m
// rendered before: that name, checked as readName would check the
// pointer (to an earlier offset, one pointer more than that name took).
func (m *message) known(b []byte, off int) (string, int, bool) {
	if off+2 <= len(b) && b[off]&0xc0 == 0xc0 {
		target := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
		for _, n := range m.names[:m.nnames] {
			if int(n.off) == target && target < off && n.ptrs < maxPointers {
				return n.s, off + 2, true
			}
		}
	}
	return "", 0, false
}

// appendName appends the rendering of the name at off to out ("." for the
// root), checked as readName checks it. A name m knows is appended as it
// is, and ptrs is -1; otherwise ptrs counts the pointers the name took,
// for remember.
func (m *message) appendName(out []byte, b []byte, off int) (_ []byte, next, ptrs int, err error) {
	if s, next, ok := m.known(b, off); ok {
		return append(out, s...), next, -1, nil
	}
	start := len(out)
	out, _, next, ptrs, err = walkName(b, off, out, nil, false, true)
	if err == nil && len(out) == start {
		out = append(out, '.')
	}
	return out, next, ptrs, err
}

// nameRef is where a name rendered into a record's line lies in it, for
// remember (end 0: none).
type nameRef struct{ off, ptrs, start, end int }

// appendRdata appends record data in presentation form to line. Without
// render it makes the same checks, appends nothing and allocates nothing
// (but still reads EDNS from an OPT record). ref is the name that makes
// up the data of NS, CNAME, PTR, DNAME and MX records, when it is not
// one m remembered already.
func (m *message) appendRdata(line []byte, b []byte, start, end int, r rr, render bool) (_ []byte, ref nameRef, err error) {
	d := b[start:end]
	// a name inside the data must end inside the data (its compressed
	// tail may point anywhere earlier)
	name := func(off int) (int, error) {
		var next, ptrs int
		var err error
		if render {
			s := len(line)
			line, next, ptrs, err = m.appendName(line, b, off)
			if err == nil && ptrs >= 0 {
				ref = nameRef{off, ptrs, s, len(line)}
			}
		} else {
			_, _, next, err = readNameAs(b, off, nil, false, false)
		}
		if err == nil && next > end {
			err = errRData
		}
		return next, err
	}
	switch r.typ {
	case 1: // A
		if len(d) != 4 {
			return line, ref, errRData
		}
		if render {
			line = netip.AddrFrom4([4]byte(d)).AppendTo(line)
		}
		return line, ref, nil
	case 28: // AAAA
		if len(d) != 16 {
			return line, ref, errRData
		}
		if render {
			line = netip.AddrFrom16([16]byte(d)).AppendTo(line)
		}
		return line, ref, nil
	case 2, 5, 12, 39: // NS, CNAME, PTR, DNAME
		_, err := name(start)
		return line, ref, err
	case 15: // MX
		if len(d) < 3 {
			return line, ref, errRData
		}
		if render {
			line = append(strconv.AppendUint(line, uint64(binary.BigEndian.Uint16(d)), 10), ' ')
		}
		_, err := name(start + 2)
		return line, ref, err
	case 6: // SOA
		p, err := name(start)
		if err != nil {
			return line, ref, err
		}
		if render {
			line = append(line, ' ')
		}
		p, err = name(p)
		if err != nil {
			return line, ref, err
		}
		if p+20 != end {
			return line, ref, errRData
		}
		if render {
			line = strconv.AppendUint(append(line, ' '), uint64(binary.BigEndian.Uint32(b[p:])), 10)
		}
		return line, nameRef{}, nil // two names: neither remembered
	case 16, 99: // TXT, SPF
		t, err := characterStrings(d, render)
		return append(line, t...), ref, err
	case 33: // SRV
		if len(d) < 7 {
			return line, ref, errRData
		}
		if render {
			for i := 0; i < 6; i += 2 {
				line = append(strconv.AppendUint(line, uint64(binary.BigEndian.Uint16(d[i:])), 10), ' ')
			}
		}
		_, err := name(start + 6)
		return line, nameRef{}, err
	case 64, 65: // SVCB, HTTPS
		t, err := svcbText(b, start, end, render)
		return append(line, t...), ref, err
	case 257: // CAA
		if len(d) < 2 || 2+int(d[1]) > len(d) {
			return line, ref, errRData
		}
		if render {
			tag := string(d[2 : 2+int(d[1])])
			line = append(line, clip(fmt.Sprintf("%d %s %q", d[0], tag, string(d[2+int(d[1]):])), maxTextLen)...)
		}
		return line, ref, nil
	case 10: // NULL
		if render {
			line = appendSizeHex(line, "", len(d), " bytes ", d[:min(len(d), 16)])
		}
		return line, ref, nil
	case 41: // OPT
		m.opt = parseOPT(r, d)
		m.edns = &m.opt
		return line, ref, nil
	}
	if render {
		line = appendSizeHex(line, `\# `, len(d), " ", d[:min(len(d), 32)])
	}
	return line, ref, nil
}

// appendSizeHex appends prefix, n, sep and b in hex (the "%d ... %s"
// formatting of NULL and unknown records made three allocations, and
// tunnels answer with NULL records by the thousand).
func appendSizeHex(dst []byte, prefix string, n int, sep string, b []byte) []byte {
	dst = append(dst, prefix...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, sep...)
	return hex.AppendEncode(dst, b)
}

// characterStrings renders TXT data: quoted strings, bounded. Without
// render it only checks them.
func characterStrings(d []byte, render bool) (string, error) {
	var sb strings.Builder
	for len(d) > 0 {
		n := int(d[0])
		if 1+n > len(d) {
			return "", errRData
		}
		if render && sb.Len() < maxTextLen {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(strconv.Quote(string(d[1 : 1+n])))
		}
		d = d[1+n:]
	}
	return clip(sb.String(), maxTextLen), nil
}

var svcKeys = map[uint16]string{0: "mandatory", 1: "alpn", 2: "no-default-alpn", 3: "port", 4: "ipv4hint", 5: "ech", 6: "ipv6hint"}

// svcbText renders SVCB/HTTPS data (RFC 9460): priority, target, params.
// Without render it only checks them.
func svcbText(b []byte, start, end int, render bool) (string, error) {
	if end-start < 3 {
		return "", errRData
	}
	prio := binary.BigEndian.Uint16(b[start:])
	target, _, next, err := readNameAs(b, start+2, nil, false, render)
	if err != nil {
		return "", err
	}
	if next > end {
		return "", errRData
	}
	var parts []string
	if render {
		parts = []string{strconv.Itoa(int(prio)), target}
	}
	p := b[next:end]
	for len(p) > 0 {
		if len(p) < 4 {
			return "", errRData
		}
		key, n := binary.BigEndian.Uint16(p), int(binary.BigEndian.Uint16(p[2:]))
		if 4+n > len(p) {
			return "", errRData
		}
		v := p[4 : 4+n]
		p = p[4+n:]
		if !render {
			continue
		}
		name := svcKeys[key]
		if name == "" {
			name = "key" + strconv.Itoa(int(key))
		}
		switch key {
		case 1:
			var alpn []string
			for len(v) > 0 && 1+int(v[0]) <= len(v) {
				alpn = append(alpn, string(v[1:1+int(v[0])]))
				v = v[1+int(v[0]):]
			}
			parts = append(parts, "alpn="+strings.Join(alpn, ","))
		case 3:
			if len(v) == 2 {
				parts = append(parts, "port="+strconv.Itoa(int(binary.BigEndian.Uint16(v))))
			}
		case 4, 6:
			w := 4
			if key == 6 {
				w = 16
			}
			var ips []string
			for len(v) >= w {
				if w == 4 {
					ips = append(ips, netip.AddrFrom4([4]byte(v[:4])).String())
				} else {
					ips = append(ips, netip.AddrFrom16([16]byte(v[:16])).String())
				}
				v = v[w:]
			}
			parts = append(parts, name+"="+strings.Join(ips, ","))
		case 2:
			parts = append(parts, name)
		default:
			parts = append(parts, fmt.Sprintf("%s=<%d bytes>", name, n))
		}
	}
	return clip(strings.Join(parts, " "), maxTextLen), nil
}

// parseOPT reads EDNS from an OPT record (RFC 6891), with the client
// subnet option (RFC 7871), which names the client behind a resolver.
func parseOPT(r rr, d []byte) edns {
	e := edns{udpSize: r.class, version: uint8(r.ttl >> 16), do: r.ttl&0x8000 != 0}
	for len(d) >= 4 {
		code, n := binary.BigEndian.Uint16(d), int(binary.BigEndian.Uint16(d[2:]))
		if 4+n > len(d) {
			break
		}
		v := d[4 : 4+n]
		d = d[4+n:]
		if code != 8 || len(v) < 4 {
			continue // only the client subnet is reported
		}
		fam, srcLen := binary.BigEndian.Uint16(v), int(v[2])
		addr := v[4:]
		switch {
		case fam == 1 && len(addr) <= 4:
			var a [4]byte
			copy(a[:], addr)
			e.ecs = netip.PrefixFrom(netip.AddrFrom4(a), min(srcLen, 32)).String()
		case fam == 2 && len(addr) <= 16:
			var a [16]byte
			copy(a[:], addr)
			e.ecs = netip.PrefixFrom(netip.AddrFrom16(a), min(srcLen, 128)).String()
		}
	}
	return e
}

var typeNames = map[uint16]string{1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO",
	15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV",
	35: "NAPTR", 39: "DNAME", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
	51: "NSEC3PARAM", 52: "TLSA", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 64: "SVCB", 65: "HTTPS",
	99: "SPF", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY", 256: "URI", 257: "CAA"}

// typeTexts and typeValues index typeNames by type, as strings and as
// summary values boxed once: every record is named. Types past the
// arrays are looked up in typeNames.
var typeTexts, typeValues = func() (t [258]string, v [258]any) {
	for k, n := range typeNames {
		if int(k) < len(t) {
			t[k], v[k] = n, n
		}
	}
	return
}()

func typeName(t uint16) string {
	if int(t) < len(typeTexts) {
		if n := typeTexts[t]; n != "" {
			return n
		}
	} else if n, ok := typeNames[t]; ok {
		return n
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// rcodeValues: the names as summary values, boxed once (boxing a string
// allocates, and every event carries a few).
var (
	rcodeValues = func() (v [len(rcodeNames)]any) {
		for i, n := range rcodeNames {
			v[i] = n
		}
		return
	}()
)

// typeValue is typeName as a summary value.
func typeValue(t uint16) any {
	if int(t) < len(typeValues) && typeValues[t] != nil {
		return typeValues[t]
	}
	return typeName(t) // boxed here: unknown or past the array
}

// rcodeValue is rcodeName as a summary value.
func rcodeValue(r int) any {
	if r >= 0 && r < len(rcodeValues) {
		return rcodeValues[r]
	}
	return rcodeName(r)
}

// classNames are the classes with a name (RFC 1035, RFC 2136), boxed
// once: as a summary value a name then costs no allocation.
var classNames = map[uint16]any{1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}

// classValue is className as a summary value.
func classValue(c uint16) any {
	if v, ok := classNames[c&0x7fff]; ok {
		return v
	}
	return className(c)
}

// knownClass reports a class className names (not "CLASSn").
func knownClass(c uint16) bool {
	_, ok := classNames[c&0x7fff]
	return ok
}

func className(c uint16) string {
	if v, ok := classNames[c&0x7fff]; ok {
		return v.(string)
	}
	return "CLASS" + strconv.Itoa(int(c))
}

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI"}

func rcodeName(r int) string {
	if r >= 0 && r < len(rcodeNames) {
		return rcodeNames[r]
	}
	switch r {
	case 16:
		return "BADVERS"
	case 23:
		return "BADCOOKIE"
	}
	return "RCODE" + strconv.Itoa(r)
}

var opcodeNames = [...]string{"QUERY", "IQUERY", "STATUS", "OPCODE3", "NOTIFY", "UPDATE", "DSO"}

func opcodeName(o uint8) string {
	if int(o) < len(opcodeNames) {
		return opcodeNames[o]
	}
	return "OPCODE" + strconv.Itoa(int(o))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
