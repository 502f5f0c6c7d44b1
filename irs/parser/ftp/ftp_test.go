package ftp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

var c, s = parsertest.C, parsertest.S

var t0 = time.Unix(1700000000, 0).UTC()

func ctlConn() *parser.Conn {
	return &parser.Conn{ID: 1, Transport: parser.TCP,
		Client: netip.MustParseAddrPort("192.0.2.10:40000"), Server: netip.MustParseAddrPort("192.0.2.20:21"), Start: t0}
}

func dataConn(client, server string, at time.Duration) *parser.Conn {
	return &parser.Conn{ID: 2, Transport: parser.TCP,
		Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server), Start: t0.Add(at)}
}

// feed drives a parser through segments without ending it.
func feed(p parser.Parser, segs []parsertest.Segment, ts time.Time) {
	for _, sg := range segs {
		if sg.Gap != 0 {
			p.Gap(sg.Dir, sg.Gap, ts)
			continue
		}
		p.ProcessPacket(sg.Dir, sg.Data, ts)
	}
}

// runSplits runs a control conversation whole, per byte and in random
// cuts, requires identical events, and returns the whole run.
func runSplits(t *testing.T, segs []parsertest.Segment, opts ...func(*parser.Options)) (*parsertest.Env, []*event.Event) {
	t.Helper()
	var want string
	var env0 *parsertest.Env
	var evs0 []*event.Event
	for i, sp := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random, parsertest.Random} {
		det := optDetector{NewDetector(), opts}
		env, evs := parsertest.Run(det, ctlConn(), segs, sp, int64(i))
		got := parsertest.Normalize(evs)
		if i == 0 {
			want, env0, evs0 = got, env, evs
			continue
		}
		if got != want {
			t.Fatalf("split %d gives different events:\n got: %s\nwant: %s", sp, got, want)
		}
	}
	return env0, evs0
}

type optDetector struct {
	*Detector
	opts []func(*parser.Options)
}

func (d optDetector) New(c *parser.Conn, env parser.Env) parser.Parser {
	if e, ok := env.(*parsertest.Env); ok {
		for _, f := range d.opts {
			f(&e.Opts)
		}
	}
	return d.Detector.New(c, env)
}

func byType(evs []*event.Event, typ string) []*event.Event {
	var out []*event.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func checkSummary(t *testing.T, ev *event.Event, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := ev.Summary.Lookup(k)
		if w == nil {
			if ok {
				t.Errorf("%s: summary[%q] = %v, want absent", ev.Type, k, g)
			}
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: summary[%q] = %v, want %v", ev.Type, k, g, w)
		}
	}
}

func TestDetector(t *testing.T) {
	tests := []struct {
		name string
		port uint16
		dir  parser.Direction
		data string
		want parser.Verdict
	}{
		{"vsftpd greeting", 2100, parser.ServerToClient, "220 (vsFTPd 3.0.3)\r\n", parser.Yes},
		{"ftp in greeting", 9999, parser.ServerToClient, "220 ProFTPD Server ready.\r\n", parser.Yes},
		{"multi-line greeting", 9999, parser.ServerToClient, "220-Welcome to the FTP archive\r\n", parser.Yes},
		{"plain greeting on 21", 21, parser.ServerToClient, "220 Welcome to mirrors.rit.edu.\r\n", parser.Yes},
		{"plain greeting elsewhere", 2525, parser.ServerToClient, "220 Welcome.\r\n", parser.NeedMore},
		{"smtp greeting", 25, parser.ServerToClient, "220 mx.example.org ESMTP Postfix\r\n", parser.No},
		{"smtp greeting on 21", 21, parser.ServerToClient, "220 mx.example.org ESMTP ready\r\n", parser.No},
		{"smtp greeting of a host named ftp", 25, parser.ServerToClient, "220 ftp.example.org ESMTP Exim 4.96\r\n", parser.No},
		{"partial greeting", 21, parser.ServerToClient, "220 (vsF", parser.NeedMore},
		{"pasv reply mid-stream", 5000, parser.ServerToClient, "227 Entering Passive Mode (1,2,3,4,5,6)\r\n", parser.Yes},
		{"smtp reply mid-stream", 5000, parser.ServerToClient, "250 OK\r\n", parser.No},
		{"greeting seen as client", 21, parser.ClientToServer, "220 FTP server\r\n", parser.YesReversed},
		{"ftp command", 5000, parser.ClientToServer, "FEAT\r\n", parser.Yes},
		{"auth tls", 5000, parser.ClientToServer, "AUTH TLS\r\n", parser.Yes},
		{"user elsewhere", 5000, parser.ClientToServer, "USER bob\r\n", parser.NeedMore},
		{"user on 21", 21, parser.ClientToServer, "USER bob\r\n", parser.Yes},
		{"pop3 greeting", 110, parser.ServerToClient, "+OK POP3 ready\r\n", parser.No},
		{"imap greeting", 143, parser.ServerToClient, "* OK IMAP4rev1\r\n", parser.No},
		{"smtp command", 25, parser.ClientToServer, "EHLO example.org\r\n", parser.No},
		{"http", 80, parser.ClientToServer, "GET / HTTP/1.1\r\n", parser.No},
		{"binary", 21, parser.ServerToClient, "\x16\x03\x01\x00", parser.No},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := ctlConn()
			conn.Server = netip.AddrPortFrom(conn.Server.Addr(), tc.port)
			if got := NewDetector().IsRelative(conn, tc.dir, []byte(tc.data)); got != tc.want {
				t.Errorf("IsRelative(%q) = %v, want %v", tc.data, got, tc.want)
			}
		})
	}
}

var loginConv = []parsertest.Segment{
	s("220-Welcome to the archive\r\n220-Be nice.\r\n220 FTP ready\r\n"),
	c("USER alice\r\n"),
	s("331 Please specify the password.\r\n"),
	c("PASS wonderland\r\n"),
	s("230 Login successful.\r\n"),
	c("SYST\r\nFEAT\r\n"),
	s("215 UNIX Type: L8\r\n211-Features:\r\n EPRT\r\n EPSV\r\n211 End\r\n"),
	c("CWD /pub\r\n"),
	s("250 Directory successfully changed.\r\n"),
	c("QUIT\r\n"),
	s("221 Goodbye.\r\n"),
}

func TestLogonAndSession(t *testing.T) {
	for _, rec := range []bool{false, true} {
		t.Run(fmt.Sprint("record=", rec), func(t *testing.T) {
			_, evs := runSplits(t, loginConv, func(o *parser.Options) { o.RecordPasswords = rec })
			logons := byType(evs, TypeLogon)
			if len(logons) != 1 {
				t.Fatalf("got %d logon events, want 1: %s", len(logons), parsertest.Normalize(evs))
			}
			var pw any
			if rec {
				pw = "wonderland"
			}
			checkSummary(t, logons[0], map[string]any{"user": "alice", "reply_code": 230, "password": pw})
			if logons[0].Subject != "alice" || len(logons[0].Addresses) != 1 || logons[0].Addresses[0].Role != event.RoleUser {
				t.Errorf("logon subject %q addresses %v", logons[0].Subject, logons[0].Addresses)
			}
			sess := byType(evs, TypeSession)
			if len(sess) != 1 {
				t.Fatalf("got %d session events, want 1", len(sess))
			}
			checkSummary(t, sess[0], map[string]any{"user": "alice", "logged_in": true, "command_count": 6,
				"banner": "Welcome to the archive | Be nice. | FTP ready"})
			cmds := sess[0].Summary.Get("commands").([]event.Fields)
			if len(cmds) != 7 {
				t.Fatalf("session has %d command entries, want 7 (greeting + 6): %v", len(cmds), cmds)
			}
			wantPass := "********"
			if rec {
				wantPass = "wonderland"
			}
			if cmds[2].Get("command") != "PASS" || cmds[2].Get("arg") != wantPass || cmds[2].Get("reply_code") != 230 {
				t.Errorf("PASS entry = %v", cmds[2])
			}
			if cmds[4].Get("command") != "FEAT" || cmds[4].Get("reply") != "Features: | EPRT | EPSV | End" {
				t.Errorf("FEAT entry = %v", cmds[4])
			}
			if len(sess[0].Anomalies) != 0 {
				t.Errorf("anomalies: %v", sess[0].Anomalies)
			}
		})
	}
}

func TestLogonFailure(t *testing.T) {
	_, evs := runSplits(t, []parsertest.Segment{
		s("220 (vsFTPd 3.0.3)\r\n"), c("USER hello\r\n"), s("331 Please specify the password.\r\n"),
		c("PASS x\r\n"), s("530 Login incorrect.\r\n"), c("QUIT\r\n"), s("221 Goodbye.\r\n"),
	})
	f := byType(evs, TypeLogonFailure)
	if len(f) != 1 || len(byType(evs, TypeLogon)) != 0 {
		t.Fatalf("events: %s", parsertest.Normalize(evs))
	}
	checkSummary(t, f[0], map[string]any{"user": "hello", "reply_code": 530, "reply": "Login incorrect."})
	checkSummary(t, byType(evs, TypeSession)[0], map[string]any{"logged_in": false, "logon_failures": 1})
}

// transferCase drives a control connection and a data connection through
// one detector in a given interleaving.
type transferCase struct {
	name    string
	ctlPre  []parsertest.Segment // up to and including the announcement
	ctlCmd  []parsertest.Segment // the transfer command
	ctlPost []parsertest.Segment // replies after the transfer
	data    *parser.Conn
	dataDir parser.Direction
	payload string
	order   string // sequence of: C (command), D (data ends), P (post replies), E (control ends)
}

func (tc transferCase) run(t *testing.T) (*parsertest.Env, *Detector) {
	t.Helper()
	det := NewDetector()
	env := parsertest.NewEnv()
	ctl := det.New(ctlConn(), env)
	feed(ctl, tc.ctlPre, t0)
	if v := det.IsRelative(tc.data, tc.dataDir, []byte(tc.payload[:1])); v != parser.Yes {
		t.Fatalf("IsRelative(data connection) = %v, want Yes", v)
	}
	dp := det.New(tc.data, env)
	if _, ok := dp.(*data); !ok {
		t.Fatalf("New gave %T for the data connection, want *data", dp)
	}
	if det.tab.len() != 0 {
		t.Errorf("table holds %d keys after the claim, want 0", det.tab.len())
	}
	half := len(tc.payload) / 2
	dp.ProcessPacket(tc.dataDir, []byte(tc.payload[:half]), t0.Add(time.Second))
	dp.ProcessPacket(tc.dataDir, []byte(tc.payload[half:]), t0.Add(2*time.Second))
	for _, step := range tc.order {
		switch step {
		case 'C':
			feed(ctl, tc.ctlCmd, t0.Add(time.Second))
		case 'D':
			dp.EndProcess(parser.EndClosed, t0.Add(3*time.Second))
		case 'P':
			feed(ctl, tc.ctlPost, t0.Add(3*time.Second))
		case 'E':
			ctl.EndProcess(parser.EndClosed, t0.Add(4*time.Second))
		}
	}
	return env, det
}

func TestTransfers(t *testing.T) {
	login := []parsertest.Segment{s("220 FTP\r\n"), c("USER anonymous\r\n"), s("331 ok\r\n"), c("PASS a@b\r\n"), s("230 ok\r\n")}
	pasv := append(append([]parsertest.Segment{}, login...), c("TYPE I\r\nPASV\r\n"), s("200 Switching to Binary mode.\r\n227 Entering Passive Mode (192,0,2,20,195,80).\r\n"))
	epsv := append(append([]parsertest.Segment{}, login...), c("EPSV\r\n"), s("229 Entering Extended Passive Mode (|||50001|)\r\n"))
	port := append(append([]parsertest.Segment{}, login...), c("PORT 192,0,2,10,156,65\r\n"), s("200 PORT command successful.\r\n"))
	eprt := append(append([]parsertest.Segment{}, login...), c("EPRT |1|192.0.2.10|40002|\r\n"), s("200 EPRT command successful.\r\n"))
	file := strings.Repeat("file content\n", 100)
	retr := []parsertest.Segment{c("RETR /pub/dir/readme.txt\r\n"), s("150 Opening BINARY mode data connection for /pub/dir/readme.txt (1300 bytes).\r\n")}
	stor := []parsertest.Segment{c("STOR up.bin\r\n"), s("150 Ok to send data.\r\n")}
	list := []parsertest.Segment{c("LIST -la\r\n"), s("150 Here comes the directory listing.\r\n")}
	done := []parsertest.Segment{s("226 Transfer complete.\r\n"), c("QUIT\r\n"), s("221 Goodbye.\r\n")}
	pasvData := dataConn("192.0.2.10:40001", "192.0.2.20:50000", time.Second)
	portData := dataConn("192.0.2.20:20", "192.0.2.10:40001", time.Second)

	tests := []struct {
		transferCase
		typ, mode, fname string
		reply            any
	}{
		{transferCase{"pasv retr, data ends after the command", pasv, retr, done, pasvData, parser.ServerToClient, file, "CDPE"}, TypeDownload, "PASV", "readme.txt", 226},
		{transferCase{"pasv retr, data ends before the command is read", pasv, retr, done, pasvData, parser.ServerToClient, file, "DCPE"}, TypeDownload, "PASV", "readme.txt", 226},
		{transferCase{"pasv retr, control ends first", pasv, retr, done, pasvData, parser.ServerToClient, file, "CPED"}, TypeDownload, "PASV", "readme.txt", 226},
		{transferCase{"epsv retr", epsv, retr, done, dataConn("192.0.2.10:40001", "192.0.2.20:50001", time.Second), parser.ServerToClient, file, "CPDE"}, TypeDownload, "EPSV", "readme.txt", 226},
		{transferCase{"port stor", port, stor, done, portData, parser.ServerToClient, file, "CDPE"}, TypeUpload, "PORT", "up.bin", 226},
		{transferCase{"pasv retr, control never replies", pasv, retr, nil, pasvData, parser.ServerToClient, file, "CDE"}, TypeDownload, "PASV", "readme.txt", nil},
		{transferCase{"eprt stor", eprt, stor, done, dataConn("192.0.2.20:20", "192.0.2.10:40002", time.Second), parser.ServerToClient, file, "CPDE"}, TypeUpload, "EPRT", "up.bin", 226},
		{transferCase{"pasv list", pasv, list, done, pasvData, parser.ServerToClient, "drwxr-xr-x 2 0 0 4096 Jan 1 pub\r\n", "CPDE"}, TypeListing, "PASV", "listing.txt", 226},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := tc.run(t)
			var files []*event.Event
			for _, ev := range env.Events {
				if ev.Type == TypeDownload || ev.Type == TypeUpload || ev.Type == TypeListing {
					files = append(files, ev)
				}
			}
			if len(files) != 1 {
				t.Fatalf("got %d transfer events, want 1: %s", len(files), parsertest.Normalize(env.Events))
			}
			ev := files[0]
			if ev.Type != tc.typ {
				t.Errorf("type = %s, want %s", ev.Type, tc.typ)
			}
			if ev.Client != ctlConn().Client || ev.Server != ctlConn().Server {
				t.Errorf("event addresses %v → %v, want the control connection's", ev.Client, ev.Server)
			}
			checkSummary(t, ev, map[string]any{"mode": tc.mode, "filename": tc.fname, "size": len(tc.payload),
				"user": "anonymous", "reply_code": tc.reply, "data_server": tc.data.Server.String()})
			if len(ev.Artifacts) != 1 || string(env.Files[ev.Artifacts[0].SHA256]) != tc.payload || ev.Artifacts[0].Name != tc.fname {
				t.Errorf("artifact %+v does not hold the transferred bytes", ev.Artifacts)
			}
			if ev.Start != t0.Add(time.Second) || ev.End != t0.Add(2*time.Second) {
				t.Errorf("event time %v..%v, want the data connection's", ev.Start, ev.End)
			}
			if len(ev.Anomalies) != 0 {
				t.Errorf("anomalies: %v", ev.Anomalies)
			}
			if len(env.Mirrors) != 2 {
				t.Fatalf("got %d mirror requests, want 2 (host pair, data endpoint)", len(env.Mirrors))
			}
			pair := env.Mirrors[0]
			if pair.A != netip.AddrPortFrom(ctlConn().Client.Addr(), 0) || pair.B != netip.AddrPortFrom(ctlConn().Server.Addr(), 0) || pair.Transport != parser.TCP {
				t.Errorf("first mirror request = %+v, want every TCP port between the control connection's hosts", pair)
			}
			m := env.Mirrors[1]
			if m.B != tc.data.Server || m.Transport != parser.TCP || m.Protocol != "ftp" || m.A.Port() != 0 {
				t.Errorf("mirror request = %+v, want the data endpoint %v", m, tc.data.Server)
			}
			sess := byType(env.Events, TypeSession)
			if len(sess) != 1 {
				t.Fatalf("got %d session events", len(sess))
			}
		})
	}
}

func TestTransferCommandNeverSeen(t *testing.T) {
	det := NewDetector()
	env := parsertest.NewEnv()
	ctl := det.New(ctlConn(), env)
	feed(ctl, []parsertest.Segment{s("220 FTP\r\n"), c("PASV\r\n"), s("227 Entering Passive Mode (192,0,2,20,195,80)\r\n")}, t0)
	dc := dataConn("192.0.2.10:40001", "192.0.2.20:50000", time.Second)
	dp := det.New(dc, env)
	dp.ProcessPacket(parser.ServerToClient, []byte("bytes"), t0)
	dp.EndProcess(parser.EndClosed, t0)
	if len(env.Events) != 0 {
		t.Fatalf("event emitted before the control side knew the command: %s", parsertest.Normalize(env.Events))
	}
	ctl.EndProcess(parser.EndClosed, t0)
	dl := byType(env.Events, TypeDownload)
	if len(dl) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(env.Events))
	}
	if len(dl[0].Anomalies) == 0 || !strings.Contains(dl[0].Anomalies[0], "not seen") {
		t.Errorf("anomalies = %v", dl[0].Anomalies)
	}
}

func TestRefusedTransferAndUnexpectedPeer(t *testing.T) {
	det := NewDetector()
	env := parsertest.NewEnv()
	ctl := det.New(ctlConn(), env)
	feed(ctl, []parsertest.Segment{s("220 FTP\r\n"), c("PASV\r\n"), s("227 =192,0,2,20,195,80\r\n"),
		c("RETR missing\r\n"), s("550 Failed to open file.\r\n")}, t0)
	if det.tab.len() != 0 {
		t.Errorf("table holds %d keys after a refused RETR, want 0", det.tab.len())
	}
	feed(ctl, []parsertest.Segment{c("PASV\r\n"), s("227 Entering Passive Mode (192,0,2,20,195,81)\r\n"), c("RETR x\r\n")}, t0)
	dc := dataConn("198.51.100.7:1234", "192.0.2.20:50001", time.Second)
	dp := det.New(dc, env)
	dp.ProcessPacket(parser.ServerToClient, []byte("x"), t0)
	dp.EndProcess(parser.EndClosed, t0)
	feed(ctl, []parsertest.Segment{s("150 ok\r\n226 done\r\n")}, t0)
	dl := byType(env.Events, TypeDownload)
	if len(dl) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(env.Events))
	}
	found := false
	for _, a := range dl[0].Anomalies {
		found = found || strings.Contains(a, "not with the control connection's host")
	}
	if !found {
		t.Errorf("anomalies = %v, want the unexpected peer", dl[0].Anomalies)
	}
}

func TestAuthTLS(t *testing.T) {
	det := NewDetector()
	env := parsertest.NewEnv()
	ctl := det.New(ctlConn(), env)
	feed(ctl, []parsertest.Segment{s("220 (vsFTPd 3.0.5)\r\n"), c("AUTH TLS\r\n"), s("234 Proceed with negotiation.\r\n")}, t0)
	if ctl.IsContinue() {
		t.Fatal("IsContinue = true after 234 to AUTH TLS")
	}
	ctl.EndProcess(parser.EndDone, t0)
	sess := byType(env.Events, TypeSession)
	if len(sess) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(env.Events))
	}
	checkSummary(t, sess[0], map[string]any{"auth_tls": true, "command_count": 1})

	// refused AUTH goes on in cleartext
	_, evs := runSplits(t, []parsertest.Segment{s("220 FTP\r\n"), c("AUTH TLS\r\n"), s("530 Please login with USER and PASS.\r\n"),
		c("USER u\r\n"), s("230 ok\r\n")})
	if len(byType(evs, TypeLogon)) != 1 {
		t.Errorf("events after refused AUTH: %s", parsertest.Normalize(evs))
	}
}

func TestControlHazards(t *testing.T) {
	long := "NOOP " + strings.Repeat("x", maxLine+10) + "\r\n"
	_, evs := runSplits(t, []parsertest.Segment{
		s("220 FTP\r\n"),
		c(long),
		s("200 NOOP ok.\r\n"),
		c("\xff\xf4\xff\xf2ABOR\r\n"),
		s("226 ABOR ok\r\n"),
		c("CWD /a\r\n"),
		{Dir: parser.ServerToClient, Gap: 10},
		s("ory changed\r\n"),
		c("PWD\r\n"),
		s("257 \"/a\"\r\n"),
		c("NOOP\r\n"),
		s("not a reply\r\n"),
	})
	sess := byType(evs, TypeSession)[0]
	cmds := sess.Summary.Get("commands").([]event.Fields)
	if cmds[2].Get("command") != "ABOR" || cmds[2].Get("reply_code") != 226 {
		t.Errorf("telnet-prefixed ABOR entry = %v", cmds[2])
	}
	wantAnoms := []string{"command line over", "capture gap", "not an FTP reply"}
	for _, w := range wantAnoms {
		found := false
		for _, a := range sess.Anomalies {
			found = found || strings.Contains(a, w)
		}
		if !found {
			t.Errorf("anomalies %v lack %q", sess.Anomalies, w)
		}
	}
}

func TestAddressParsing(t *testing.T) {
	tests := []struct {
		name, in, want string
		f              func(string) (netip.AddrPort, error)
	}{
		{"pasv", "Entering Passive Mode (199,233,217,249,221,90).", "199.233.217.249:56666", parsePASV},
		{"pasv no parens", "Entering Passive Mode 10,0,0,1,4,1", "10.0.0.1:1025", parsePASV},
		{"pasv leading text digits", "=127,0,0,1,200,10", "127.0.0.1:51210", parsePASV},
		{"pasv bad", "Entering Passive Mode (1,2,3)", "", parsePASV},
		{"pasv over 255", "(300,1,1,1,1,1)", "", parsePASV},
		{"port", "141,142,220,235,131,46", "141.142.220.235:33582", parsePort},
		{"port spaces", "10, 0, 0, 1, 0, 21", "10.0.0.1:21", parsePort},
		{"port bad", "1,2,3,4,5", "", parsePort},
		{"eprt v4", "|1|132.235.1.2|6275|", "132.235.1.2:6275", parseEPRT},
		{"eprt v6", "|2|2001:db8::1|5282|", "[2001:db8::1]:5282", parseEPRT},
		{"eprt other delimiter", "!1!10.0.0.1!80!", "10.0.0.1:80", parseEPRT},
		{"eprt family mismatch", "|2|10.0.0.1|80|", "", parseEPRT},
		{"eprt port 0", "|1|10.0.0.1|0|", "", parseEPRT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Errorf("parse(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Errorf("parse(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		in   string
		want uint16
	}{{"Entering Extended Passive Mode (|||58612|)", 58612}, {"ok (!!!21!)", 21}, {"(|||x|)", 0}, {"no", 0}} {
		got, err := parseEPSV(tc.in)
		if got != tc.want || (tc.want == 0) != (err != nil) {
			t.Errorf("parseEPSV(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestTableConcurrentAndBounded(t *testing.T) {
	tab := newTable()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(g), byte(i >> 8), byte(i)}), 2000)
				e := &expect{keys: []netip.AddrPort{ep}, created: t0.Add(time.Duration(i) * time.Millisecond), x: &transfer{}}
				tab.add(e)
				if i%2 == 0 {
					conn := &parser.Conn{Client: netip.MustParseAddrPort("192.0.2.1:1"), Server: ep, Start: e.created}
					if tab.match(conn) == parser.Yes {
						tab.claim(conn)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if n := tab.len(); n > maxExpect {
		t.Errorf("table holds %d keys, cap is %d", n, maxExpect)
	}
	// expiry
	tab = newTable()
	ep := netip.MustParseAddrPort("192.0.2.20:5000")
	tab.add(&expect{keys: []netip.AddrPort{ep}, created: t0, x: &transfer{}})
	late := &parser.Conn{Client: netip.MustParseAddrPort("192.0.2.1:1"), Server: ep, Start: t0.Add(expectTTL + time.Second)}
	if v := tab.match(late); v != parser.No {
		t.Errorf("match after the TTL = %v, want No", v)
	}
	rev := &parser.Conn{Client: ep, Server: netip.MustParseAddrPort("192.0.2.1:1"), Start: t0}
	if v := tab.match(rev); v != parser.YesReversed {
		t.Errorf("match with the listener as client = %v, want YesReversed", v)
	}
}

func TestDataGapAndTruncation(t *testing.T) {
	det := NewDetector()
	env := parsertest.NewEnv()
	env.Opts.MaxArtifactBytes = 8
	ctl := det.New(ctlConn(), env)
	feed(ctl, []parsertest.Segment{s("220 FTP\r\n"), c("PASV\r\n"), s("227 (192,0,2,20,195,80)\r\n"), c("RETR big.iso\r\n")}, t0)
	dp := det.New(dataConn("192.0.2.10:40001", "192.0.2.20:50000", 0), env)
	dp.ProcessPacket(parser.ServerToClient, []byte("abc"), t0)
	dp.Gap(parser.ServerToClient, 3, t0)
	dp.ProcessPacket(parser.ServerToClient, []byte("ghijkl"), t0)
	dp.EndProcess(parser.EndClosed, t0)
	ctl.EndProcess(parser.EndClosed, t0)
	dl := byType(env.Events, TypeDownload)
	if len(dl) != 1 {
		t.Fatalf("events: %s", parsertest.Normalize(env.Events))
	}
	checkSummary(t, dl[0], map[string]any{"size": 12, "truncated": true, "incomplete": true})
	if got := string(env.Files[dl[0].Artifacts[0].SHA256]); got != "abc\x00\x00\x00gh" {
		t.Errorf("stored %q, want the first 8 bytes with the gap zero-filled", got)
	}
}

func TestManyAnnouncementsBounded(t *testing.T) {
	det := NewDetector()
	env := parsertest.NewEnv()
	ctl := det.New(ctlConn(), env)
	feed(ctl, []parsertest.Segment{s("220 FTP\r\n")}, t0)
	for i := 0; i < maxXfers+50; i++ {
		feed(ctl, []parsertest.Segment{c("PASV\r\n"), s(fmt.Sprintf("227 Entering Passive Mode (192,0,2,20,%d,%d)\r\n", 100+i/256, i%256)),
			c(fmt.Sprintf("RETR f%d\r\n", i))}, t0)
	}
	k := ctl.(*control)
	if len(k.xfers) > maxXfers {
		t.Errorf("control keeps %d transfers, cap %d", len(k.xfers), maxXfers)
	}
	// the first transfer was let go by the control side: its data
	// connection still reports it, named
	dp := det.New(dataConn("192.0.2.10:40001", "192.0.2.20:25600", time.Second), env)
	if _, ok := dp.(*data); !ok {
		t.Fatalf("data connection of the first announcement not claimed (%T)", dp)
	}
	dp.ProcessPacket(parser.ServerToClient, []byte("x"), t0)
	dp.EndProcess(parser.EndClosed, t0)
	dl := byType(env.Events, TypeDownload)
	if len(dl) != 1 || dl[0].Summary.Get("path") != "f0" {
		t.Fatalf("events: %s", parsertest.Normalize(env.Events))
	}
}

// TestLowerLine: the stack form lowers as bytes.ToLower does, ASCII or not.
func TestLowerLine(t *testing.T) {
	for _, in := range []string{"220 ProFTPD Server (Debian) [::ffff:10.0.0.1]", "220 MAİL ready", "220 ÉXIM", "", strings.Repeat("A", 300)} {
		var buf [256]byte
		if got, want := string(lowerLine(buf[:0], []byte(in))), string(bytes.ToLower([]byte(in))); got != want {
			t.Errorf("lowerLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDataBuffers: data connections one after another, each in a buffer
// an earlier one released or sized by the announced size (true or not)
// and grown across several packets, store their own bytes, cut at the
// artifact limit.
func TestDataBuffers(t *testing.T) {
	pattern := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i%251)
		}
		return b
	}
	tests := []struct {
		name      string
		limit     int
		announced int64
		packets   []int
	}{
		{"one small packet", 1 << 20, 0, []int{10}},
		{"growing past the first buffer", 1 << 20, 0, []int{1, 4095, 5000, 100000, 1460}},
		{"short after long", 1 << 20, 0, []int{7}},
		{"cut at the limit", 10000, 0, []int{4000, 4000, 4000}},
		{"limit inside the first packet", 100, 0, []int{1460, 1460}},
		{"announced size", 1 << 20, 9000, []int{1460, 1460, 1460, 1460, 1460, 1460, 240}},
		{"announced too small", 1 << 20, 100, []int{1460, 1460}},
		{"announced too large", 1 << 20, 1 << 40, []int{1460, 1460}},
		{"announced over the limit", 1000, 5000, []int{1460, 1460}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := parsertest.NewEnv()
			env.Opts.MaxArtifactBytes = tt.limit
			d := newData(dataConn("192.0.2.10:40001", "192.0.2.20:50000", 0), env, &transfer{announced: tt.announced})
			var want []byte
			for j, n := range tt.packets {
				p := pattern(n, byte(i*16+j))
				d.ProcessPacket(parser.ServerToClient, p, t0)
				want = append(want, p...)
			}
			want = want[:min(len(want), tt.limit)]
			d.EndProcess(parser.EndClosed, t0)
			sum := sha256.Sum256(want)
			got, ok := env.Files[hex.EncodeToString(sum[:])]
			if !ok || !bytes.Equal(got, want) {
				t.Errorf("stored %d files; want one of %d bytes, the packets' bytes cut at %d", len(env.Files), len(want), tt.limit)
			}
		})
	}
}

// TestMultiLineReplies: a multi-line reply's lines, with or without
// their code, become one text, bounded at maxReplyText (the logon event
// carries the PASS reply's text whole).
func TestMultiLineReplies(t *testing.T) {
	x, y := strings.Repeat("x", 1000), strings.Repeat("y", 100)
	tests := []struct{ name, reply, want string }{
		{"indented", "230-Features:\r\n EPRT\r\n EPSV\r\n230 End\r\n", "Features: | EPRT | EPSV | End"},
		{"coded lines", "230-Line one\r\n230-Line two\r\n230 Done\r\n", "Line one | Line two | Done"},
		{"other code inside", "230-a\r\n220 not the end\r\n230-\r\n230 end\r\n", "a | 220 not the end | end"},
		{"single line", "230   spaced out  \r\n", "spaced out"},
		{"bare code", "230\r\n", ""},
		{"over the text cap", "230-" + x + x + "\r\n230 end\r\n", strings.Repeat("x", maxReplyText)},
		{"cut inside a line", "230-" + x + "\r\n230-" + y + "\r\n230 end\r\n", x + " | " + y[:maxReplyText-len(x)-3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, evs := runSplits(t, []parsertest.Segment{s("220 FTP\r\n"), c("USER a\r\n"), s("331 ok\r\n"), c("PASS b\r\n"), s(tt.reply)})
			logons := byType(evs, TypeLogon)
			if len(logons) != 1 {
				t.Fatalf("got %d logon events, want 1: %s", len(logons), parsertest.Normalize(evs))
			}
			got, _ := logons[0].Summary.Get("reply").(string)
			if got != tt.want || logons[0].Summary.Get("reply_code") != 230 {
				t.Errorf("reply %v, %d bytes %q...%q; want 230, %d bytes %q...%q", logons[0].Summary.Get("reply_code"), len(got), clip(got, 20), got[max(len(got)-20, 0):],
					len(tt.want), clip(tt.want, 20), tt.want[max(len(tt.want)-20, 0):])
			}
		})
	}
}

// TestMirrorReasons: the reasons given with mirror requests read as the
// formatted text they replace, for IPv4, IPv6 and zoned addresses.
func TestMirrorReasons(t *testing.T) {
	for _, s := range []string{"192.0.2.20:50000", "[2001:db8::20]:21", "[fe80::1%eth0]:2121", "[::ffff:192.0.2.1]:20"} {
		t.Run(s, func(t *testing.T) {
			ep := netip.MustParseAddrPort(s)
			for _, mode := range []string{"PASV", "EPRT"} {
				if got, want := mirrorReason("ftp-data ", mode, ep), fmt.Sprintf("ftp-data %s %s", mode, ep); got != want {
					t.Errorf("mirrorReason = %q, want %q", got, want)
				}
			}
			other := netip.MustParseAddr("198.51.100.7")
			if got, want := pairReason(ep.Addr(), other), "ftp-control host pair "+ep.Addr().String()+" "+other.String(); got != want {
				t.Errorf("pairReason = %q, want %q", got, want)
			}
		})
	}
}

// TestSummaryValues: verbs and reply codes boxed once are the values
// boxing them afresh gives, known or not.
func TestSummaryValues(t *testing.T) {
	for _, v := range []string{"USER", "RETR", "<greeting>", "XYZZY", "retr", ""} {
		if got := verbValue(v); got != any(v) {
			t.Errorf("verbValue(%q) = %#v, want %#v", v, got, v)
		}
	}
	for _, c := range []int{-1, 0, 150, 226, 255, 256, 331, 550, 999, 1000, 12345} {
		if got := codeValue(c); got != any(c) {
			t.Errorf("codeValue(%d) = %#v, want %#v", c, got, c)
		}
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = verbValue("STOR"), codeValue(550) }); a != 0 {
		t.Errorf("verbValue and codeValue of a known verb and code: %v allocations, want 0", a)
	}
}
