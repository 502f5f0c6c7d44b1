package imap

import (
	"bytes"
	"compress/flate"
	"strconv"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// conversation is one scripted IMAP exchange with what it must produce.
// Every conversation also runs through TestSplitInvariance.
type conversation struct {
	name  string
	conn  *parser.Conn    // nil: parsertest.Conn(143)
	opts  *parser.Options // nil: defaults
	segs  []parsertest.Segment
	check func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn)
}

func (c conversation) connection() *parser.Conn {
	if c.conn != nil {
		cc := *c.conn
		return &cc
	}
	return parsertest.Conn(143)
}

func midstream() *parser.Conn {
	c := parsertest.Conn(143)
	c.MidStream = true
	return c
}

// lit renders s as a synchronising literal: {n}CRLF and the octets.
func lit(s string) string { return "{" + strconv.Itoa(len(s)) + "}\r\n" + s }

// litPlus renders s as a non-synchronising literal (LITERAL+).
func litPlus(s string) string { return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s }

const greeting = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN COMPRESS=DEFLATE] Dovecot ready.\r\n"

// message1 is a message as stored: CRLF, an attachment, a line that
// starts with a dot (IMAP does not stuff dots).
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

// r.bin decoded: bytes 0..9.
const rbinSHA = "1f825aa2f0020ef7cf91dfa30da4668d791c5d4824fc8e41354b89ec05795ab3"

const message2 = "From: dave@example.net\r\nTo: bob@example.test\r\nSubject: second\r\n\r\nshort\r\n"

const header1 = "From: dave@example.net\r\nSubject: =?utf-8?Q?caf=C3=A9?=\r\n\r\n"

// deflated compresses each chunk with one raw DEFLATE stream, flushed
// after each (as RFC 4978 asks), and returns the compressed pieces.
func deflated(chunks ...string) []string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	out := make([]string, len(chunks))
	for i, c := range chunks {
		buf.Reset()
		w.Write([]byte(c))
		w.Flush()
		out[i] = buf.String()
	}
	return out
}

var (
	zc = deflated("a5 UID FETCH 7 (BODY.PEEK[])\r\n", "a6 LOGOUT\r\n")
	zs = deflated("* 1 FETCH (UID 7 BODY[] "+lit(message1)+")\r\na5 OK Fetch completed.\r\n", "* BYE Logging out\r\na6 OK Logout completed.\r\n")
)

var conversations = []conversation{
	{
		name: "login select fetch logout",
		segs: []parsertest.Segment{
			S(greeting),
			C("a1 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 IDLE LITERAL+ AUTH=PLAIN\r\na1 OK Pre-login capabilities listed.\r\n"),
			C("a2 LOGIN bob secret\r\n"), S("a2 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n"),
			C("a3 SELECT INBOX\r\n"), S("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\na3 OK [READ-WRITE] Select completed.\r\n"),
			C("a4 UID FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])\r\n"),
			S("* 1 FETCH (UID 1 FLAGS (\\Seen) INTERNALDATE \"21-Nov-2026 10:00:00 +0000\" RFC822.SIZE " + strconv.Itoa(len(message1)) + " BODY[] " + lit(message1) + ")\r\n"),
			S("a4 OK Fetch completed.\r\n"),
			C("a5 LOGOUT\r\n"), S("* BYE Logging out\r\na5 OK Logout completed.\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			if got := types(evs); got != "[logon email-download logoff]" {
				t.Fatalf("events %s; want logon, email-download, logoff", got)
			}
			want(t, evs[0], map[string]string{"subject": "bob", "summary.mechanism": "LOGIN", "summary.user": "bob", "summary.password": "<nil>",
				"summary.status": "OK", "summary.tag": "a2", "summary.reply": "Logged in", "summary.code": "CAPABILITY IMAP4rev1 IDLE MOVE"})
			dl := evs[1]
			want(t, dl, map[string]string{
				"subject":              "Grüße and the report",
				"summary.command":      "UID FETCH",
				"summary.tag":          "a4",
				"summary.item":         "BODY[]",
				"summary.section":      "<nil>",
				"summary.peek":         "true",
				"summary.mailbox":      "INBOX",
				"summary.message":      "1",
				"summary.uid":          "1",
				"summary.flags":        "(\\Seen)",
				"summary.internaldate": "21-Nov-2026 10:00:00 +0000",
				"summary.rfc822_size":  strconv.Itoa(len(message1)),
				"summary.size":         strconv.Itoa(len(message1)),
				"summary.user":         "bob",
				"summary.from":         "[André <Andre@Example.ORG>]",
				"summary.attachments":  "1",
				"summary.partial":      "<nil>",
				"artifacts.0.kind":     "eml",
			})
			if got := eml(t, env, dl); got != message1 {
				t.Errorf("eml %q; want the message byte for byte", got)
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
				"summary.greeting":           strings.TrimSuffix(greeting, "\r\n"),
				"summary.capabilities":       "[IMAP4rev1 IDLE MOVE]",
				"summary.user":               "bob",
				"summary.auth_result":        "success",
				"summary.mailboxes":          "[INBOX]",
				"summary.downloads":          "1",
				"summary.command_count":      "5",
				"summary.status_counts":      "map[OK:5]",
				"summary.commands.1.args":    "bob ********",
				"summary.commands.3.command": "UID FETCH",
				"summary.commands.3.status":  "OK",
				"summary.commands.3.reply":   "Fetch completed.",
				"summary.commands.2.reply":   "[READ-WRITE] Select completed.",
				"summary.logout":             "true",
				"summary.bye":                "Logging out",
				"summary.end_reason":         "closed",
				"summary.duration_ms":        "11",
			})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
		},
	},
	{
		name: "login with literals",
		opts: &parser.Options{RecordPasswords: true, MaxArtifactBytes: 1 << 20},
		segs: []parsertest.Segment{S(greeting),
			C("a1 LOGIN {5}\r\n"), S("+ Ready for literal data\r\n"), C("alice {6}\r\n"), S("+ Ready for literal data\r\n"), C("se cr\"\r\n"),
			S("a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
			C("a2 LOGIN " + litPlus("Alice@Example.ORG") + " " + litPlus("p w") + "\r\n"), S("a2 OK Logged in\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogonFailure), map[string]string{"summary.user": "alice", "summary.password": "se cr\"", "summary.status": "NO",
				"summary.code": "AUTHENTICATIONFAILED"})
			l := one(t, evs, TypeLogon)
			want(t, l, map[string]string{"summary.user": "Alice@Example.ORG", "summary.password": "p w"})
			if !hasAddress(l, event.RoleUser, "alice@example.org") {
				t.Errorf("addresses %v; want the user normalised", l.Addresses)
			}
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.commands.0.args": "alice ********", "summary.auth_attempts": "<nil>", "summary.status_counts": "map[NO:1 OK:1]"})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
		},
	},
	{
		name: "synchronising literal refused",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN bob x\r\n"), S("a1 OK\r\n"),
			C("a2 APPEND INBOX {99999999}\r\n"), S("a2 NO [TOOBIG] Message too large.\r\n"),
			C("a3 NOOP\r\n"), S("a3 OK NOOP completed.\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			if n := len(byType(evs, TypeUpload)); n != 0 {
				t.Errorf("%d email-upload; want none (the literal was refused)", n)
			}
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.commands.1.command": "APPEND", "summary.commands.1.args": "INBOX {literal} (literal refused)",
				"summary.commands.1.status": "NO", "summary.commands.2.status": "OK"})
			for _, a := range lo.Anomalies {
				if !strings.Contains(a, "APPEND without") {
					t.Errorf("anomaly %q; want none but the missing message", a)
				}
			}
		},
	},
	{
		name: "several messages in one response",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN bob x\r\n"), S("a1 OK\r\n"), C("a2 SELECT Archive\r\n"), S("a2 OK [READ-ONLY] done\r\n"),
			C("a3 FETCH 1:3 (BODY[] UID)\r\n"),
			S("* 1 FETCH (BODY[] " + lit(message2) + " UID 11)\r\n* 2 FETCH (BODY[] " + lit(message1) + " UID 12)\r\n* 3 FETCH (UID 13 BODY[] " +
				lit(strings.Replace(message2, "second", "third", 1)) + ")\r\na3 OK done\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dls := byType(evs, TypeDownload)
			if len(dls) != 3 {
				t.Fatalf("events %s; want three email-download", types(evs))
			}
			for i, w := range []struct{ subject, uid, msg string }{{"second", "11", "1"}, {"Grüße and the report", "12", "2"}, {"third", "13", "3"}} {
				want(t, dls[i], map[string]string{"subject": w.subject, "summary.uid": w.uid, "summary.message": w.msg, "summary.mailbox": "Archive", "summary.peek": "<nil>"})
			}
			if eml(t, env, dls[1]) != message1 {
				t.Errorf("second eml differs from the message")
			}
		},
	},
	{
		name: "partial fetches",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN bob x\r\n"), S("a1 OK\r\n"),
			C("a2 FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[]<0.10> BODY.PEEK[2] BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] RFC822.HEADER RFC822.TEXT BINARY.PEEK[2])\r\n"),
			S("* 1 FETCH (BODY[HEADER] " + lit(header1) + " BODY[TEXT] " + lit("short\r\n") + " BODY[]<0> " + lit("From: dave") +
				" BODY[2] " + lit("AAECAwQFBgcICQ==\r\n") + " BODY[HEADER.FIELDS (FROM SUBJECT)] " + lit(header1) + " RFC822.HEADER " + lit(header1) +
				" RFC822.TEXT " + lit("short\r\n") + " BINARY[2] ~{10}\r\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09)\r\na2 OK done\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			parts := byType(evs, TypePartialDownload)
			if len(parts) != 8 || len(byType(evs, TypeDownload)) != 0 {
				t.Fatalf("events %s; want eight email-partial-download and no email-download", types(evs))
			}
			for i, w := range []struct{ item, section, origin, name, ctype, subject, binary string }{
				{"BODY[HEADER]", "HEADER", "<nil>", "part-HEADER.txt", "text/rfc822-headers", "café", "<nil>"},
				{"BODY[TEXT]", "TEXT", "<nil>", "part-TEXT.txt", "text/plain", "<nil>", "<nil>"},
				{"BODY[]<0>", "", "0", "part-BODY-0.bin", "application/octet-stream", "<nil>", "<nil>"},
				{"BODY[2]", "2", "<nil>", "part-2.bin", "application/octet-stream", "<nil>", "<nil>"},
				{"BODY[HEADER.FIELDS (FROM SUBJECT)]", "HEADER.FIELDS (FROM SUBJECT)", "<nil>", "part-HEADER.FIELDS.txt", "text/rfc822-headers", "café", "<nil>"},
				{"RFC822.HEADER", "HEADER", "<nil>", "part-HEADER.txt", "text/rfc822-headers", "café", "<nil>"},
				{"RFC822.TEXT", "TEXT", "<nil>", "part-TEXT.txt", "text/plain", "<nil>", "<nil>"},
				{"BINARY[2]", "2", "<nil>", "part-BINARY-2.bin", "application/octet-stream", "<nil>", "true"},
			} {
				want(t, parts[i], map[string]string{"summary.item": w.item, "summary.section": w.section, "summary.origin": w.origin, "artifacts.0.kind": "file",
					"artifacts.0.name": w.name, "artifacts.0.content_type": w.ctype, "subject": w.subject, "summary.binary": w.binary})
			}
			if got := stored(t, env, parts[7], 0); got != "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09" {
				t.Errorf("binary part %q", got)
			}
			if !hasAddress(parts[0], event.RoleFrom, "dave@example.net") || !hasAddress(parts[2], event.RoleUser, "bob") {
				t.Errorf("addresses %v / %v", parts[0].Addresses, parts[2].Addresses)
			}
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.partial_downloads": "8", "summary.downloads": "0"})
		},
	},
	{
		name: "rfc822 fetch, envelope literals and a bodystructure",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN bob x\r\n"), S("a1 OK\r\n"),
			C("a2 FETCH 2 (ENVELOPE BODYSTRUCTURE RFC822)\r\n"),
			S("* 2 FETCH (ENVELOPE (\"Mon, 5 Oct 2009\" " + lit("a {subject} with (parens)") + " ((\"Dave\" NIL \"dave\" \"example.net\")) NIL NIL NIL NIL NIL NIL NIL)" +
				" BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 NIL NIL NIL NIL) RFC822 " + lit(message2) + ")\r\n"),
			S("a2 OK done\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "second", "summary.item": "RFC822", "summary.message": "2"})
			if eml(t, env, dl) != message2 {
				t.Errorf("eml %q", eml(t, env, dl))
			}
			if n := len(env.Files); n != 1 {
				t.Errorf("%d files stored; want only the eml (the envelope literal is not a message)", n)
			}
		},
	},
	{
		name: "append upload",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN carol x\r\n"), S("a1 OK\r\n"),
			C("a2 APPEND Sent (\\Seen) \"21-Nov-2026 10:00:00 +0000\" {" + strconv.Itoa(len(message1)) + "}\r\n"), S("+ OK\r\n"),
			C(message1 + "\r\n"), S("a2 OK [APPENDUID 38505 3955] Append completed.\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			up := one(t, evs, TypeUpload)
			want(t, up, map[string]string{"subject": "Grüße and the report", "summary.mailbox": "Sent", "summary.flags": "(\\Seen)",
				"summary.internaldate": "21-Nov-2026 10:00:00 +0000", "summary.status": "OK", "summary.accepted": "true",
				"summary.code": "APPENDUID 38505 3955", "summary.size": strconv.Itoa(len(message1)), "summary.user": "carol", "artifacts.0.kind": "eml"})
			if eml(t, env, up) != message1 {
				t.Errorf("eml differs from the message")
			}
			if a := attachment(up, "r.bin"); a == nil || a.SHA256 != rbinSHA {
				t.Errorf("r.bin %+v", a)
			}
			if !hasAddress(up, event.RoleUser, "carol") || !hasAddress(up, event.RoleTo, "bob@example.test") {
				t.Errorf("addresses %v", up.Addresses)
			}
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.uploads": "1", "summary.mailboxes": "[Sent]",
				"summary.commands.1.args": "Sent (\\Seen) \"21-Nov-2026 10:00:00 +0000\" {literal}"})
		},
	},
	{
		name: "multiappend with literal+ and a refusal",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN carol x\r\n"), S("a1 OK\r\n"),
			C("a2 APPEND Drafts " + litPlus(message2) + " (\\Draft) " + litPlus(strings.Replace(message2, "second", "third", 1)) + "\r\n"),
			S("a2 NO [OVERQUOTA] Quota exceeded\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			ups := byType(evs, TypeUpload)
			if len(ups) != 2 {
				t.Fatalf("events %s; want two email-upload", types(evs))
			}
			want(t, ups[0], map[string]string{"subject": "second", "summary.accepted": "false", "summary.status": "NO", "summary.code": "OVERQUOTA"})
			want(t, ups[1], map[string]string{"subject": "third", "summary.mailbox": "Drafts"})
		},
	},
	{
		name: "authenticate plain with an initial response",
		opts: &parser.Options{RecordPasswords: true, MaxArtifactBytes: 1 << 20},
		segs: []parsertest.Segment{S(greeting), C("a1 AUTHENTICATE PLAIN " + b64("\x00Bob@Example.TEST\x00pw1") + "\r\n"), S("a1 OK Logged in\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			l := one(t, evs, TypeLogon)
			want(t, l, map[string]string{"subject": "Bob@Example.TEST", "summary.mechanism": "PLAIN", "summary.password": "pw1"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.commands.0.args": "PLAIN ********", "summary.auth_mechanism": "PLAIN"})
		},
	},
	{
		name: "authenticate login on continuation lines",
		opts: &parser.Options{RecordPasswords: true, MaxArtifactBytes: 1 << 20},
		segs: []parsertest.Segment{S(greeting), C("a1 AUTHENTICATE LOGIN\r\n"), S("+ VXNlcm5hbWU6\r\n"), C(b64("carol") + "\r\n"),
			S("+ UGFzc3dvcmQ6\r\n"), C(b64("hunter2") + "\r\n"), S("a1 OK\r\n"), C("a2 NOOP\r\n"), S("a2 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": "carol", "summary.password": "hunter2", "summary.mechanism": "LOGIN"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.command_count": "2"})
		},
	},
	{
		// NTLM: the negotiate message, the server's challenge, then the
		// AUTHENTICATE message that names CORP\alice (UTF-16LE).
		name: "authenticate ntlm",
		segs: []parsertest.Segment{S(greeting), C("a1 AUTHENTICATE NTLM\r\n"), S("+ \r\n"), C("TlRMTVNTUAABAAAAB4IIAA==\r\n"), S("+ TlRMTVNTUAACAAAA\r\n"),
			C("TlRMTVNTUAADAAAAAAAAAAAAAAAAAAAAAAAAAAgACABAAAAACgAKAEgAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAEMATwBSAFAAYQBsAGkAYwBlAA==\r\n"), S("a1 OK Logged in\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": `CORP\alice`, "summary.mechanism": "NTLM"})
		},
	},
	{
		name: "authenticate canceled",
		segs: []parsertest.Segment{S(greeting), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C("*\r\n"), S("a1 BAD Authentication canceled\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogonFailure), map[string]string{"summary.canceled": "true", "summary.status": "BAD", "subject": "AUTHENTICATE PLAIN"})
		},
	},
	{
		name: "starttls accepted then tls",
		segs: []parsertest.Segment{S(greeting), C("a1 STARTTLS\r\n"), S("a1 OK Begin TLS negotiation now.\r\n"),
			C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not parsed"), S("\x16\x03\x03\x00\x5a\x02 also not parsed")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.starttls": "accepted", "summary.end_reason": "parser-done"})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
			if p.IsContinue() {
				t.Errorf("IsContinue after TLS = true; want false")
			}
		},
	},
	{
		name: "starttls command injection",
		segs: []parsertest.Segment{S(greeting), C("a1 STARTTLS\r\na2 LOGIN evil evil\r\n"), S("a1 OK Begin TLS\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			wantAnomaly(t, lo, "STARTTLS command injection: the client sent 20 bytes after STARTTLS before the server's response: \"a2 LOGIN evil")
			want(t, lo, map[string]string{"summary.command_count": "1", "summary.end_reason": "parser-done"})
		},
	},
	{
		name: "starttls response injection",
		segs: []parsertest.Segment{S(greeting), C("a1 STARTTLS\r\n"), S("a1 OK Begin TLS\r\n* OK injected\r\n"), C("\x16\x03\x01\x00\x10hello")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			wantAnomaly(t, one(t, evs, TypeLogoff), "STARTTLS response injection: the server sent 15 bytes after accepting STARTTLS, before the client's TLS handshake: \"* OK injected\\r\\n\"")
		},
	},
	{
		name: "starttls refused, then plaintext after an accepted one",
		segs: []parsertest.Segment{S(greeting), C("a1 STARTTLS\r\n"), S("a1 NO TLS unavailable\r\n"), C("a2 STARTTLS\r\n"), S("a2 OK go\r\n"),
			C("a3 LOGIN bob x\r\n"), S("a3 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			one(t, evs, TypeLogon)
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.starttls": "accepted", "summary.plaintext_after_starttls": "true"})
			wantAnomaly(t, lo, "plaintext after STARTTLS was accepted")
		},
	},
	{
		name: "tls without starttls",
		segs: []parsertest.Segment{S(greeting), C("\x16\x03\x01\x00\x10hello")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			wantAnomaly(t, one(t, evs, TypeLogoff), "TLS handshake from the client where an IMAP command was expected")
		},
	},
	{
		name: "idle, uid commands and examine",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN bob x\r\n"), S("a1 OK\r\n"), C("a2 SELECT INBOX\r\n"), S("a2 OK\r\n"),
			C("a3 IDLE\r\n"), S("+ idling\r\n"), S("* 3 EXISTS\r\n"), C("DONE\r\n"), S("a3 OK Idle completed.\r\n"),
			C("a4 FETCH 3 BODY[]\r\n"), S("* 3 FETCH (BODY[] " + lit(message2) + ")\r\na4 OK\r\n"),
			C("a5 UID STORE 3 +FLAGS.SILENT (\\Deleted)\r\na6 UID MOVE 4 Trash\r\na7 EXAMINE Archive\r\n"),
			S("a5 OK Store completed.\r\n* OK [COPYUID 1 4 9] Moved\r\na6 OK Move completed.\r\na7 OK [READ-ONLY] Examine completed.\r\n"),
			C("a8 UID FETCH 9 (BODY.PEEK[])\r\n"), S("* 1 FETCH (UID 9 BODY[] " + lit(message2) + ")\r\na8 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dls := byType(evs, TypeDownload)
			if len(dls) != 2 {
				t.Fatalf("events %s; want two email-download", types(evs))
			}
			want(t, dls[0], map[string]string{"summary.mailbox": "INBOX", "summary.message": "3", "summary.command": "FETCH"})
			want(t, dls[1], map[string]string{"summary.mailbox": "Archive", "summary.uid": "9", "summary.command": "UID FETCH"})
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.idle": "1", "summary.commands.2.command": "IDLE", "summary.commands.2.status": "OK",
				"summary.commands.4.command": "UID STORE", "summary.commands.4.args": "3 +FLAGS.SILENT (\\Deleted)",
				"summary.commands.5.command": "UID MOVE", "summary.commands.6.command": "EXAMINE", "summary.commands.6.reply": "[READ-ONLY] Examine completed.",
				"summary.mailboxes": "[INBOX Archive]", "summary.status_counts": "map[OK:8]"})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
		},
	},
	{
		name: "compress deflate",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN bob x\r\n"), S("a1 OK\r\n"), C("a2 SELECT INBOX\r\n"), S("a2 OK\r\n"),
			C("a3 COMPRESS DEFLATE\r\n"), S("a3 OK DEFLATE active\r\n"),
			C(zc[0]), S(zs[0]), C(zc[1]), S(zs[1])},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"summary.uid": "7", "summary.command": "UID FETCH", "summary.tag": "a5", "summary.peek": "true"})
			if eml(t, env, dl) != message1 {
				t.Errorf("eml differs from the message")
			}
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.compress": "deflate", "summary.logout": "true", "summary.command_count": "5", "summary.bye": "Logging out"})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
		},
	},
	{
		name: "compress with the first compressed command ahead of the response",
		segs: []parsertest.Segment{S(greeting), C("a3 COMPRESS DEFLATE\r\n" + zc[0]), S("a3 OK DEFLATE active\r\n" + zs[0])},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			one(t, evs, TypeDownload)
		},
	},
	{
		name: "corrupt compressed stream",
		segs: []parsertest.Segment{S(greeting), C("a3 COMPRESS DEFLATE\r\n"), S("a3 OK DEFLATE active\r\n"), C("\xff\xff\xff\xff garbage"), S(deflated("* BYE Logging out\r\n")[0])},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			wantAnomaly(t, lo, "COMPRESS=DEFLATE stream from the client cannot be decompressed any further")
			want(t, lo, map[string]string{"summary.bye": "Logging out"})
		},
	},
	{
		name: "pipelined commands answered out of order",
		segs: []parsertest.Segment{S(greeting),
			C("a1 LOGIN bob x\r\na2 SELECT INBOX\r\na3 FETCH 1 (UID BODY.PEEK[HEADER])\r\na4 NOOP\r\n"),
			S("a1 OK\r\na2 OK\r\na4 OK noop first\r\n* 1 FETCH (UID 9 BODY[HEADER] " + lit(header1) + ")\r\na3 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			part := one(t, evs, TypePartialDownload)
			want(t, part, map[string]string{"summary.tag": "a3", "summary.uid": "9", "summary.mailbox": "INBOX", "subject": "café"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.commands.3.reply": "noop first", "summary.status_counts": "map[OK:4]"})
		},
	},
	{
		name: "imap4rev2, utf8 and literal8",
		segs: []parsertest.Segment{S("* OK [CAPABILITY IMAP4rev2 IMAP4rev1 ENABLE BINARY UTF8=ACCEPT LITERAL-] ready\r\n"),
			C("a1 ENABLE IMAP4rev2 UTF8=ACCEPT\r\n"), S("* ENABLED IMAP4rev2 UTF8=ACCEPT\r\na1 OK\r\n"),
			C("a2 LOGIN jöran@münchen.example x\r\n"), S("a2 OK\r\n"),
			C("a3 SELECT \"Entwürfe\"\r\n"), S("a3 OK\r\n"),
			C("a4 SELECT \"&AMQ-rger\"\r\n"), S("a4 OK\r\n"),
			C("a5 FETCH 1 (BINARY.PEEK[] BODY.PEEK[])\r\n"),
			S("* 1 FETCH (BINARY[] ~{5}\r\nhello BODY[] " + lit("From: Jöran <Jöran@MÜNCHEN.example>\r\nTo: =?utf-8?B?5byg5LiJ?= <zhang@example.cn>\r\nSubject: Grüße =?gb2312?B?suLK1A==?=\r\n"+
				"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: application/pdf\r\n"+
				"Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf\r\n\r\n%PDF\r\n--z--\r\n") + ")\r\na5 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "Grüße 测试", "summary.mailbox": "Ärger"})
			if attachment(dl, "报告.pdf") == nil {
				t.Errorf("artifacts %+v; want the RFC 2231 name 报告.pdf", dl.Artifacts)
			}
			for _, w := range []event.Address{{Address: "jöran@münchen.example", Role: event.RoleFrom}, {Address: "zhang@example.cn", Role: event.RoleTo},
				{Address: "jöran@münchen.example", Role: event.RoleUser}} {
				if !hasAddress(dl, w.Role, w.Address) {
					t.Errorf("addresses %v; want %s/%s", dl.Addresses, w.Address, w.Role)
				}
			}
			want(t, one(t, evs, TypePartialDownload), map[string]string{"summary.item": "BINARY[]", "summary.binary": "true", "artifacts.0.name": "part-BINARY-.bin"})
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.enabled": "[IMAP4REV2 UTF8=ACCEPT]", "summary.enable": "[IMAP4REV2 UTF8=ACCEPT]",
				"summary.mailboxes": "[Entwürfe Ärger]"})
		},
	},
	{
		name: "long lines, bare LF and NUL",
		segs: []parsertest.Segment{S(greeting),
			C("a1 NOOP " + strings.Repeat("x", 9000) + "\r\n"), S("a1 BAD too long\r\n"),
			C("a2 NOOP " + strings.Repeat("y", 70<<10)), C(" {3}\r\nabc\r\n"), S("a2 BAD what\r\n"),
			C("a3 NOOP\n"), S("a3 OK\n"),
			C("a4 NO\x00OP\r\n"), S("a4 BAD unknown command\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			for _, a := range []string{"client line longer than 8192 octets", "client line longer than 65536 bytes: only its start was read",
				"client lines end with a bare LF", "server lines end with a bare LF", "NUL byte in a client line"} {
				wantAnomaly(t, lo, a)
			}
			want(t, lo, map[string]string{"summary.command_count": "4", "summary.status_counts": "map[BAD:3 OK:1]", "summary.unknown_commands": "[(malformed)]"})
			if len(lo.Anomalies) != 5 {
				t.Errorf("anomalies %q; want just those five (the literal after the long line kept the framing)", lo.Anomalies)
			}
		},
	},
	{
		name: "broken mime",
		segs: []parsertest.Segment{S(greeting), C("a1 FETCH 3 BODY[]\r\n"),
			S("* 3 FETCH (BODY[] " + lit("Subject: broken\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=\"nope\r\n\r\nx\r\n--b\r\n") + ")\r\na1 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "broken", "summary.partial": "<nil>"})
			if len(dl.Anomalies) == 0 {
				t.Errorf("no anomalies; want the broken MIME reported")
			}
		},
	},
	{
		name: "mid-session inside a literal",
		conn: midstream(),
		segs: []parsertest.Segment{
			S("ne of a message\r\nSubject: not a header {12}\r\n)\r\na7 OK Fetch completed.\r\n"),
			C("DEFGH\r\nmore of an append {5}\r\n"),
			C("a8 UID FETCH 2 (BODY.PEEK[])\r\n"), S("* 2 FETCH (UID 2 BODY[] " + lit(message2) + ")\r\na8 OK\r\n"),
			C("a9 LOGOUT\r\n"), S("* BYE\r\na9 OK\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "second", "summary.uid": "2"})
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.midstream": "true", "summary.responses_to_unseen_commands": "1", "summary.logout": "true"})
			wantAnomaly(t, lo, "30 bytes of client data skipped while resynchronising")
			wantAnomaly(t, lo, "48 bytes of server data skipped while resynchronising")
		},
	},
	{
		name: "server gap inside a literal",
		segs: []parsertest.Segment{S(greeting), C("a1 FETCH 1 BODY[]\r\n"), S("* 1 FETCH (BODY[] {100}\r\nSubject: gap\r\n\r\nfirst "),
			Gap(parser.ServerToClient, 50), S(strings.Repeat("z", 100-50-len("Subject: gap\r\n\r\nfirst ")) + ")\r\na1 OK\r\n"),
			C("a2 NOOP\r\n"), S("a2 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "gap", "summary.partial": "true", "summary.size": "50"})
			wantAnomaly(t, dl, "lost in a gap")
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.gaps": "1", "summary.status_counts": "map[OK:2]"})
			wantAnomaly(t, lo, "gap of 50 bytes in the server stream, inside a literal")
		},
	},
	{
		name: "client gap",
		segs: []parsertest.Segment{S(greeting), C("a1 LOGIN b"), Gap(parser.ClientToServer, 7), C("ob x\r\na2 SELECT INBOX\r\n"), S("a1 OK\r\na2 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			wantAnomaly(t, lo, "gap of 7 bytes in the client stream: resynchronising")
			want(t, lo, map[string]string{"summary.commands.0.command": "LOGIN", "summary.commands.0.status": "OK", "summary.mailboxes": "[INBOX]"})
		},
	},
	{
		name: "connection ends inside a literal",
		segs: []parsertest.Segment{S(greeting), C("a1 FETCH 1 BODY[]\r\n"), S("* 1 FETCH (BODY[] {500}\r\nSubject: cut\r\n\r\nno end")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "cut", "summary.partial": "true"})
			wantAnomaly(t, dl, "the end of the literal was not seen")
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.commands.0.status": "none"})
		},
	},
	{
		name: "message larger than the artifact limit",
		opts: &parser.Options{MaxArtifactBytes: 64},
		segs: []parsertest.Segment{S(greeting), C("a1 FETCH 1 BODY[]\r\n"), S("* 1 FETCH (BODY[] " + lit("Subject: big\r\n\r\n"+strings.Repeat("0123456789\r\n", 20)) + ")\r\na1 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeDownload), map[string]string{"summary.truncated": "true", "summary.partial": "true", "summary.size": "256", "artifacts.0.size": "64"})
		},
	},
	{
		name: "untagged bye, stray tagged response, unknown command",
		segs: []parsertest.Segment{S(greeting), C("a1 XYZZY foo\r\n"), S("a1 BAD Unknown command\r\nzz9 OK what\r\n* BYE Server shutting down\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := one(t, evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.unknown_commands": "[XYZZY]", "summary.bye": "Server shutting down"})
			wantAnomaly(t, lo, "tagged response without a command awaiting it: zz9")
		},
	},
	{
		name: "preauth",
		segs: []parsertest.Segment{S("* PREAUTH [CAPABILITY IMAP4rev1] ready as bob\r\n"), C("a1 SELECT INBOX\r\n"), S("a1 OK\r\n")},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, one(t, evs, TypeLogoff), map[string]string{"summary.preauth": "true", "summary.auth_result": "preauth", "summary.capabilities": "[IMAP4rev1]"})
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
// call or in random pieces (literals, COMPRESS streams and commands cut
// anywhere).
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
