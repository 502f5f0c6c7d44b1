package ipsec

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func udp(cport, sport uint16) *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.UDP, Client: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), cport),
		Server: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), sport), Start: time.Unix(1700000000, 0).UTC()}
}

// ikeV2Init builds an IKE_SA_INIT request (or response) with one SA
// payload offering the given transforms and a vendor ID.
func ikeV2Init(resp bool, transforms [][2]int) []byte {
	var tr []byte
	for i, t := range transforms {
		last := byte(3)
		if i == len(transforms)-1 {
			last = 0
		}
		tr = append(tr, last, 0, 0, 8, byte(t[0]), 0, byte(t[1]>>8), byte(t[1]))
	}
	prop := append([]byte{0, 0, 0, 0, 1, 1, 0, byte(len(transforms))}, tr...)
	binary.BigEndian.PutUint16(prop[2:], uint16(len(prop)))
	sa := append([]byte{43, 0, 0, 0}, prop...)
	binary.BigEndian.PutUint16(sa[2:], uint16(len(sa)))
	vid := []byte{0, 0, 0, 20, 0x88, 0x2f, 0xe5, 0x6d, 0x6f, 0xd2, 0x0d, 0xbc, 0x22, 0x51, 0x61, 0x3b, 0x2e, 0xbe, 0x5b, 0xeb}
	h := make([]byte, 28)
	copy(h, "INITSPI!")
	flags := byte(0x08)
	if resp {
		copy(h[8:], "RESPSPI!")
		flags = 0x20
	}
	h[16], h[17], h[18], h[19] = 33, 0x20, 34, flags
	b := append(append(h, sa...), vid...)
	binary.BigEndian.PutUint32(b[24:], uint32(len(b)))
	return b
}

func esp(spi, seq uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, spi)
	b = binary.BigEndian.AppendUint32(b, seq)
	return append(b, make([]byte, 32)...)
}

func TestIsRelative(t *testing.T) {
	init := ikeV2Init(false, [][2]int{{1, 12}, {2, 5}, {3, 12}, {4, 14}})
	cases := []struct {
		name string
		c    *parser.Conn
		dir  parser.Direction
		data []byte
		want parser.Verdict
	}{
		{"ikev2 init on 500", udp(500, 500), parser.ClientToServer, init, parser.Yes},
		{"ikev2 init on another port", udp(40000, 7777), parser.ClientToServer, init, parser.Yes},
		{"ikev2 response first", udp(500, 500), parser.ClientToServer, ikeV2Init(true, [][2]int{{1, 12}}), parser.YesReversed},
		{"non-ESP marker on 4500", udp(4500, 4500), parser.ClientToServer, append([]byte{0, 0, 0, 0}, init...), parser.Yes},
		{"esp in udp on 4500", udp(4500, 4500), parser.ClientToServer, esp(0xc0ffee01, 1), parser.Yes},
		{"esp-like off 4500", udp(4000, 4001), parser.ClientToServer, esp(0xc0ffee01, 1), parser.No},
		{"keepalive", udp(4500, 4500), parser.ClientToServer, []byte{0xff}, parser.NeedMore},
		{"length mismatch", udp(500, 500), parser.ClientToServer, init[:len(init)-1], parser.No},
		{"esp protocol", &parser.Conn{Transport: parser.ESP}, parser.ClientToServer, esp(5000, 1), parser.Yes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewDetector().IsRelative(tc.c, tc.dir, tc.data); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIKEv2Session(t *testing.T) {
	d := NewDetector()
	segs := []parsertest.Segment{
		{Dir: parser.ClientToServer, Data: ikeV2Init(false, [][2]int{{1, 3}, {2, 1}, {3, 1}, {4, 2}, {1, 12}, {4, 19}})},
		{Dir: parser.ServerToClient, Data: ikeV2Init(true, [][2]int{{1, 12}, {2, 5}, {3, 12}, {4, 19}})},
		{Dir: parser.ClientToServer, Data: []byte{0xff}},
		{Dir: parser.ClientToServer, Data: esp(0x1000, 1)},
		{Dir: parser.ClientToServer, Data: esp(0x1000, 2)},
		{Dir: parser.ServerToClient, Data: esp(0x2000, 1)},
	}
	env, evs := parsertest.Run(d, udp(4500, 4500), segs, parsertest.Whole, 0)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if len(env.Mirrors) != 1 || env.Mirrors[0].Transport != parser.ESP || env.Mirrors[0].A.Port() != 0 {
		t.Errorf("mirror requests %+v, want one for ESP between the peers", env.Mirrors)
	}
	s := evs[0].Summary
	want := map[string]any{
		"channel": "ike", "detection": "content+port", "exchanges": map[string]int{"IKE_SA_INIT": 2},
		"vendor_ids": []string{"strongSwan"}, "natt_keepalives": 1,
		"proposals": []string{"IKE: ENCR_3DES PRF_HMAC_MD5 AUTH_HMAC_MD5_96 MODP_1024 ENCR_AES_CBC ECP_256"},
		"chosen":    []string{"IKE: ENCR_AES_CBC PRF_HMAC_SHA2_256 AUTH_HMAC_SHA2_256_128 ECP_256"},
		"weak":      []string{"ENCR_3DES", "PRF_HMAC_MD5", "AUTH_HMAC_MD5_96", "MODP_1024"},
		"spis":      []string{"494e495453504921/0000000000000000", "494e495453504921/5245535053504921"},
	}
	for k, w := range want {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(w) {
			t.Errorf("summary[%s] = %v, want %v", k, s.Get(k), w)
		}
	}
	if esps := s.Get("esp").([]event.Fields); len(esps) != 2 || esps[0].Get("packets") != 2 || esps[0].Get("seq_last") != uint32(2) {
		t.Errorf("esp = %v", s.Get("esp"))
	}
	// An ESP flow between the same addresses names the IKE.
	c := &parser.Conn{ID: 2, Transport: parser.ESP, Client: netip.MustParseAddrPort("192.0.2.2:0"), Server: netip.MustParseAddrPort("192.0.2.1:0")}
	_, evs = parsertest.Run(d, c, []parsertest.Segment{{Dir: 0, Data: esp(0x3000, 7)}}, parsertest.Whole, 0)
	if len(evs) != 1 || evs[0].Summary.Get("channel") != "esp" || fmt.Sprint(evs[0].Summary.Get("ike_versions")) != "[2]" || evs[0].Summary.Get("confidence") != 0.99 {
		t.Errorf("esp event %v", evs[0].Summary)
	}
}

// TestSPIHex: spiHex writes what fmt's %08x writes.
func TestSPIHex(t *testing.T) {
	for _, spi := range []uint32{0, 1, 0x100, 0xdeadbeef, 0xffffffff, 0x0a0b0c0d} {
		if got, want := spiHex(spi), fmt.Sprintf("0x%08x", spi); got != want {
			t.Errorf("spiHex(%d) = %s, want %s", spi, got, want)
		}
	}
}

// TestFlagWeakBytes: the buffer form flags what the string form flags.
func TestFlagWeakBytes(t *testing.T) {
	names := []string{"ENCR_DES", "ENCR_AES_CBC-128", "ENCR_AES_CBC", "ENCR_3DES-192", "MODP_768", "MODP_1024",
		"PRF_HMAC_MD5", "AUTH_HMAC_MD5_96", "ENCR_AES_GCM_16-256", "DES-CBC", "ENCR_DES", "ENCR_7", "-x"}
	var a, b flow
	for _, n := range names {
		a.flagWeak(n)
		b.flagWeakBytes([]byte(n))
	}
	if got, want := strings.Join(b.weak, ","), strings.Join(a.weak, ","); got != want {
		t.Errorf("flagWeakBytes flagged %s, want %s", got, want)
	}
	if len(a.weak) == 0 {
		t.Error("no weak name flagged: the test names no weak algorithm")
	}
}
