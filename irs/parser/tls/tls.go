// Package tls records the cleartext metadata of every TLS connection on
// any TCP port: from the ClientHello the server name (SNI), ALPN, offered
// versions, cipher suites, JA3 (string and MD5) and JA4 fingerprints;
// from the ServerHello the negotiated version and cipher; and, when TLS
// 1.2 or older shows it in cleartext, the server certificate's subject,
// issuer and DNS names. One "tls-session" event per connection.
//
// It also looks for SSTP (Microsoft's PPP-over-HTTPS VPN) hidden in the
// TLS: names that say so, a long-lived session on port 443 and
// application records of PPP-like sizes both ways. When enough of that
// evidence adds up, a second event of protocol "sstp", type
// "vpn-session-suspected", carries the evidence and a confidence.
//
// Written by hand because Go's crypto/tls terminates TLS and exposes no
// parser for handshakes seen from the side; crypto/x509 decodes the
// certificates and crypto/tls names the cipher suites. QUIC (TLS inside UDP) is out of scope.
package tls

import (
	"crypto/md5"
	"crypto/sha256"
	gotls "crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Event types.
const (
	TypeSession = "tls-session"
	// TypeSSTPSuspected is emitted with Protocol "sstp".
	TypeSSTPSuspected = "vpn-session-suspected"
)

const protocol = "tls"

// Record and handshake types.
const (
	recCCS       = 20
	recAlert     = 21
	recHandshake = 22
	recAppData   = 23
	recHeartbeat = 24

	hsClientHello = 1
	hsServerHello = 2
	hsCertificate = 11
)

// Limits.
const (
	maxRecord    = 1<<14 + 2048 // TLSCiphertext may exceed 2^14 by 2048
	maxHandshake = 1 << 16      // handshake bytes kept per direction
	maxNames     = 32
	maxAppSizes  = 64 // application-data record sizes kept per direction
)

func init() { parser.Register(Detector{}) }

// Detector claims TCP connections that open with a TLS handshake record
// holding a ClientHello (from the client) or a ServerHello (from the
// server, when the capture missed the client's first bytes).
type Detector struct{}

// Name returns "tls".
func (Detector) Name() string { return protocol }

// Transports returns TCP.
func (Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// IsRelative checks the record header and the handshake type.
func (Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if len(data) < 6 {
		if len(data) > 0 && data[0] != recHandshake || len(data) > 1 && data[1] != 3 {
			return parser.No
		}
		return parser.NeedMore
	}
	n := int(binary.BigEndian.Uint16(data[3:]))
	if c != nil && c.MidStream && data[0] != recHandshake {
		return midStream(data)
	}
	if data[0] != recHandshake || data[1] != 3 || data[2] > 4 || n < 4 || n > maxRecord {
		return parser.No
	}
	switch data[5] {
	case hsClientHello:
		if dir == parser.ClientToServer {
			return parser.Yes
		}
		return parser.YesReversed
	case hsServerHello:
		if dir == parser.ServerToClient {
			return parser.Yes
		}
		return parser.YesReversed
	}
	return parser.No
}

// midStream decides a connection whose start the capture missed: the
// data must be a chain of TLS record headers (application data, alert,
// change cipher spec or handshake; version 3.1 to 3.4; plausible
// lengths) ending exactly at the end of the data, or one large record
// begun in at least 1 KiB of data. Which side is which cannot be told
// from records: the engine's guess stands.
func midStream(data []byte) parser.Verdict {
	for i, records := 0, 0; ; records++ {
		if i == len(data) {
			if records > 0 {
				return parser.Yes
			}
			return parser.NeedMore
		}
		if len(data)-i < 5 {
			return parser.NeedMore
		}
		h := data[i:]
		n := int(binary.BigEndian.Uint16(h[3:]))
		if h[0] < recCCS || h[0] > recAppData || h[1] != 3 || h[2] < 1 || h[2] > 4 || n == 0 || n > maxRecord {
			return parser.No
		}
		if i+5+n > len(data) {
			if len(data) >= 1024 {
				return parser.Yes
			}
			return parser.NeedMore
		}
		i += 5 + n
	}
}

// New returns the parser for one connection.
func (Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	return &conn{c: c, env: env}
}

// side is the record layer of one direction.
type side struct {
	hdr       []byte // partial record header
	skip      int    // bytes of the current record body still to skip
	body      []byte // body of the current handshake record being collected
	want      int    // length of the current record body
	typ       byte
	hs        []byte                         // handshake bytes not yet parsed
	encrypted bool                           // after ChangeCipherSpec: handshake no longer readable
	records   [recHeartbeat - recCCS + 1]int // by content type, from recCCS
	// the first application-data record sizes (a record's length fits
	// 16 bits), kept in the side rather than in a slice of their own
	appSizes  [maxAppSizes]uint16
	nAppSizes int
	appBytes  int
	lost      bool
}

// appRecords is the number of application-data records.
func (sd *side) appRecords() int { return sd.records[recAppData-recCCS] }

// conn follows one TLS connection.
type conn struct {
	c          *parser.Conn
	env        parser.Env
	start, end time.Time
	s          [2]side
	ch         *clientHello
	sh         *serverHello
	cert       *certInfo
	bytes      [2]int
	anoms      parser.Anomalies
	ended      bool
}

type clientHello struct {
	version     uint16
	ciphers     []uint16
	exts        []uint16
	groups      []uint16
	points      []uint8
	sigalgs     []uint16
	sni         string
	alpn        []string
	versions    []uint16
	sessionID   int
	compression int
}

type serverHello struct {
	version  uint16
	cipher   uint16
	selected uint16 // supported_versions in the ServerHello (TLS 1.3)
	alpn     string
}

type certInfo struct {
	subject, issuer string
	names           []string
	notAfter        time.Time
	selfSigned      bool
	chain           int
}

// ProcessPacket walks the records of one direction.
func (s *conn) ProcessPacket(dir parser.Direction, data []byte, ts time.Time) {
	if s.start.IsZero() {
		s.start = ts
	}
	s.end = ts
	s.bytes[dir] += len(data)
	sd := &s.s[dir]
	for len(data) > 0 && !sd.lost {
		if sd.skip > 0 {
			n := min(sd.skip, len(data))
			if sd.typ == recHandshake && !sd.encrypted {
				sd.body = append(sd.body, data[:n]...)
			}
			sd.skip -= n
			data = data[n:]
			if sd.skip == 0 {
				s.recordDone(dir, sd, sd.body)
			}
			continue
		}
		need := 5 - len(sd.hdr)
		n := min(need, len(data))
		sd.hdr = append(sd.hdr, data[:n]...)
		data = data[n:]
		if len(sd.hdr) < 5 {
			return
		}
		h := sd.hdr
		sd.hdr = sd.hdr[:0]
		length := int(binary.BigEndian.Uint16(h[3:]))
		if h[0] < recCCS || h[0] > recHeartbeat || h[1] != 3 || length > maxRecord {
			sd.lost = true
			s.anoms.Addf("not a TLS record header from the %s (% x): the rest of that direction is not parsed", dir, h)
			return
		}
		sd.typ, sd.want, sd.skip = h[0], length, length
		sd.records[h[0]-recCCS]++
		sd.body = sd.body[:0]
		if h[0] == recAppData {
			sd.appBytes += length
			if sd.nAppSizes < maxAppSizes {
				sd.appSizes[sd.nAppSizes] = uint16(length)
				sd.nAppSizes++
			}
		}
		switch {
		case length == 0:
			s.recordDone(dir, sd, nil)
		case h[0] == recHandshake && !sd.encrypted && len(data) >= length:
			// The whole record is in this call (the usual case): it
			// is parsed in place rather than collected.
			sd.skip = 0
			s.recordDone(dir, sd, data[:length])
			data = data[length:]
		case h[0] == recHandshake && !sd.encrypted && cap(sd.body) < length:
			// collected over several segments: sized once
			sd.body = make([]byte, 0, length)
		}
	}
}

// recordDone handles a complete record whose body is body (valid only
// during the call).
func (s *conn) recordDone(dir parser.Direction, sd *side, body []byte) {
	switch sd.typ {
	case recCCS:
		sd.encrypted = true
	case recHandshake:
		if sd.encrypted {
			return
		}
		if len(sd.hs)+len(body) > maxHandshake {
			sd.encrypted = true // stop collecting: hostile or huge chain
			s.anoms.Addf("more than %d handshake bytes from the %s: the rest is not parsed", maxHandshake, dir)
			return
		}
		if len(sd.hs) > 0 {
			sd.hs = append(sd.hs, body...)
			s.handshakes(dir, sd)
			return
		}
		// Nothing buffered: the messages are parsed from the body itself
		// (the parsers copy what they keep) and only an incomplete
		// message's bytes are kept.
		sd.hs = body
		s.handshakes(dir, sd)
		if len(sd.hs) > 0 {
			sd.hs = append([]byte(nil), sd.hs...)
		}
	}
}

// handshakes parses the complete handshake messages buffered in sd.
func (s *conn) handshakes(dir parser.Direction, sd *side) {
	for len(sd.hs) >= 4 {
		n := int(sd.hs[1])<<16 | int(sd.hs[2])<<8 | int(sd.hs[3])
		if n > maxHandshake {
			sd.encrypted = true
			s.anoms.Addf("handshake message of %d bytes from the %s", n, dir)
			return
		}
		if len(sd.hs) < 4+n {
			return
		}
		typ, body := sd.hs[0], sd.hs[4:4+n]
		switch {
		case typ == hsClientHello && dir == parser.ClientToServer && s.ch == nil:
			ch, err := parseClientHello(body)
			if err != nil {
				s.anoms.Add(err.Error())
			}
			s.ch = ch
		case typ == hsServerHello && dir == parser.ServerToClient && s.sh == nil:
			sh, err := parseServerHello(body)
			if err != nil {
				s.anoms.Add(err.Error())
			}
			s.sh = sh
			if sh != nil && sh.selected == 0x0304 {
				sd.encrypted = true // TLS 1.3: the rest of the handshake is encrypted
			}
		case typ == hsCertificate && dir == parser.ServerToClient && s.cert == nil:
			ci, err := parseCertificates(body)
			if err != nil {
				s.anoms.Add(err.Error())
			}
			s.cert = ci
		}
		sd.hs = sd.hs[4+n:]
	}
	if len(sd.hs) == 0 {
		sd.hs = nil
	}
}

// Gap: the record layer of that direction is lost.
func (s *conn) Gap(dir parser.Direction, n int, ts time.Time) {
	if !s.s[dir].lost {
		s.s[dir].lost = true
		s.anoms.Addf("gap of %d bytes from the %s: the rest of that direction is not parsed", n, dir)
	}
}

// IsContinue: records are counted to the end (for the SSTP evidence),
// unless both directions are lost.
func (s *conn) IsContinue() bool { return !(s.s[0].lost && s.s[1].lost) }

// reader is a bounds-checked cursor over a handshake body.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return int(v)
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func u16s(b []byte) []uint16 {
	out := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, binary.BigEndian.Uint16(b[i:]))
	}
	return out
}

func parseClientHello(b []byte) (*clientHello, error) {
	r := &reader{b: b}
	ch := &clientHello{version: uint16(r.u16())}
	r.bytes(32)
	ch.sessionID = len(r.bytes(r.u8()))
	ch.ciphers = u16s(r.bytes(r.u16()))
	ch.compression = len(r.bytes(r.u8()))
	if r.bad {
		return ch, fmt.Errorf("tls: ClientHello truncated before its extensions")
	}
	if len(r.b) == 0 {
		return ch, nil // no extensions (SSL 3.0 style)
	}
	exts := &reader{b: r.bytes(r.u16())}
	ch.exts = make([]uint16, 0, countExtensions(exts.b, 256))
	for len(exts.b) >= 4 && len(ch.exts) < 256 {
		typ := exts.u16()
		data := exts.bytes(exts.u16())
		ch.exts = append(ch.exts, uint16(typ))
		e := &reader{b: data}
		switch typ {
		case 0: // server_name
			l := &reader{b: e.bytes(e.u16())}
			for len(l.b) >= 3 {
				t := l.u8()
				name := l.bytes(l.u16())
				if t == 0 && ch.sni == "" {
					ch.sni = printable(name)
				}
			}
		case 10: // supported_groups
			ch.groups = u16s(e.bytes(e.u16()))
		case 11: // ec_point_formats
			ch.points = append(ch.points, e.bytes(e.u8())...) // a copy: the body is not kept
		case 13: // signature_algorithms
			ch.sigalgs = u16s(e.bytes(e.u16()))
		case 16: // ALPN
			l := &reader{b: e.bytes(e.u16())}
			for len(l.b) > 0 && len(ch.alpn) < 16 {
				p := l.bytes(l.u8())
				if l.bad {
					break
				}
				ch.alpn = append(ch.alpn, printable(p))
			}
		case 43: // supported_versions
			ch.versions = u16s(e.bytes(e.u8()))
		}
	}
	if r.bad || exts.bad {
		return ch, fmt.Errorf("tls: ClientHello extensions truncated")
	}
	return ch, nil
}

// countExtensions is the number of extension types parseClientHello
// records from the extensions block b (at most limit), so that their list
// is allocated once: each one that starts with a 4-byte header, the last
// one even if its data runs past the block.
func countExtensions(b []byte, limit int) int {
	n := 0
	for len(b) >= 4 && n < limit {
		n++
		l := 4 + int(binary.BigEndian.Uint16(b[2:]))
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return n
}

func parseServerHello(b []byte) (*serverHello, error) {
	r := &reader{b: b}
	sh := &serverHello{version: uint16(r.u16())}
	r.bytes(32)
	r.bytes(r.u8())
	sh.cipher = uint16(r.u16())
	r.u8()
	if r.bad {
		return sh, fmt.Errorf("tls: ServerHello truncated")
	}
	if len(r.b) == 0 {
		return sh, nil
	}
	exts := &reader{b: r.bytes(r.u16())}
	for len(exts.b) >= 4 {
		typ := exts.u16()
		e := &reader{b: exts.bytes(exts.u16())}
		switch typ {
		case 43:
			sh.selected = uint16(e.u16())
		case 16:
			l := &reader{b: e.bytes(e.u16())}
			sh.alpn = printable(l.bytes(l.u8()))
		}
	}
	return sh, nil
}

func parseCertificates(b []byte) (*certInfo, error) {
	r := &reader{b: b}
	n := int(r.u8())<<16 | r.u16()
	list := &reader{b: r.bytes(n)}
	ci := &certInfo{}
	for len(list.b) >= 3 {
		l := int(list.u8())<<16 | list.u16()
		der := list.bytes(l)
		if list.bad {
			break
		}
		ci.chain++
		if ci.chain > 1 {
			continue
		}
		li := leaf(der)
		if li.err != nil {
			return ci, li.err
		}
		ci.subject, ci.issuer, ci.notAfter, ci.selfSigned = li.subject, li.issuer, li.notAfter, li.selfSigned
		ci.names = slices.Clone(li.names)
	}
	if list.bad || r.bad {
		return ci, fmt.Errorf("tls: certificate list truncated")
	}
	return ci, nil
}

// leafInfo is what the events use of a server's leaf certificate.
type leafInfo struct {
	subject, issuer string
	notAfter        time.Time
	selfSigned      bool
	names           []string // the subject's CN, then DNS names up to maxNames
	err             error
}

func parseLeaf(der []byte) *leafInfo {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return &leafInfo{err: fmt.Errorf("tls: server certificate does not parse: %w", err)}
	}
	li := &leafInfo{subject: cert.Subject.String(), issuer: cert.Issuer.String(), notAfter: cert.NotAfter.UTC()}
	li.selfSigned = li.subject == li.issuer
	if cn := cert.Subject.CommonName; cn != "" {
		li.names = append(li.names, cn)
	}
	for _, d := range cert.DNSNames {
		if len(li.names) < maxNames {
			li.names = append(li.names, d)
		}
	}
	return li
}

// Bounds of the leaf certificate cache.
const (
	leafCacheEntries = 256
	leafCacheMaxDER  = 8 << 10 // larger certificates are parsed every time
)

// leafCache remembers the leaf certificates seen lately: every
// connection to a server brings the same certificate, and x509 parsing
// was most of what a TLS connection cost. It is shared by the workers
// (the mutex guards it) and bounded: when full it starts over.
var leafCache = struct {
	sync.Mutex
	m map[string]*leafInfo // by DER
}{m: map[string]*leafInfo{}}

// leaf returns what der says, from the cache when it was seen lately.
// A leafInfo is shared: read it, never change it.
func leaf(der []byte) *leafInfo {
	if len(der) > leafCacheMaxDER {
		return parseLeaf(der)
	}
	leafCache.Lock()
	li := leafCache.m[string(der)]
	leafCache.Unlock()
	if li != nil {
		return li
	}
	li = parseLeaf(der)
	leafCache.Lock()
	if len(leafCache.m) >= leafCacheEntries {
		clear(leafCache.m)
	}
	leafCache.m[string(der)] = li
	leafCache.Unlock()
	return li
}

// printable keeps a name readable in events.
func printable(b []byte) string {
	if len(b) > 255 {
		b = b[:255]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, string(b))
}

// grease reports the RFC 8701 reserved values (0x0a0a, 0x1a1a...).
func grease(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// appendInts appends l in decimal, joined by '-' (JA3's lists).
func appendInts[T uint8 | uint16](b []byte, l []T, skipGrease bool) []byte {
	first := true
	for _, v := range l {
		if skipGrease && grease(uint16(v)) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// ja3 returns the JA3 string: version,ciphers,extensions,groups,points.
func (ch *clientHello) ja3() string {
	s, _ := ch.ja3Sum()
	return s
}

// ja3Sum returns the JA3 string and its MD5, hashed before the string is
// made.
func (ch *clientHello) ja3Sum() (string, [md5.Size]byte) {
	var scratch [1024]byte
	b := strconv.AppendUint(scratch[:0], uint64(ch.version), 10)
	b = appendInts(append(b, ','), ch.ciphers, true)
	b = appendInts(append(b, ','), ch.exts, true)
	b = appendInts(append(b, ','), ch.groups, true)
	b = appendInts(append(b, ','), ch.points, false)
	return string(b), md5.Sum(b)
}

// appendHex4 appends v as four lower-case hex digits (fmt's %04x).
func appendHex4(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}

// appendHexList appends l as %04x values joined by commas.
func appendHexList(b []byte, l []uint16) []byte {
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, v)
	}
	return b
}

// appendJA4Hash appends JA4's truncated SHA-256 of s (zeros for none).
func appendJA4Hash(b, s []byte) []byte {
	if len(s) == 0 {
		return append(b, "000000000000"...)
	}
	h := sha256.Sum256(s)
	return hex.AppendEncode(b, h[:6])
}

// ja4 returns the JA4 fingerprint (FoxIO's JA4 specification). The
// lists are sorted as numbers, which is the order of their fixed-width
// hex forms, and written into stack buffers.
func (ch *clientHello) ja4() string {
	ver := ch.version
	for _, v := range ch.versions {
		if !grease(v) && v > ver {
			ver = v
		}
	}
	vs := "00"
	switch ver {
	case 0x0304:
		vs = "13"
	case 0x0303:
		vs = "12"
	case 0x0302:
		vs = "11"
	case 0x0301:
		vs = "10"
	case 0x0300:
		vs = "s3"
	}
	sni := "i"
	if ch.sni != "" {
		sni = "d"
	}
	var cbuf, ebuf [128]uint16
	ciphers, exts := cbuf[:0], ebuf[:0]
	for _, c := range ch.ciphers {
		if !grease(c) {
			ciphers = append(ciphers, c)
		}
	}
	nExt := 0
	for _, e := range ch.exts {
		if grease(e) {
			continue
		}
		nExt++
		if e != 0 && e != 16 {
			exts = append(exts, e)
		}
	}
	alpn := "00"
	if len(ch.alpn) > 0 && ch.alpn[0] != "" {
		a := ch.alpn[0]
		alpn = string(a[0]) + string(a[len(a)-1])
	}
	slices.Sort(ciphers)
	slices.Sort(exts)
	var scratch, list [1024]byte
	b := append(scratch[:0], 't')
	b = append(b, vs...)
	b = append(b, sni...)
	nc, ne := min(len(ciphers), 99), min(nExt, 99)
	b = append(b, byte('0'+nc/10), byte('0'+nc%10), byte('0'+ne/10), byte('0'+ne%10))
	b = append(b, alpn...)
	b = append(b, '_')
	b = appendJA4Hash(b, appendHexList(list[:0], ciphers))
	b = append(b, '_')
	var ext []byte
	if len(exts) > 0 {
		ext = appendHexList(list[:0], exts)
		first := true
		for _, s := range ch.sigalgs {
			if grease(s) {
				continue
			}
			if first {
				ext = append(ext, '_')
			} else {
				ext = append(ext, ',')
			}
			first = false
			ext = appendHex4(ext, s)
		}
	}
	b = appendJA4Hash(b, ext)
	return string(b)
}

var versionNames = map[uint16]string{0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}

// versionValues and cipherValues are the names as summary values,
// boxed once; cipherValues also spares crypto/tls.CipherSuiteName, which
// builds its lists of suites on every call.
var (
	versionValues = func() map[uint16]any {
		m := make(map[uint16]any, len(versionNames))
		for k, v := range versionNames {
			m[k] = v
		}
		return m
	}()
	cipherValues = func() map[uint16]any {
		m := map[uint16]any{}
		// CipherSuiteName looks in the secure list first
		for _, l := range [][]*gotls.CipherSuite{gotls.InsecureCipherSuites(), gotls.CipherSuites()} {
			for _, c := range l {
				m[c.ID] = c.Name
			}
		}
		return m
	}()
)

func versionValue(v uint16) any {
	if n, ok := versionValues[v]; ok {
		return n
	}
	return versionName(v)
}

func cipherValue(id uint16) any {
	if n, ok := cipherValues[id]; ok {
		return n
	}
	// what CipherSuiteName gives for a suite crypto/tls does not know,
	// without its walk over both lists
	return fmt.Sprintf("0x%04X", id)
}

func versionName(v uint16) string {
	if n, ok := versionNames[v]; ok {
		return n
	}
	return fmt.Sprintf("0x%04x", v)
}

// EndProcess emits the session event, and the SSTP suspicion when due.
func (s *conn) EndProcess(reason parser.EndReason, ts time.Time) {
	if s.ended {
		return
	}
	s.ended = true
	if s.start.IsZero() {
		s.start, s.end = ts, ts
	}
	// sized for the summary of a whole handshake (some 24 fields), so it
	// does not grow field by field
	keys := 8
	if s.ch != nil {
		keys = 26
	}
	sum := make(event.Fields, 0, keys)
	sum.Set("detection", "content")
	sum.Set("confidence", 1.0)
	sum.Set("bytes_to_server", s.bytes[parser.ClientToServer])
	sum.Set("bytes_to_client", s.bytes[parser.ServerToClient])
	sum.Set("app_records", [2]int{s.s[0].appRecords(), s.s[1].appRecords()})
	sum.Set("end_reason", reason.String())
	sum.Set("client_hello_seen", s.ch != nil)
	if s.c.Server.Port() == 443 {
		sum.Set("detection", "content+port")
	}
	if s.ch == nil && s.sh == nil {
		sum.Set("confidence", 0.8)
		sum.Set("evidence", []string{"mid-stream: a chain of well-formed TLS record headers (no handshake seen)"})
	}
	subject := ""
	if ch := s.ch; ch != nil {
		sum.Set("client_version", versionValue(ch.version))
		sum.Set("cipher_suites", len(ch.ciphers))
		sum.Set("extensions", len(ch.exts))
		ja3, m := ch.ja3Sum()
		sum.Set("ja3", ja3)
		sum.Set("ja3_md5", hex.EncodeToString(m[:]))
		sum.Set("ja4", ch.ja4())
		if ch.sni != "" {
			sum.Set("sni", ch.sni)
			subject = "TLS " + ch.sni
		}
		if len(ch.alpn) > 0 {
			sum.Set("alpn", ch.alpn)
		}
		if len(ch.versions) > 0 {
			var vs []string
			for _, v := range ch.versions {
				if !grease(v) {
					vs = append(vs, versionName(v))
				}
			}
			sum.Set("supported_versions", vs)
		}
	}
	if sh := s.sh; sh != nil {
		v := sh.version
		if sh.selected != 0 {
			v = sh.selected
		}
		sum.Set("version", versionValue(v))
		sum.Set("cipher", cipherValue(sh.cipher))
		if sh.alpn != "" {
			sum.Set("alpn_selected", sh.alpn)
		}
	}
	if ci := s.cert; ci != nil {
		sum.Set("cert_subject", ci.subject)
		sum.Set("cert_issuer", ci.issuer)
		sum.Set("cert_names", ci.names)
		sum.Set("cert_chain", ci.chain)
		sum.Set("cert_self_signed", ci.selfSigned)
		if !ci.notAfter.IsZero() {
			sum.Set("cert_not_after", ci.notAfter.Format(time.RFC3339))
		}
	}
	if subject == "" {
		subject = "TLS to " + s.c.Server.String()
	}
	s.env.Emit(&event.Event{
		Type: TypeSession, Start: s.start, End: s.end, Subject: subject, Summary: sum, Anomalies: s.anoms.Out(),
	})
	if conf, _ := s.sstpEvidence(false); conf >= sstpThreshold {
		_, ev := s.sstpEvidence(true)
		var sum event.Fields
		parser.PutDetection(&sum, "heuristic", conf, ev)
		s.env.Emit(&event.Event{
			Protocol: "sstp",
			Type:     TypeSSTPSuspected,
			Start:    s.start, End: s.end,
			Subject: fmt.Sprintf("possible SSTP VPN inside TLS to %s", s.c.Server),
			Summary: sum,
		})
	}
}
