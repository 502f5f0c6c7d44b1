package ssh

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
)

// Bounds on hostile input.
const (
	maxLine      = 255  // RFC 4253 §4.2: version line incl. CR LF
	maxLineSeen  = 1024 // longer non-version lines are cut here while skipped
	maxPreLines  = 64   // server lines before the version line
	maxClearPkt  = 65536
	earlyRecords = 256 // encrypted records kept in order for the setup analysis
)

// Phases of one direction.
type phase uint8

const (
	phBanner    phase = iota // reading lines up to the version line
	phClear                  // binary packets in clear, up to NEWKEYS
	phEncrypted              // after NEWKEYS: sizes and times only
	phOpaque                 // SSH-1, or framing lost: sizes and times only
	phRefusal                // a text line where a binary packet belongs
)

// banner is one side's version line (RFC 4253 §4.2).
type banner struct {
	Raw, Proto, Software, Comments string
}

func parseBanner(line string) banner {
	b := banner{Raw: line}
	rest := strings.TrimPrefix(line, "SSH-")
	proto, rest, _ := strings.Cut(rest, "-")
	b.Proto = proto
	b.Software, b.Comments, _ = strings.Cut(rest, " ")
	return b
}

// v2 reports whether a version line's protocol is SSH-2 ("1.99" is a
// server that speaks both).
func v2(proto string) bool { return proto == "2.0" || proto == "1.99" }

// half is one direction's state.
type half struct {
	phase   phase
	line    []byte // partial line (banner phase)
	lines   int
	pre     []string // lines before the version line (at most 8)
	ver     *banner
	buf     []byte // partial cleartext packet
	kex     *kexInit
	kexErr  string
	clearPk int // cleartext binary packets seen
	msgs    []int
	newkeys time.Time

	frame framer

	bytes, calls       uint64
	encBytes, encCalls uint64
}

// conn is the parser of one connection.
type conn struct {
	c     *parser.Conn
	env   parser.Env
	h     [2]half
	alg   *algorithms
	start time.Time
	end   time.Time
	gaps  [2]int
	anoms parser.Anomalies
	tr    traffic
	done  bool
	// reversed: the TCP client is the SSH server (reverse SSH).
	reversed bool
}

func newConn(c *parser.Conn, env parser.Env) *conn {
	return &conn{c: c, env: env, start: c.Start}
}

// ProcessPacket consumes stream bytes of one direction.
func (p *conn) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if p.done || dir > 1 || len(data) == 0 {
		return
	}
	h := &p.h[dir]
	if p.start.IsZero() || ts.Before(p.start) {
		p.start = ts
	}
	if ts.After(p.end) {
		p.end = ts
	}
	h.bytes += uint64(len(data))
	h.calls++
	for len(data) > 0 {
		switch h.phase {
		case phBanner:
			data = p.bannerBytes(dir, data)
		case phClear:
			data = p.clearBytes(dir, data, ts)
		case phRefusal:
			data = p.refusalBytes(dir, data, ts)
		default:
			if h.phase == phEncrypted {
				p.frame(dir, data, ts)
			}
			p.encrypted(dir, len(data), ts)
			data = nil
		}
	}
}

// bannerBytes reads lines until the version line; returns what follows.
func (p *conn) bannerBytes(dir parser.Direction, data []byte) []byte {
	h := &p.h[dir]
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var part []byte
		if i < 0 {
			part, data = data, nil
		} else {
			part, data = data[:i], data[i+1:]
		}
		var line string
		if len(h.line) == 0 && i >= 0 {
			// the whole line is in this call (the usual case): read in
			// place rather than collected
			line = string(bytes.TrimSuffix(part[:min(maxLineSeen, len(part))], []byte("\r")))
		} else {
			if room := maxLineSeen - len(h.line); room > 0 {
				h.line = append(h.line, part[:min(room, len(part))]...)
			}
			if i < 0 {
				return nil
			}
			line = string(bytes.TrimSuffix(h.line, []byte("\r")))
			h.line = h.line[:0]
		}
		if strings.HasPrefix(line, "SSH-") {
			if len(line)+2 > maxLine {
				p.anoms.Addf("%s version line of %d bytes exceeds RFC 4253's 255", dir, len(line)+2)
				if len(line) > maxLine {
					line = line[:maxLine]
				}
			}
			b := parseBanner(line)
			h.ver = &b
			h.line = nil
			o := &p.h[dir.Reverse()]
			switch {
			case !v2(b.Proto), o.ver != nil && !v2(o.ver.Proto):
				// SSH-1 on either side (a 1.99 server speaks 1 to a
				// 1.5 client): the binary packets are SSH-1's.
				h.phase = phOpaque
				if o.phase == phClear && o.clearPk == 0 {
					o.phase, o.buf = phOpaque, nil
				}
			default:
				h.phase = phClear
			}
			return data
		}
		h.lines++
		if dir == parser.ClientToServer {
			p.anoms.Addf("client sent a line before its version line: %.60q", line)
		}
		if len(h.pre) < 8 {
			h.pre = append(h.pre, line)
		}
		if h.lines >= maxPreLines {
			p.anoms.Addf("%s sent %d lines without a version line", dir, h.lines)
			h.phase = phOpaque
			h.line = nil
			return data
		}
	}
	return nil
}

// clearBytes frames binary packets before NEWKEYS; returns the bytes
// after this direction's NEWKEYS, which are encrypted.
func (p *conn) clearBytes(dir parser.Direction, data []byte, ts time.Time) []byte {
	h := &p.h[dir]
	for len(data) > 0 {
		if len(h.buf) == 0 && len(data) >= 4 {
			// The whole packet is in this call (the usual case): read
			// it in place; clearPacket keeps nothing of it.
			if n := binary.BigEndian.Uint32(data); n >= 5 && n <= maxClearPkt-4 && 4+int(n) <= len(data) {
				pkt := data[:4+n]
				data = data[4+n:]
				p.clearPacket(dir, pkt, ts)
				if h.phase == phEncrypted {
					return data
				}
				continue
			}
		}
		// Complete the 4-byte length, then the packet.
		need := 4
		if len(h.buf) >= 4 {
			n := binary.BigEndian.Uint32(h.buf)
			if n < 5 || n > maxClearPkt-4 {
				if h.clearPk == 0 && textLines(h.buf) {
					// A refusal in words ("Protocol mismatch.") rather
					// than a binary packet: read the line.
					h.line = append(h.line[:0], h.buf...)
					h.buf = nil
					h.phase = phRefusal
					return p.refusalBytes(dir, data, ts)
				} else {
					p.anoms.Addf("%s cleartext packet length %d out of range: framing lost", dir, n)
				}
				h.buf = nil
				h.phase = phOpaque
				p.encrypted(dir, len(data), ts)
				return nil
			}
			need = 4 + int(n)
			if cap(h.buf) < need {
				h.buf = append(make([]byte, 0, need), h.buf...)
			}
		}
		take := min(need-len(h.buf), len(data))
		h.buf = append(h.buf, data[:take]...)
		data = data[take:]
		if len(h.buf) < need || need == 4 {
			continue
		}
		pkt := h.buf
		h.buf = nil
		p.clearPacket(dir, pkt, ts)
		if h.phase == phEncrypted {
			return data
		}
	}
	return nil
}

// clearPacket handles one complete cleartext packet (length included).
func (p *conn) clearPacket(dir parser.Direction, pkt []byte, ts time.Time) {
	h := &p.h[dir]
	h.clearPk++
	padLen := int(pkt[4])
	if 5+padLen >= len(pkt) {
		p.anoms.Addf("%s cleartext packet %d: padding %d leaves no payload", dir, h.clearPk, padLen)
		return
	}
	payload := pkt[5 : len(pkt)-padLen]
	if len(h.msgs) < 16 {
		h.msgs = append(h.msgs, int(payload[0]))
	}
	switch payload[0] {
	case msgKexInit:
		if h.kex != nil {
			return // a second KEXINIT before NEWKEYS would be a protocol error; keep the first
		}
		k, err := readKexInit(payload)
		if err != nil {
			h.kexErr = err.Error()
			p.anoms.Addf("%s %v", dir, err)
			return
		}
		h.kex = k
		if p.alg == nil && p.h[0].kex != nil && p.h[1].kex != nil {
			a := negotiated(p.h[0].kex, p.h[1].kex)
			p.alg = &a
			for _, f := range a.negotiationFails {
				p.anoms.Addf("no common %s algorithm", f)
			}
		}
	case msgNewKeys:
		h.newkeys = ts
		h.phase = phEncrypted
	}
}

// refusalBytes reads the text line a peer sent instead of a binary
// packet, reports it, and reads the rest as opaque.
func (p *conn) refusalBytes(dir parser.Direction, data []byte, ts time.Time) []byte {
	h := &p.h[dir]
	i := bytes.IndexByte(data, '\n')
	part, rest := data, []byte(nil)
	if i >= 0 {
		part, rest = data[:i], data[i+1:]
	}
	if room := maxLineSeen - len(h.line); room > 0 {
		h.line = append(h.line, part[:min(room, len(part))]...)
	}
	if i < 0 && len(h.line) < maxLineSeen {
		return nil
	}
	msg := bytes.TrimRight(h.line, "\r")
	if len(msg) > 120 {
		msg = msg[:120]
	}
	p.anoms.Addf("%s sent text instead of a binary packet: %q", dir, msg)
	h.line = nil
	h.phase = phOpaque
	return rest
}

// encrypted records n opaque bytes of one call.
func (p *conn) encrypted(dir parser.Direction, n int, ts time.Time) {
	h := &p.h[dir]
	h.encBytes += uint64(n)
	h.encCalls++
	if !p.tr.init {
		p.tr.init = true
		p.checkRoles()
		p.tr.authAt, p.tr.winFrom = -1, noAuthWindows
		if p.alg != nil {
			a := *p.alg
			if p.reversed {
				a = a.swapped()
			}
			p.tr.sz = newSizes(&a)
		}
	}
	if p.reversed {
		// Sizes and verdicts follow the SSH roles.
		dir = dir.Reverse()
	}
	p.tr.add(dir, n, ts.Sub(p.start))
}

// Gap: bytes lost. Before NEWKEYS the framing is gone; afterwards only
// the statistics suffer.
func (p *conn) Gap(dir parser.Direction, n int, ts time.Time) {
	if p.done || dir > 1 {
		return
	}
	p.gaps[dir]++
	h := &p.h[dir]
	h.frame.lost = true
	if h.phase == phBanner || h.phase == phClear {
		p.anoms.Addf("%s stream gap of %d bytes before NEWKEYS: the rest of the direction is read as opaque", dir, n)
		h.phase = phOpaque
		h.buf, h.line = nil, nil
	}
}

// IsContinue: the parser follows the connection to its end.
func (p *conn) IsContinue() bool { return !p.done }

// buffered is how many bytes the parser holds (for the bound tests).
func (p *conn) buffered() int {
	n := 0
	for i := range p.h {
		n += cap(p.h[i].buf) + cap(p.h[i].line)
	}
	return n
}

// EndProcess emits the session and activity events.
func (p *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if p.done {
		return
	}
	p.done = true
	if ts.After(p.end) && !p.end.IsZero() && reason == parser.EndClosed {
		p.end = ts
	}
	p.emit(reason)
	for i := range p.h {
		p.h[i].buf, p.h[i].line = nil, nil
	}
}

// Key exchange messages that only an SSH client sends (KEXDH_INIT and
// KEX_ECDH_INIT 30, KEX_DH_GEX_INIT 32, KEX_DH_GEX_REQUEST 34) and that
// only a server sends (31, 33).
func sentByClient(m int) bool { return m == 30 || m == 32 || m == 34 }
func sentByServer(m int) bool { return m == 31 || m == 33 }

// checkRoles notices a reverse SSH connection, where the side that opened
// the TCP connection is the SSH server (a "reverse shell" calling home),
// and then negotiates with the roles as SSH sees them.
func (p *conn) checkRoles() {
	if p.reversed || p.h[0].kex == nil || p.h[1].kex == nil {
		return
	}
	cli, srv := false, false
	for _, m := range p.h[1].msgs {
		cli = cli || sentByClient(m)
	}
	for _, m := range p.h[0].msgs {
		srv = srv || sentByServer(m)
	}
	if !cli || !srv {
		return
	}
	p.reversed = true
	p.anoms.Add("reverse SSH: the TCP server sent the client's key exchange messages, the TCP client the server's")
	// Index the per-direction results by TCP direction again.
	a := negotiated(p.h[1].kex, p.h[0].kex).swapped()
	p.alg = &a
}

// bufferBound is the most the parser holds per connection in buffers:
// one cleartext packet and one line per direction (plus append slack).
const bufferBound = 2 * (2*maxClearPkt + 2*maxLineSeen)

// framer follows packet boundaries after NEWKEYS in a direction whose
// packet length travels in clear (ETM MACs, AES-GCM): every packet's
// size is then known exactly, not only the sizes of TCP segments.
type framer struct {
	started, on, lost bool
	hdr               [4]byte
	nh                int
	left              int // bytes of the current packet still to come
	block, macLen     int
	packets           int
}

// maxEncPkt: a longer length field means the framing is wrong.
const maxEncPkt = 256 << 10

// frame feeds encrypted bytes to the direction's framer and reports each
// packet that starts in them.
func (p *conn) frame(dir parser.Direction, data []byte, ts time.Time) {
	f := &p.h[dir].frame
	if !f.started {
		f.started = true
		p.checkRoles()
		if p.alg != nil {
			if ci := p.alg.Cipher[dir]; ci.Known && ci.LengthMode == lenClear {
				f.on, f.block, f.macLen = true, ci.Block, ci.MacLen
			}
		}
	}
	for f.on && !f.lost && len(data) > 0 {
		if f.left == 0 {
			k := copy(f.hdr[f.nh:], data)
			f.nh += k
			data = data[k:]
			if f.nh < 4 {
				return
			}
			f.nh = 0
			n := int(binary.BigEndian.Uint32(f.hdr[:]))
			if n < 5 || n > maxEncPkt || n%f.block != 0 {
				f.lost = true
				p.anoms.Addf("%s encrypted packet length %d impossible for its cipher: framing given up", dir, n)
				return
			}
			f.left = n + f.macLen
			f.packets++
			d := dir
			if p.reversed {
				d = d.Reverse()
			}
			p.tr.packet(d, 4+n+f.macLen, ts.Sub(p.start))
			continue
		}
		k := min(f.left, len(data))
		f.left -= k
		data = data[k:]
	}
}
