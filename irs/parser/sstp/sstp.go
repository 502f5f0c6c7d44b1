// Package sstp parses the Secure Socket Tunneling Protocol (MS-SSTP,
// Microsoft's PPP-over-HTTPS VPN) where it is visible in cleartext: the
// SSTP_DUPLEX_POST request that opens the tunnel, the server's answer,
// and the SSTP packets after it (version 1.0, control packets by message
// type and attribute, data packets carrying PPP). One "vpn-session"
// event per connection.
//
// SSTP normally runs inside TLS on port 443, where none of this shows:
// irs/parser/tls then reports a "vpn-session-suspected" event of
// protocol sstp with its evidence (names, a long-lived session on 443,
// PPP-like record sizes) and a confidence. This parser sees SSTP when
// the TLS is terminated before the mirror (a decrypting proxy, an
// operator-side decrypted capture) or when a test builds it.
package sstp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// TypeSession is the one event per SSTP connection.
const TypeSession = "vpn-session"

const protocol = "sstp"

// The request line prefix and the fixed URI of MS-SSTP 2.2.
const (
	method = "SSTP_DUPLEX_POST "
	uri    = "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"
)

// Limits.
const (
	maxHeader = 8192 // HTTP request or response head
	maxPacket = 4095 // the 12-bit SSTP length
	maxList   = 32
)

var msgNames = map[int]string{
	1: "SSTP_MSG_CALL_CONNECT_REQUEST", 2: "SSTP_MSG_CALL_CONNECT_ACK", 3: "SSTP_MSG_CALL_CONNECT_NAK",
	4: "SSTP_MSG_CALL_CONNECTED", 5: "SSTP_MSG_CALL_ABORT", 6: "SSTP_MSG_CALL_DISCONNECT",
	7: "SSTP_MSG_CALL_DISCONNECT_ACK", 8: "SSTP_MSG_ECHO_REQUEST", 9: "SSTP_MSG_ECHO_RESPONSE",
}

var attrNames = map[int]string{1: "ENCAPSULATED_PROTOCOL_ID", 2: "STATUS_INFO", 3: "CRYPTO_BINDING", 4: "CRYPTO_BINDING_REQ"}

func msgName(t int) string {
	if n, ok := msgNames[t]; ok {
		return n
	}
	return fmt.Sprintf("message-type-%d", t)
}

func init() { parser.Register(Detector{}) }

// Detector claims TCP connections that start with the SSTP_DUPLEX_POST
// request, or (capture begun late) with an SSTP control packet.
type Detector struct{}

// Name returns "sstp".
func (Detector) Name() string { return protocol }

// Transports returns TCP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// IsRelative matches the request line or an SSTP control packet header.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	n := min(len(data), len(method))
	if bytes.Equal(data[:n], []byte(method[:n])) {
		if n < len(method) {
			return parser.NeedMore
		}
		if dir == parser.ServerToClient {
			return parser.YesReversed
		}
		return parser.Yes
	}
	if ok, more := controlHeader(data); ok {
		if more {
			return parser.NeedMore
		}
		t := int(binary.BigEndian.Uint16(data[4:]))
		fromClient := t == 1 || t == 4
		if fromClient != (dir == parser.ClientToServer) && (t <= 4) {
			return parser.YesReversed
		}
		return parser.Yes
	}
	return parser.No
}

// controlHeader checks the start of an SSTP control packet: version
// 1.0, C bit, a length of at least 8, a known message type.
func controlHeader(b []byte) (ok, more bool) {
	if len(b) >= 1 && b[0] != 0x10 || len(b) >= 2 && b[1] != 0x01 {
		return false, false
	}
	if len(b) < 6 {
		return true, true
	}
	l := int(binary.BigEndian.Uint16(b[2:]) & 0x0fff)
	_, known := msgNames[int(binary.BigEndian.Uint16(b[4:]))]
	return l >= 8 && known, false
}

// New returns the parser for one connection.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &conn{c: c, env: env, msgs: map[string]int{}, ppp: map[string]int{}}
}

// side is one direction: first the HTTP head, then SSTP packets.
type side struct {
	head    []byte
	inSSTP  bool
	buf     []byte
	lost    bool
	packets int
	data    int
}

type conn struct {
	c          *parser.Conn
	env        parser.Env
	start, end time.Time
	s          [2]side
	request    string
	host       string
	corrID     string
	status     string
	server     string
	msgs       map[string]int
	attrs      []string
	ppp        map[string]int
	users      []string
	bytes      [2]int
	anoms      parser.Anomalies
	ended      bool
}

// ProcessPacket reads the HTTP head of each direction, then SSTP packets.
func (s *conn) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if s.start.IsZero() {
		s.start = ts
	}
	s.end = ts
	s.bytes[dir] += len(data)
	sd := &s.s[dir]
	if sd.lost {
		return
	}
	if !sd.inSSTP {
		if len(sd.head) == 0 && len(data) > 0 && data[0] == 0x10 {
			sd.inSSTP = true // capture began after the HTTP exchange
		} else {
			sd.head = append(sd.head, data...)
			i := bytes.Index(sd.head, []byte("\r\n\r\n"))
			if i < 0 {
				if len(sd.head) > maxHeader {
					sd.lost = true
					s.anoms.Addf("HTTP head from the %s longer than %d bytes", dir, maxHeader)
				}
				return
			}
			s.httpHead(dir, string(sd.head[:i]))
			data = sd.head[i+4:]
			sd.head = nil
			sd.inSSTP = true
		}
	}
	b := append(sd.buf, data...)
	for len(b) >= 4 {
		if b[0] != 0x10 {
			sd.lost = true
			s.anoms.Addf("SSTP version byte 0x%02x from the %s: framing lost", b[0], dir)
			b = nil
			break
		}
		l := int(binary.BigEndian.Uint16(b[2:]) & 0x0fff)
		if l < 4 {
			sd.lost = true
			s.anoms.Addf("SSTP packet length %d from the %s: framing lost", l, dir)
			b = nil
			break
		}
		if len(b) < l {
			break
		}
		s.packet(dir, b[:l])
		b = b[l:]
	}
	sd.buf = append(sd.buf[:0], b...)
}

func (s *conn) httpHead(dir parser.Direction, head string) {
	lines := strings.Split(head, "\r\n")
	if dir == parser.ClientToServer {
		s.request = lines[0]
		if !strings.HasPrefix(lines[0], method+uri) {
			s.anoms.Add("request line is not the MS-SSTP one: " + clip(lines[0]))
		}
	} else {
		s.status = clip(lines[0])
	}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = clip(strings.TrimSpace(v))
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "host":
			s.host = v
		case "sstpcorrelationid":
			s.corrID = v
		case "server":
			if dir == parser.ServerToClient {
				s.server = v
			}
		}
	}
}

func clip(v string) string {
	if len(v) > 200 {
		return v[:200]
	}
	return v
}

// packet handles one SSTP packet.
func (s *conn) packet(dir parser.Direction, p []byte) {
	sd := &s.s[dir]
	sd.packets++
	if p[1]&0x01 == 0 {
		sd.data++
		s.pppFrame(p[4:])
		return
	}
	if len(p) < 8 {
		s.anoms.Addf("control packet of %d bytes from the %s", len(p), dir)
		return
	}
	t := int(binary.BigEndian.Uint16(p[4:]))
	name := msgName(t)
	s.msgs[name]++
	n := int(binary.BigEndian.Uint16(p[6:]))
	a := p[8:]
	for i := 0; i < n && len(a) >= 4; i++ {
		id, l := int(a[1]), int(binary.BigEndian.Uint16(a[2:])&0x0fff)
		if l < 4 || l > len(a) {
			s.anoms.Addf("%s: attribute %d with length %d", name, id, l)
			return
		}
		an, ok := attrNames[id]
		if !ok {
			an = fmt.Sprintf("attribute-%d", id)
		}
		desc := name + " " + an
		if id == 1 && l >= 6 {
			if binary.BigEndian.Uint16(a[4:]) == 1 {
				desc += "=PPP"
			}
		}
		if id == 2 && l >= 8 {
			desc += fmt.Sprintf(" status %d", binary.BigEndian.Uint32(a[4:]))
		}
		if len(s.attrs) < maxList {
			s.attrs = append(s.attrs, desc)
		}
		a = a[l:]
	}
}

var pppNames = map[int]string{0xc021: "LCP", 0xc023: "PAP", 0xc223: "CHAP", 0x8021: "IPCP", 0x8057: "IPV6CP", 0x80fd: "CCP", 0xc227: "EAP", 0x0021: "IP", 0x0057: "IPv6"}

// pppFrame counts PPP protocols and picks the user names of PAP
// Authenticate-Request and CHAP Response (cleartext PPP inside SSTP).
func (s *conn) pppFrame(b []byte) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) < 2 {
		return
	}
	proto := int(binary.BigEndian.Uint16(b))
	name, ok := pppNames[proto]
	if !ok {
		name = fmt.Sprintf("0x%04x", proto)
	}
	if _, seen := s.ppp[name]; seen || len(s.ppp) < maxList {
		s.ppp[name]++
	}
	b = b[2:]
	if len(b) < 5 {
		return
	}
	code := b[0]
	l := int(binary.BigEndian.Uint16(b[2:]))
	if l > len(b) || l < 5 {
		return
	}
	body := b[4:l]
	var user string
	switch {
	case proto == 0xc023 && code == 1 && 1+int(body[0]) <= len(body):
		user = string(body[1 : 1+body[0]])
	case proto == 0xc223 && code == 2 && 1+int(body[0]) <= len(body):
		user = string(body[1+body[0]:])
	}
	if user != "" && len(s.users) < maxList {
		s.users = append(s.users, clip(user))
	}
}

// Gap: framing of that direction is lost.
func (s *conn) Gap(dir parser.Direction, n int, ts time.Time) {
	s.s[dir].lost = true
	s.anoms.Addf("gap of %d bytes from the %s", n, dir)
}

// IsContinue: followed to the end unless both directions are lost.
func (s *conn) IsContinue() bool { return !(s.s[0].lost && s.s[1].lost) }

// EndProcess emits the session event.
func (s *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if s.ended {
		return
	}
	s.ended = true
	if s.start.IsZero() {
		s.start, s.end = ts, ts
	}
	method, conf := "content", 0.9
	var evidence []string
	if s.request != "" {
		evidence = append(evidence, "request line "+clip(s.request))
		conf = 0.99
	}
	if len(s.msgs) > 0 {
		evidence = append(evidence, fmt.Sprintf("%d SSTP control message type(s): version 1.0, C bit", len(s.msgs)))
	}
	if s.c.Server.Port() == 443 {
		method = "content+port"
	}
	sum := event.Fields{{Key: "data_to_server", Value: s.s[0].data}, {Key: "data_to_client", Value: s.s[1].data}}
	parser.PutDetection(&sum, method, conf, evidence)
	parser.PutTraffic(&sum, [2]int{s.s[0].packets, s.s[1].packets}, s.bytes, reason)
	set := func(k, v string) {
		if v != "" {
			sum.Set(k, v)
		}
	}
	set("request", s.request)
	set("host", s.host)
	set("correlation_id", s.corrID)
	set("response", s.status)
	set("server_software", s.server)
	if len(s.msgs) > 0 {
		sum.Set("messages", s.msgs)
	}
	if len(s.attrs) > 0 {
		sum.Set("attributes", s.attrs)
	}
	if len(s.ppp) > 0 {
		sum.Set("ppp_protocols", s.ppp)
	}
	ev := &event.Event{Type: TypeSession, Start: s.start, End: s.end,
		Subject: fmt.Sprintf("SSTP %s → %s", s.c.Client.Addr(), s.c.Server), Summary: sum, Anomalies: s.anoms.Out()}
	if s.host != "" {
		ev.Subject += " (" + s.host + ")"
	}
	if len(s.users) > 0 {
		ev.Summary.Set("ppp_users", s.users)
		for _, u := range s.users {
			ev.Addresses = append(ev.Addresses, event.Address{Address: u, Role: event.RoleUser})
		}
	}
	s.env.Emit(ev)
}
