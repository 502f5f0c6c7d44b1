package smtp

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// The public captures under ../shared/pcaps (next to the repository)
// replayed through the parser. Each TCP connection is cut out of the
// capture by a small in-order reassembler (these captures are clean:
// retransmissions are dropped, holes become gaps) and fed as a scripted
// conversation, so the parser is tested on real traffic without the rest
// of the IRS.

// pcapDir locates ../shared/pcaps/smtp from the repository root (the
// directory holding go.mod).
func pcapDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("go.mod not found above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "pcaps", "smtp")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("public captures not found at %s (../shared/pcaps/smtp next to the repository): %v", p, err)
	}
	return p
}

// tcpConn is one connection cut out of a capture.
type tcpConn struct {
	conn *parser.Conn
	segs []parsertest.Segment
}

type flowKey struct{ a, b netip.AddrPort }

type side struct {
	next    uint32
	started bool
}

type flowState struct {
	c      *tcpConn
	client netip.AddrPort
	sides  map[netip.AddrPort]*side
}

// readConns extracts the TCP connections of a pcap or pcapng file, in the
// order their first packet appears.
func readConns(t testing.TB, path string) []*tcpConn {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var lt layers.LinkType
	if strings.HasSuffix(path, ".pcapng") {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		src, lt = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		src, lt = r, r.LinkType()
	}
	flows := map[flowKey]*flowState{}
	var order []*tcpConn
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: read: %v", path, err)
		}
		pkt := gopacket.NewPacket(data, lt, gopacket.NoCopy)
		var saddr, daddr netip.Addr
		if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			saddr, _ = netip.AddrFromSlice(ip4.SrcIP.To4())
			daddr, _ = netip.AddrFromSlice(ip4.DstIP.To4())
		} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			saddr, _ = netip.AddrFromSlice(ip6.SrcIP)
			daddr, _ = netip.AddrFromSlice(ip6.DstIP)
		} else {
			continue
		}
		tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			continue
		}
		from := netip.AddrPortFrom(saddr, uint16(tcp.SrcPort))
		to := netip.AddrPortFrom(daddr, uint16(tcp.DstPort))
		k := flowKey{from, to}
		if to.String() < from.String() {
			k = flowKey{to, from}
		}
		fs := flows[k]
		if fs == nil {
			client, server := from, to
			syn := tcp.SYN && !tcp.ACK
			if !syn && (smtpPort(from.Port()) && !smtpPort(to.Port())) {
				client, server = to, from
			}
			fs = &flowState{client: client, sides: map[netip.AddrPort]*side{}}
			fs.c = &tcpConn{conn: &parser.Conn{ID: uint64(len(order) + 1), Transport: parser.TCP, Client: client, Server: server, Start: ci.Timestamp.UTC(), MidStream: !syn}}
			flows[k] = fs
			order = append(order, fs.c)
		}
		sd := fs.sides[from]
		if sd == nil {
			sd = &side{}
			fs.sides[from] = sd
		}
		seq := tcp.Seq
		if tcp.SYN {
			sd.next, sd.started = seq+1, true
			continue
		}
		payload := tcp.Payload
		if !sd.started {
			sd.next, sd.started = seq, true
		}
		dir := parser.ClientToServer
		if from != fs.client {
			dir = parser.ServerToClient
		}
		if len(payload) > 0 {
			diff := int32(seq - sd.next)
			switch {
			case diff < 0:
				// Retransmission or overlap: keep only new bytes.
				if int(-diff) >= len(payload) {
					payload = nil
				} else {
					payload = payload[-diff:]
				}
			case diff > 0:
				fs.c.segs = append(fs.c.segs, parsertest.Segment{Dir: dir, Gap: int(diff)})
			}
			if len(payload) > 0 {
				fs.c.segs = append(fs.c.segs, parsertest.Segment{Dir: dir, Data: append([]byte(nil), payload...)})
				sd.next = seq + uint32(len(tcp.Payload))
			}
		}
	}
	return order
}

// detect runs IsRelative the way the engine does: on the first bytes of
// each direction, growing up to 4 KiB, until a decision.
func detect(c *tcpConn) parser.Verdict {
	buf := map[parser.Direction][]byte{}
	for _, s := range c.segs {
		if s.Gap != 0 {
			break
		}
		buf[s.Dir] = append(buf[s.Dir], s.Data...)
		if len(buf[s.Dir]) > 4096 {
			return parser.No
		}
		if v := (Detector{}).IsRelative(c.conn, s.Dir, buf[s.Dir]); v != parser.NeedMore {
			return v
		}
	}
	return parser.NeedMore
}

// capture is what other tools published for one capture, and what the
// parser must find in it.
type capture struct {
	file    string
	conn    int    // index of the SMTP connection in the capture
	port    uint16 // or: the client port of the connection
	verdict parser.Verdict
	check   func(t *testing.T, env *parsertest.Env, evs []*event.Event)
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func sha1hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// attachment finds an attachment artifact by name.
func attachment(ev *event.Event, name string) *event.Artifact {
	for i, a := range ev.Artifacts {
		if a.Kind == event.KindAttachment && a.Name == name {
			return &ev.Artifacts[i]
		}
	}
	return nil
}

func oneSend(t *testing.T, evs []*event.Event) *event.Event {
	t.Helper()
	s := byType(evs, TypeSend)
	if len(s) != 1 {
		t.Fatalf("events %s; want one email-send", types(evs))
	}
	return s[0]
}

var captures = []capture{
	{
		// Zeek smtp.log / Suricata bug-3616: the same Outlook session.
		file: "zeek__smtp.pcap", conn: 0, verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{
				"subject":                   "SMTP",
				"summary.helo":              "GP",
				"summary.mail_from":         "gurpartap@patriots.in",
				"summary.rcpt_to.0.address": "raj_deol2002in@yahoo.co.in",
				"summary.date":              "Mon, 5 Oct 2009 11:36:07 +0530",
				"summary.from":              "[Gurpartap Singh <gurpartap@patriots.in>]",
				"summary.to":                "[raj_deol2002in@yahoo.co.in]",
				"summary.message_id":        "000301ca4581$ef9e57f0$cedb07d0$@in",
				"summary.user_agent":        "Microsoft Office Outlook 12.0",
				"summary.reply_code":        "250",
				"summary.reply":             "OK id=1Mugho-0003Dg-Un",
				"summary.attachments":       "1",
			})
			a := attachment(ev, "NEWS.txt")
			if a == nil || a.Size != 10807 {
				t.Errorf("NEWS.txt attachment %+v; want 10807 bytes (Suricata fileinfo.size)", a)
			}
		},
	},
	{
		file: "zeek__smtp.pcap", conn: 2, verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{
				"subject":             "Re: Bro SMTP CC Header",
				"summary.helo":        "[192.168.133.100]",
				"summary.mail_from":   "albert@example.com",
				"summary.from":        "[Albert Zaharovits <albert@example.com>]",
				"summary.to":          "[ericlim220@yahoo.com]",
				"summary.cc":          "[felica4uu@hotmail.com davis_mark1@outlook.com]",
				"summary.in_reply_to": "9ACEE03C-AB98-4046-AEC1-BF4910C61E96@example.com",
				"summary.message_id":  "A6202DF2-8E58-4E41-BE0B-C8D3989A4AEE@example.com",
				"summary.user_agent":  "Apple Mail (2.2102)",
				"summary.reply":       "Ok",
			})
			var rcpts []string
			for _, a := range byRole(ev, event.RoleRcpt) {
				rcpts = append(rcpts, a.Address)
			}
			sort.Strings(rcpts)
			if got := strings.Join(rcpts, ","); got != "davis_mark1@outlook.com,ericlim220@yahoo.com,felica4uu@hotmail.com" {
				t.Errorf("rcpt addresses %s; want Zeek's rcptto", got)
			}
		},
	},
	{
		file: "zeek__rfc3030-bdat-multipart.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{
				"subject":                   "Zeek Logo",
				"summary.helo":              "localhost",
				"summary.mail_from":         "zeek@localhost",
				"summary.rcpt_to.0.address": "root@localhost",
				"summary.transfer":          "bdat",
				"summary.reply":             "2.0.0 Ok: 3462 bytes queued as 077781CA025",
				"summary.size":              "3460",
			})
			a := attachment(ev, "zeek-logo.png")
			if a == nil {
				t.Fatalf("no zeek-logo.png attachment in %+v", ev.Artifacts)
			}
			if got := sha1hex(env.Files[a.SHA256]); got != "e9a752f145e10688ab485277a723ecbcfb5c8a63" {
				t.Errorf("zeek-logo.png sha1 %s; want Zeek's e9a752f1...", got)
			}
		},
	},
	{
		// Only one direction of this connection was captured.
		file: "zeek__smtp-attachment-msg.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{
				"subject":                   "subject",
				"summary.helo":              "localhost.localdomain",
				"summary.mail_from":         "sender@example.com",
				"summary.rcpt_to.0.address": "recipient@example.com",
			})
		},
	},
	{
		file: "arkime__smtp-zip.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{"subject": "zip test", "summary.user_agent": "Mutt/1.5.20 (2009-12-10)", "summary.message_id": "20131217145016.GA29077@xxx.net"})
			a := attachment(ev, "a.zip")
			if a == nil || a.MD5 != "40be8f5100e9beabab293c9d7bacaff0" || a.SHA256 != "61479904e443b354d4427a51b990c696f731e341e4c63328e07c1a92658ba591" {
				t.Errorf("a.zip %+v; want Arkime's md5 40be8f51... and sha256 61479904...", a)
			}
			if !hasAddress(ev, event.RoleTo, "xxxxxxxxx@xxxxxxx.com") || !hasAddress(ev, event.RoleFrom, "xxxxx@xxx.net") {
				t.Errorf("addresses %v; want Arkime's src and dst", ev.Addresses)
			}
		},
	},
	{
		file: "arkime__smtp-subject-gb2312-b.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			want(t, oneSend(t, evs), map[string]string{"subject": "test 测试", "summary.message_id": "CEC790C3.1A0F0%xxxxxxxxx@xxxxxxx.com"})
		},
	},
	{
		file: "arkime__smtp-subject-utf8-q.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			if !strings.ContainsRune(ev.Subject, 'é') && !strings.ContainsRune(ev.Subject, 'ü') && ev.Subject == "" {
				t.Errorf("subject %q; want the decoded UTF-8 subject", ev.Subject)
			}
		},
	},
	{
		file: "arkime__wireshark-bdat.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{
				"subject":             "foo",
				"summary.helo":        "testhost.test.ex",
				"summary.mail_from":   "",
				"summary.message_id":  "E1bwpfB-0000Be-Tu@testhost.test.ex",
				"summary.bdat_chunks": "2",
				"summary.size":        "8675",
				"summary.accepted":    "true",
			})
			if !hasAddress(ev, event.RoleRcpt, "p@test.ex") || !hasAddress(ev, event.RoleFrom, "sender@dom") {
				t.Errorf("addresses %v; want rcpt p@test.ex and from sender@dom", ev.Addresses)
			}
		},
	},
	{
		file: "suricata-verify__smtp-pipelining__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			want(t, oneSend(t, evs), map[string]string{"summary.mail_from": "username@domain.com", "summary.rcpt_to.0.address": "john.doe@example.com", "summary.accepted": "true"})
		},
	},
	{
		file: "suricata-verify__smtp-bdat-multichunk-inspection__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			s := byType(evs, TypeSend)
			if len(s) != 2 {
				t.Fatalf("events %s; want two email-send (Suricata: two smtp transactions)", types(evs))
			}
			want(t, s[0], map[string]string{"summary.mail_from": "a@example.com", "summary.rcpt_to.0.address": "b@example.com"})
			want(t, s[1], map[string]string{"summary.mail_from": "evil@example.com", "summary.rcpt_to.0.address": "victim@example.com", "subject": "SECOND-MAIL-MARKER"})
			for _, e := range evs {
				if len(e.Anomalies) != 0 {
					t.Errorf("%s anomalies %q; want none (Suricata: no anomaly)", e.Type, e.Anomalies)
				}
			}
		},
	},
	{
		file: "suricata-verify__smtp-attachment-md5__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			found := false
			for _, a := range ev.Artifacts {
				if a.Kind == event.KindAttachment && a.MD5 == "44d88612fea8a8f36de82e1278abb02f" {
					found = true
				}
			}
			if !found {
				t.Errorf("artifacts %+v; want an attachment with Suricata's target md5 44d88612...", ev.Artifacts)
			}
		},
	},
	{
		file: "suricata-verify__mime-quoted-printable__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			a := attachment(oneSend(t, evs), "related.patch")
			if a == nil || a.Size != 34224 || a.SHA256 != "359641873610597882317aee0f72104ed54fe8aa82d6fa323a5418e4529bd3b9" {
				t.Errorf("related.patch %+v; want Suricata's 34224 bytes, sha256 35964187...", a)
			}
		},
	},
	{
		file: "suricata-verify__smtp-rfc2231__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			name := "smtptest-2021-02-25T13-54-22Z-aefb2fc1308d62f4b6c74769f69b13ddf80e995fd98ae442f3be499ea928c67f..zip"
			if attachment(oneSend(t, evs), name) == nil {
				t.Errorf("artifacts %+v; want the RFC 2231 name %s", oneSend(t, evs).Artifacts, name)
			}
		},
	},
	{
		file: "suricata-verify__smtp-file-data-01__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{"summary.helo": "client-1016363.example.int", "summary.mail_from": "sender@example.com", "summary.rcpt_to.0.address": "recipient@example.com"})
			if a := attachment(ev, "J.txt"); a == nil || a.Size != 16384 {
				t.Errorf("J.txt %+v; want 16384 bytes", a)
			}
			if n := len(byType(evs, TypeSend)); n != 1 {
				t.Errorf("%d email-send; want 1 (no trailing QUIT transaction)", n)
			}
		},
	},
	{
		file: "suricata-verify__smtp-startssl__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			if len(evs) != 1 {
				t.Fatalf("events %s; want only logoff (Suricata: one smtp event, no email)", types(evs))
			}
			want(t, evs[0], map[string]string{"summary.helo": "desktop.unx.ca", "summary.starttls": "accepted"})
		},
	},
	{
		// Suricata: INVALID_REPLY for "472 ... DNS A-record is empty".
		file: "suricata-verify__smtperr.pcap", port: 49740, verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			wantAnomaly(t, byType(evs, TypeLogoff)[0], "invalid reply code 472")
		},
	},
	{
		// Suricata: INVALID_REPLY for "400 4.5.2 Error: bad syntax" after
		// a TLS client hello to a plaintext server.
		file: "suricata-verify__smtperr.pcap", port: 50649, verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "TLS handshake from the client")
			wantAnomaly(t, lo, "reply without a command awaiting it: 400 4.5.2 Error: bad syntax")
		},
	},
	{
		// Suricata: INVALID_REPLY for "500 5.5.1 Command unrecognized:" +
		// junk on a new line.
		file: "suricata-verify__smtperr.pcap", port: 49274, verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "server line that is not a reply")
			wantAnomaly(t, lo, "client sent commands before the server's greeting")
		},
	},
	{
		// Yahoo's deferral text arrives without a reply code.
		file: "suricata-verify__smtperr.pcap", port: 49448, verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			wantAnomaly(t, byType(evs, TypeLogoff)[0], "server line that is not a reply: \"4.7.0 [IPTS04]")
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{"summary.mail_from": "Ina32@4447.com", "summary.rcpt_to.0.address": "jcastro2111@yahoo.com", "subject": "What you think about her new picture?"})
		},
	},
	{
		file: "arkime__smtp-starttls.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.starttls": "accepted"})
		},
	},
	{
		file: "ndpi__smtp-starttls.pcap", conn: 1, verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			lo := byType(evs, TypeLogoff)[0]
			want(t, lo, map[string]string{"summary.starttls": "accepted"})
			if !strings.Contains(field(t, lo, "summary.greeting"), "dns.webernetz.net ESMTP Postfix") {
				t.Errorf("greeting %s; want nDPI's plain text dns.webernetz.net ESMTP Postfix", field(t, lo, "summary.greeting"))
			}
		},
	},
	{
		file: "ndpi__smtp.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			if len(byType(evs, TypeSend)) == 0 {
				t.Errorf("events %s; want at least one email-send", types(evs))
			}
			if g := field(t, byType(evs, TypeLogoff)[0], "summary.greeting"); !strings.Contains(g, "pigeon.eyrie.af.mil") {
				t.Errorf("greeting %s; want nDPI's host pigeon.eyrie.af.mil", g)
			}
		},
	},
	{
		// Suricata's raw extraction stores the message under its SHA-256:
		// the eml must be the same bytes.
		file: "suricata-verify__smtp-raw-extraction__input.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			if got := ev.Artifacts[0].SHA256; got != "018e4f86e830d85dc21cb54ee6554f01ac0b2a73a24f83c64b6acb489e8f4f3d" {
				t.Errorf("eml sha256 %s; want Suricata's raw extraction 018e4f86...", got)
			}
			want(t, byType(evs, TypeLogon)[0], map[string]string{"summary.user": "galunt"})
		},
	},
	{
		// A client that ends every line, and the data, with a bare LF.
		file: "suricata-verify__smtp-url-b64.pcap", verdict: parser.Yes,
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event) {
			ev := oneSend(t, evs)
			if u := field(t, ev, "summary.urls"); !strings.Contains(u, "http://codashop-free01.duckdns.org/") {
				t.Errorf("urls %s; want Suricata's email.url http://codashop-free01.duckdns.org/", u)
			}
			want(t, ev, map[string]string{"summary.accepted": "true"})
		},
	},
	{
		// Implicit TLS on 465: not plaintext SMTP.
		file: "ndpi__smtps.pcapng", verdict: parser.No,
	},
}

func TestCaptures(t *testing.T) {
	dir := pcapDir(t)
	for _, c := range captures {
		name := c.file + "#" + itoa(c.conn)
		if c.port != 0 {
			name = c.file + ":" + itoa(int(c.port))
		}
		t.Run(name, func(t *testing.T) {
			conns := readConns(t, filepath.Join(dir, c.file))
			if c.conn >= len(conns) {
				t.Fatalf("%d connections; want connection %d", len(conns), c.conn)
			}
			tc := conns[c.conn]
			if c.port != 0 {
				tc = nil
				for _, x := range conns {
					if x.conn.Client.Port() == c.port {
						tc = x
					}
				}
				if tc == nil {
					t.Fatalf("no connection from port %d", c.port)
				}
			}
			if v := detect(tc); v != c.verdict {
				t.Fatalf("IsRelative verdict %v; want %v", v, c.verdict)
			}
			if c.check == nil {
				return
			}
			env, evs := parsertest.Run(Detector{}, tc.conn, tc.segs, parsertest.Whole, 0)
			c.check(t, env, evs)
			// Real traffic must also be split-invariant.
			for seed := int64(1); seed <= 2; seed++ {
				_, evs2 := parsertest.Run(Detector{}, tc.conn, tc.segs, parsertest.Random, seed)
				if parsertest.Normalize(evs2) != parsertest.Normalize(evs) {
					t.Errorf("random split %d gives different events", seed)
				}
			}
		})
	}
}

// TestAllCaptures runs every SMTP capture through detection and the
// parser at every split: no panic, bounded memory, and the same events
// whole and in pieces.
func TestAllCaptures(t *testing.T) {
	dir := pcapDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	for _, f := range files {
		if strings.Contains(filepath.Base(f), ".expected.") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			for i, tc := range readConns(t, f) {
				v := detect(tc)
				if v != parser.Yes && v != parser.YesReversed {
					continue
				}
				c := tc.conn
				if v == parser.YesReversed {
					cc := *c
					cc.Client, cc.Server = c.Server, c.Client
					c = &cc
					for j := range tc.segs {
						tc.segs[j].Dir = tc.segs[j].Dir.Reverse()
					}
				}
				_, whole := parsertest.Run(Detector{}, c, tc.segs, parsertest.Whole, 0)
				_, bytewise := parsertest.Run(Detector{}, c, tc.segs, parsertest.Bytes, 0)
				if a, b := parsertest.Normalize(whole), parsertest.Normalize(bytewise); a != b {
					t.Errorf("connection %d: one byte per call differs from whole", i)
				}
			}
		})
	}
}
