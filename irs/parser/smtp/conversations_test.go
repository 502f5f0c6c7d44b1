package smtp

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// conversation is one scripted SMTP exchange with what it must produce.
// Every conversation also runs through the split-invariance test.
type conversation struct {
	name  string
	conn  *parser.Conn    // nil: parsertest.Conn(25)
	opts  *parser.Options // nil: defaults
	segs  []parsertest.Segment
	check func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn)
}

func (c conversation) connection() *parser.Conn {
	if c.conn != nil {
		cc := *c.conn
		return &cc
	}
	return parsertest.Conn(25)
}

const ehloReply = "250-mail.example.net Hello\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n"

// basicMessage is sent dot-stuffed; basicEML is what must be restored.
const basicMessage = "From: =?ISO-8859-1?Q?Andr=E9?= <Andre@Example.COM>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Cc: carol@example.org\r\n" +
	"Subject: =?UTF-8?B?R3LDvMOfZQ==?= and more\r\n" +
	"Date: Mon, 5 Oct 2009 11:36:07 +0530\r\n" +
	"Message-ID: <m1@example.com>\r\n" +
	"\r\n" +
	"Hello Bob,\r\n" +
	"..leading dot line\r\n" +
	"...\r\n" +
	"bye\r\n" +
	".\r\n"

const basicEML = "From: =?ISO-8859-1?Q?Andr=E9?= <Andre@Example.COM>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Cc: carol@example.org\r\n" +
	"Subject: =?UTF-8?B?R3LDvMOfZQ==?= and more\r\n" +
	"Date: Mon, 5 Oct 2009 11:36:07 +0530\r\n" +
	"Message-ID: <m1@example.com>\r\n" +
	"\r\n" +
	"Hello Bob,\r\n" +
	".leading dot line\r\n" +
	"..\r\n" +
	"bye\r\n"

const attachmentMessage = "From: a@example.com\r\n" +
	"To: b@example.com\r\n" +
	"Subject: report\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n" +
	"\r\n" +
	"--XX\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"see attached\r\n" +
	"--XX\r\n" +
	"Content-Type: application/octet-stream; name=\"r.bin\"\r\n" +
	"Content-Disposition: attachment; filename=\"r.bin\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAECAwQFBgcICQ==\r\n" +
	"--XX--\r\n"

const (
	bdatChunk1 = "Subject: foo\r\nFrom: sender@dom\r\n.(dot kept)\r\n\r\n"
	bdatChunk2 = "body\r\n..end\r\n"
)

var conversations = []conversation{
	{
		name: "basic",
		segs: []parsertest.Segment{
			S("220 mail.example.net ESMTP Postfix\r\n"),
			C("EHLO client.example.com\r\n"),
			S(ehloReply),
			C("MAIL FROM:<Andre@Example.COM> SIZE=1234 BODY=8BITMIME\r\n"),
			S("250 2.1.0 Ok\r\n"),
			C("RCPT TO:<bob@example.org>\r\n"),
			S("250 2.1.5 Ok\r\n"),
			C("RCPT TO:<nobody@example.org> NOTIFY=NEVER\r\n"),
			S("550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n"),
			C("DATA\r\n"),
			S("354 End data with <CR><LF>.<CR><LF>\r\n"),
			C(basicMessage),
			S("250 2.0.0 Ok: queued as 4711\r\n"),
			C("QUIT\r\n"),
			S("221 2.0.0 Bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 || len(evs) != 2 || evs[1].Type != TypeLogoff {
				t.Fatalf("events %s; want email-send, logoff", types(evs))
			}
			ev := sends[0]
			want(t, ev, map[string]string{
				"subject":                         "Grüße and more",
				"summary.mail_from":               "Andre@Example.COM",
				"summary.mail_params.SIZE":        "1234",
				"summary.mail_params.BODY":        "8BITMIME",
				"summary.mail_reply":              "250 2.1.0 Ok",
				"summary.rcpt_to.0.address":       "bob@example.org",
				"summary.rcpt_to.0.code":          "250",
				"summary.rcpt_to.0.accepted":      "true",
				"summary.rcpt_to.1.address":       "nobody@example.org",
				"summary.rcpt_to.1.code":          "550",
				"summary.rcpt_to.1.accepted":      "false",
				"summary.rcpt_to.1.reply":         "5.1.1 <nobody@example.org>: Recipient address rejected",
				"summary.rcpt_to.1.params.NOTIFY": "NEVER",
				"summary.reply_code":              "250",
				"summary.reply":                   "2.0.0 Ok: queued as 4711",
				"summary.accepted":                "true",
				"summary.helo":                    "client.example.com",
				"summary.message_id":              "m1@example.com",
				"summary.date":                    "Mon, 5 Oct 2009 11:36:07 +0530",
				"summary.from":                    "[André <Andre@Example.COM>]",
				"summary.to":                      "[Bob <bob@example.org>]",
				"summary.cc":                      "[carol@example.org]",
				"summary.size":                    strconv.Itoa(len(basicEML)),
				"summary.transfer":                "data",
				"summary.attachments":             "0",
				"summary.body_excerpt":            "Hello Bob, .leading dot line .. bye",
				"summary.partial":                 "<nil>",
				"start":                           "2023-11-14T22:13:20.003Z",
				"end":                             "2023-11-14T22:13:20.012Z",
				"client":                          "192.0.2.10:40000",
				"server":                          "192.0.2.20:25",
				"protocol":                        "smtp",
			})
			if got := eml(t, env, ev); got != basicEML {
				t.Errorf("eml:\n%q\nwant\n%q", got, basicEML)
			}
			if ev.Artifacts[0].SHA256 != sha([]byte(basicEML)) {
				t.Errorf("eml sha %s; want %s", ev.Artifacts[0].SHA256, sha([]byte(basicEML)))
			}
			for _, a := range []event.Address{
				{Address: "andre@example.com", Role: event.RoleMail},
				{Address: "bob@example.org", Role: event.RoleRcpt},
				{Address: "nobody@example.org", Role: event.RoleRcpt},
				{Address: "andre@example.com", Role: event.RoleFrom},
				{Address: "bob@example.org", Role: event.RoleTo},
				{Address: "carol@example.org", Role: event.RoleCc},
			} {
				if !hasAddress(ev, a.Role, a.Address) {
					t.Errorf("addresses %v; want %v", ev.Addresses, a)
				}
			}
			if len(ev.Addresses) != 6 {
				t.Errorf("%d addresses %v; want 6", len(ev.Addresses), ev.Addresses)
			}
			if len(ev.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", ev.Anomalies)
			}
			want(t, evs[1], map[string]string{
				"subject":              "client.example.com",
				"summary.greeting":     "220 mail.example.net ESMTP Postfix",
				"summary.helo":         "client.example.com",
				"summary.helo_command": "EHLO",
				"summary.extensions":   "[PIPELINING SIZE 10485760 8BITMIME CHUNKING AUTH PLAIN LOGIN CRAM-MD5 STARTTLS SMTPUTF8]",
				"summary.messages":     "1",
				"summary.commands":     "6",
				"summary.quit":         "true",
				"summary.quit_reply":   "221 2.0.0 Bye",
				"summary.pipelining":   "<nil>",
				"summary.end_reason":   "closed",
			})
			if len(evs[1].Anomalies) != 0 {
				t.Errorf("session anomalies %q; want none", evs[1].Anomalies)
			}
		},
	},
	{
		// Reproduces suricata-verify smtp-pipelining: MAIL, RCPT, DATA and
		// the whole message in one segment before any reply.
		name: "pipelining",
		segs: []parsertest.Segment{
			S("220 Air-de-catena.localdomain ESMTP Postfix\r\n"),
			C("EHLO ehlo.fr\r\n"),
			S("250-Air-de-catena.localdomain\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n"),
			C("MAIL FROM:<username@domain.com>\r\nRCPT TO:<john.doe@example.com>\r\nDATA\r\nThis is a test\r\n.\r\n"),
			S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as BCB022014FB060\r\n"),
			C("QUIT\r\n"),
			S("221 2.0.0 Bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{
				"summary.mail_from":          "username@domain.com",
				"summary.rcpt_to.0.address":  "john.doe@example.com",
				"summary.rcpt_to.0.accepted": "true",
				"summary.reply":              "2.0.0 Ok: queued as BCB022014FB060",
				"summary.pipelined":          "true",
				"summary.size":               "16",
			})
			if got := eml(t, env, sends[0]); got != "This is a test\r\n" {
				t.Errorf("eml %q; want %q", got, "This is a test\r\n")
			}
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.pipelining": "true"})
		},
	},
	{
		name: "several messages with RSET",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("HELO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<one@example.com>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<x@example.com>\r\n"), S("250 ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: first\r\n\r\n1\r\n.\r\n"), S("250 queued 1\r\n"),
			C("MAIL FROM:<two@example.com>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<y@example.com>\r\n"), S("250 ok\r\n"),
			C("RSET\r\n"), S("250 reset\r\n"),
			C("MAIL FROM:<>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<z@example.com>\r\n"), S("250 ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: third\r\n\r\n3\r\n.\r\n"), S("452 4.3.1 Insufficient system storage\r\n"),
			C("QUIT\r\n"), S("221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 2 {
				t.Fatalf("events %s; want two email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "first", "summary.mail_from": "one@example.com", "summary.accepted": "true"})
			want(t, sends[1], map[string]string{"subject": "third", "summary.mail_from": "", "summary.accepted": "false", "summary.reply_code": "452"})
			if hasAddress(sends[1], event.RoleMail, "") || len(byRole(sends[1], event.RoleMail)) != 0 {
				t.Errorf("null reverse path indexed as an address: %v", sends[1].Addresses)
			}
			lo := byType(evs, TypeLogoff)[0]
			want(t, lo, map[string]string{
				"summary.messages":                         "2",
				"summary.aborted_count":                    "1",
				"summary.aborted_transactions.0.mail_from": "two@example.com",
				"summary.aborted_transactions.0.rcpt_to":   "[y@example.com]",
				"summary.aborted_transactions.0.reason":    "RSET",
				"summary.helo_command":                     "HELO",
			})
			if !hasAddress(lo, event.RoleMail, "two@example.com") || !hasAddress(lo, event.RoleRcpt, "y@example.com") {
				t.Errorf("logoff addresses %v; want the aborted envelope", lo.Addresses)
			}
		},
	},
	{
		name: "attachment",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<a@example.com>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<b@example.com>\r\n"), S("250 ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C(attachmentMessage + ".\r\n"), S("250 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			ev := byType(evs, TypeSend)[0]
			data := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
			if len(ev.Artifacts) != 2 {
				t.Fatalf("artifacts %+v; want eml and r.bin", ev.Artifacts)
			}
			a := ev.Artifacts[1]
			if a.Kind != event.KindAttachment || a.Name != "r.bin" || a.SHA256 != sha(data) || a.Size != 10 || a.Parent != ev.Artifacts[0].SHA256 {
				t.Errorf("attachment %+v; want r.bin, 10 bytes, sha %s, parent the eml", a, sha(data))
			}
			want(t, ev, map[string]string{"summary.attachments": "1", "summary.body_excerpt": "see attached"})
		},
	},
	{
		name: "auth plain",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S(ehloReply),
			C("AUTH PLAIN " + b64("\x00Alice@Example.com\x00s3cret") + "\r\n"),
			S("235 2.7.0 Authentication successful\r\n"),
			C("MAIL FROM:<alice@example.com>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<b@example.com>\r\n"), S("250 ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: s\r\n\r\nx\r\n.\r\n"), S("250 ok\r\n"),
			C("QUIT\r\n"), S("221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			logons := byType(evs, TypeLogon)
			if len(logons) != 1 {
				t.Fatalf("events %s; want one logon", types(evs))
			}
			want(t, logons[0], map[string]string{
				"subject":            "Alice@Example.com",
				"summary.mechanism":  "PLAIN",
				"summary.user":       "Alice@Example.com",
				"summary.password":   "<nil>",
				"summary.reply_code": "235",
			})
			if !hasAddress(logons[0], event.RoleUser, "alice@example.com") {
				t.Errorf("logon addresses %v; want user alice@example.com", logons[0].Addresses)
			}
			send := byType(evs, TypeSend)[0]
			want(t, send, map[string]string{"summary.auth_user": "Alice@Example.com"})
			if !hasAddress(send, event.RoleUser, "alice@example.com") {
				t.Errorf("email-send addresses %v; want the auth user", send.Addresses)
			}
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.auth_result": "success", "summary.auth_user": "Alice@Example.com"})
		},
	},
	{
		name: "auth plain with password recording",
		opts: &parser.Options{RecordPasswords: true, MaxArtifactBytes: 1 << 20},
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("AUTH PLAIN\r\n"), S("334 \r\n"),
			C(b64("authz\x00bob\x00pw!") + "\r\n"),
			S("235 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, byType(evs, TypeLogon)[0], map[string]string{"summary.user": "bob", "summary.password": "pw!"})
		},
	},
	{
		name: "auth login failure",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"),
			C(b64("carol") + "\r\n"), S("334 UGFzc3dvcmQ6\r\n"),
			C(b64("wrong") + "\r\n"), S("535 5.7.8 Error: authentication failed\r\n"),
			C("AUTH LOGIN " + b64("carol") + "\r\n"), S("334 UGFzc3dvcmQ6\r\n"),
			C("*\r\n"), S("501 5.7.0 Authentication aborted\r\n"),
			C("QUIT\r\n"), S("221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			f := byType(evs, TypeLogonFailure)
			if len(f) != 2 || len(byType(evs, TypeLogon)) != 0 {
				t.Fatalf("events %s; want two logon-failure", types(evs))
			}
			want(t, f[0], map[string]string{"summary.user": "carol", "summary.mechanism": "LOGIN", "summary.reply_code": "535", "summary.password": "<nil>"})
			want(t, f[1], map[string]string{"summary.user": "carol", "summary.canceled": "true", "summary.reply_code": "501"})
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.auth_result": "failure", "summary.auth_attempts": "2", "summary.commands": "4"})
		},
	},
	{
		name: "auth cram-md5",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("AUTH CRAM-MD5\r\n"), S("334 " + b64("<1896.697170952@postoffice.example.net>") + "\r\n"),
			C(b64("tim b913a602c7eda7a495b4e6e7334d3890") + "\r\n"), S("235 2.7.0 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, byType(evs, TypeLogon)[0], map[string]string{"summary.user": "tim", "summary.mechanism": "CRAM-MD5"})
		},
	},
	{
		// Reproduces the Arkime wireshark-bdat capture: BDAT content is
		// not dot-stuffed, so its leading dots stay.
		name: "bdat",
		conn: connOn(1224),
		segs: []parsertest.Segment{
			S("220 Greetings\r\n"),
			C("EHLO testhost.test.ex\r\n"),
			S("250-Hello there\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
			C("MAIL FROM:<>\r\nRCPT TO:<p@test.ex>\r\nBDAT " + strconv.Itoa(len(bdatChunk1)) + "\r\n"),
			C(bdatChunk1),
			S("250 OK mail\r\n250 OK rcpt\r\n250 OK nonlast bdat\r\n"),
			C("BDAT " + strconv.Itoa(len(bdatChunk2)) + " LAST\r\n"),
			C(bdatChunk2),
			S("250 OK bdat\r\n"),
			C("QUIT\r\n"),
			S("225 OK\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			wantEML := "Subject: foo\r\nFrom: sender@dom\r\n.(dot kept)\r\n\r\nbody\r\n..end\r\n"
			if got := eml(t, env, sends[0]); got != wantEML {
				t.Errorf("eml %q; want %q", got, wantEML)
			}
			want(t, sends[0], map[string]string{
				"subject":                   "foo",
				"summary.transfer":          "bdat",
				"summary.bdat_chunks":       "2",
				"summary.reply":             "OK bdat",
				"summary.rcpt_to.0.address": "p@test.ex",
				"summary.mail_from":         "",
				"summary.size":              strconv.Itoa(len(bdatChunk1 + bdatChunk2)),
			})
		},
	},
	{
		// suricata-verify smtp-bdat-multichunk-inspection: a two-chunk
		// BDAT message, then a DATA message on the same connection.
		name: "bdat then data",
		segs: []parsertest.Segment{
			S("220 mail.example.com ESMTP\r\n"),
			C("EHLO client.example.com\r\n"),
			S("250-mail.example.com\r\n250-CHUNKING\r\n250 OK\r\n"),
			C("MAIL FROM:<a@example.com>\r\n"), S("250 OK\r\n"),
			C("RCPT TO:<b@example.com>\r\n"), S("250 OK\r\n"),
			C("BDAT 79\r\nSubject: first mail chunk one\r\nFrom: a@example.com\r\n\r\nbody-part-one-padding-1\r\n"),
			S("250 79 octets received\r\n"),
			C("BDAT 44 LAST\r\nbody-part-two GOODCHUNK padding-x\r\ntail-42\r\n"),
			S("250 message accepted\r\n"),
			C("MAIL FROM:<evil@example.com>\r\n"), S("250 OK\r\n"),
			C("RCPT TO:<victim@example.com>\r\n"), S("250 OK\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: SECOND-MAIL-MARKER\r\n\r\nSECONDBODY\r\n.\r\n"), S("250 queued\r\n"),
			C("QUIT\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 2 {
				t.Fatalf("events %s; want two email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "first mail chunk one", "summary.size": "123", "summary.bdat_chunks": "2", "summary.mail_from": "a@example.com", "summary.reply": "message accepted"})
			want(t, sends[1], map[string]string{"subject": "SECOND-MAIL-MARKER", "summary.mail_from": "evil@example.com", "summary.rcpt_to.0.address": "victim@example.com", "summary.transfer": "data"})
			for _, e := range evs {
				if len(e.Anomalies) != 0 {
					t.Errorf("%s anomalies %q; want none", e.Type, e.Anomalies)
				}
			}
		},
	},
	{
		name: "bdat 0 last",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250-mx\r\n250 CHUNKING\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nBDAT 17\r\nSubject: zero\r\n\r\nBDAT 0 LAST\r\n"),
			S("250 ok\r\n250 ok\r\n250 17 octets\r\n250 done\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "zero", "summary.bdat_chunks": "2", "summary.reply": "done", "summary.accepted": "true"})
			if got := eml(t, env, sends[0]); got != "Subject: zero\r\n\r\n" {
				t.Errorf("eml %q", got)
			}
		},
	},
	{
		// suricata-verify smtp-startssl: STARTTLS without a message still
		// gives a session event, and parsing stops at the 220.
		name: "starttls accepted",
		segs: []parsertest.Segment{
			S("220 firewall.unx.ca ESMTP Postfix\r\n"),
			C("EHLO desktop.unx.ca\r\n"),
			S("250-firewall.unx.ca\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n"),
			C("STARTTLS\r\n"),
			S("220 2.0.0 Ready to start TLS\r\n"),
			C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not parsed"),
			S("\x16\x03\x03\x00\x5a\x02 also not parsed"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			if len(evs) != 1 || evs[0].Type != TypeLogoff {
				t.Fatalf("events %s; want only logoff", types(evs))
			}
			want(t, evs[0], map[string]string{"summary.starttls": "accepted", "summary.helo": "desktop.unx.ca", "subject": "desktop.unx.ca (STARTTLS)", "summary.end_reason": "parser-done"})
			if len(evs[0].Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", evs[0].Anomalies)
			}
			if p.IsContinue() {
				t.Errorf("IsContinue after STARTTLS 220 = true; want false")
			}
		},
	},
	{
		// arkime smtp-decrypted: a capture of the session decrypted by a
		// TLS-terminating proxy goes on in plaintext after the 220.
		name: "starttls then plaintext",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250-mx\r\n250 STARTTLS\r\n"),
			C("STARTTLS\r\n"), S("220 2.0.0 SMTP server ready\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: after tls\r\n\r\nhi\r\n.\r\n"), S("250 queued\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, oneSend(t, evs), map[string]string{"subject": "after tls", "summary.mail_from": "a@x.example", "summary.accepted": "true"})
			lo := byType(evs, TypeLogoff)[0]
			want(t, lo, map[string]string{"summary.starttls": "accepted", "summary.plaintext_after_starttls": "true", "summary.helo": "a"})
			wantAnomaly(t, lo, "plaintext after STARTTLS was accepted")
		},
	},
	{
		// A server handshake record after the 220 (the client's lost).
		name: "starttls then server handshake",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250-mx\r\n250 STARTTLS\r\n"),
			C("STARTTLS\r\n"), S("220 2.0.0 go\r\n"),
			S("\x16\x03\x03\x00\x5a\x02 server hello"),
			C("\x17\x03\x03 application data"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := byType(evs, TypeLogoff)[0]
			want(t, lo, map[string]string{"summary.starttls": "accepted", "summary.plaintext_after_starttls": "<nil>", "summary.end_reason": "parser-done"})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
		},
	},
	{
		// The client's TLS handshake captured ahead of the 220.
		name: "starttls with the handshake ahead of the reply",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250-mx\r\n250 STARTTLS\r\n"),
			C("STARTTLS\r\n"),
			C("\x16\x03\x01\x00\x10hello-bytes"),
			S("220 2.0.0 Ready to start TLS\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := byType(evs, TypeLogoff)[0]
			want(t, lo, map[string]string{"summary.starttls": "accepted"})
			if len(lo.Anomalies) != 0 {
				t.Errorf("anomalies %q; want none", lo.Anomalies)
			}
		},
	},
	{
		name: "starttls refused",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("STARTTLS\r\n"), S("454 4.7.0 TLS not available due to local problem\r\n"),
			C("MAIL FROM:<a@x.example>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<b@x.example>\r\n"), S("250 ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: plain\r\n\r\n.\r\n"), S("250 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			if len(byType(evs, TypeSend)) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.starttls": "refused: 454 4.7.0 TLS not available due to local problem"})
		},
	},
	{
		name: "starttls command injection",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("STARTTLS\r\nRSET\r\nMAIL FROM:<inj@x.example>\r\n"),
			S("220 go ahead\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "STARTTLS command injection: the client sent 33 bytes after STARTTLS")
			want(t, lo, map[string]string{"summary.starttls": "accepted"})
		},
	},
	{
		// Plaintext from the server after its 220 to STARTTLS and before
		// the client's handshake: a response injection, not replies.
		name: "starttls response injection",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("STARTTLS\r\n"), S("220 go ahead\r\n250 injected\r\n"),
			C("\x16\x03\x01\x00\x05hello"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "STARTTLS response injection: the server sent 14 bytes after accepting STARTTLS, before the client's TLS handshake: \"250 injected\\r\\n\"")
			want(t, lo, map[string]string{"summary.starttls": "accepted", "summary.replies": "3"})
		},
	},
	{
		name: "bare LF",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\n"),
			C("HELO a\n"), S("250 mx\n"),
			C("MAIL FROM:<a@x.example>\n"), S("250 ok\n"),
			C("RCPT TO:<b@x.example>\n"), S("250 ok\n"),
			C("DATA\n"), S("354 go\n"),
			C("Subject: lf\n\nline one\nline two\r\n.\r\n"), S("250 ok\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			if got := eml(t, env, sends[0]); got != "Subject: lf\n\nline one\nline two\r\n" {
				t.Errorf("eml %q; want bare LFs kept", got)
			}
			want(t, sends[0], map[string]string{"subject": "lf"})
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "client commands end with a bare LF")
			wantAnomaly(t, lo, "server replies end with a bare LF")
		},
	},
	{
		// The server ends the data at <LF>.<CRLF> (vulnerable to SMTP
		// smuggling): what follows is a second, smuggled message.
		name: "smuggling with a vulnerable server",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<user@good.example>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<victim@x.example>\r\n"), S("250 ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: hello\r\n\r\nhi\n.\r\nMAIL FROM:<admin@good.example>\r\nRCPT TO:<victim@x.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n"),
			S("250 ok 1\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok 2\r\n"),
			C("QUIT\r\n"), S("221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 2 {
				t.Fatalf("events %s; want two email-send", types(evs))
			}
			if got := eml(t, env, sends[0]); got != "Subject: hello\r\n\r\nhi\n" {
				t.Errorf("first eml %q; want it cut at the loose dot line", got)
			}
			want(t, sends[0], map[string]string{"subject": "hello", "summary.reply": "ok 1"})
			wantAnomaly(t, sends[0], "ended the data at a dot line not delimited by CRLF")
			wantAnomaly(t, sends[0], "possible SMTP smuggling")
			want(t, sends[1], map[string]string{"subject": "smuggled", "summary.mail_from": "admin@good.example", "summary.reply": "ok 2"})
			if got := eml(t, env, sends[1]); got != "Subject: smuggled\r\n\r\nevil\r\n" {
				t.Errorf("smuggled eml %q", got)
			}
		},
	},
	{
		// A server that ends data only at <CRLF>.<CRLF>: one message,
		// flagged.
		name: "smuggling attempt against a strict server",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<user@good.example>\r\n"), S("250 ok\r\n"),
			C("RCPT TO:<victim@x.example>\r\n"), S("250 ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: hello\r\n\r\nhi\r\n.\nMAIL FROM:<admin@good.example>\r\n.\r\n"),
			S("250 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			if got := eml(t, env, sends[0]); got != "Subject: hello\r\n\r\nhi\r\n.\nMAIL FROM:<admin@good.example>\r\n" {
				t.Errorf("eml %q", got)
			}
			wantAnomaly(t, sends[0], "possible SMTP smuggling: 1 dot line(s) not delimited by CRLF")
		},
	},
	{
		// Two messages with loose dot lines pipelined before the replies:
		// only the latest keeps its content for a possible cut.
		name: "two pipelined messages with loose dot lines",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250-mx\r\n250 PIPELINING\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: first\r\n\r\nx\n.\r\ny\r\n.\r\nMAIL FROM:<c@x.example>\r\nRCPT TO:<d@x.example>\r\nDATA\r\n"),
			S("250 one\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: second\r\n\r\nz\r\n.\nw\r\n.\r\nQUIT\r\n"),
			S("250 two\r\n221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 2 {
				t.Fatalf("events %s; want two email-send", types(evs))
			}
			if got := eml(t, env, sends[0]); got != "Subject: first\r\n\r\nx\n.\r\ny\r\n" {
				t.Errorf("first eml %q", got)
			}
			if got := eml(t, env, sends[1]); got != "Subject: second\r\n\r\nz\r\n.\nw\r\n" {
				t.Errorf("second eml %q", got)
			}
			for i, e := range sends {
				wantAnomaly(t, e, "possible SMTP smuggling")
				if hasAnomaly(e, "ended the data at a dot line") {
					t.Errorf("message %d cut although the server replied once per message", i)
				}
			}
			want(t, sends[0], map[string]string{"summary.reply": "one"})
			want(t, sends[1], map[string]string{"summary.reply": "two"})
		},
	},
	{
		name: "overlong lines",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO " + strings.Repeat("h", 1200) + "\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<" + strings.Repeat("x", 70000) + "@example.com>\r\n"),
			C("NOOP\r\n"), S("250 ok\r\n"),
			C("XNOEND " + strings.Repeat("y", 70000)),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "client command line longer than 1000 octets")
			wantAnomaly(t, lo, "client line longer than 65536 bytes without a line end: skipped")
			want(t, lo, map[string]string{"summary.commands": "2"})
			if p.buffered() > 0 {
				t.Errorf("buffered %d bytes after EndProcess; want 0", p.buffered())
			}
		},
	},
	{
		name: "NUL bytes",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("HELO a\x00b\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: nul\r\n\r\nab\x00cd\r\n.\r\n"), S("250 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			send := byType(evs, TypeSend)[0]
			wantAnomaly(t, send, "NUL bytes in the message data")
			if got := eml(t, env, send); got != "Subject: nul\r\n\r\nab\x00cd\r\n" {
				t.Errorf("eml %q; want the NUL kept", got)
			}
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "NUL byte in a client command")
			want(t, lo, map[string]string{"summary.helo": "a.b"})
		},
	},
	{
		name: "gap inside data",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: gappy\r\n\r\nfirst part\r\n"),
			Gap(parser.ClientToServer, 1000),
			C("ond part\r\n.\r\n"),
			S("250 ok\r\n"),
			C("QUIT\r\n"), S("221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "gappy", "summary.partial": "true", "summary.accepted": "true"})
			wantAnomaly(t, sends[0], "lost in a gap")
			if got := eml(t, env, sends[0]); got != "Subject: gappy\r\n\r\nfirst part\r\nond part\r\n" {
				t.Errorf("eml %q", got)
			}
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "gap of 1000 bytes in the client stream")
			want(t, lo, map[string]string{"summary.quit": "true", "summary.gaps": "1"})
		},
	},
	{
		name: "gap swallowing the end of data",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: one\r\n\r\nbody"),
			Gap(parser.ClientToServer, 7),
			C("MAIL FROM:<c@x.example>\r\nRCPT TO:<d@x.example>\r\nDATA\r\n"),
			S("250 queued one\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: two\r\n\r\n.\r\n"), S("250 queued two\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 2 {
				t.Fatalf("events %s; want two email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "one", "summary.partial": "true", "summary.reply": "queued one"})
			wantAnomaly(t, sends[0], "the end of the message data was not seen")
			want(t, sends[1], map[string]string{"subject": "two", "summary.mail_from": "c@x.example", "summary.reply": "queued two"})
		},
	},
	{
		name: "gap in commands",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\nMAIL FR"),
			Gap(parser.ClientToServer, 40),
			C("le>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: after gap\r\n\r\n.\r\n"), S("250 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "after gap", "summary.rcpt_to.0.address": "b@x.example", "summary.mail_from": "<nil>"})
			wantAnomaly(t, byType(evs, TypeLogoff)[0], "gap of 40 bytes in the client stream")
		},
	},
	{
		name: "server gap",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 o"),
			Gap(parser.ServerToClient, 20),
			S("k\r\n354 go\r\n"),
			C("Subject: server gap\r\n\r\n.\r\n"),
			S("250 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "server gap", "summary.rcpt_to.0.code": "<nil>", "summary.reply_code": "250"})
			wantAnomaly(t, byType(evs, TypeLogoff)[0], "gap of 20 bytes in the server stream")
		},
	},
	{
		name: "mid-session capture",
		conn: midstream(),
		segs: []parsertest.Segment{
			C("lo.example\r\nRCPT TO:<late@x.example>\r\n"),
			S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
			C("DATA\r\n"), S("354 go\r\n"),
			C("Subject: mid\r\n\r\nm\r\n.\r\n"), S("250 2.0.0 queued\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "mid", "summary.partial": "true", "summary.rcpt_to.0.address": "late@x.example", "summary.rcpt_to.0.code": "250"})
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.midstream": "true", "summary.replies_to_unseen_commands": "1"})
		},
	},
	{
		name: "capture starting inside DATA",
		conn: midstream(),
		segs: []parsertest.Segment{
			C("ng text of the body\r\nTo: not a header any more\r\n"),
			C("..stuffed\r\nlast line\r\n.\r\n"),
			S("250 2.0.0 Ok: queued as X\r\n"),
			C("QUIT\r\n"), S("221 2.0.0 Bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"summary.partial": "true", "summary.reply": "2.0.0 Ok: queued as X", "summary.accepted": "true"})
			if got := eml(t, env, sends[0]); got != "ng text of the body\r\nTo: not a header any more\r\n.stuffed\r\nlast line\r\n" {
				t.Errorf("eml %q", got)
			}
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.quit": "true"})
		},
	},
	{
		name: "message larger than the artifact limit",
		opts: &parser.Options{MaxArtifactBytes: 100},
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: big\r\n\r\n" + strings.Repeat("0123456789\r\n", 50) + ".\r\n"),
			S("250 ok\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			send := byType(evs, TypeSend)[0]
			want(t, send, map[string]string{"summary.truncated": "true", "summary.size": "616", "summary.partial": "true", "subject": "big"})
			wantAnomaly(t, send, "message larger than the 100-byte artifact limit")
			if send.Artifacts[0].Size != 100 {
				t.Errorf("eml size %d; want 100", send.Artifacts[0].Size)
			}
		},
	},
	{
		name: "unknown and other commands",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("XYZZY magic\r\n"), S("502 5.5.2 Error: command not recognized\r\n"),
			C("hello there\r\n"), S("502 5.5.2 Error: command not recognized\r\n"),
			C("VRFY postmaster\r\n"), S("252 2.0.0 postmaster\r\n"),
			C("NOOP\r\n"), S("250 ok\r\n"),
			C("\r\n"), S("500 5.5.2 Error: bad syntax\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			want(t, byType(evs, TypeLogoff)[0], map[string]string{
				"summary.unknown_commands":      "[XYZZY HELLO (malformed)]",
				"summary.unknown_command_count": "3",
				"summary.vrfy_expn":             "[VRFY postmaster]",
				"summary.rejected_commands":     "3",
				"summary.commands":              "6",
			})
		},
	},
	{
		// suricata-verify smtperr, port 465 stream: a TLS client against
		// a plaintext server.
		name: "tls handshake without starttls",
		segs: []parsertest.Segment{
			S("220 v02.kerne.org ESMTP Postfix\r\n"),
			C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\x00\x00binary\r\n"),
			S("402 4.5.2 Error: command not recognized\r\n400 4.5.2 Error: bad syntax\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "TLS handshake from the client where an SMTP command was expected")
			wantAnomaly(t, lo, "reply without a command awaiting it: 402")
			want(t, lo, map[string]string{"summary.commands": "0"})
		},
	},
	{
		// suricata-verify smtperr, CommuniGate stream: pipelined MAIL,
		// RCPT, DATA with an unusual reply code.
		name: "rejected transaction with invalid reply code",
		segs: []parsertest.Segment{
			S("220 mx01.ingw.orange.tn ESMTP CommuniGate Pro 6.1.16\r\n"),
			C("EHLO 173-66-46-112.wash.fios.verizon.net\r\n"),
			S("250-mx01.ingw.orange.tn is pleased to meet you\r\n250-PIPELINING\r\n250 EHLO\r\n"),
			C("MAIL FROM: <unusualz@prg-dc.dhl.com> \r\nRCPT TO:<sghaier@fts.com.tn>\r\nDATA\r\n"),
			S("472 unusualz@prg-dc.dhl.com DNS A-record is empty\r\n"),
			S("501 Unknown command\r\n"),
			S("501 Unknown command\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			if len(byType(evs, TypeSend)) != 0 {
				t.Fatalf("events %s; want no email-send", types(evs))
			}
			lo := byType(evs, TypeLogoff)[0]
			wantAnomaly(t, lo, "invalid reply code 472")
			want(t, lo, map[string]string{
				"summary.aborted_transactions.0.mail_from": "unusualz@prg-dc.dhl.com",
				"summary.aborted_transactions.0.rcpt_to":   "[sghaier@fts.com.tn]",
			})
		},
	},
	{
		name: "data refused but client sends data anyway",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\nSubject: x\r\n.\r\nQUIT\r\n"),
			S("250 ok\r\n550 no such user\r\n554 5.5.1 Error: no valid recipients\r\n"),
			S("502 unknown\r\n502 unknown\r\n221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			if len(byType(evs, TypeSend)) != 0 {
				t.Fatalf("events %s; want no email-send", types(evs))
			}
			lo := byType(evs, TypeLogoff)[0]
			want(t, lo, map[string]string{"summary.quit": "true", "summary.quit_reply": "221 bye", "summary.unknown_commands": "[(malformed)]",
				"summary.aborted_transactions.0.reason": "QUIT", "summary.aborted_transactions.0.rcpt_to": "[b@x.example]"})
		},
	},
	{
		// Only the client direction was mirrored: no reply ever comes.
		name: "client direction only",
		segs: []parsertest.Segment{
			C("EHLO a\r\n"),
			C("MAIL FROM:<a@x.example>\r\n"),
			C("RCPT TO:<b@x.example>\r\n"),
			C("DATA\r\n"),
			C("Subject: one way\r\n\r\nbody\r\n.\r\n"),
			C("QUIT\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 1 {
				t.Fatalf("events %s; want one email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "one way", "summary.reply_code": "<nil>", "summary.rcpt_to.0.code": "<nil>"})
			wantAnomaly(t, sends[0], "no reply to the end of the message was seen")
		},
	},
	{
		name: "client speaks before the greeting",
		segs: []parsertest.Segment{
			C("EHLO early\r\n"),
			S("220 mx ESMTP\r\n250 mx\r\n"),
			C("QUIT\r\n"), S("221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			lo := byType(evs, TypeLogoff)[0]
			want(t, lo, map[string]string{"summary.greeting": "220 mx ESMTP", "summary.helo_reply": "250 mx"})
			wantAnomaly(t, lo, "client sent commands before the server's greeting")
		},
	},
	{
		name: "server interrupts the data",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("HELO a\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"),
			S("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: too big\r\n\r\nxxxxxxxx\r\n"),
			S("552 5.3.4 Message size exceeds fixed limit\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			send := byType(evs, TypeSend)[0]
			want(t, send, map[string]string{"summary.reply_code": "552", "summary.accepted": "false", "summary.partial": "true"})
			wantAnomaly(t, send, "server replied while message data was still being sent")
		},
	},
	{
		// A client that ends the data with a bare LF dot line and waits:
		// the server's reply ends the message there.
		name: "bare LF end of data accepted by the server",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("HELO a\nMAIL FROM:<a@x.example>\nRCPT TO:<b@x.example>\nDATA\n"),
			S("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
			C("Subject: lf only\n\nbody\n.\n"),
			S("250 queued\r\n"),
			C("QUIT\n"), S("221 bye\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			send := byType(evs, TypeSend)[0]
			if got := eml(t, env, send); got != "Subject: lf only\n\nbody\n" {
				t.Errorf("eml %q", got)
			}
			want(t, send, map[string]string{"summary.reply": "queued", "summary.accepted": "true"})
			wantAnomaly(t, send, "ended the data at a dot line not delimited by CRLF")
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.quit": "true", "summary.quit_reply": "221 bye"})
		},
	},
	{
		// Two BDAT messages pipelined before any reply.
		name: "pipelined BDAT messages",
		segs: []parsertest.Segment{
			S("220 mx ESMTP\r\n"),
			C("EHLO a\r\n"), S("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
			C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nBDAT 16 LAST\r\nSubject: one\r\n\r\n" +
				"MAIL FROM:<c@x.example>\r\nRCPT TO:<d@x.example>\r\nBDAT 16 LAST\r\nSubject: two\r\n\r\n" +
				"MAIL FROM:<e@x.example>\r\nRCPT TO:<f@x.example>\r\nBDAT 18 LAST\r\nSubject: three\r\n\r\n"),
			S("250 ok\r\n250 ok\r\n250 one queued\r\n250 ok\r\n250 ok\r\n250 two queued\r\n250 ok\r\n250 ok\r\n550 three refused\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			sends := byType(evs, TypeSend)
			if len(sends) != 3 {
				t.Fatalf("events %s; want three email-send", types(evs))
			}
			want(t, sends[0], map[string]string{"subject": "one", "summary.reply": "one queued"})
			want(t, sends[1], map[string]string{"subject": "two", "summary.reply": "two queued"})
			want(t, sends[2], map[string]string{"subject": "three", "summary.reply": "three refused", "summary.accepted": "false"})
		},
	},
	{
		name: "xoauth2 and multi-line error reply",
		segs: []parsertest.Segment{
			S("220-mx ESMTP\r\n220 welcome\r\n"),
			C("EHLO a\r\n"), S("250 mx\r\n"),
			C("AUTH XOAUTH2 " + b64("user=dave@example.com\x01auth=Bearer tok\x01\x01") + "\r\n"),
			S("535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 https://support.example/answer\r\n"),
		},
		check: func(t *testing.T, env *parsertest.Env, evs []*event.Event, p *conn) {
			f := byType(evs, TypeLogonFailure)
			if len(f) != 1 {
				t.Fatalf("events %s; want one logon-failure", types(evs))
			}
			want(t, f[0], map[string]string{"summary.user": "dave@example.com", "summary.reply": "5.7.8 Username and Password not accepted. 5.7.8 https://support.example/answer"})
			want(t, byType(evs, TypeLogoff)[0], map[string]string{"summary.greeting": "220 mx ESMTP welcome"})
		},
	},
}

func connOn(port uint16) *parser.Conn { return parsertest.Conn(port) }

func midstream() *parser.Conn {
	c := parsertest.Conn(25)
	c.MidStream = true
	return c
}

func types(evs []*event.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func byRole(ev *event.Event, role string) []event.Address {
	var out []event.Address
	for _, a := range ev.Addresses {
		if a.Role == role {
			out = append(out, a)
		}
	}
	return out
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
// conversation must give the same events, byte for byte once normalised,
// and the same stored files, whether the streams arrive whole, one byte
// per call or in random pieces.
func TestSplitInvariance(t *testing.T) {
	for _, c := range conversations {
		t.Run(c.name, func(t *testing.T) {
			var wantEvs string
			var wantFiles []string
			if c.opts == nil {
				// The project's own driver for the default options.
				env, evs := parsertest.Run(Detector{}, c.connection(), c.segs, parsertest.Whole, 0)
				wantEvs, wantFiles = parsertest.Normalize(evs), fileKeys(env)
				env2, evs2, _ := runOpts(c.connection(), c.segs, parsertest.Whole, 0, nil)
				if got := parsertest.Normalize(evs2); got != wantEvs || !equalKeys(fileKeys(env2), wantFiles) {
					t.Fatalf("test driver differs from parsertest.Run")
				}
				for _, sp := range []struct {
					name  string
					split parsertest.Split
					seed  int64
				}{{"bytes", parsertest.Bytes, 0}, {"random1", parsertest.Random, 1}, {"random2", parsertest.Random, 2}, {"random3", parsertest.Random, 3}} {
					env, evs := parsertest.Run(Detector{}, c.connection(), c.segs, sp.split, sp.seed)
					if got := parsertest.Normalize(evs); got != wantEvs {
						t.Errorf("%s: events differ from whole\n got %s\nwant %s", sp.name, got, wantEvs)
					}
					if got := fileKeys(env); !equalKeys(got, wantFiles) {
						t.Errorf("%s: files %v; want %v", sp.name, got, wantFiles)
					}
				}
				return
			}
			env, evs, _ := runOpts(c.connection(), c.segs, parsertest.Whole, 0, c.opts)
			wantEvs, wantFiles = parsertest.Normalize(evs), fileKeys(env)
			for seed, split := range []parsertest.Split{parsertest.Bytes, parsertest.Random, parsertest.Random, parsertest.Random} {
				env, evs, _ := runOpts(c.connection(), c.segs, split, int64(seed), c.opts)
				if got := parsertest.Normalize(evs); got != wantEvs {
					t.Errorf("split %d seed %d: events differ from whole\n got %s\nwant %s", split, seed, got, wantEvs)
				}
				if got := fileKeys(env); !equalKeys(got, wantFiles) {
					t.Errorf("split %d seed %d: files %v; want %v", split, seed, got, wantFiles)
				}
			}
		})
	}
}

func fileKeys(env *parsertest.Env) []string {
	var k []string
	for h := range env.Files {
		k = append(k, h)
	}
	return sortStrings(k)
}

func equalKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
