package imap

import (
	"testing"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func TestIsRelative(t *testing.T) {
	const (
		cli = parser.ClientToServer
		srv = parser.ServerToClient
	)
	mid := func(port uint16) *parser.Conn {
		c := parsertest.Conn(port)
		c.MidStream = true
		return c
	}
	tests := []struct {
		name string
		conn *parser.Conn
		dir  parser.Direction
		data string
		want parser.Verdict
	}{
		// Greetings.
		{"dovecot greeting", parsertest.Conn(143), srv, "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n", parser.Yes},
		{"greeting on an odd port", parsertest.Conn(1143), srv, "* OK IMAP4Rev1 Server Version 4.9.04.012\r\n", parser.Yes},
		{"preauth", parsertest.Conn(1143), srv, "* PREAUTH ready\r\n", parser.Yes},
		{"bye", parsertest.Conn(1143), srv, "* BYE too many connections\r\n", parser.Yes},
		{"partial greeting", parsertest.Conn(1143), srv, "* O", parser.NeedMore},
		{"partial star", parsertest.Conn(1143), srv, "*", parser.NeedMore},
		// Mid-session responses.
		{"fetch response", mid(1143), srv, "* 12 FETCH (UID 5 BODY[] {300}\r\n", parser.Yes},
		{"exists", mid(1143), srv, "* 3 EXISTS\r\n", parser.Yes},
		{"capability", mid(1143), srv, "* CAPABILITY IMAP4rev2\r\n", parser.Yes},
		{"tagged ok", mid(1143), srv, "a0004 OK FETCH completed.\r\n", parser.Yes},
		{"tagged no", mid(1143), srv, "A12 NO [AUTHENTICATIONFAILED] nope\r\n", parser.Yes},
		{"continuation on the imap port", mid(143), srv, "+ idling\r\n", parser.Yes},
		{"continuation elsewhere waits", mid(1143), srv, "+ go ahead\r\n", parser.NeedMore},
		// Client commands.
		{"capability command", parsertest.Conn(1143), cli, "a0000 CAPABILITY\r\n", parser.Yes},
		{"login", parsertest.Conn(1143), cli, "C00001 LOGIN samir pfres\r\n", parser.Yes},
		{"dot tag", parsertest.Conn(1143), cli, ". CAPABILITY\r\n", parser.Yes},
		{"uid fetch", parsertest.Conn(1143), cli, "a5 UID FETCH 1:* (FLAGS)\r\n", parser.Yes},
		{"lower case", parsertest.Conn(1143), cli, "x1 select inbox\r\n", parser.Yes},
		{"partial command", parsertest.Conn(1143), cli, "a1 LOG", parser.NeedMore},
		{"partial tag", parsertest.Conn(1143), cli, "a0001", parser.NeedMore},
		{"done on the imap port", mid(143), cli, "DONE\r\n", parser.Yes},
		// Sides guessed wrong.
		{"server side sends commands", mid(40000), srv, "a1 SELECT INBOX\r\n", parser.YesReversed},
		{"client side sends responses", mid(143), cli, "* 1 FETCH (FLAGS (\\Seen))\r\n", parser.YesReversed},
		{"client side greets", mid(40000), cli, "* OK ready\r\n", parser.YesReversed},
		{"literal text on the imap port waits", mid(143), srv, "some text of a message body\r\n", parser.NeedMore},
		{"literal text elsewhere", mid(9999), srv, "some text of a message body\r\n", parser.No},
		// Other protocols, turned down at once.
		{"smtp greeting", parsertest.Conn(143), srv, "220 mail.example.com ESMTP Postfix\r\n", parser.No},
		{"smtp ehlo", parsertest.Conn(143), cli, "EHLO a\r\n", parser.No},
		{"smtp mail from", parsertest.Conn(143), cli, "MAIL FROM:<a@b.example>\r\n", parser.No},
		{"ftp greeting", parsertest.Conn(21), srv, "220 (vsFTPd 3.0.3)\r\n", parser.No},
		{"ftp user", parsertest.Conn(21), cli, "USER anonymous\r\n", parser.No},
		{"pop3 greeting", parsertest.Conn(143), srv, "+OK Dovecot ready.\r\n", parser.No},
		{"pop3 command", parsertest.Conn(110), cli, "CAPA\r\n", parser.No},
		{"http", parsertest.Conn(143), cli, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", parser.No},
		{"http response", parsertest.Conn(143), srv, "HTTP/1.1 200 OK\r\n", parser.No},
		{"tls", parsertest.Conn(993), cli, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", parser.No},
		{"ssh", parsertest.Conn(143), srv, "SSH-2.0-OpenSSH_9.2\r\n", parser.No},
		{"redis", parsertest.Conn(6379), cli, "*1\r\n$4\r\nPING\r\n", parser.No},
		{"tag and a word that is no command", parsertest.Conn(1143), cli, "hello world\r\n", parser.No},
		{"binary elsewhere", parsertest.Conn(9999), cli, "\x00\x01\x02\x03garbage", parser.No},
		{"empty", parsertest.Conn(143), cli, "", parser.NeedMore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Detector{}).IsRelative(tc.conn, tc.dir, []byte(tc.data)); got != tc.want {
				t.Errorf("IsRelative(%s, %q) = %v; want %v", tc.dir, tc.data, got, tc.want)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	d, ok := parser.Default.Lookup(Name)
	if !ok || d.Name() != "imap" || len(d.Transports()) != 1 || d.Transports()[0] != parser.TCP {
		t.Errorf("imap not registered in parser.Default as a TCP detector")
	}
}

// BenchmarkIsRelative: detection runs on every new connection for every
// detector; it must be cheap and allocate nothing.
func BenchmarkIsRelative(b *testing.B) {
	c := parsertest.Conn(143)
	lines := [][]byte{[]byte("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"), []byte("220 mail.example.com ESMTP Postfix\r\n"),
		[]byte("GET / HTTP/1.1\r\n"), []byte("a1 LOGIN bob secret\r\n")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Detector{}.IsRelative(c, parser.ServerToClient, lines[i%len(lines)])
	}
}
