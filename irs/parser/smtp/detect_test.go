package smtp

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
		{"esmtp greeting", parsertest.Conn(25), srv, "220 mail.example.com ESMTP Postfix\r\n", parser.Yes},
		{"greeting continued", parsertest.Conn(2525), srv, "220-mx.example.com ESMTP Exim 4.96\r\n220 no UCE\r\n", parser.Yes},
		{"greeting on odd port", parsertest.Conn(1224), srv, "220 mx Sendmail ready\r\n", parser.Yes},
		{"vague greeting on smtp port", parsertest.Conn(25), srv, "220 Greetings\r\n", parser.Yes},
		{"vague greeting elsewhere waits", parsertest.Conn(1224), srv, "220 Greetings\r\n", parser.NeedMore},
		{"partial greeting", parsertest.Conn(25), srv, "22", parser.NeedMore},
		{"partial greeting line", parsertest.Conn(1224), srv, "220 host", parser.NeedMore},
		// FTP says 220 too.
		{"ftp greeting", parsertest.Conn(21), srv, "220 ProFTPD 1.3.5 Server (Debian) [::ffff:10.0.0.1]\r\n", parser.No},
		{"ftp greeting vsftpd", parsertest.Conn(25), srv, "220 (vsFTPd 3.0.3)\r\n", parser.No},
		{"ftp login reply", parsertest.Conn(2121), srv, "331 Please specify the password.\r\n", parser.No},
		{"ftp passive reply", parsertest.Conn(2121), srv, "227 Entering Passive Mode (10,0,0,1,4,1)\r\n", parser.No},
		{"ftp user command", parsertest.Conn(2121), cli, "USER anonymous\r\n", parser.No},
		{"ftp auth tls", parsertest.Conn(21), cli, "AUTH TLS\r\n", parser.No},
		{"ftp feat", parsertest.Conn(21), cli, "FEAT\r\n", parser.No},
		// Client commands.
		{"ehlo", parsertest.Conn(1224), cli, "EHLO testhost.test.ex\r\n", parser.Yes},
		{"helo lower case", parsertest.Conn(1224), cli, "helo a\r\n", parser.Yes},
		{"mail from", parsertest.Conn(9999), cli, "MAIL FROM:<a@b.example>\r\n", parser.Yes},
		{"partial ehlo", parsertest.Conn(9999), cli, "EH", parser.NeedMore},
		{"auth login ambiguous elsewhere", parsertest.Conn(9999), cli, "AUTH LOGIN\r\n", parser.NeedMore},
		{"auth login on submission port", parsertest.Conn(587), cli, "AUTH LOGIN\r\n", parser.Yes},
		// Mid-session, and sides guessed wrong.
		{"reply with enhanced code", mid(25), srv, "250 2.1.5 Ok\r\n", parser.Yes},
		{"rcpt from the client", mid(9999), cli, "RCPT TO:<x@y.example>\r\n", parser.Yes},
		{"server side sends commands", mid(40000), srv, "MAIL FROM:<a@b.example>\r\n", parser.YesReversed},
		{"client side sends replies", mid(25), cli, "250 2.0.0 Ok: queued as 123\r\n", parser.YesReversed},
		{"client side greets", mid(40000), cli, "220 mx.example.com ESMTP\r\n", parser.YesReversed},
		{"354 is smtp", mid(9999), srv, "354 End data with <CR><LF>.<CR><LF>\r\n", parser.Yes},
		{"message text mid-data waits", mid(25), cli, "some text of a message body\r\n", parser.NeedMore},
		{"message text without hint", mid(9999), cli, "some text of a message body\r\n", parser.No},
		// Other protocols.
		{"http", parsertest.Conn(25), cli, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", parser.No},
		{"http response", parsertest.Conn(25), srv, "HTTP/1.1 200 OK\r\n", parser.No},
		{"tls", parsertest.Conn(465), cli, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", parser.No},
		{"ssh", parsertest.Conn(25), srv, "SSH-2.0-OpenSSH_9.2\r\n", parser.No},
		{"pop3", parsertest.Conn(110), srv, "+OK Dovecot ready.\r\n", parser.No},
		{"imap", parsertest.Conn(143), srv, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", parser.No},
		{"binary on smtp port waits for the server", parsertest.Conn(25), cli, "\x00\x01\x02\x03garbage", parser.NeedMore},
		{"binary elsewhere", parsertest.Conn(9999), cli, "\x00\x01\x02\x03garbage", parser.No},
		{"empty", parsertest.Conn(25), cli, "", parser.NeedMore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Detector{}).IsRelative(tc.conn, tc.dir, []byte(tc.data)); got != tc.want {
				t.Errorf("IsRelative(%s, %q) = %v; want %v", tc.dir, tc.data, got, tc.want)
			}
		})
	}
}

// TestIsRelativeFTPThenSMTP: a vague 220 greeting is decided by the
// client's first command.
func TestIsRelativeWaitsForClient(t *testing.T) {
	c := parsertest.Conn(1224)
	d := Detector{}
	if v := d.IsRelative(c, parser.ServerToClient, []byte("220 Greetings\r\n")); v != parser.NeedMore {
		t.Fatalf("vague greeting = %v; want NeedMore", v)
	}
	if v := d.IsRelative(c, parser.ClientToServer, []byte("EHLO x\r\n")); v != parser.Yes {
		t.Errorf("then EHLO = %v; want Yes", v)
	}
	if v := d.IsRelative(c, parser.ClientToServer, []byte("USER x\r\n")); v != parser.No {
		t.Errorf("then USER = %v; want No", v)
	}
}

func TestRegistered(t *testing.T) {
	d, ok := parser.Default.Lookup(Name)
	if !ok || d.Name() != "smtp" || len(d.Transports()) != 1 || d.Transports()[0] != parser.TCP {
		t.Errorf("smtp not registered in parser.Default as a TCP detector")
	}
}

func BenchmarkIsRelative(b *testing.B) {
	c := parsertest.Conn(25)
	data := []byte("220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n")
	other := []byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Detector{}.IsRelative(c, parser.ServerToClient, data)
		Detector{}.IsRelative(c, parser.ClientToServer, other)
	}
}
