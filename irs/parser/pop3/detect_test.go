package pop3

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
		// Greetings and status lines.
		{"dovecot greeting", parsertest.Conn(110), srv, "+OK Dovecot ready.\r\n", parser.Yes},
		{"greeting on an odd port", parsertest.Conn(2110), srv, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n", parser.Yes},
		{"cyrus greeting", parsertest.Conn(11000), srv, "+OK ladymacbeth.local Cyrus POP3 v2.3.16 server ready\r\n", parser.Yes},
		{"lower case ok", parsertest.Conn(2110), srv, "+ok pop ready\r\n", parser.Yes},
		{"bare +OK on the pop3 port", parsertest.Conn(110), srv, "+OK\r\n", parser.Yes},
		{"bare +OK elsewhere waits (Redis says so too)", parsertest.Conn(6379), srv, "+OK\r\n", parser.NeedMore},
		{"-ERR on the pop3 port", parsertest.Conn(110), srv, "-ERR go away\r\n", parser.Yes},
		{"partial status", parsertest.Conn(2110), srv, "+O", parser.NeedMore},
		{"partial status line", parsertest.Conn(2110), srv, "+OK POP3 ser", parser.NeedMore},
		// Client commands.
		{"capa", parsertest.Conn(2110), cli, "CAPA\r\n", parser.Yes},
		{"stls", parsertest.Conn(2110), cli, "STLS\r\n", parser.Yes},
		{"apop", parsertest.Conn(2110), cli, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", parser.Yes},
		{"top", parsertest.Conn(2110), cli, "TOP 1 10\r\n", parser.Yes},
		{"uidl", parsertest.Conn(2110), cli, "UIDL\r\n", parser.Yes},
		{"user on the pop3 port", parsertest.Conn(110), cli, "USER bob\r\n", parser.Yes},
		{"user elsewhere waits (FTP)", parsertest.Conn(2110), cli, "USER bob\r\n", parser.NeedMore},
		{"quit elsewhere waits", parsertest.Conn(2110), cli, "QUIT\r\n", parser.NeedMore},
		{"partial capa", parsertest.Conn(2110), cli, "CA", parser.NeedMore},
		// Mid-session, and sides guessed wrong.
		{"server side sends commands", mid(40000), srv, "RETR 1\r\n", parser.NeedMore},
		{"server side sends pop3-only commands", mid(40000), srv, "UIDL\r\n", parser.YesReversed},
		{"client side sends status lines", mid(110), cli, "+OK 1234 octets\r\n", parser.YesReversed},
		{"client side greets", mid(40000), cli, "+OK POP3 ready\r\n", parser.YesReversed},
		{"message text on the pop3 port waits", mid(110), srv, "some text of a message body\r\n", parser.NeedMore},
		{"message text elsewhere", mid(9999), srv, "some text of a message body\r\n", parser.No},
		// Other protocols, turned down at once.
		{"smtp greeting", parsertest.Conn(110), srv, "220 mail.example.com ESMTP Postfix\r\n", parser.No},
		{"smtp ehlo", parsertest.Conn(110), cli, "EHLO a\r\n", parser.No},
		{"ftp greeting", parsertest.Conn(21), srv, "220 (vsFTPd 3.0.3)\r\n", parser.No},
		{"ftp reply", parsertest.Conn(21), srv, "331 Please specify the password.\r\n", parser.No},
		{"ftp feat", parsertest.Conn(21), cli, "FEAT\r\n", parser.No},
		{"http", parsertest.Conn(110), cli, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", parser.No},
		{"http response", parsertest.Conn(110), srv, "HTTP/1.1 200 OK\r\n", parser.No},
		{"tls", parsertest.Conn(995), cli, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", parser.No},
		{"ssh", parsertest.Conn(110), srv, "SSH-2.0-OpenSSH_9.2\r\n", parser.No},
		{"imap greeting", parsertest.Conn(110), srv, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", parser.No},
		{"imap command", parsertest.Conn(110), cli, "a1 LOGIN bob secret\r\n", parser.No},
		{"redis command", parsertest.Conn(6379), cli, "*1\r\n$4\r\nPING\r\n", parser.No},
		{"binary elsewhere", parsertest.Conn(9999), cli, "\x00\x01\x02\x03garbage", parser.No},
		{"empty", parsertest.Conn(110), cli, "", parser.NeedMore},
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
	if !ok || d.Name() != "pop3" || len(d.Transports()) != 1 || d.Transports()[0] != parser.TCP {
		t.Errorf("pop3 not registered in parser.Default as a TCP detector")
	}
}

// BenchmarkIsRelative: detection runs on every new connection for every
// detector; it must be cheap and allocate nothing.
func BenchmarkIsRelative(b *testing.B) {
	c := parsertest.Conn(110)
	lines := [][]byte{[]byte("+OK Dovecot ready.\r\n"), []byte("220 mail.example.com ESMTP Postfix\r\n"), []byte("GET / HTTP/1.1\r\n"), []byte("USER bob\r\n")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Detector{}.IsRelative(c, parser.ServerToClient, lines[i%len(lines)])
	}
}
