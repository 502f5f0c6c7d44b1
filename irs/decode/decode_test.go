package decode

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/sdnli/sdnli/irs/capture"
)

// Frames used by the tests, as hex, each under the tcpdump line that
// describes it. Short Ethernet frames carry padding to 60 bytes, which the
// decoder must not take for payload.
var (
	// 02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4, 192.0.2.1.40000 > 192.0.2.2.25:
	// Flags [S], seq 16909060, win 64240, options [mss 1460], length 0
	frameSYN = hx("02000000000202000000000108004500002c1c46400040069a82c0000201c000" +
		"02029c40001901020304000000006002faf078d20000020405b40000")

	// ethertype 802.1Q, vlan 100, ethertype IPv4, 192.0.2.1.5353 > 192.0.2.2.53: UDP, length 4 ("dns?")
	frameVLAN = hx("020000000002020000000001810000640800450000201c46400040119a83c000" +
		"0201c000020214e90035000c8f06646e733f00000000000000000000")

	// ethertype 802.1Q-QinQ, vlan 10, ethertype 802.1Q, vlan 20, ethertype IPv4,
	// 192.0.2.1.40001 > 192.0.2.2.110: Flags [P.], seq 100:105, ack 200, win 512, length 5 ("+OK\r\n")
	frameQinQ = hx("02000000000202000000000188a8000a8100001408004500002d1c4640004006" +
		"9a81c0000201c00002029c41006e00000064000000c8501802000b8c00002b4f" +
		"4b0d0a")

	// IPv6, 2001:db8::1.40002 > 2001:db8::2.143: Flags [.], seq 7:13, ack 9, win 512, length 6 ("* OK\r\n")
	frameIPv6 = hx("02000000000202000000000186dd60000000001a064020010db8000000000000" +
		"00000000000120010db80000000000000000000000029c42008f000000070000" +
		"0009501002002f0300002a204f4b0d0a")

	// IPv6, 2001:db8::1 > 2001:db8::2: HBH padn, DSTOPT padn, 5000 > 5001: UDP, length 2 ("hi")
	frameIPv6Ext = hx("02000000000202000000000186dd60000000001a004020010db8000000000000" +
		"00000000000120010db80000000000000000000000023c000104000000001100" +
		"01040000000013881389000a00006869")

	// IPv4, 192.0.2.1 > 192.0.2.2: GREv1, call 1, seq 5, length 17: PPP, IP (5 bytes of payload)
	frameGRE = hx("0200000000020200000000010800450000251c464000402f9a60c0000201c000" +
		"02023001880b0004000100000005ff03002145000000000000000000")

	// IPv4, 192.0.2.1 > 192.0.2.2: ICMP echo request, id 4660, seq 1, length 12 ("ping")
	frameEcho = hx("0200000000020200000000010800450000201c46400040019a93c0000201c000" +
		"0202080006fa1234000170696e670000000000000000000000000000")

	// IPv4, 192.0.2.2 > 192.0.2.1: ICMP echo reply, id 4660, seq 1, length 12
	frameEchoReply = hx("0200000000020200000000010800450000201c46400040019a93c0000202c000" +
		"020100000efa1234000170696e670000000000000000000000000000")

	// IPv6, 2001:db8::1 > 2001:db8::2: ICMP6, echo request, id 43981, seq 1, length 9
	frameEcho6 = hx("02000000000202000000000186dd6000000000093a4020010db8000000000000" +
		"00000000000120010db800000000000000000000000280000078abcd000178")

	// IPv4, 192.0.2.1 > 192.0.2.2: ESP(spi=0x00001001,seq=0x7), length 16
	frameESP = hx("0200000000020200000000010800450000241c46400040329a5ec0000201c000" +
		"02020000100100000007010203040506070800000000000000000000")

	// (raw IP) 192.0.2.1.40000 > 192.0.2.2.53: UDP, length 1
	rawUDP = hx("4500001d1c46400040119a86c0000201c00002029c40003500096e6271")

	// Three fragments of one UDP datagram, id 0x4242 (1111 > 2222, 24 bytes "a".."x"):
	// 192.0.2.1.1111 > 192.0.2.2.2222: UDP, bad length 24 > 0 [frag 0x4242 off 0, flags +]
	frag0 = hx("02000000000202000000000108004500001c424220004011948bc0000201c000" +
		"0202045708ae00205984000000000000000000000000000000000000")
	// 192.0.2.1 > 192.0.2.2: udp [frag 0x4242 off 8, flags +] ("abcdefghijklmnop")
	frag1 = hx("0200000000020200000000010800450000244242200140119482c0000201c000" +
		"02026162636465666768696a6b6c6d6e6f7000000000000000000000")
	// 192.0.2.1 > 192.0.2.2: udp [frag 0x4242 off 24] ("qrstuvwx")
	frag2 = hx("02000000000202000000000108004500001c424200034011b488c0000201c000" +
		"02027172737475767778000000000000000000000000000000000000")

	// Two IPv6 fragments of one UDP datagram, id 0x7777 (1111 > 2222, "0123456789ABCDEF"):
	// 2001:db8::1 > 2001:db8::2: frag (0x00007777:0|16) 1111 > 2222: UDP, length 16
	frag6a = hx("02000000000202000000000186dd6000000000182c4020010db8000000000000" +
		"00000000000120010db800000000000000000000000211000001000077770457" +
		"08ae0018c86d3031323334353637")
	// 2001:db8::1 > 2001:db8::2: frag (0x00007777:16|8)
	frag6b = hx("02000000000202000000000186dd6000000000102c4020010db8000000000000" +
		"00000000000120010db800000000000000000000000211000010000077773839" +
		"414243444546")

	// ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28
	frameARP = hx("ffffffffffff02000000000108060001080006040001020000000001c0000201" +
		"000000000000c0000202")

	// IPv4, 192.0.2.1 > 192.0.2.2: IP-in-IP (protocol 4): the inner IPv4
	// packet (10.0.0.1 > 10.0.0.2, ICMP) is the payload
	frameIPIP = hx("0200000000020200000000010800450000281c46400040049a83c0000201c000" +
		"02024500001400000000400100000a0000010a000002")

	// The SYN above cut by a 44-byte snap length in the middle of the TCP header.
	frameCutTCP = frameSYN[:44]

	// IPv4 header with IHL 3 (less than the minimum 5).
	frameBadIHL = hx("02000000000202000000000108004300002c1c46400040069a82c0000201c000" +
		"02029c40001901020304000000006002faf078d20000020405b40000")
)

func hx(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// sllFrame wraps an IPv4 packet in a Linux cooked (SLL) header.
func sllFrame(ip []byte) []byte {
	h := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}
	return append(h, ip...)
}

// sll2Frame wraps an IPv4 packet in a Linux cooked v2 (SLL2) header.
func sll2Frame(ip []byte) []byte {
	h := []byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
	return append(h, ip...)
}

// nullFrame wraps an IPv4 packet in a BSD loopback header (AF_INET, host order).
func nullFrame(ip []byte) []byte { return append([]byte{2, 0, 0, 0}, ip...) }

func TestDecode(t *testing.T) {
	tests := []struct {
		name       string
		lt         layers.LinkType
		frame      []byte
		wantRes    Result
		wantReason Reason
		src, dst   string
		sport      uint16
		dport      uint16
		proto      uint8
		flags      uint8
		seq        uint32
		payload    string
	}{
		{name: "ethernet ipv4 tcp syn", lt: layers.LinkTypeEthernet, frame: frameSYN, src: "192.0.2.1", dst: "192.0.2.2",
			sport: 40000, dport: 25, proto: ProtoTCP, flags: FlagSYN, seq: 0x01020304, payload: ""},
		{name: "802.1Q udp", lt: layers.LinkTypeEthernet, frame: frameVLAN, src: "192.0.2.1", dst: "192.0.2.2",
			sport: 5353, dport: 53, proto: ProtoUDP, payload: "dns?"},
		{name: "QinQ tcp", lt: layers.LinkTypeEthernet, frame: frameQinQ, src: "192.0.2.1", dst: "192.0.2.2",
			sport: 40001, dport: 110, proto: ProtoTCP, flags: FlagPSH | FlagACK, seq: 100, payload: "+OK\r\n"},
		{name: "ipv6 tcp", lt: layers.LinkTypeEthernet, frame: frameIPv6, src: "2001:db8::1", dst: "2001:db8::2",
			sport: 40002, dport: 143, proto: ProtoTCP, flags: FlagACK, seq: 7, payload: "* OK\r\n"},
		{name: "ipv6 extension headers", lt: layers.LinkTypeEthernet, frame: frameIPv6Ext, src: "2001:db8::1", dst: "2001:db8::2",
			sport: 5000, dport: 5001, proto: ProtoUDP, payload: "hi"},
		{name: "gre", lt: layers.LinkTypeEthernet, frame: frameGRE, src: "192.0.2.1", dst: "192.0.2.2",
			proto: ProtoGRE, payload: "\xff\x03\x00\x21\x45"},
		{name: "icmp echo request", lt: layers.LinkTypeEthernet, frame: frameEcho, src: "192.0.2.1", dst: "192.0.2.2",
			sport: 0x1234, dport: 0x1234, proto: ProtoICMP, payload: "ping"},
		{name: "icmp echo reply", lt: layers.LinkTypeEthernet, frame: frameEchoReply, src: "192.0.2.2", dst: "192.0.2.1",
			sport: 0x1234, dport: 0x1234, proto: ProtoICMP, payload: "ping"},
		{name: "icmpv6 echo", lt: layers.LinkTypeEthernet, frame: frameEcho6, src: "2001:db8::1", dst: "2001:db8::2",
			sport: 0xabcd, dport: 0xabcd, proto: ProtoICMPv6, payload: "\xab\xcd\x00\x01x"},
		{name: "esp", lt: layers.LinkTypeEthernet, frame: frameESP, src: "192.0.2.1", dst: "192.0.2.2",
			proto: ProtoESP, payload: "\x00\x00\x10\x01\x00\x00\x00\x07\x01\x02\x03\x04\x05\x06\x07\x08"},
		{name: "raw ip", lt: layers.LinkTypeRaw, frame: rawUDP, src: "192.0.2.1", dst: "192.0.2.2",
			sport: 40000, dport: 53, proto: ProtoUDP, payload: "q"},
		{name: "linux sll", lt: layers.LinkTypeLinuxSLL, frame: sllFrame(rawUDP), src: "192.0.2.1", dst: "192.0.2.2",
			sport: 40000, dport: 53, proto: ProtoUDP, payload: "q"},
		{name: "linux sll2", lt: layers.LinkTypeLinuxSLL2, frame: sll2Frame(rawUDP), src: "192.0.2.1", dst: "192.0.2.2",
			sport: 40000, dport: 53, proto: ProtoUDP, payload: "q"},
		{name: "bsd loopback", lt: layers.LinkTypeNull, frame: nullFrame(rawUDP), src: "192.0.2.1", dst: "192.0.2.2",
			sport: 40000, dport: 53, proto: ProtoUDP, payload: "q"},
		{name: "pppoe session ipv4", lt: layers.LinkTypeEthernet, frame: pppoeFrame(rawUDP, 0x0021), src: "192.0.2.1", dst: "192.0.2.2",
			sport: 40000, dport: 53, proto: ProtoUDP, payload: "q"},
		{name: "pppoe session lcp", lt: layers.LinkTypeEthernet, frame: pppoeFrame([]byte{1, 1, 0, 4}, 0xc021), wantRes: Ignored, wantReason: ReasonNotIP},
		{name: "arp", lt: layers.LinkTypeEthernet, frame: frameARP, wantRes: Ignored, wantReason: ReasonNotIP},
		{name: "ip in ip", lt: layers.LinkTypeEthernet, frame: frameIPIP, src: "192.0.2.1", dst: "192.0.2.2",
			proto: ProtoIPIP, payload: "\x45\x00\x00\x14\x00\x00\x00\x00\x40\x01\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02"},
		{name: "tcp header cut by snap length", lt: layers.LinkTypeEthernet, frame: frameCutTCP, wantRes: Malformed, wantReason: ReasonTruncated},
		{name: "ipv4 header length 3", lt: layers.LinkTypeEthernet, frame: frameBadIHL, wantRes: Malformed, wantReason: ReasonIPv4},
		{name: "ethernet too short", lt: layers.LinkTypeEthernet, frame: frameSYN[:10], wantRes: Malformed, wantReason: ReasonLink},
		{name: "raw, not ip", lt: layers.LinkTypeRaw, frame: []byte{0x10, 0, 0, 0}, wantRes: Malformed, wantReason: ReasonIPv4},
		{name: "unknown link type", lt: layers.LinkTypeFDDI, frame: frameSYN, wantRes: Malformed, wantReason: ReasonLinkType},
		{name: "empty frame", lt: layers.LinkTypeRaw, frame: nil, wantRes: Malformed, wantReason: ReasonTruncated},
	}
	d := NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			res, reason := d.Decode(tt.frame, tt.lt, 1, len(tt.frame), &p)
			if res != tt.wantRes || reason != tt.wantReason {
				t.Fatalf("Decode = %v/%v, want %v/%v", res, reason, tt.wantRes, tt.wantReason)
			}
			if res != Decoded {
				return
			}
			if got := p.SrcAddr().String(); got != tt.src {
				t.Errorf("src = %s, want %s", got, tt.src)
			}
			if got := p.DstAddr().String(); got != tt.dst {
				t.Errorf("dst = %s, want %s", got, tt.dst)
			}
			if p.SrcPort != tt.sport || p.DstPort != tt.dport {
				t.Errorf("ports = %d > %d, want %d > %d", p.SrcPort, p.DstPort, tt.sport, tt.dport)
			}
			if p.Proto != tt.proto {
				t.Errorf("proto = %d, want %d", p.Proto, tt.proto)
			}
			if p.Flags != tt.flags || p.Seq != tt.seq {
				t.Errorf("flags/seq = %#x/%d, want %#x/%d", p.Flags, p.Seq, tt.flags, tt.seq)
			}
			if got := string(p.Payload()); got != tt.payload {
				t.Errorf("payload = %q, want %q", got, tt.payload)
			}
			if tt.proto == ProtoTCP && (p.TCP == nil || p.TCP.Seq != tt.seq) {
				t.Errorf("TCP layer = %v, want the decoded header", p.TCP)
			}
		})
	}
}

// pppoeFrame wraps a PPP payload of protocol proto in Ethernet and a
// PPPoE session header (session 0x0101).
func pppoeFrame(payload []byte, proto uint16) []byte {
	n := len(payload) + 2
	f := hx("020000000002020000000001886411000101")
	f = append(f, byte(n>>8), byte(n), byte(proto>>8), byte(proto))
	return append(f, payload...)
}

func TestFragments(t *testing.T) {
	tests := []struct {
		name    string
		frames  [][]byte
		payload string
		sport   uint16
	}{
		{"ipv4 in order", [][]byte{frag0, frag1, frag2}, "abcdefghijklmnopqrstuvwx", 1111},
		{"ipv4 out of order", [][]byte{frag2, frag0, frag1}, "abcdefghijklmnopqrstuvwx", 1111},
		{"ipv4 reversed with a duplicate", [][]byte{frag2, frag1, frag1, frag0}, "abcdefghijklmnopqrstuvwx", 1111},
		{"ipv6 out of order", [][]byte{frag6b, frag6a}, "0123456789ABCDEF", 1111},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder()
			var p Packet
			for i, f := range tt.frames {
				res, reason := d.Decode(f, layers.LinkTypeEthernet, int64(i), len(f), &p)
				last := i == len(tt.frames)-1
				if !last {
					if res != Queued {
						t.Fatalf("fragment %d: %v/%v, want Queued", i, res, reason)
					}
					continue
				}
				if res != Decoded {
					t.Fatalf("last fragment: %v/%v, want Decoded", res, reason)
				}
			}
			if got := string(p.Payload()); got != tt.payload {
				t.Errorf("payload = %q, want %q", got, tt.payload)
			}
			if p.Proto != ProtoUDP || p.SrcPort != tt.sport || p.DstPort != 2222 {
				t.Errorf("proto %d ports %d > %d, want UDP 1111 > 2222", p.Proto, p.SrcPort, p.DstPort)
			}
			if len(p.Fragments) != len(tt.frames) {
				t.Errorf("%d fragment frames kept, want %d", len(p.Fragments), len(tt.frames))
			}
			for i, f := range p.Fragments {
				if !bytes.Equal(f.Frame, tt.frames[i]) || f.Timestamp != int64(i) {
					t.Errorf("fragment %d frame/time not kept as captured", i)
				}
			}
			if d.Defrag.Pending() != 0 || d.Defrag.Bytes() != 0 {
				t.Errorf("defragmenter still holds %d datagrams, %d bytes", d.Defrag.Pending(), d.Defrag.Bytes())
			}
		})
	}
}

func TestFragmentCaps(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		d := NewDecoder()
		var p Packet
		d.Decode(frag0, layers.LinkTypeEthernet, 0, len(frag0), &p)
		d.Expire(int64(31e9))
		if d.Defrag.Pending() != 0 || d.Counters.ByReason[ReasonFragmentExpired] != 1 {
			t.Errorf("pending %d, expired %d; want 0 and 1", d.Defrag.Pending(), d.Counters.ByReason[ReasonFragmentExpired])
		}
		// The rest of the datagram now never completes it.
		if res, _ := d.Decode(frag1, layers.LinkTypeEthernet, 0, len(frag1), &p); res != Queued {
			t.Errorf("frag1 after expiry: %v, want Queued", res)
		}
		if res, _ := d.Decode(frag2, layers.LinkTypeEthernet, 0, len(frag2), &p); res != Queued {
			t.Errorf("frag2 after expiry: %v, want Queued (the first fragment is gone)", res)
		}
	})
	t.Run("datagram cap", func(t *testing.T) {
		d := NewDecoder()
		d.Defrag = NewDefragmenter(DefragConfig{MaxDatagrams: 2})
		var p Packet
		for id := 0; id < 5; id++ {
			f := append([]byte(nil), frag0...)
			f[18], f[19] = 0x50, byte(id) // IP identification
			d.Decode(f, layers.LinkTypeEthernet, 0, len(f), &p)
		}
		if d.Defrag.Pending() != 2 || d.Defrag.Evicted != 3 {
			t.Errorf("pending %d, evicted %d; want 2 and 3", d.Defrag.Pending(), d.Defrag.Evicted)
		}
	})
	t.Run("byte cap", func(t *testing.T) {
		d := NewDecoder()
		d.Defrag = NewDefragmenter(DefragConfig{MaxBytes: 100})
		var p Packet
		d.Decode(frag0, layers.LinkTypeEthernet, 0, len(frag0), &p)
		d.Decode(frag1, layers.LinkTypeEthernet, 0, len(frag1), &p)
		if d.Defrag.Bytes() > 100 {
			t.Errorf("defragmenter holds %d bytes, cap 100", d.Defrag.Bytes())
		}
	})
	t.Run("conflicting ends", func(t *testing.T) {
		d := NewDecoder()
		var p Packet
		d.Decode(frag2, layers.LinkTypeEthernet, 0, len(frag2), &p)
		f := append([]byte(nil), frag1...)
		f[20] = 0x00 // clear MF: a second, different end
		if res, reason := d.Decode(f, layers.LinkTypeEthernet, 0, len(f), &p); res != Malformed || reason != ReasonFragment {
			t.Errorf("conflicting last fragment: %v/%v, want Malformed/bad-fragment", res, reason)
		}
	})
}

// TestLinkTypes: every link type capture accepts is decodable.
func TestLinkTypes(t *testing.T) {
	frames := map[layers.LinkType][]byte{
		layers.LinkTypeEthernet:  frameVLAN,
		layers.LinkTypeLinuxSLL:  sllFrame(rawUDP),
		layers.LinkTypeLinuxSLL2: sll2Frame(rawUDP),
		layers.LinkTypeRaw:       rawUDP,
		layers.LinkTypeIPv4:      rawUDP,
		layers.LinkTypeIPv6:      frameIPv6[14:],
		layers.LinkTypeNull:      nullFrame(rawUDP),
		layers.LinkTypeLoop:      nullFrame(rawUDP),
	}
	d := NewDecoder()
	for _, lt := range capture.SupportedLinkTypes {
		t.Run(lt.String(), func(t *testing.T) {
			f, ok := frames[lt]
			if !ok {
				t.Fatalf("no test frame for supported link type %v", lt)
			}
			var p Packet
			if res, reason := d.Decode(f, lt, 0, len(f), &p); res != Decoded {
				t.Errorf("Decode = %v/%v, want Decoded", res, reason)
			}
		})
	}
}

func TestCountersMap(t *testing.T) {
	d := NewDecoder()
	var p Packet
	d.Decode(frameARP, layers.LinkTypeEthernet, 0, len(frameARP), &p)
	d.Decode(frameBadIHL, layers.LinkTypeEthernet, 0, len(frameBadIHL), &p)
	m := d.Counters.Map()
	if m["not-ip"] != 1 || m["bad-ipv4"] != 1 || len(m) != 2 {
		t.Errorf("counters = %v, want not-ip 1 and bad-ipv4 1", m)
	}
	if !ReasonIPv4.Malformed() || ReasonNotIP.Malformed() {
		t.Error("Malformed() misclassifies")
	}
	if !strings.HasPrefix(Reason(200).String(), "reason-") {
		t.Error("unknown reason has no name")
	}
}

// FuzzDecode feeds arbitrary frames of every link type: the decoder must
// never panic (the recover in Decode counts as a failure here), and a
// decoded payload must lie within the frame or the reassembly buffer.
func FuzzDecode(f *testing.F) {
	for _, fr := range [][]byte{frameSYN, frameVLAN, frameQinQ, frameIPv6, frameIPv6Ext, frameGRE, frameEcho,
		frameEcho6, frameESP, frag0, frag1, frag2, frag6a, frag6b, frameARP, frameIPIP} {
		f.Add(uint8(0), fr)
	}
	f.Add(uint8(3), rawUDP)
	f.Add(uint8(1), sllFrame(rawUDP))
	f.Add(uint8(2), sll2Frame(rawUDP))
	f.Add(uint8(6), nullFrame(rawUDP))
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, sel uint8, frame []byte) {
		lts := capture.SupportedLinkTypes
		lt := lts[int(sel)%len(lts)]
		var p Packet
		res, reason := d.Decode(frame, lt, int64(sel), len(frame), &p)
		if reason == ReasonPanic {
			t.Fatalf("decoder panicked on %x (link type %v)", frame, lt)
		}
		if res == Decoded {
			if p.L4Off < 0 || p.PayOff < p.L4Off || p.L4End > len(p.Base) || p.PayOff > p.L4End {
				t.Fatalf("offsets out of range: %d %d %d of %d", p.L4Off, p.PayOff, p.L4End, len(p.Base))
			}
			_ = p.Payload()
			if p.Family != 4 && p.Family != 6 {
				t.Fatalf("family %d", p.Family)
			}
		}
		if d.Defrag.Bytes() > 32<<20 {
			t.Fatalf("defragmenter holds %d bytes", d.Defrag.Bytes())
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	frames := [][]byte{frameSYN, frameQinQ, frameIPv6, frameVLAN, frameEcho}
	d := NewDecoder()
	var p Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := frames[i%len(frames)]
		if res, _ := d.Decode(f, layers.LinkTypeEthernet, int64(i), len(f), &p); res != Decoded {
			b.Fatal("not decoded")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
