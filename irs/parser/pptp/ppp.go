package pptp

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// PPP protocol numbers.
const (
	pppIP   = 0x0021
	pppIPv6 = 0x0057
	pppComp = 0x00fd // MPPE/MPPC compressed or encrypted datagram
	pppLCP  = 0xc021
	pppPAP  = 0xc023
	pppCHAP = 0xc223
	pppIPCP = 0x8021
	pppCCP  = 0x80fd
	pppEAP  = 0xc227
)

var pppNames = map[int]string{pppIP: "IP", pppIPv6: "IPv6", pppComp: "compressed (MPPE)", pppLCP: "LCP", pppPAP: "PAP", pppCHAP: "CHAP",
	pppIPCP: "IPCP", pppCCP: "CCP", pppEAP: "EAP", 0x8057: "IPV6CP", 0xc025: "LQR", 0x0031: "bridging"}

// pppInfo is what the cleartext PPP of a call shows.
type pppInfo struct {
	protocols []protoCount // frames per PPP protocol, in order of first sight
	authProto string       // from LCP Configure-Request option 3
	papUsers  []string     // PAP Authenticate-Request peer IDs
	papPass   bool         // a PAP password was seen (recorded only by option)
	chapNames []string     // CHAP challenge (server) and response (user) names
	chapUser  []string
	chapOK    int
	chapFail  int
	papOK     int
	papFail   int
}

// protoCount counts the frames of one PPP protocol. A call shows a few
// protocols (at most 32 are counted), so they are searched in place and
// named only when the event is built.
type protoCount struct{ proto, n int }

// A call shows four protocols or so (LCP, an authentication, IPCP or
// CCP, then IP or MPPE): room for them at once.
func newPPP() *pppInfo { return &pppInfo{protocols: make([]protoCount, 0, 4)} }

// count adds n frames of proto; a protocol not yet counted is added only
// while fewer than limit are (limit < 0: always).
func (p *pppInfo) count(proto, n, limit int) {
	for i := range p.protocols {
		if p.protocols[i].proto == proto {
			p.protocols[i].n += n
			return
		}
	}
	if limit < 0 || len(p.protocols) < limit {
		p.protocols = append(p.protocols, protoCount{proto, n})
	}
}

// frames is the count of proto.
func (p *pppInfo) frames(proto int) int {
	for _, c := range p.protocols {
		if c.proto == proto {
			return c.n
		}
	}
	return 0
}

// pppName names a PPP protocol.
func pppName(proto int) string {
	if name, ok := pppNames[proto]; ok {
		return name
	}
	return fmt.Sprintf("0x%04x", proto)
}

func addName(l []string, s string) []string {
	if s == "" || len(l) >= maxNames {
		return l
	}
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

// frame decodes one PPP frame: optional address/control (ff 03), then a
// protocol field of 1 (compressed) or 2 bytes.
func (p *pppInfo) frame(dir parser.Direction, b []byte) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) == 0 {
		return
	}
	var proto int
	if b[0]&1 == 1 {
		proto, b = int(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return
		}
		proto, b = int(binary.BigEndian.Uint16(b)), b[2:]
	}
	p.count(proto, 1, 32)
	if len(b) < 4 {
		return
	}
	code, n := b[0], int(binary.BigEndian.Uint16(b[2:]))
	if n < 4 || n > len(b) {
		return
	}
	body := b[4:n]
	switch proto {
	case pppLCP:
		if code != 1 {
			return
		}
		for len(body) >= 2 {
			t, l := body[0], int(body[1])
			if l < 2 || l > len(body) {
				return
			}
			if t == 3 && l >= 4 {
				ap := int(binary.BigEndian.Uint16(body[2:]))
				switch {
				case ap == pppPAP:
					p.authProto = "PAP"
				case ap == pppCHAP && l >= 5 && body[4] == 0x80:
					p.authProto = "MS-CHAP"
				case ap == pppCHAP && l >= 5 && body[4] == 0x81:
					p.authProto = "MS-CHAPv2"
				case ap == pppCHAP:
					p.authProto = "CHAP-MD5"
				case ap == pppEAP:
					p.authProto = "EAP"
				}
			}
			body = body[l:]
		}
	case pppPAP:
		switch code {
		case 1:
			if len(body) >= 1 && 1+int(body[0]) <= len(body) {
				p.papUsers = addName(p.papUsers, cstr(body[1:1+body[0]]))
				rest := body[1+body[0]:]
				if len(rest) >= 1 && rest[0] > 0 {
					p.papPass = true
				}
			}
		case 2:
			p.papOK++
		case 3:
			p.papFail++
		}
	case pppCHAP:
		switch code {
		case 1, 2: // value-size(1) value name
			if len(body) >= 1 && 1+int(body[0]) <= len(body) {
				name := cstr(body[1+body[0]:])
				if code == 1 {
					p.chapNames = addName(p.chapNames, name)
				} else {
					p.chapUser = addName(p.chapUser, name)
				}
			}
		case 3:
			p.chapOK++
		case 4:
			p.chapFail++
		}
	}
}

func (p *pppInfo) merge(o *pppInfo) {
	if o == nil {
		return
	}
	for _, c := range o.protocols {
		p.count(c.proto, c.n, -1)
	}
	if p.authProto == "" {
		p.authProto = o.authProto
	}
	for _, n := range o.papUsers {
		p.papUsers = addName(p.papUsers, n)
	}
	for _, n := range o.chapNames {
		p.chapNames = addName(p.chapNames, n)
	}
	for _, n := range o.chapUser {
		p.chapUser = addName(p.chapUser, n)
	}
	p.papPass = p.papPass || o.papPass
	p.chapOK += o.chapOK
	p.chapFail += o.chapFail
	p.papOK += o.papOK
	p.papFail += o.papFail
}

// summarise writes the PPP facts into a summary and the user names into
// the event's addresses.
func (p *pppInfo) summarise(s *event.Fields, ev *event.Event) {
	if p == nil || len(p.protocols) == 0 {
		return
	}
	names := make(map[string]int, len(p.protocols))
	for _, c := range p.protocols {
		names[pppName(c.proto)] = c.n
	}
	s.Set("ppp_protocols", names)
	if p.authProto != "" {
		s.Set("ppp_auth", p.authProto)
	}
	if len(p.papUsers) > 0 {
		s.Set("pap_users", p.papUsers)
		s.Set("pap_password_seen", p.papPass)
	}
	if len(p.chapUser) > 0 {
		s.Set("chap_users", p.chapUser)
	}
	if len(p.chapNames) > 0 {
		s.Set("chap_server_names", p.chapNames)
	}
	if p.chapOK+p.chapFail+p.papOK+p.papFail > 0 {
		s.Set("auth_success", p.chapOK+p.papOK)
		s.Set("auth_failure", p.chapFail+p.papFail)
	}
	if p.frames(pppComp) > 0 || p.frames(pppCCP) > 0 {
		s.Set("mppe", true)
	}
	users := append(append([]string(nil), p.papUsers...), p.chapUser...)
	sort.Strings(users)
	for _, u := range users {
		ev.Addresses = append(ev.Addresses, event.Address{Address: u, Role: event.RoleUser})
	}
}
