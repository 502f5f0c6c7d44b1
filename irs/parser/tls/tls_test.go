package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	gotls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	mrand "math/rand"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// recorder keeps what one side of a net.Pipe wrote, in order.
type recorder struct {
	net.Conn
	dir  parser.Direction
	mu   *sync.Mutex
	segs *[]parsertest.Segment
}

func (r recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	*r.segs = append(*r.segs, parsertest.Segment{Dir: r.dir, Data: append([]byte(nil), b...)})
	r.mu.Unlock()
	return r.Conn.Write(b)
}

func selfSigned(t testing.TB, names ...string) gotls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0], Organization: []string{"Example VPN"}},
		DNSNames: names, NotBefore: time.Unix(1600000000, 0), NotAfter: time.Unix(1900000000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return gotls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// handshake runs Go's TLS client and server over a pipe and returns the
// bytes each side wrote.
func handshake(t testing.TB, max uint16, sni string, alpn []string, cert gotls.Certificate) []parsertest.Segment {
	t.Helper()
	a, b := net.Pipe()
	var mu sync.Mutex
	var segs []parsertest.Segment
	cli := gotls.Client(recorder{a, parser.ClientToServer, &mu, &segs}, &gotls.Config{ServerName: sni, NextProtos: alpn, InsecureSkipVerify: true, MaxVersion: max})
	srv := gotls.Server(recorder{b, parser.ServerToClient, &mu, &segs}, &gotls.Config{Certificates: []gotls.Certificate{cert}, MaxVersion: max, NextProtos: alpn})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	go func() { buf := make([]byte, 64); srv.Read(buf) }()
	cli.Write([]byte("hello"))
	time.Sleep(10 * time.Millisecond)
	a.Close()
	b.Close()
	mu.Lock()
	defer mu.Unlock()
	return append([]parsertest.Segment(nil), segs...)
}

func tcpConn(port uint16) *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.TCP, Client: netip.MustParseAddrPort("192.0.2.10:40000"),
		Server: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.20"), port), Start: time.Unix(1700000000, 0).UTC()}
}

func TestGoHandshakes(t *testing.T) {
	cert := selfSigned(t, "vpn.example.net", "alt.example.net")
	cases := []struct {
		name string
		max  uint16
		ja4  string
		want map[string]any
	}{
		{"tls12", gotls.VersionTLS12, "t12d", map[string]any{"sni": "vpn.example.net", "alpn": []string{"http/1.1"}, "version": "TLS 1.2",
			"cert_names": []string{"vpn.example.net", "vpn.example.net", "alt.example.net"}, "cert_self_signed": true,
			"cert_subject": "CN=vpn.example.net,O=Example VPN"}},
		{"tls13", gotls.VersionTLS13, "t13d", map[string]any{"sni": "vpn.example.net", "version": "TLS 1.3", "cert_subject": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			segs := handshake(t, tc.max, "vpn.example.net", []string{"http/1.1"}, cert)
			if v := (Detector{}).IsRelative(tcpConn(8443), parser.ClientToServer, segs[0].Data); v != parser.Yes {
				t.Fatalf("IsRelative = %v, want Yes", v)
			}
			for _, split := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random} {
				_, evs := parsertest.Run(Detector{}, tcpConn(8443), segs, split, 3)
				if len(evs) != 1 || evs[0].Type != TypeSession {
					t.Fatalf("split %d: %d events", split, len(evs))
				}
				s := evs[0].Summary
				for k, w := range tc.want {
					g, ok := s.Lookup(k)
					if w == nil {
						if ok {
							t.Errorf("split %d: summary[%s] = %v, want absent", split, k, g)
						}
						continue
					}
					if fmt.Sprint(g) != fmt.Sprint(w) {
						t.Errorf("split %d: summary[%s] = %v, want %v", split, k, g, w)
					}
				}
				ja3, _ := s.Get("ja3").(string)
				if !strings.HasPrefix(ja3, "771,") || len(s.Get("ja3_md5").(string)) != 32 {
					t.Errorf("ja3 %q md5 %v", ja3, s.Get("ja3_md5"))
				}
				if ja4, _ := s.Get("ja4").(string); !strings.HasPrefix(ja4, tc.ja4) || len(ja4) != 36 {
					t.Errorf("ja4 = %q, want %s... of 36 characters", ja4, tc.ja4)
				}
				if len(evs[0].Anomalies) != 0 {
					t.Errorf("anomalies %v", evs[0].Anomalies)
				}
			}
		})
	}
}

// TestJA3Known checks JA3 and JA4 on a fixed ClientHello against values
// worked out by hand from the specifications (GREASE dropped).
func TestJA3Known(t *testing.T) {
	ch := &clientHello{version: 0x0303, ciphers: []uint16{0x0a0a, 0x1301, 0xc02b}, exts: []uint16{0x1a1a, 0, 16, 43, 10, 11, 13},
		groups: []uint16{0x2a2a, 29, 23}, points: []uint8{0}, sigalgs: []uint16{0x0403, 0x0804}, sni: "a.b", alpn: []string{"h2"},
		versions: []uint16{0x3a3a, 0x0304, 0x0303}}
	if got, want := ch.ja3(), "771,4865-49195,0-16-43-10-11-13,29-23,0"; got != want {
		t.Errorf("ja3 = %q, want %q", got, want)
	}
	if got := ch.ja4(); !strings.HasPrefix(got, "t13d0206h2_") {
		t.Errorf("ja4 = %q, want prefix t13d0206h2_", got)
	}
}

func TestIsRelative(t *testing.T) {
	cases := []struct {
		name string
		dir  parser.Direction
		data string
		want parser.Verdict
	}{
		{"client hello", parser.ClientToServer, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc", parser.Yes},
		{"server hello first", parser.ClientToServer, "\x16\x03\x03\x00\x50\x02\x00\x00\x4c", parser.YesReversed},
		{"short", parser.ClientToServer, "\x16\x03", parser.NeedMore},
		{"http", parser.ClientToServer, "GET / HTTP/1.1\r\n", parser.No},
		{"app data", parser.ClientToServer, "\x17\x03\x03\x00\x20\x01", parser.No},
		{"oversized record", parser.ClientToServer, "\x16\x03\x01\xff\xff\x01", parser.No},
	}
	mid := func(s string) string { return s }
	midCases := []struct {
		name string
		data string
		want parser.Verdict
	}{
		{"one complete record", mid("\x17\x03\x03\x00\x03abc"), parser.Yes},
		{"two records", mid("\x17\x03\x03\x00\x01a\x15\x03\x03\x00\x02ab"), parser.Yes},
		{"record cut", mid("\x17\x03\x03\x00\x09abc"), parser.NeedMore},
		{"bad second header", mid("\x17\x03\x03\x00\x01aGET /"), parser.No},
		{"ssh", mid("SSH-2.0-OpenSSH_9.2\r\n"), parser.No},
	}
	for _, tc := range midCases {
		t.Run("mid-stream "+tc.name, func(t *testing.T) {
			c := tcpConn(8009)
			c.MidStream = true
			if got := (Detector{}).IsRelative(c, parser.ClientToServer, []byte(tc.data)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Detector{}).IsRelative(tcpConn(443), tc.dir, []byte(tc.data)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSSTPSuspicion: a long session on 443 with an "sstp" name and small
// records both ways is reported as possible SSTP; a short web session
// is not.
func TestSSTPSuspicion(t *testing.T) {
	cert := selfSigned(t, "sstp.example.net")
	segs := handshake(t, gotls.VersionTLS12, "sstp.example.net", nil, cert)
	rec := func(dir parser.Direction, n int) parsertest.Segment {
		return parsertest.Segment{Dir: dir, Data: append([]byte{23, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)}
	}
	web := append([]parsertest.Segment(nil), segs...)
	long := append([]parsertest.Segment(nil), segs...)
	for i := 0; i < 30; i++ {
		long = append(long, rec(0, 80+i), rec(1, 90+i))
	}
	env := parsertest.NewEnv()
	c := tcpConn(443)
	p := Detector{}.New(c, env)
	ts := c.Start
	for i, s := range long {
		p.ProcessPacket(s.Dir, s.Data, ts.Add(time.Duration(i)*3*time.Second))
	}
	p.EndProcess(parser.EndClosed, ts.Add(200*time.Second))
	var sstp int
	for _, ev := range env.Events {
		if ev.Protocol == "sstp" {
			sstp++
			if c := ev.Summary.Get("confidence").(float64); c < sstpThreshold || len(ev.Summary.Get("evidence").([]string)) < 3 {
				t.Errorf("confidence %v evidence %v", c, ev.Summary.Get("evidence"))
			}
		}
	}
	if sstp != 1 {
		t.Errorf("long session: %d sstp events, want 1", sstp)
	}
	_, evs := parsertest.Run(Detector{}, tcpConn(443), web, parsertest.Whole, 0)
	if len(evs) != 1 {
		t.Errorf("short session: %d events, want only tls-session", len(evs))
	}
}

// refJA3 and refJA4 are the fingerprints written the straightforward way
// (fmt and string sorting); ja3 and ja4 must give the same.
func refJA3(ch *clientHello) string {
	join := func(l []uint16, skip bool) string {
		var parts []string
		for _, v := range l {
			if !skip || !grease(v) {
				parts = append(parts, strconv.Itoa(int(v)))
			}
		}
		return strings.Join(parts, "-")
	}
	pts := make([]uint16, len(ch.points))
	for i, p := range ch.points {
		pts[i] = uint16(p)
	}
	return fmt.Sprintf("%d,%s,%s,%s,%s", ch.version, join(ch.ciphers, true), join(ch.exts, true), join(ch.groups, true), join(pts, false))
}

func refJA4(ch *clientHello) string {
	ver := ch.version
	for _, v := range ch.versions {
		if !grease(v) && v > ver {
			ver = v
		}
	}
	vs := map[uint16]string{0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}[ver]
	if vs == "" {
		vs = "00"
	}
	sni := "i"
	if ch.sni != "" {
		sni = "d"
	}
	var ciphers, exts, sig []string
	for _, c := range ch.ciphers {
		if !grease(c) {
			ciphers = append(ciphers, fmt.Sprintf("%04x", c))
		}
	}
	nExt := 0
	for _, e := range ch.exts {
		if grease(e) {
			continue
		}
		nExt++
		if e != 0 && e != 16 {
			exts = append(exts, fmt.Sprintf("%04x", e))
		}
	}
	alpn := "00"
	if len(ch.alpn) > 0 && ch.alpn[0] != "" {
		a := ch.alpn[0]
		alpn = string(a[0]) + string(a[len(a)-1])
	}
	sort.Strings(ciphers)
	sort.Strings(exts)
	hash := func(s string) string {
		if s == "" {
			return "000000000000"
		}
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:6])
	}
	extStr := strings.Join(exts, ",")
	for _, s := range ch.sigalgs {
		if !grease(s) {
			sig = append(sig, fmt.Sprintf("%04x", s))
		}
	}
	if len(sig) > 0 {
		extStr += "_" + strings.Join(sig, ",")
	}
	if len(exts) == 0 {
		extStr = ""
	}
	return fmt.Sprintf("t%s%s%02d%02d%s_%s_%s", vs, sni, min(len(ciphers), 99), min(nExt, 99), alpn,
		hash(strings.Join(ciphers, ",")), hash(extStr))
}

// TestFingerprintsMatchReference: JA3 and JA4 over random ClientHellos
// (GREASE values, empty and very long lists, odd ALPN) equal the
// straightforward forms.
func TestFingerprintsMatchReference(t *testing.T) {
	rng := mrand.New(mrand.NewSource(7))
	list := func() []uint16 {
		n := []int{0, 1, 3, 17, 150, 400}[rng.Intn(6)]
		l := make([]uint16, n)
		for i := range l {
			switch rng.Intn(4) {
			case 0:
				l[i] = 0x0a0a + uint16(rng.Intn(16))*0x1010 // GREASE
			case 1:
				l[i] = uint16(rng.Intn(20)) // 0 and 16 among them
			default:
				l[i] = uint16(rng.Intn(1 << 16))
			}
		}
		return l
	}
	for i := 0; i < 300; i++ {
		ch := &clientHello{version: []uint16{0x0301, 0x0303, 0x0300, 0x0200, 0x7f1c}[rng.Intn(5)],
			ciphers: list(), exts: list(), groups: list(), sigalgs: list(), versions: list()}
		for j := rng.Intn(5); j > 0; j-- {
			ch.points = append(ch.points, uint8(rng.Intn(256)))
		}
		if rng.Intn(2) == 0 {
			ch.sni = "example.org"
		}
		switch rng.Intn(4) {
		case 1:
			ch.alpn = []string{"h2", "http/1.1"}
		case 2:
			ch.alpn = []string{"\xff\x01x\x80"}
		case 3:
			ch.alpn = []string{""}
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, sum := ch.ja3Sum()
			if want := refJA3(ch); got != want || sum != md5.Sum([]byte(want)) {
				t.Errorf("ja3 = %q (md5 %x), want %q", got, sum, want)
			}
			if got, want := ch.ja4(), refJA4(ch); got != want {
				t.Errorf("ja4 = %q, want %q", got, want)
			}
		})
	}
	for _, id := range []uint16{0x1301, 0xc02f, 0x0005, 0x0000, 0xfefe, 0x00ff, 0x5600, 0xcca9} {
		if got, want := cipherValue(id), gotls.CipherSuiteName(id); got != want {
			t.Errorf("cipherValue(%#04x) = %v, want %q", id, got, want)
		}
	}
}

// TestLeafCache: a certificate seen again is answered from the cache
// with what parsing it gives; the cache stays bounded; a certificate
// that does not parse gives its error again.
func TestLeafCache(t *testing.T) {
	der := selfSigned(t, "cache.example", "www.cache.example").Certificate[0]
	want := parseLeaf(der)
	first, again := leaf(der), leaf(append([]byte(nil), der...))
	if first != again {
		t.Errorf("second lookup parsed again, want the cached result")
	}
	if again.subject != want.subject || again.issuer != want.issuer || !again.notAfter.Equal(want.notAfter) ||
		again.selfSigned != want.selfSigned || strings.Join(again.names, ",") != strings.Join(want.names, ",") {
		t.Errorf("cached %+v, want %+v", again, want)
	}
	if got := strings.Join(want.names, ","); got != "cache.example,cache.example,www.cache.example" {
		t.Errorf("names = %s, want the CN then the DNS names", got)
	}
	bad := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	for i := 0; i < 2; i++ {
		if li := leaf(bad); li.err == nil || !strings.Contains(li.err.Error(), "does not parse") {
			t.Errorf("lookup %d of a bad certificate: err = %v, want a parse error", i, li.err)
		}
	}
	for i := 0; i < 2*leafCacheEntries; i++ {
		leaf([]byte{0x30, 0x01, byte(i), byte(i >> 8)})
	}
	leafCache.Lock()
	n := len(leafCache.m)
	leafCache.Unlock()
	if n > leafCacheEntries {
		t.Errorf("cache holds %d certificates, want at most %d", n, leafCacheEntries)
	}
	big := make([]byte, leafCacheMaxDER+1)
	leaf(big)
	leafCache.Lock()
	_, cached := leafCache.m[string(big)]
	leafCache.Unlock()
	if cached {
		t.Errorf("a certificate over %d bytes was cached", leafCacheMaxDER)
	}
}
