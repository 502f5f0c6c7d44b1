package pop3

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// conversation is one scripted POP3 exchange with what it must produce.
// Every conversation also runs through TestSplitInvariance.
type conversation struct {
	name  string
	conn  *parser.Conn    // nil: parsertest.Conn(110)
	opts  *parser.Options // nil: defaults
	segs  []parsertest.Segment
	check func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn)
}

func (c conversation) connection() *parser.Conn {
	if c.conn != nil {
		cc := *c.conn
		return &cc
	}
	return parsertest.Conn(110)
}

func midstream() *parser.Conn {
	c := parsertest.Conn(110)
	c.MidStream = true
	return c
}

const greeting = "+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>\r\n"

// message1 is a message as stored (CRLF, an attachment, a line that
// starts with a dot); message1Wire is how RETR sends it, dot-stuffed and
// ended by the "." line.
const message1 = "Return-Path: <alice@example.org>\r\n" +
	"From: =?ISO-8859-1?Q?Andr=E9?= <Andre@Example.ORG>\r\n" +
	"To: Bob <BOB@example.test>\r\n" +
	"Cc: carol@xn--mnchen-3ya.example\r\n" +
	"Subject: =?UTF-8?B?R3LDvMOfZQ==?= and the report\r\n" +
	"Date: Mon, 5 Oct 2009 11:36:07 +0530\r\n" +
	"Message-ID: <m1@example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n" +
	"\r\n" +
	"--XX\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"Hello Bob,\r\n" +
	".a line with a leading dot\r\n" +
	"--XX\r\n" +
	"Content-Type: application/octet-stream; name=\"r.bin\"\r\n" +
	"Content-Disposition: attachment; filename=\"r.bin\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAECAwQFBgcICQ==\r\n" +
	"--XX--\r\n"

var message1Wire = strings.Replace(message1, "\r\n.a line", "\r\n..a line", 1) + ".\r\n"

// r.bin decoded: bytes 0..9.
const rbinSHA = "1f825aa2f0020ef7cf91dfa30da4668d791c5d4824fc8e41354b89ec05795ab3"

const message2 = "From: dave@example.net\r\nTo: bob@example.test\r\nSubject: second\r\n\r\nshort\r\n"

var conversations = []conversation{
	{
		name: "user pass retr dele quit",
		segs: []parsertest.Segment{
			S(greeting),
			C("CAPA\r\n"),
			S("+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSTLS\r\nSASL PLAIN LOGIN\r\nPIPELINING\r\n.\r\n"),
			C("USER bob\r\n"), S("+OK\r\n"),
			C("PASS secret\r\n"), S("+OK Logged in.\r\n"),
			C("STAT\r\n"), S("+OK 2 1234\r\n"),
			C("LIST\r\n"), S("+OK 2 messages:\r\n1 900\r\n2 334\r\n.\r\n"),
			C("UIDL\r\n"), S("+OK\r\n1 000000015ec4b2a1\r\n2 000000025ec4b2a1\r\n.\r\n"),
			C("RETR 1\r\n"), S("+OK 900 octets\r\n" + message1Wire),
			C("DELE 1\r\n"), S("+OK Marked to be deleted.\r\n"),
			C("QUIT\r\n"), S("+OK Logging out, messages deleted.\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			if got := types(evs); got != "[logon email-download logoff]" {
				t.Fatalf("events %s; want logon, email-download, logoff", got)
			}
			want(t, evs[0], map[string]string{"subject": "bob", "summary.mechanism": "USER", "summary.user": "bob",
				"summary.password": "<nil>", "summary.status": "+OK", "summary.reply": "Logged in."})
			dl := evs[1]
			want(t, dl, map[string]string{
				"subject":                  "Grüße and the report",
				"summary.command":          "RETR",
				"summary.message":          "1",
				"summary.uid":              "000000015ec4b2a1",
				"summary.announced_octets": "900",
				"summary.size":             strconv.Itoa(len(message1)),
				"summary.user":             "bob",
				"summary.from":             "[André <Andre@Example.ORG>]",
				"summary.message_id":       "m1@example.org",
				"summary.attachments":      "1",
				"summary.partial":          "<nil>",
			})
			if got := eml(t, env, dl); got != message1 {
				t.Errorf("eml %q; want the message dot-unstuffed, CRLF kept", got)
			}
			if a := attachment(dl, "r.bin"); a == nil || a.SHA256 != rbinSHA || a.Parent != dl.Artifacts[0].SHA256 {
				t.Errorf("r.bin %+v; want sha256 %s under the eml", a, rbinSHA)
			}
			for _, w := range []event.Address{{Address: "andre@example.org", Role: event.RoleFrom}, {Address: "bob@example.test", Role: event.RoleTo},
				{Address: "carol@münchen.example", Role: event.RoleCc}, {Address: "bob", Role: event.RoleUser}} {
				if !hasAddress(dl, w.Role, w.Address) {
					t.Errorf("addresses %v; want %s/%s", dl.Addresses, w.Address, w.Role)
				}
			}
			if len(dl.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", dl.Anomalies)
			}
			lo := evs[2]
			want(t, lo, map[string]string{
				"subject":                    "bob",
				"summary.greeting":           "+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>",
				"summary.apop_offered":       "true",
				"summary.capabilities":       "[TOP USER UIDL STLS SASL PLAIN LOGIN PIPELINING]",
				"summary.user":               "bob",
				"summary.auth_result":        "success",
				"summary.stat":               "2 1234",
				"summary.listed":             "2",
				"summary.retrieved":          "1",
				"summary.deleted":            "[1]",
				"summary.quit":               "true",
				"summary.quit_reply":         "+OK Logging out, messages deleted.",
				"summary.command_count":      "9",
				"summary.commands.1.arg":     "bob",
				"summary.commands.2.arg":     "********",
				"summary.commands.6.command": "RETR",
				"summary.commands.6.status":  "+OK",
				"summary.pipelining":         "<nil>",
				"summary.end_reason":         "closed",
				"summary.duration_ms":        "18",
			})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
		},
	},
	{
		name: "password recorded when asked",
		opts: &parser.Options{RecordPasswords: true, MaxArtifactBytes: 1 << 20},
		segs: []parsertest.Segment{
			S(greeting), C("USER bob\r\n"), S("+OK\r\n"), C("PASS s3cret pass\r\n"), S("-ERR [AUTH] Authentication failed.\r\n"),
			C("USER bob\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			f := one(t, evs, TypeLogonFailure)
			want(t, f, map[string]string{"summary.password": "s3cret pass", "summary.status": "-ERR", "summary.reply": "[AUTH] Authentication failed."})
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.password": "secret"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.auth_result": "success", "summary.commands.1.arg": "********"})
		},
	},
	{
		name: "unknown user",
		segs: []parsertest.Segment{S(greeting), C("USER mallory\r\n"), S("-ERR no such user\r\n"), C("QUIT\r\n"), S("+OK bye\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogonFailure), map[string]string{"subject": "mallory", "summary.reply": "no such user"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.user": "mallory", "summary.auth_result": "failure"})
		},
	},
	{
		name: "apop",
		segs: []parsertest.Segment{S(greeting), C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), S("+OK maildrop has 1 message (369 octets)\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"subject": "mrose", "summary.mechanism": "APOP", "summary.password": "<nil>"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.commands.0.arg": "mrose ********"})
		},
	},
	{
		name: "auth plain with an initial response",
		opts: &parser.Options{RecordPasswords: true, MaxArtifactBytes: 1 << 20},
		segs: []parsertest.Segment{S(greeting), C("AUTH PLAIN " + b64("\x00Bob@Example.TEST\x00pw1") + "\r\n"), S("+OK Logged in.\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			l := one(t, evs, TypeLogon)
			want(t, l, map[string]string{"subject": "Bob@Example.TEST", "summary.mechanism": "PLAIN", "summary.password": "pw1"})
			if !hasAddress(l, event.RoleUser, "bob@example.test") {
				t.Errorf("addresses %v; want the user normalised", l.Addresses)
			}
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.commands.0.arg": "PLAIN ********"})
		},
	},
	{
		name: "auth plain on a continuation line",
		segs: []parsertest.Segment{S(greeting), C("AUTH PLAIN\r\n"), S("+ \r\n"), C(b64("\x00bob\x00secret") + "\r\n"), S("+OK Logged in.\r\n"),
			C("STAT\r\n"), S("+OK 0 0\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": "bob", "summary.password": "<nil>"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.stat": "0 0", "summary.command_count": "2"})
		},
	},
	{
		name: "auth login on continuation lines",
		opts: &parser.Options{RecordPasswords: true, MaxArtifactBytes: 1 << 20},
		segs: []parsertest.Segment{S(greeting), C("AUTH LOGIN\r\n"), S("+ VXNlcm5hbWU6\r\n"), C(b64("carol") + "\r\n"),
			S("+ UGFzc3dvcmQ6\r\n"), C(b64("hunter2") + "\r\n"), S("+OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": "carol", "summary.password": "hunter2", "summary.mechanism": "LOGIN"})
		},
	},
	{
		name: "auth canceled",
		segs: []parsertest.Segment{S(greeting), C("AUTH LOGIN\r\n"), S("+ VXNlcm5hbWU6\r\n"), C("*\r\n"), S("-ERR canceled\r\n"), C("QUIT\r\n"), S("+OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogonFailure), map[string]string{"summary.canceled": "true", "subject": "AUTH LOGIN"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.quit": "true", "summary.command_count": "2"})
		},
	},
	{
		name: "auth xoauth2 and the mechanism list",
		segs: []parsertest.Segment{C("CAPA\r\n"), S("+OK Capability list follows\r\nUSER\r\nSASL PLAIN XOAUTH2\r\n.\r\n"),
			C("AUTH\r\n"), S("+OK\r\nPLAIN\r\nXOAUTH2\r\n.\r\n"),
			C("AUTH XOAUTH2\r\n"), S("+ \r\n"), C(b64("user=joe@example.com\x01auth=Bearer tok\x01\x01") + "\r\n"), S("+OK Welcome.\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": "joe@example.com", "summary.mechanism": "XOAUTH2"})
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.sasl_mechanisms": "[PLAIN XOAUTH2]", "summary.greeting": "<nil>"})
			wantAnomaly(t, lo, "no server greeting seen")
		},
	},
	{
		// NTLM: the negotiate message, the server's challenge, then the
		// AUTHENTICATE message that names CORP\alice (UTF-16LE).
		name: "auth ntlm",
		segs: []parsertest.Segment{S(greeting), C("AUTH NTLM\r\n"), S("+ \r\n"), C("TlRMTVNTUAABAAAAB4IIAA==\r\n"), S("+ TlRMTVNTUAACAAAA\r\n"),
			C("TlRMTVNTUAADAAAAAAAAAAAAAAAAAAAAAAAAAAgACABAAAAACgAKAEgAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAEMATwBSAFAAYQBsAGkAYwBlAA==\r\n"), S("+OK Logged in.\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": `CORP\alice`, "summary.mechanism": "NTLM"})
		},
	},
	{
		name: "top header and lines",
		segs: []parsertest.Segment{S(greeting), C("USER bob\r\n"), S("+OK\r\n"), C("PASS x\r\n"), S("+OK\r\n"),
			C("TOP 1 0\r\n"), S("+OK\r\nFrom: a@example.org\r\nSubject: =?utf-8?Q?caf=C3=A9?=\r\n\r\n.\r\n"),
			C("TOP 2 1\r\n"), S("+OK\r\n" + strings.Replace(message2, "short\r\n", "short\r\n", 1) + ".\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			parts := byType(evs, TypePartialDownload)
			if len(parts) != 2 {
				t.Fatalf("events %s; want two email-partial-download", types(evs))
			}
			want(t, parts[0], map[string]string{"subject": "café", "summary.command": "TOP", "summary.message": "1", "summary.lines": "0",
				"summary.part": "HEADER", "artifacts.0.kind": "file", "artifacts.0.name": "part-HEADER.txt", "summary.attachments": "<nil>"})
			if got := stored(t, env, parts[0], 0); got != "From: a@example.org\r\nSubject: =?utf-8?Q?caf=C3=A9?=\r\n\r\n" {
				t.Errorf("part %q", got)
			}
			want(t, parts[1], map[string]string{"subject": "second", "summary.part": "HEADER+1 lines", "artifacts.0.name": "part-TOP-1.txt"})
			if !hasAddress(parts[1], event.RoleFrom, "dave@example.net") || !hasAddress(parts[1], event.RoleUser, "bob") {
				t.Errorf("addresses %v", parts[1].Addresses)
			}
			for _, e := range parts {
				if len(e.Artifacts) != 1 || e.Artifacts[0].Kind == event.KindEML {
					t.Errorf("artifacts %+v; want one file, no eml", e.Artifacts)
				}
			}
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.top": "2", "summary.retrieved": "0"})
		},
	},
	{
		name: "pipelining",
		segs: []parsertest.Segment{S(greeting),
			C("USER bob\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n"),
			S("+OK\r\n+OK Logged in.\r\n+OK 2 999\r\n+OK\r\n1 900\r\n2 99\r\n.\r\n+OK 900 octets\r\n" + message1Wire +
				"+OK 99 octets\r\n" + message2 + ".\r\n+OK bye\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dls := byType(evs, TypeDownload)
			if len(dls) != 2 {
				t.Fatalf("events %s; want two email-download", types(evs))
			}
			if eml(t, env, dls[0]) != message1 || eml(t, env, dls[1]) != message2 {
				t.Errorf("emls differ from the messages")
			}
			want(t, dls[1], map[string]string{"subject": "second", "summary.message": "2", "summary.reply": "99 octets"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.pipelining": "true", "summary.stat": "2 999", "summary.quit_reply": "+OK bye",
				"summary.retrieved": "2"})
		},
	},
	{
		name: "stls accepted then tls",
		segs: []parsertest.Segment{S(greeting), C("CAPA\r\n"), S("+OK\r\nSTLS\r\n.\r\n"), C("STLS\r\n"), S("+OK Begin TLS negotiation now.\r\n"),
			C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not parsed"), S("\x16\x03\x03\x00\x5a\x02 also not parsed")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.stls": "accepted", "summary.end_reason": "parser-done", "subject": "+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us> (STLS)"})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
			if p.IsContinue() {
				t.Errorf("IsContinue after TLS = true; want false")
			}
		},
	},
	{
		name: "stls command injection",
		segs: []parsertest.Segment{S(greeting), C("STLS\r\nUSER evil\r\nPASS evil\r\n"), S("+OK Begin TLS\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			wantAnomaly(t, lo, "STLS command injection: the client sent 22 bytes after STLS before the server's response: \"USER evil")
			want(t, lo, map[string]string{"summary.stls": "accepted", "summary.command_count": "1"})
		},
	},
	{
		name: "stls response injection",
		segs: []parsertest.Segment{S(greeting), C("STLS\r\n"), S("+OK Begin TLS\r\n+OK injected\r\n"), C("\x16\x03\x01\x00\x10hello")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			wantAnomaly(t, lo, "STLS response injection: the server sent 14 bytes after accepting STLS, before the client's TLS handshake: \"+OK injected\\r\\n\"")
			want(t, lo, map[string]string{"summary.end_reason": "parser-done"})
		},
	},
	{
		name: "stls refused",
		segs: []parsertest.Segment{S(greeting), C("STLS\r\nUSER bob\r\n"), S("-ERR TLS not available\r\n+OK\r\n"), C("PASS x\r\n"), S("+OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": "bob"})
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.stls": "refused: TLS not available"})
			wantAnomaly(t, lo, "commands pipelined after STLS (10 bytes)")
		},
	},
	{
		name: "stls then plaintext",
		segs: []parsertest.Segment{S(greeting), C("STLS\r\n"), S("+OK Begin TLS\r\n"), C("CAPA\r\n"), S("+OK\r\nUSER\r\n.\r\n"),
			C("USER bob\r\n"), S("+OK\r\n"), C("PASS x\r\n"), S("+OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			one(t, evs, TypeLogon)
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.stls": "accepted", "summary.plaintext_after_stls": "true", "summary.capabilities": "[USER]"})
			wantAnomaly(t, lo, "plaintext after STLS was accepted")
		},
	},
	{
		name: "tls without stls",
		segs: []parsertest.Segment{S(greeting), C("\x16\x03\x01\x00\x10hello")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			wantAnomaly(t, one(t, evs, TypeLogoff), "TLS handshake from the client where a POP3 command was expected")
		},
	},
	{
		name: "long lines, bare LF and NUL",
		segs: []parsertest.Segment{S(greeting),
			C("NOOP " + strings.Repeat("x", 1200) + "\r\n"), S("-ERR too long\r\n"),
			C(strings.Repeat("y", 70<<10)), C("\r\n"), S("-ERR what\r\n"),
			C("NOOP\n"), S("+OK\n"),
			C("NO\x00OP\r\n"), S("-ERR unknown command\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			for _, a := range []string{"client line longer than 1000 octets", "client line longer than 65536 bytes without a line end",
				"client commands end with a bare LF", "server lines end with a bare LF", "NUL byte in a client command"} {
				wantAnomaly(t, lo, a)
			}
			want(t, lo, map[string]string{"summary.command_count": "3", "summary.unknown_commands": "[(malformed)]"})
			wantAnomaly(t, lo, "response without a command awaiting it: -ERR \"what\"")
		},
	},
	{
		name: "broken mime and loose dot lines",
		segs: []parsertest.Segment{S(greeting), C("RETR 3\r\n"),
			S("+OK\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=\"nope\r\n\r\nx\n.\r\nstill the message\r\n--b\r\n.\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "broken", "summary.partial": "<nil>"})
			wantAnomaly(t, dl, "1 \".\" line(s) not delimited by CRLF inside the message")
			if got := eml(t, env, dl); !strings.HasSuffix(got, "x\n.\r\nstill the message\r\n--b\r\n") {
				t.Errorf("eml %q; want the loose dot line kept inside", got)
			}
		},
	},
	{
		name: "utf8, rfc 2047 and rfc 2231",
		segs: []parsertest.Segment{S(greeting), C("CAPA\r\n"), S("+OK\r\nUTF8\r\n.\r\n"), C("UTF8\r\n"), S("+OK I can handle UTF8\r\n"),
			C("USER jöran@münchen.example\r\n"), S("+OK\r\n"), C("PASS x\r\n"), S("+OK\r\n"),
			C("RETR 1\r\n"), S("+OK\r\nFrom: Jöran <Jöran@MÜNCHEN.example>\r\nTo: =?utf-8?B?5byg5LiJ?= <zhang@example.cn>\r\nSubject: Grüße =?gb2312?B?suLK1A==?=\r\n" +
				"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: application/pdf\r\n" +
				"Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf\r\n\r\n%PDF\r\n--z--\r\n.\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "Grüße 测试"})
			if attachment(dl, "报告.pdf") == nil {
				t.Errorf("artifacts %+v; want the RFC 2231 name 报告.pdf", dl.Artifacts)
			}
			for _, w := range []event.Address{{Address: "jöran@münchen.example", Role: event.RoleFrom}, {Address: "zhang@example.cn", Role: event.RoleTo},
				{Address: "jöran@münchen.example", Role: event.RoleUser}} {
				if !hasAddress(dl, w.Role, w.Address) {
					t.Errorf("addresses %v; want %s/%s", dl.Addresses, w.Address, w.Role)
				}
			}
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.utf8": "true"})
		},
	},
	{
		name: "mid-session inside a message",
		conn: midstream(),
		segs: []parsertest.Segment{
			S("ne of a message\r\nSubject: not a header\r\n.\r\n"),
			S("+OK 2 octets\r\n"), // answers a command not seen
			C("to the message\r\n"),
			C("RETR 2\r\n"), S("+OK\r\n" + message2 + ".\r\n"),
			C("QUIT\r\n"), S("+OK\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "second"})
			if eml(t, env, dl) != message2 {
				t.Errorf("eml differs from the message")
			}
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.midstream": "true", "summary.responses_to_unseen_commands": "1", "summary.quit": "true"})
			wantAnomaly(t, lo, "16 bytes of client data skipped while resynchronising")
			wantAnomaly(t, lo, "bytes of server data skipped while resynchronising")
		},
	},
	{
		name: "server gap inside a message",
		segs: []parsertest.Segment{S(greeting), C("RETR 1\r\n"), S("+OK\r\nSubject: gap\r\n\r\nfirst li"), Gap(parser.ServerToClient, 100),
			S("ne after the gap\r\n.\r\n"), C("QUIT\r\n"), S("+OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "gap", "summary.partial": "true"})
			wantAnomaly(t, dl, "lost in a gap")
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.gaps": "1", "summary.quit_reply": "+OK "})
			wantAnomaly(t, lo, "gap of 100 bytes in the server stream")
		},
	},
	{
		name: "client gap",
		segs: []parsertest.Segment{S(greeting), C("USER b"), Gap(parser.ClientToServer, 7), C("ob\r\nPASS x\r\n"), S("+OK\r\n+OK\r\n"),
			C("STAT\r\n"), S("+OK 0 0\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			wantAnomaly(t, lo, "gap of 7 bytes in the client stream")
			want(t, lo, map[string]string{"summary.commands.0.command": "PASS", "summary.stat": "0 0"})
		},
	},
	{
		name: "connection ends inside a message",
		segs: []parsertest.Segment{S(greeting), C("RETR 1\r\nQUIT\r\n"), S("+OK\r\nSubject: cut\r\n\r\nno end")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "cut", "summary.partial": "true"})
			wantAnomaly(t, dl, "the end of the message")
			if eml(t, env, dl) != "Subject: cut\r\n\r\nno end" {
				t.Errorf("eml %q", eml(t, env, dl))
			}
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.commands.1.status": "none"})
		},
	},
	{
		name: "message larger than the artifact limit",
		opts: &parser.Options{MaxArtifactBytes: 64},
		segs: []parsertest.Segment{S(greeting), C("RETR 1\r\n"), S("+OK\r\nSubject: big\r\n\r\n" + strings.Repeat("0123456789\r\n", 20) + ".\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"summary.truncated": "true", "summary.partial": "true", "summary.size": "256", "artifacts.0.size": "64"})
		},
	},
	{
		name: "unknown multi-line answer",
		segs: []parsertest.Segment{S(greeting), C("XTND XLIST From\r\n"), S("+OK\r\n1 From: a\r\n.\r\n"), C("NOOP\r\n"), S("+OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.commands.1.status": "+OK", "summary.command_count": "2"})
			wantAnomaly(t, lo, "server line that is not a response: \"1 From: a\"")
		},
	},
}

func TestConversations(t *testing.T) {
	for _, c := range conversations {
		t.Run(c.name, func(t *testing.T) {
			env, evs, p := runOpts(c.connection(), c.segs, parsertest.Whole, 0, c.opts)
			c.check(t, env, evs, p)
		})
	}
}

// TestSplitInvariance is the differential test: every scripted
// conversation gives the same events, byte for byte once normalised, and
// the same stored files, whether the streams arrive whole, one byte per
// call or in random pieces.
func TestSplitInvariance(t *testing.T) {
	for _, c := range conversations {
		t.Run(c.name, func(t *testing.T) {
			env, evs, _ := runOpts(c.connection(), c.segs, parsertest.Whole, 0, c.opts)
			wantEvs, wantFiles := parsertest.Normalize(evs), strings.Join(fileKeys(env), ",")
			if c.opts == nil {
				// The project's own driver gives the same.
				_, evs := parsertest.Run(Detector{}, c.connection(), c.segs, parsertest.Whole, 0)
				if parsertest.Normalize(evs) != wantEvs {
					t.Fatalf("test driver differs from parsertest.Run")
				}
			}
			for _, sp := range []struct {
				name  string
				split parsertest.Split
				seed  int64
			}{{"bytes", parsertest.Bytes, 0}, {"random1", parsertest.Random, 1}, {"random2", parsertest.Random, 2}, {"random3", parsertest.Random, 3}} {
				env, evs, _ := runOpts(c.connection(), c.segs, sp.split, sp.seed, c.opts)
				if got := parsertest.Normalize(evs); got != wantEvs {
					t.Errorf("%s: events differ from whole\n got %s\nwant %s", sp.name, got, wantEvs)
				}
				if got := strings.Join(fileKeys(env), ","); got != wantFiles {
					t.Errorf("%s: files %s; want %s", sp.name, got, wantFiles)
				}
			}
		})
	}
}
