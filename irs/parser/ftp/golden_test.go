package ftp

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// goldenCase is one public capture: what the other tools published for
// it, where sdnli differs and why, and the key facts checked here.
type goldenCase struct {
	file     string
	others   string // what Suricata, Zeek, nDPI or Arkime reported
	differs  string // where sdnli differs, and why ("" when it agrees)
	password bool   // run with RecordPasswords
	check    func(t *testing.T, evs []*event.Event)
}

// transfers returns the file and listing events.
func transfers(evs []*event.Event) []*event.Event {
	var out []*event.Event
	for _, e := range evs {
		if e.Type == TypeDownload || e.Type == TypeUpload || e.Type == TypeListing {
			out = append(out, e)
		}
	}
	return out
}

func session(t *testing.T, evs []*event.Event) *event.Event {
	t.Helper()
	s := byType(evs, TypeSession)
	if len(s) != 1 {
		t.Fatalf("got %d ftp-session events, want 1", len(s))
	}
	return s[0]
}

// commandLog returns "VERB arg code" lines of a session.
func commandLog(ev *event.Event) []string {
	var out []string
	for _, c := range ev.Summary.Get("commands").([]event.Fields) {
		line := c.Get("command").(string)
		if a, ok := c.Get("arg").(string); ok {
			line += " " + a
		}
		if code, ok := c.Get("reply_code").(int); ok {
			line += " " + itoa(code)
		}
		out = append(out, line)
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// checkTransfers compares the transfer events, in order, with want
// entries "type name size mode data_server".
func checkTransfers(t *testing.T, evs []*event.Event, want ...string) {
	t.Helper()
	got := transfers(evs)
	if len(got) != len(want) {
		t.Fatalf("got %d transfers, want %d", len(got), len(want))
	}
	for i, ev := range got {
		s := ev.Summary
		line := strings.Join([]string{ev.Type, s.Get("filename").(string), itoa(int(s.Get("size").(int64))), s.Get("mode").(string), s.Get("data_server").(string)}, " ")
		if line != want[i] {
			t.Errorf("transfer %d = %q, want %q", i, line, want[i])
		}
		if len(ev.Artifacts) != 1 || ev.Artifacts[0].Size != s.Get("size").(int64) {
			t.Errorf("transfer %d: artifact %+v does not hold the file", i, ev.Artifacts)
		}
	}
}

var goldenCases = []goldenCase{
	{file: "arkime__ftp.pcap",
		others:  "Arkime: banner 'Welcome to mirrors.rit.edu.', commands USER and PASS, reply codes 220 331 230; Suricata: 3 ftp events",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			s := session(t, evs)
			checkSummary(t, s, map[string]any{"banner": "Welcome to mirrors.rit.edu.", "user": "anonymous", "logged_in": true, "command_count": 2})
			if len(byType(evs, TypeLogon)) != 1 {
				t.Errorf("no logon event")
			}
		}},
	{file: "ndpi__ftp-start-tls.pcap",
		others:  "nDPI: FTPS (AUTH TLS then TLS); Suricata: flow only (detection failed)",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			checkSummary(t, session(t, evs), map[string]any{"auth_tls": true, "command_count": 1, "logged_in": false})
		}},
	{file: "ndpi__ftp.pcap", password: true,
		others:  "nDPI: FTP_CONTROL, User anonymous, Pwd NcFTP@, and one FTP_DATA flow; Suricata: 19 ftp, 1 ftp_data, 1 fileinfo",
		differs: "the listing's data connection is recognised as well (nDPI's port-based FTP_DATA finds one flow); the capture ends 109440 bytes into the 1048576 announced for 1MB.zip, which sdnli reports as an anomaly",
		check: func(t *testing.T, evs []*event.Event) {
			logon := byType(evs, TypeLogon)
			if len(logon) != 1 {
				t.Fatalf("got %d logon events, want 1", len(logon))
			}
			checkSummary(t, logon[0], map[string]any{"user": "anonymous", "password": "NcFTP@"})
			checkTransfers(t, evs, "listing listing.txt 1205 PASV 90.130.70.73:25685", "file-download 1MB.zip 109440 PASV 90.130.70.73:24523")
			dl := transfers(evs)[1]
			checkSummary(t, dl, map[string]any{"announced_size": 1048576})
			if len(dl.Anomalies) != 1 || !strings.Contains(dl.Anomalies[0], "109440 bytes seen, 1048576 announced") {
				t.Errorf("anomalies = %v", dl.Anomalies)
			}
		}},
	{file: "ndpi__ftp_failed.pcap",
		others:  "nDPI: FTP_CONTROL over IPv6, User hello, Auth Failed; Suricata: 4 ftp events",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			f := byType(evs, TypeLogonFailure)
			if len(f) != 1 {
				t.Fatalf("got %d logon-failure events, want 1", len(f))
			}
			checkSummary(t, f[0], map[string]any{"user": "hello", "reply_code": 530})
			checkSummary(t, session(t, evs), map[string]any{"banner": "(vsFTPd 3.0.3)", "logged_in": false})
		}},
	{file: "pcapplusplus__Ftp.pcap",
		others:  "(captures only) stray FTP packets with reused sequence numbers; Suricata: flows only, no ftp event",
		differs: "sdnli parses what it can of the stray control packets (the USER csanders session); the lone data packet had no announcement and stays unclaimed",
		check: func(t *testing.T, evs []*event.Event) {
			if len(transfers(evs)) != 0 {
				t.Errorf("a transfer was reported from stray packets")
			}
			found := false
			for _, s := range byType(evs, TypeSession) {
				found = found || s.Summary.Get("user") == "csanders"
			}
			if !found {
				t.Errorf("no session with the user csanders")
			}
		}},
	{file: "suricata-verify__bug-3519__input.pcap",
		others:  "Suricata: 8 ftp events (USER, PASS anonymous 230 'Login successful.', NLST with 150/226, PORT ×2, RETR, QUIT)",
		differs: "the capture holds no data connection, so there is no file event",
		check: func(t *testing.T, evs []*event.Event) {
			log := commandLog(session(t, evs))
			for _, w := range []string{"USER anonymous 331", "PASS ******** 230", "NLST 226", "PORT 192,168,0,13,234,10 200", "PORT 192,168,0,13,234,22 200", "RETR temp.txt 226", "QUIT 221"} {
				if !hasLine(log, w) {
					t.Errorf("command log %v lacks %q", log, w)
				}
			}
			if len(transfers(evs)) != 0 {
				t.Errorf("transfer reported without a data connection")
			}
		}},
	{file: "suricata-verify__ftp-active-mode.pcap",
		others:  "Suricata: one file stored from the active-mode data connection",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "file-download index.html 39 PORT 127.0.0.1:40003")
		}},
	{file: "suricata-verify__ftp-download-active__input.pcap",
		others:  "Suricata: ftp_data RETR index.html from 172.23.0.2 to 172.23.0.3 (active mode), USER from 172.23.0.3",
		differs: "sdnli also reports the two directory listings",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "listing listing.txt 25 PORT 172.23.0.3:44671", "file-download index.html 39 PORT 172.23.0.3:43585",
				"listing listing.txt 25 PORT 172.23.0.3:43439")
			dl := transfers(evs)[1]
			if dl.Client.Addr().String() != "172.23.0.3" || dl.Server.Addr().String() != "172.23.0.2" {
				t.Errorf("download addresses %v → %v, want the control connection's client 172.23.0.3", dl.Client, dl.Server)
			}
		}},
	{file: "suricata-verify__ftp-download-passive__input.pcap",
		others:  "Suricata: ftp_data RETR index.html (passive mode; the server announces port 21008 twice)",
		differs: "sdnli also reports the two directory listings",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "listing listing.txt 25 PASV 172.23.0.2:21001", "file-download index.html 39 PASV 172.23.0.2:21008",
				"listing listing.txt 25 PASV 172.23.0.2:21008")
		}},
	{file: "suricata-verify__ftp-epsv__input.pcap",
		others:  "Suricata: EPSV with dynamic_port 58612",
		differs: "the capture holds no data connection, so there is no file event",
		check: func(t *testing.T, evs []*event.Event) {
			s := session(t, evs)
			found := false
			for _, c := range s.Summary.Get("commands").([]event.Fields) {
				found = found || c.Get("command") == "EPSV" && strings.Contains(c.Get("reply").(string), "|||58612|")
			}
			if !found {
				t.Errorf("no EPSV with port 58612 in the command log")
			}
			checkSummary(t, s, map[string]any{"files": []string{"RETR resume.doc", "STOR README"}})
		}},
	{file: "suricata-verify__ftp-passive-mode.pcap",
		others:  "Suricata: one file stored from the passive-mode data connection",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "file-download index.html 39 PASV 127.0.0.1:47373")
		}},
	{file: "suricata-verify__ftp-upload-active__input.pcap",
		others:  "Suricata: ftp_data STOR index.html, flow from 172.23.0.3 to 172.23.0.2",
		differs: "sdnli also reports the two directory listings",
		check: func(t *testing.T, evs []*event.Event) {
			tr := transfers(evs)
			if len(tr) != 3 || tr[1].Type != TypeUpload || tr[1].Summary.Get("filename") != "index.html" || tr[1].Summary.Get("size") != int64(39) {
				t.Errorf("transfers: %v", tr)
			}
		}},
	{file: "suricata-verify__ftp-upload-passive__input.pcap",
		others:  "Suricata: ftp_data STOR index.html from 172.23.0.3 to 172.23.0.2",
		differs: "sdnli also reports the two directory listings",
		check: func(t *testing.T, evs []*event.Event) {
			tr := transfers(evs)
			if len(tr) != 3 || tr[1].Type != TypeUpload || tr[1].Summary.Get("filename") != "index.html" || tr[1].Summary.Get("mode") != "PASV" {
				t.Errorf("transfers: %v", tr)
			}
		}},
	{file: "suricata-verify__output-eve-ftp-data__input.pcap",
		others:  "Suricata 8: 2 ftp_data events, one of them RETR temp.txt",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "listing listing.txt 10 PORT 192.168.0.13:59914", "file-download temp.txt 1164 PORT 192.168.0.13:59926")
		}},
	{file: "zeek__ftp-auth-tls.pcap",
		others:  "Zeek ftp.log: <init> 220 (vsFTPd 3.0.5), AUTH TLS 234 'Proceed with negotiation.'; a starttls event",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			s := session(t, evs)
			checkSummary(t, s, map[string]any{"auth_tls": true, "banner": "(vsFTPd 3.0.5)"})
			if log := commandLog(s); !hasLine(log, "AUTH TLS 234") {
				t.Errorf("command log %v", log)
			}
		}},
	{file: "zeek__ipv4.pcap", password: true,
		others:  "Zeek ftp.log: anonymous/test; PASV to 199.233.217.249:56666 and :56667, RETR robots.txt 77 bytes (226); PORT to 141.142.220.235:33582 and :37835, RETR robots.txt 77 bytes",
		differs: "sdnli also reports the two directory listings as listing events",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "listing listing.txt 342 PASV 199.233.217.249:56666", "file-download robots.txt 77 PASV 199.233.217.249:56667",
				"listing listing.txt 342 PORT 141.142.220.235:33582", "file-download robots.txt 77 PORT 141.142.220.235:37835")
			checkSummary(t, byType(evs, TypeLogon)[0], map[string]any{"user": "anonymous", "password": "test"})
		}},
	{file: "zeek__ipv6.pcap",
		others:  "Zeek ftp.log: EPSV to ports 57086-57088, RETR robots.txt 77 bytes; EPRT to port 49189 and 49190, RETR robots.txt 77 bytes",
		differs: "sdnli also reports the directory listings as listing events",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "listing listing.txt 342 EPSV [2001:470:4867:99::21]:57086", "listing listing.txt 43 EPSV [2001:470:4867:99::21]:57087",
				"file-download robots.txt 77 EPSV [2001:470:4867:99::21]:57088", "file-download robots.txt 77 EPRT [2001:470:1f11:81f:c999:d94:aa7c:2e3e]:49189",
				"listing listing.txt 342 EPRT [2001:470:1f11:81f:c999:d94:aa7c:2e3e]:49190")
		}},
	{file: "zeek__retr.pcap",
		others:  "(no published result) tshark: EPSV, RETR /README; Suricata: 1 ftp_data, 1 fileinfo",
		differs: "",
		check: func(t *testing.T, evs []*event.Event) {
			checkTransfers(t, evs, "file-download README 16557 EPSV 141.142.192.162:38141")
		}},
}

// TestGolden runs the whole IRS pipeline over every public FTP capture,
// compares the events with testdata/golden (regenerate with -update and
// review the diff) and checks the facts other tools published.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "ftp")
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(NewDetector())
			opts := parser.DefaultOptions()
			opts.RecordPasswords = tc.password
			res := golden.Run(t, reg, opts, filepath.Join(dir, tc.file))
			if res.Err != nil {
				t.Fatalf("engine: %v", res.Err)
			}
			golden.Check(t, strings.TrimSuffix(tc.file, ".pcap"), res.Events)
			tc.check(t, res.Events)
		})
	}
	golden.CheckCovered(t, dir, known)
}
