// Package l2tp parses L2TP version 2 (RFC 2661) over UDP on any port:
// control messages (SCCRQ to CDN, every type by name) with their tunnel
// and session IDs, host and vendor names and result codes, read from
// bounded AVP lists (hidden AVPs flagged, never decrypted), and data
// messages counted per tunnel and session. One "vpn-session" event per
// UDP flow.
//
// L2TP over IPsec (the common Windows and mobile setup) is invisible
// here: it is ESP (see irs/parser/ipsec).
package l2tp

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// TypeSession is the one event per L2TP flow.
const TypeSession = "vpn-session"

const protocol = "l2tp"

// Header flag bits (first 16 bits of the header).
const (
	flagT       = 0x8000 // control message
	flagL       = 0x4000 // length present
	flagS       = 0x0800 // Ns/Nr present
	flagO       = 0x0200 // offset present
	versionMask = 0x000f
	defaultPort = 1701
)

// Limits.
const (
	maxAVPs     = 64 // per message; more is an anomaly
	maxSessions = 256
	maxList     = 32
)

// Message types (RFC 2661 section 3.2).
var msgNames = map[int]string{
	1: "SCCRQ", 2: "SCCRP", 3: "SCCCN", 4: "StopCCN", 6: "HELLO",
	7: "OCRQ", 8: "OCRP", 9: "OCCN", 10: "ICRQ", 11: "ICRP", 12: "ICCN",
	14: "CDN", 15: "WEN", 16: "SLI",
}

func msgName(t int) string {
	if n, ok := msgNames[t]; ok {
		return n
	}
	return fmt.Sprintf("message-type-%d", t)
}

func init() { parser.Register(Detector{}) }

// Detector claims L2TPv2 flows.
type Detector struct{}

// Name returns "l2tp".
func (Detector) Name() string { return protocol }

// Transports returns UDP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.UDP} }

func hinted(c *parser.Conn) bool {
	return c.Server.Port() == defaultPort || c.Client.Port() == defaultPort
}

// IsRelative: a control message (T, L and S set, version 2, a length
// that fits, a Message Type AVP first with the M bit and a known type)
// decides by content; a version-2 data message decides only with port
// 1701 or a PPP frame (ff 03) behind it.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) < 6 {
		return parser.No
	}
	flags := int(binary.BigEndian.Uint16(data))
	if flags&versionMask != 2 {
		return parser.No
	}
	if flags&flagT != 0 {
		if flags&(flagL|flagS) != flagL|flagS || flags&flagO != 0 || len(data) < 12 {
			return parser.No
		}
		n := int(binary.BigEndian.Uint16(data[2:]))
		if n < 12 || (n > len(data) && !hinted(c)) {
			return parser.No
		}
		if n == 12 { // ZLB acknowledgement
			if hinted(c) {
				return parser.Yes
			}
			return parser.NeedMore
		}
		avp := data[12:]
		if len(avp) < 8 || avp[0]&0x80 == 0 || binary.BigEndian.Uint16(avp[2:]) != 0 || binary.BigEndian.Uint16(avp[4:]) != 0 {
			return parser.No
		}
		if _, ok := msgNames[int(binary.BigEndian.Uint16(avp[6:]))]; !ok {
			return parser.No
		}
		t := int(binary.BigEndian.Uint16(avp[6:]))
		fromClient := t == 1 || t == 3 || t == 7 || t == 9 || t == 10 || t == 12
		replies := t == 2 || t == 8 || t == 11
		if fromClient && dir == parser.ServerToClient || replies && dir == parser.ClientToServer {
			return parser.YesReversed
		}
		return parser.Yes
	}
	if hinted(c) {
		return parser.Yes
	}
	if _, ppp := dataPayload(data); len(ppp) >= 2 && ppp[0] == 0xff && ppp[1] == 0x03 {
		return parser.Yes
	}
	return parser.No
}

// dataPayload returns the header fields of a data message and its PPP
// payload.
func dataPayload(b []byte) (ids [2]uint16, ppp []byte) {
	if len(b) < 6 {
		return ids, nil
	}
	flags := int(binary.BigEndian.Uint16(b))
	off := 2
	if flags&flagL != 0 {
		off += 2
	}
	if len(b) < off+4 {
		return ids, nil
	}
	ids[0], ids[1] = binary.BigEndian.Uint16(b[off:]), binary.BigEndian.Uint16(b[off+2:])
	off += 4
	if flags&flagS != 0 {
		off += 4
	}
	if flags&flagO != 0 {
		if len(b) < off+2 {
			return ids, nil
		}
		off += 2 + int(binary.BigEndian.Uint16(b[off:]))
	}
	if off > len(b) {
		return ids, nil
	}
	return ids, b[off:]
}

// New returns the parser for one flow.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &flow{c: c, env: env, msgs: map[string]int{}, data: map[[2]uint16]*sessionStats{}}
}

type sessionStats struct {
	packets, bytes [2]int
}

// flow follows one L2TP flow.
type flow struct {
	c              *parser.Conn
	env            parser.Env
	start, end     time.Time
	packets, bytes [2]int
	msgs           map[string]int
	zlb            int
	host, vendor   [2]string
	firmware       [2]int
	protoVersion   string
	tunnels        [2][]int // assigned tunnel IDs per side
	sessions       [2][]int // assigned session IDs per side
	results        []string
	hidden         []string
	challenge      bool
	calling        string
	called         string
	data           map[[2]uint16]*sessionStats
	dataOverflow   int
	bad            int
	anoms          parser.Anomalies
	ended          bool
}

func addInt(l []int, v int) []int {
	for _, x := range l {
		if x == v {
			return l
		}
	}
	if len(l) < maxList {
		l = append(l, v)
	}
	return l
}

// ProcessPacket handles one datagram.
func (f *flow) ProcessPacket(dir parser.Direction, b []byte, ts time.Time) {
	if f.start.IsZero() {
		f.start = ts
	}
	f.end = ts
	f.packets[dir]++
	f.bytes[dir] += len(b)
	if len(b) < 6 || binary.BigEndian.Uint16(b)&versionMask != 2 {
		f.bad++
		f.anoms.Addf("%d-byte datagram from the %s is not L2TPv2", len(b), dir)
		return
	}
	flags := int(binary.BigEndian.Uint16(b))
	if flags&flagT == 0 {
		ids, _ := dataPayload(b)
		s := f.data[ids]
		if s == nil {
			if len(f.data) >= maxSessions {
				f.dataOverflow++
				return
			}
			s = &sessionStats{}
			f.data[ids] = s
		}
		s.packets[dir]++
		s.bytes[dir] += len(b)
		return
	}
	if len(b) < 12 {
		f.bad++
		f.anoms.Addf("control message of %d bytes from the %s: header truncated", len(b), dir)
		return
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n > len(b) {
		f.anoms.Addf("control message from the %s says %d bytes, %d captured", dir, n, len(b))
		n = len(b)
	}
	if n < 12 {
		f.bad++
		return
	}
	if n == 12 {
		f.zlb++
		return
	}
	f.avps(dir, b[12:n])
}

// avps walks the AVPs of one control message, bounded in count and by
// each AVP's own length.
func (f *flow) avps(dir parser.Direction, b []byte) {
	msg := ""
	for i := 0; len(b) > 0; i++ {
		if i >= maxAVPs {
			f.anoms.Addf("more than %d AVPs in one message from the %s: the rest skipped", maxAVPs, dir)
			return
		}
		if len(b) < 6 {
			f.anoms.Addf("AVP header truncated (%d bytes left) from the %s", len(b), dir)
			return
		}
		hdr := int(binary.BigEndian.Uint16(b))
		l := hdr & 0x03ff
		if l < 6 || l > len(b) {
			f.anoms.Addf("AVP length %d with %d bytes left from the %s: message not parsed further", l, len(b), dir)
			return
		}
		vendor, typ := binary.BigEndian.Uint16(b[2:]), int(binary.BigEndian.Uint16(b[4:]))
		val := b[6:l]
		b = b[l:]
		if hdr&0x4000 != 0 {
			if len(f.hidden) < maxList {
				f.hidden = append(f.hidden, fmt.Sprintf("%s AVP %d", msg, typ))
			}
			continue
		}
		if vendor != 0 {
			continue
		}
		u16 := func() int {
			if len(val) < 2 {
				f.anoms.Addf("AVP %d too short (%d bytes)", typ, len(val))
				return -1
			}
			return int(binary.BigEndian.Uint16(val))
		}
		switch typ {
		case 0:
			if i != 0 {
				f.anoms.Add("Message Type AVP not first")
			}
			if v := u16(); v >= 0 {
				msg = msgName(v)
				f.msgs[msg]++
			}
		case 1:
			if v := u16(); v >= 0 && len(f.results) < maxList {
				r := fmt.Sprintf("%s: result %d", msg, v)
				if len(val) >= 4 {
					r += fmt.Sprintf(" error %d", binary.BigEndian.Uint16(val[2:]))
				}
				if len(val) > 4 {
					r += " " + text(val[4:])
				}
				f.results = append(f.results, r)
			}
		case 2:
			if len(val) >= 2 {
				f.protoVersion = fmt.Sprintf("%d.%d", val[0], val[1])
			}
		case 6:
			if v := u16(); v >= 0 {
				f.firmware[dir] = v
			}
		case 7:
			f.host[dir] = text(val)
		case 8:
			f.vendor[dir] = text(val)
		case 9:
			if v := u16(); v >= 0 {
				f.tunnels[dir] = addInt(f.tunnels[dir], v)
			}
		case 11:
			f.challenge = true
		case 14:
			if v := u16(); v >= 0 {
				f.sessions[dir] = addInt(f.sessions[dir], v)
			}
		case 21:
			f.called = text(val)
		case 22:
			f.calling = text(val)
		}
	}
}

func text(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, string(b)))
}

// Gap never happens on UDP.
func (f *flow) Gap(parser.Direction, int, time.Time) {}

// IsContinue: L2TP flows are counted to their end.
func (f *flow) IsContinue() bool { return true }

// EndProcess emits the session event.
func (f *flow) EndProcess(reason parser.EndReason, ts time.Time) {
	if f.ended {
		return
	}
	f.ended = true
	if f.start.IsZero() {
		f.start, f.end = ts, ts
	}
	method, conf := "content", 0.95
	evidence := []string{}
	if len(f.msgs) > 0 {
		evidence = append(evidence, "L2TPv2 control messages (T/L/S set, Message Type AVP first)")
		if hinted(f.c) {
			method = "content+port"
		}
	} else {
		method, conf = "port-hint", 0.6
		evidence = append(evidence, "L2TPv2 data messages (version 2 header) on port 1701")
	}
	var sum event.Fields
	parser.PutDetection(&sum, method, conf, evidence)
	parser.PutTraffic(&sum, f.packets, f.bytes, reason)
	if len(f.msgs) > 0 {
		sum.Set("messages", f.msgs)
	}
	if f.zlb > 0 {
		sum.Set("zlb_acks", f.zlb)
	}
	set := func(k, v string) {
		if v != "" {
			sum.Set(k, v)
		}
	}
	set("protocol_version", f.protoVersion)
	set("client_host", f.host[parser.ClientToServer])
	set("server_host", f.host[parser.ServerToClient])
	set("client_vendor", f.vendor[parser.ClientToServer])
	set("server_vendor", f.vendor[parser.ServerToClient])
	set("calling_number", f.calling)
	set("called_number", f.called)
	if len(f.tunnels[0])+len(f.tunnels[1]) > 0 {
		sum.Set("client_tunnel_ids", f.tunnels[parser.ClientToServer])
		sum.Set("server_tunnel_ids", f.tunnels[parser.ServerToClient])
	}
	if len(f.sessions[0])+len(f.sessions[1]) > 0 {
		sum.Set("client_session_ids", f.sessions[parser.ClientToServer])
		sum.Set("server_session_ids", f.sessions[parser.ServerToClient])
	}
	if len(f.results) > 0 {
		sum.Set("results", f.results)
	}
	if len(f.hidden) > 0 {
		sum.Set("hidden_avps", f.hidden)
	}
	if f.challenge {
		sum.Set("tunnel_authentication", true)
	}
	if len(f.data) > 0 {
		var keys [][2]uint16
		for k := range f.data {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
		})
		l := make([]event.Fields, 0, len(keys))
		for _, k := range keys {
			s := f.data[k]
			l = append(l, event.Fields{{Key: "tunnel", Value: int(k[0])}, {Key: "session", Value: int(k[1])},
				{Key: "packets_to_server", Value: s.packets[0]}, {Key: "packets_to_client", Value: s.packets[1]},
				{Key: "bytes_to_server", Value: s.bytes[0]}, {Key: "bytes_to_client", Value: s.bytes[1]}})
		}
		sum.Set("data_sessions", l)
	}
	if f.bad > 0 {
		sum.Set("malformed", f.bad)
	}
	subject := fmt.Sprintf("L2TP %s ↔ %s", f.c.Client, f.c.Server)
	if h := f.host[parser.ClientToServer]; h != "" {
		subject += " from host " + h
	}
	f.env.Emit(&event.Event{Type: TypeSession, Start: f.start, End: f.end, Subject: subject, Summary: sum, Anomalies: f.anoms.Out()})
}
