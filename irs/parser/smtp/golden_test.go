package smtp

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// The public captures in ../shared/pcaps/smtp (next to the repository)
// run through the whole IRS pipeline (capture file, decoding, flow table,
// TCP reassembly, detection, this parser, artifact store). The events are
// compared with testdata/golden/<capture>.json (regenerate with
// `go test ./irs/parser/smtp -run Golden -update` and review the diff),
// and the facts Suricata, Zeek, Arkime and nDPI published for each
// capture are checked one by one below.

// goldenCase is one public capture: what the other tools published for
// it, where sdnli differs and why, and the facts checked here.
type goldenCase struct {
	file    string
	others  string // what Suricata, Zeek, nDPI or Arkime reported
	differs string // where sdnli differs, and why ("" when it agrees)
	check   func(t *testing.T, g *goldenRun)
}

// goldenRun is the pipeline's output for one capture.
type goldenRun struct {
	res golden.Result
	evs []*event.Event
}

// conn returns the events of the connection with the given client port.
func (g *goldenRun) conn(t *testing.T, clientPort uint16) []*event.Event {
	t.Helper()
	var out []*event.Event
	for _, e := range g.evs {
		if e.Client.Port() == clientPort {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no event of a connection from client port %d; events %s", clientPort, types(g.evs))
	}
	return out
}

// file reads a restored artifact back from the pipeline's data directory.
func (g *goldenRun) file(t *testing.T, a *event.Artifact) []byte {
	t.Helper()
	return g.res.File(t, a)
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func sha1hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// firstPart decodes the first part of a multipart message (base64 or
// as it is).
func firstPart(t *testing.T, eml []byte) []byte {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(eml))
	if err != nil {
		t.Fatalf("eml: %v", err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("eml content type: %v", err)
	}
	p, err := multipart.NewReader(m.Body, params["boundary"]).NextRawPart()
	if err != nil {
		t.Fatalf("eml first part: %v", err)
	}
	var r io.Reader = p
	if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
		r = base64.NewDecoder(base64.StdEncoding, p)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("eml first part: %v", err)
	}
	return b
}

// rcpts returns the sorted envelope recipient addresses of an event.
func rcpts(ev *event.Event) string {
	var l []string
	for _, a := range byRole(ev, event.RoleRcpt) {
		l = append(l, a.Address)
	}
	sort.Strings(l)
	return strings.Join(l, ",")
}

var goldenCases = []goldenCase{
	{
		file:   "arkime__smtp-data-250.pcap",
		others: "Arkime: smtpHello localhost, src 12345678@aol.com, dst xxxx.xxxxxx@xxxxx.com, subject 'Re: xxx xxx xxxxx xxxxxx...', content type text/plain; charset=utf-8, Date Fri, 06 Dec 2013 08:48:53 -0500",
		differs: "sdnli also records the AUTH PLAIN logon of 12345678@aol.com, and reports the server's " +
			"unsolicited 421 timeout at the end as a reply without a command",
		check: func(t *testing.T, g *goldenRun) {
			evs := g.conn(t, 3293)
			ev := oneSend(t, evs)
			want(t, ev, map[string]string{
				"subject":           "Re: xxx xxx xxxxx xxxxxx...",
				"summary.helo":      "localhost",
				"summary.mail_from": "12345678@aol.com",
				"summary.date":      "Fri, 06 Dec 2013 08:48:53 -0500",
				"summary.accepted":  "true",
			})
			if got := rcpts(ev); got != "xxxx.xxxxxx@xxxxx.com" {
				t.Errorf("recipients %s; want Arkime's dst xxxx.xxxxxx@xxxxx.com", got)
			}
			want(t, byType(evs, TypeLogon)[0], map[string]string{"summary.user": "12345678@aol.com", "summary.mechanism": "PLAIN"})
			wantAnomaly(t, byType(evs, TypeLogoff)[0], "reply without a command awaiting it: 421")
		},
	},
	{
		file: "arkime__smtp-decrypted.pcap",
		others: "Arkime: four sessions whose STARTTLS was decrypted by a TLS-terminating proxy: 'Ho ho ho' from papanoel@intradef.gouv.fr " +
			"with IMG_20201225_085941.jpeg (md5 0ff797a4…, sha256 1fd56bea…) and again without attachment, 'test sans pi7ce joint' and " +
			"'test avec pj' with test.txt (md5 a30de9a4…, sha256 d4584320…) from bg1bulma@bg1.shewa.intradef.gouv.fr",
		differs: "Arkime lower-cases the HELO names (transit-mta); sdnli keeps them as sent (TRANSIT-MTA), and flags the plaintext after STARTTLS",
		check: func(t *testing.T, g *goldenRun) {
			type mailFacts struct {
				port             uint16
				subject, from    string
				rcpt, helo, msid string
				attName, md5     string
				sha256           string
			}
			for _, m := range []mailFacts{
				{49475, "Ho ho ho", "papanoel@intradef.gouv.fr", "aponcelet@shewa.intradef.gouv.fr", "TRANSIT-MTA", "964329.815327318-sendEmail@intra-mx2",
					"IMG_20201225_085941.jpeg", "0ff797a4cdf481026ffb5c1c216e8dc2", "1fd56beabe526dfcd7b1b1cf138f028221d425e71d46d4c5086b5a1f934477a4"},
				{28120, "test sans pi7ce joint", "bg1bulma@bg1.shewa.intradef.gouv.fr", "naruto@shewa.intradef.gouv.fr", "BG1-MX.bg1.shewa.intradef.gouv.fr",
					"aef51e3ea08644119c921e966163a822@bg1.shewa.intradef.gouv.fr", "", "", ""},
				{28134, "test avec pj", "bg1bulma@bg1.shewa.intradef.gouv.fr", "naruto@shewa.intradef.gouv.fr", "BG1-MX.bg1.shewa.intradef.gouv.fr",
					"c960c96baa8943f18d71112fcfbfafbd@bg1.shewa.intradef.gouv.fr", "test.txt", "a30de9a413156ac5268036f7748bf782", "d4584320dd20fc7cb5313340908236bd1df86860440dc21626f30a1964e4e245"},
				{41347, "Ho ho ho", "papanoel@intradef.gouv.fr", "aponcelet@shewa.intradef.gouv.fr", "TRANSIT-MTA", "216179.502054246-sendEmail@intra-mx2", "", "", ""},
			} {
				evs := g.conn(t, m.port)
				ev := oneSend(t, evs)
				want(t, ev, map[string]string{"subject": m.subject, "summary.mail_from": m.from, "summary.helo": m.helo, "summary.message_id": m.msid, "summary.accepted": "true"})
				if got := rcpts(ev); got != m.rcpt {
					t.Errorf("port %d: recipients %s; want %s", m.port, got, m.rcpt)
				}
				if !hasAddress(ev, event.RoleFrom, m.from) {
					t.Errorf("port %d: addresses %v; want from %s", m.port, ev.Addresses, m.from)
				}
				if m.attName != "" {
					a := attachment(ev, m.attName)
					if a == nil || a.MD5 != m.md5 || a.SHA256 != m.sha256 {
						t.Errorf("port %d: attachment %s = %+v; want Arkime's md5 %s sha256 %s", m.port, m.attName, a, m.md5, m.sha256)
					}
				}
				want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.starttls": "accepted", "summary.plaintext_after_starttls": "true"})
			}
		},
	},
	{
		file:   "arkime__smtp-starttls.pcap",
		others: "Arkime: smtp then tls (STARTTLS to mx.google.com)",
		check: func(t *testing.T, g *goldenRun) {
			if len(g.evs) != 1 {
				t.Fatalf("events %s; want only the logoff", types(g.evs))
			}
			want(t, g.evs[0], map[string]string{"summary.starttls": "accepted", "summary.end_reason": "parser-done"})
		},
	},
	{
		file:   "arkime__smtp-subject-gb2312-b.pcap",
		others: "Arkime: subject 'test 测试' (gb2312, base64 encoded word)",
		check: func(t *testing.T, g *goldenRun) {
			want(t, oneSend(t, g.evs), map[string]string{"subject": "test 测试", "summary.message_id": "CEC790C3.1A0F0%xxxxxxxxx@xxxxxxx.com"})
		},
	},
	{
		file: "arkime__smtp-subject-utf8-q.pcap",
		others: "Arkime: subject 'xxxxxx xxxxxx xx xxxxxxxxx xx-xxxxxxx（ANA）GGL_xxxxxxxxxxxxx_xxxxxx.zip' (UTF-8, quoted-printable encoded word), " +
			"src xxxxxxxxx@xxxxxxxxx.com, dst xxxxxx.xxxxxxxxx@xx.xxxxxxxxxxx.com, one part with md5 5b153a60…, sha256 8d4b2e39…",
		differs: "Arkime hashes every MIME part; sdnli saves as attachments only parts with a file name or an attachment disposition, " +
			"so this text part is in the eml (and the body excerpt) but not a file of its own",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			want(t, ev, map[string]string{"subject": "xxxxxx xxxxxx xx xxxxxxxxx xx-xxxxxxx（ANA）GGL_xxxxxxxxxxxxx_xxxxxx.zip", "summary.helo": "smtp-01.xxxxxxxxx.com"})
			if !hasAddress(ev, event.RoleFrom, "xxxxxxxxx@xxxxxxxxx.com") || !hasAddress(ev, event.RoleTo, "xxxxxx.xxxxxxxxx@xx.xxxxxxxxxxx.com") {
				t.Errorf("addresses %v; want Arkime's src and dst", ev.Addresses)
			}
			// The part Arkime hashed is the base64 text part, which sdnli
			// does not save on its own: decode it from the stored eml.
			part := firstPart(t, g.file(t, &ev.Artifacts[0]))
			if md5hex(part) != "5b153a606bea42005e1eedb5ddeabcf0" || sha256hex(part) != "8d4b2e39ccf34cff2147c7b6896f4bd5ce0a209d0cd87ca75035b4c8243bf865" {
				t.Errorf("text part of the eml: md5 %s sha256 %s; want Arkime's 5b153a60… and 8d4b2e39…", md5hex(part), sha256hex(part))
			}
		},
	},
	{
		file:   "arkime__smtp-zip.pcap",
		others: "Arkime: subject 'zip test', Mutt/1.5.20 user agent, a.zip md5 40be8f51…, sha256 61479904…, src xxxxx@xxx.net, dst xxxxxxxxx@xxxxxxx.com",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			want(t, ev, map[string]string{"subject": "zip test", "summary.user_agent": "Mutt/1.5.20 (2009-12-10)", "summary.message_id": "20131217145016.GA29077@xxx.net"})
			a := attachment(ev, "a.zip")
			if a == nil || a.MD5 != "40be8f5100e9beabab293c9d7bacaff0" || a.SHA256 != "61479904e443b354d4427a51b990c696f731e341e4c63328e07c1a92658ba591" {
				t.Errorf("a.zip %+v; want Arkime's md5 40be8f51… and sha256 61479904…", a)
			}
			if !hasAddress(ev, event.RoleTo, "xxxxxxxxx@xxxxxxx.com") || !hasAddress(ev, event.RoleFrom, "xxxxx@xxx.net") {
				t.Errorf("addresses %v; want Arkime's src and dst", ev.Addresses)
			}
		},
	},
	{
		file:   "arkime__wireshark-bdat.pcap",
		others: "Arkime: smtpHello testhost.test.ex, dst p@test.ex, src sender@dom, subject foo (BDAT in two chunks, null reverse path)",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			want(t, ev, map[string]string{
				"subject":             "foo",
				"summary.helo":        "testhost.test.ex",
				"summary.mail_from":   "",
				"summary.message_id":  "E1bwpfB-0000Be-Tu@testhost.test.ex",
				"summary.transfer":    "bdat",
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
		file:   "ndpi__smtp-starttls.pcap",
		others: "nDPI: two flows, SMTPS after STARTTLS (mx.google.com, and dovecot.weberlab.de over IPv6 in VLAN 125)",
		differs: "nDPI names the flows SMTPS after the TLS handshake; sdnli records the plaintext part (greeting, EHLO, STARTTLS accepted) " +
			"and stops where TLS begins",
		check: func(t *testing.T, g *goldenRun) {
			if n := len(byType(g.evs, TypeLogoff)); n != 2 || len(g.evs) != 2 {
				t.Fatalf("events %s; want two logoffs", types(g.evs))
			}
			lo := g.conn(t, 7562)[0]
			want(t, lo, map[string]string{"summary.starttls": "accepted"})
			if gr := field(t, lo, "summary.greeting"); !strings.Contains(gr, "dns.webernetz.net ESMTP Postfix") {
				t.Errorf("greeting %s; want the plain-text dns.webernetz.net ESMTP Postfix", gr)
			}
			want(t, g.conn(t, 57406)[0], map[string]string{"summary.starttls": "accepted"})
		},
	},
	{
		file:   "ndpi__smtp.pcap",
		others: "nDPI: one SMTP flow 194.7.248.153:2127 → 172.16.114.207:25, Hostname pigeon.eyrie.af.mil",
		check: func(t *testing.T, g *goldenRun) {
			evs := g.conn(t, 2127)
			want(t, oneSend(t, evs), map[string]string{"summary.helo": "delta.peach.mil", "summary.accepted": "true"})
			if gr := field(t, byType(evs, TypeLogoff)[0], "summary.greeting"); !strings.Contains(gr, "pigeon.eyrie.af.mil") {
				t.Errorf("greeting %s; want nDPI's host pigeon.eyrie.af.mil", gr)
			}
		},
	},
	{
		file:   "ndpi__smtps.pcapng",
		others: "nDPI: SMTPS on 465 (implicit TLS, no SNI)",
		differs: "nothing to parse: sdnli's SMTP detector turns implicit TLS down and records no event " +
			"(the TLS session is left to other detectors)",
		check: func(t *testing.T, g *goldenRun) {
			if len(g.evs) != 0 {
				t.Errorf("events %s; want none (TLS is not plaintext SMTP)", types(g.evs))
			}
		},
	},
	{
		file:   "pcapplusplus__Smtp.pcap",
		others: "(captures only) stray packets: an Exim greeting, AUTH LOGIN with its user line, a Google greeting over IPv6, two retransmissions years later",
		differs: "no published result; sdnli reports the stray AUTH as unanswered, and the retransmissions 14 years after the rest as a new connection " +
			"(the first one timed out)",
		check: func(t *testing.T, g *goldenRun) {
			if len(byType(g.evs, TypeSend)) != 0 {
				t.Errorf("events %s; want no email-send", types(g.evs))
			}
			lo := g.conn(t, 1470)[0]
			wantAnomaly(t, lo, "connection ended before the reply to AUTH")
			if gr := field(t, lo, "summary.greeting"); !strings.Contains(gr, "xc90.websitewelcome.com ESMTP Exim 4.69") {
				t.Errorf("greeting %s; want the Exim greeting", gr)
			}
			if gr := field(t, g.conn(t, 63943)[0], "summary.greeting"); gr != "220 mx.google.com ESMTP m17si1051593vck.2 - gsmtp" {
				t.Errorf("IPv6 greeting %s", gr)
			}
		},
	},
	{
		file:   "suricata-verify__bug-3616-smtp__input.pcap",
		others: "Suricata: one smtp event, helo GP, mail_from gurpartap@patriots.in, rcpt_to raj_deol2002in@yahoo.co.in, attachment NEWS.txt of 10807 bytes, status PARSE_DONE",
		check: func(t *testing.T, g *goldenRun) {
			checkZeekOutlook(t, g)
		},
	},
	{
		file:   "suricata-verify__mime-quoted-printable__input.pcap",
		others: "Suricata: fileinfo related.patch, 34224 bytes, sha256 35964187… (quoted-printable decoded)",
		check: func(t *testing.T, g *goldenRun) {
			a := attachment(oneSend(t, g.evs), "related.patch")
			if a == nil || a.Size != 34224 || a.SHA256 != "359641873610597882317aee0f72104ed54fe8aa82d6fa323a5418e4529bd3b9" {
				t.Errorf("related.patch %+v; want Suricata's 34224 bytes, sha256 35964187…", a)
			}
		},
	},
	{
		file:   "suricata-verify__smtp-attachment-md5__input.pcap",
		others: "Suricata: an alert from filemd5 with target md5 44d88612… (the EICAR test file)",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			found := false
			for _, a := range ev.Artifacts {
				found = found || a.Kind == event.KindAttachment && a.MD5 == "44d88612fea8a8f36de82e1278abb02f"
			}
			if !found {
				t.Errorf("artifacts %+v; want an attachment with Suricata's target md5 44d88612…", ev.Artifacts)
			}
		},
	},
	{
		file:   "suricata-verify__smtp-bdat-multichunk-inspection__input.pcap",
		others: "Suricata: two smtp transactions (a@example.com → b@example.com; evil@example.com → victim@example.com), no anomaly",
		check: func(t *testing.T, g *goldenRun) {
			s := byType(g.evs, TypeSend)
			if len(s) != 2 {
				t.Fatalf("events %s; want two email-send", types(g.evs))
			}
			want(t, s[0], map[string]string{"summary.mail_from": "a@example.com", "summary.rcpt_to.0.address": "b@example.com", "summary.rcpt_to.1": "<nil>", "summary.transfer": "bdat"})
			want(t, s[1], map[string]string{"summary.mail_from": "evil@example.com", "summary.rcpt_to.0.address": "victim@example.com", "summary.rcpt_to.1": "<nil>", "subject": "SECOND-MAIL-MARKER"})
			for _, e := range g.evs {
				if len(e.Anomalies) != 0 {
					t.Errorf("%s anomalies %q; want none", e.Type, e.Anomalies)
				}
			}
		},
	},
	{
		file:    "suricata-verify__smtp-file-data-01__input.pcap",
		others:  "Suricata: one smtp event, helo client-1016363.example.int, sender@example.com → recipient@example.com, attachment J.txt",
		differs: "sdnli also reports the message's line over 1000 octets and its unparsable Date header",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			want(t, ev, map[string]string{"summary.helo": "client-1016363.example.int", "summary.mail_from": "sender@example.com", "summary.rcpt_to.0.address": "recipient@example.com"})
			if a := attachment(ev, "J.txt"); a == nil || a.Size != 16384 {
				t.Errorf("J.txt %+v; want 16384 bytes", a)
			}
			wantAnomaly(t, ev, "message line longer than 1000 octets")
		},
	},
	{
		file:    "suricata-verify__smtp-pipelining__input.pcap",
		others:  "Suricata: one smtp event, mail_from username@domain.com, rcpt_to john.doe@example.com, status PARSE_DONE (MAIL, RCPT and DATA in one packet)",
		differs: "sdnli reports that the message has no header (the script sent a bare body)",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			want(t, ev, map[string]string{"summary.mail_from": "username@domain.com", "summary.rcpt_to.0.address": "john.doe@example.com", "summary.accepted": "true", "summary.pipelined": "true"})
			want(t, byType(g.evs, TypeLogoff)[0], map[string]string{"summary.pipelining": "true"})
		},
	},
	{
		file:    "suricata-verify__smtp-raw-extraction__input.pcap",
		others:  "Suricata: the raw message stored as filestore/01/018e4f86… (its SHA-256)",
		differs: "sdnli also records the AUTH logon of galunt",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			if got := ev.Artifacts[0]; got.Kind != event.KindEML || got.SHA256 != "018e4f86e830d85dc21cb54ee6554f01ac0b2a73a24f83c64b6acb489e8f4f3d" {
				t.Errorf("eml %+v; want Suricata's raw extraction 018e4f86…", got)
			}
			want(t, byType(g.evs, TypeLogon)[0], map[string]string{"summary.user": "galunt"})
		},
	},
	{
		file:    "suricata-verify__smtp-rfc2231__input.pcap",
		others:  "Suricata: fileinfo smtptest-2021-02-25T13-54-22Z-aefb2fc1…..zip (an RFC 2231 continued file name)",
		differs: "sdnli also reports the MAIL and RCPT commands without a space after the colon-less form (MAIL FROM:int@…) as malformed",
		check: func(t *testing.T, g *goldenRun) {
			name := "smtptest-2021-02-25T13-54-22Z-aefb2fc1308d62f4b6c74769f69b13ddf80e995fd98ae442f3be499ea928c67f..zip"
			ev := oneSend(t, g.evs)
			if attachment(ev, name) == nil {
				t.Errorf("artifacts %+v; want the RFC 2231 name %s", ev.Artifacts, name)
			}
		},
	},
	{
		file:   "suricata-verify__smtp-startssl__input.pcap",
		others: "Suricata: one smtp event, helo desktop.unx.ca, no email",
		check: func(t *testing.T, g *goldenRun) {
			if len(g.evs) != 1 {
				t.Fatalf("events %s; want only the logoff", types(g.evs))
			}
			want(t, g.evs[0], map[string]string{"summary.helo": "desktop.unx.ca", "summary.starttls": "accepted"})
		},
	},
	{
		file:   "suricata-verify__smtp-url-b64.pcap",
		others: "Suricata 8: one smtp event with email.url http://codashop-free01.duckdns.org/ (base64 body)",
		differs: "the client ends every line, and the data, with a bare LF; sdnli ends the data only at <CRLF>.<CRLF> unless the server's " +
			"replies show it ended it earlier, as here, and reports possible SMTP smuggling",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			if u := field(t, ev, "summary.urls"); !strings.Contains(u, "http://codashop-free01.duckdns.org/") {
				t.Errorf("urls %s; want Suricata's email.url http://codashop-free01.duckdns.org/", u)
			}
			want(t, ev, map[string]string{"summary.accepted": "true"})
			wantAnomaly(t, ev, "possible SMTP smuggling")
		},
	},
	{
		file:   "suricata-verify__smtperr.pcap",
		others: "Suricata 8: INVALID_REPLY anomalies for the connections from ports 49740, 49274, 49448 and 50649",
		differs: "sdnli says what is invalid in words (code 472, a line that is not a reply, a reply without a command), and also " +
			"records the message of 49448 and the TLS hello sent to the plaintext server on 50649",
		check: func(t *testing.T, g *goldenRun) {
			wantAnomaly(t, byType(g.conn(t, 49740), TypeLogoff)[0], "invalid reply code 472")

			lo := byType(g.conn(t, 50649), TypeLogoff)[0]
			wantAnomaly(t, lo, "TLS handshake from the client")
			wantAnomaly(t, lo, "reply without a command awaiting it: 400 4.5.2 Error: bad syntax")

			lo = byType(g.conn(t, 49274), TypeLogoff)[0]
			wantAnomaly(t, lo, "server line that is not a reply")
			wantAnomaly(t, lo, "client sent commands before the server's greeting")

			evs := g.conn(t, 49448)
			wantAnomaly(t, byType(evs, TypeLogoff)[0], "server line that is not a reply: \"4.7.0 [IPTS04]")
			want(t, oneSend(t, evs), map[string]string{"summary.mail_from": "Ina32@4447.com", "summary.rcpt_to.0.address": "jcastro2111@yahoo.com", "subject": "What you think about her new picture?"})
		},
	},
	{
		file:    "zeek__rfc3030-bdat-multipart.pcap",
		others:  "Zeek smtp.log: helo localhost, zeek@localhost → root@localhost, subject 'Zeek Logo', last_reply '250 2.0.0 Ok: 3462 bytes queued as 077781CA025'; files.log: zeek-logo.png sha1 e9a752f1…, text part sha1 5cd7c323…",
		differs: "the server counts 3462 bytes (it adds a Received line's worth); sdnli reports the 3460 the client sent",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			want(t, ev, map[string]string{
				"subject":                   "Zeek Logo",
				"summary.helo":              "localhost",
				"summary.mail_from":         "zeek@localhost",
				"summary.rcpt_to.0.address": "root@localhost",
				"summary.transfer":          "bdat",
				"summary.reply":             "2.0.0 Ok: 3462 bytes queued as 077781CA025",
				"summary.size":              "3460",
				"summary.from":              "[Arne Welzel <arne.welzel@corelight.com>]",
				"summary.date":              "Tue, 12 Dec 2023 17:37:16 +0100",
			})
			if got := sha1hex(g.file(t, attachment(ev, "zeek-logo.png"))); got != "e9a752f145e10688ab485277a723ecbcfb5c8a63" {
				t.Errorf("zeek-logo.png sha1 %s; want Zeek's e9a752f1…", got)
			}
		},
	},
	{
		file:    "zeek__smtp-attachment-msg.pcap",
		others:  "Zeek smtp.log: helo localhost.localdomain, sender@example.com → recipient@example.com, subject 'subject', two files",
		differs: "only the client's direction was captured: sdnli reports that no reply to the end of the message was seen",
		check: func(t *testing.T, g *goldenRun) {
			ev := oneSend(t, g.evs)
			want(t, ev, map[string]string{
				"subject":                   "subject",
				"summary.helo":              "localhost.localdomain",
				"summary.mail_from":         "sender@example.com",
				"summary.rcpt_to.0.address": "recipient@example.com",
			})
			wantAnomaly(t, ev, "no reply to the end of the message was seen")
		},
	},
	{
		file: "zeek__smtp.pcap",
		others: "Zeek smtp.log: the Outlook session of bug-3616, and albert@example.com → felica4uu@hotmail.com, ericlim220@yahoo.com, " +
			"davis_mark1@outlook.com, subject 'Re: Bro SMTP CC Header', Apple Mail (2.2102); files.log: NEWS.txt seen_bytes 10809",
		differs: "Zeek counts NEWS.txt as 10809 bytes (with the CRLF before the boundary); sdnli and Suricata as 10807 " +
			"(RFC 2046: that CRLF belongs to the boundary)",
		check: func(t *testing.T, g *goldenRun) {
			checkZeekOutlook(t, g)
			ev := oneSend(t, g.conn(t, 49648))
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
				"summary.date":        "Sat, 25 Jul 2015 16:43:07 +0300",
			})
			if got := rcpts(ev); got != "davis_mark1@outlook.com,ericlim220@yahoo.com,felica4uu@hotmail.com" {
				t.Errorf("rcpt addresses %s; want Zeek's rcptto", got)
			}
		},
	},
}

// checkZeekOutlook checks the Outlook session that Zeek (zeek__smtp) and
// Suricata (bug-3616) both published.
func checkZeekOutlook(t *testing.T, g *goldenRun) {
	t.Helper()
	evs := g.conn(t, 1470)
	ev := oneSend(t, evs)
	want(t, ev, map[string]string{
		"subject":                   "SMTP",
		"summary.helo":              "GP",
		"summary.mail_from":         "gurpartap@patriots.in",
		"summary.rcpt_to.0.address": "raj_deol2002in@yahoo.co.in",
		"summary.rcpt_to.1":         "<nil>",
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
	want(t, byType(evs, TypeLogon)[0], map[string]string{"summary.user": "gurpartap@patriots.in", "summary.mechanism": "LOGIN"})
}

// checkArtifacts requires every artifact an event names to be in the
// pipeline's data directory with the size and hashes the event gives,
// and every attachment to name its eml as parent.
func checkArtifacts(t *testing.T, g *goldenRun) {
	t.Helper()
	for _, ev := range g.evs {
		emlSHA := ""
		for i := range ev.Artifacts {
			a := &ev.Artifacts[i]
			b := g.file(t, a)
			if int64(len(b)) != a.Size || sha256hex(b) != a.SHA256 || md5hex(b) != a.MD5 {
				t.Errorf("%s artifact %s %q: stored file has %d bytes, sha256 %s, md5 %s; event says %d, %s, %s",
					ev.Type, a.Kind, a.Name, len(b), sha256hex(b), md5hex(b), a.Size, a.SHA256, a.MD5)
			}
			switch a.Kind {
			case event.KindEML:
				emlSHA = a.SHA256
				if s, ok := ev.Summary.Lookup("sha256"); !ok || s != a.SHA256 {
					t.Errorf("%s summary sha256 %v; want the eml's %s", ev.Type, s, a.SHA256)
				}
			case event.KindAttachment:
				if a.Parent == "" || a.Parent != emlSHA {
					t.Errorf("attachment %q parent %q; want the eml %s", a.Name, a.Parent, emlSHA)
				}
			}
		}
	}
}

// TestGolden runs the whole IRS pipeline over every public SMTP capture,
// compares the events with testdata/golden, checks the facts other tools
// published and that the restored files hash to what the events say.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "smtp")
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(Detector{})
			res := golden.Run(t, reg, parser.DefaultOptions(), filepath.Join(dir, tc.file))
			if res.Err != nil {
				t.Fatalf("engine: %v", res.Err)
			}
			name := strings.TrimSuffix(strings.TrimSuffix(tc.file, ".pcapng"), ".pcap")
			golden.Check(t, name, res.Events)
			g := &goldenRun{res: res, evs: res.Events}
			checkArtifacts(t, g)
			tc.check(t, g)
		})
	}
	golden.CheckCovered(t, dir, known)
}
