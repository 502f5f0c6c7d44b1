package pop3

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// The public captures in ../shared/pcaps/pop3 (next to the repository)
// run through the whole IRS pipeline. The events are compared with
// testdata/golden/<capture>.json (regenerate with
// `go test ./irs/parser/pop3 -run Golden -update` and review the diff),
// and the facts Suricata, Zeek, Arkime and nDPI published for each
// capture are checked below.

// goldenCase is one public capture: what the other tools published for
// it, where sdnli differs and why, and the facts checked here.
type goldenCase struct {
	file     string
	others   string // what Suricata, Zeek, nDPI or Arkime reported
	differs  string // where sdnli differs, and why ("" when it agrees)
	password bool   // run with RecordPasswords
	check    func(t *testing.T, g *goldenRun)
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

// commandLog renders a logoff event's command log as "VERB arg STATUS
// reply" lines, the way Zeek's and Suricata's request/response logs read.
func commandLog(t *testing.T, ev *event.Event) []string {
	t.Helper()
	l, _ := ev.Summary.Get("commands").(LogList)
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = strings.Join(strings.Fields(strings.Join([]string{e.Command, e.Arg, e.Status, e.Reply}, " ")), " ")
	}
	return out
}

func wantLog(t *testing.T, ev *event.Event, want ...string) {
	t.Helper()
	got := commandLog(t, ev)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("command log\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

var goldenCases = []goldenCase{
	{
		file:    "arkime__pop3-tag.pcap",
		others:  "Arkime: protocol pop3 (tagged by its own yara and intel rules)",
		differs: "the tags come from Arkime's rule set; sdnli records the session (a greeting, nothing else)",
		check: func(t *testing.T, g *goldenRun) {
			if len(g.evs) != 1 {
				t.Fatalf("events %s; want only the logoff", types(g.evs))
			}
			want(t, g.evs[0], map[string]string{"summary.greeting": "+OK POP3 ready", "summary.command_count": "0"})
		},
	},
	{
		file:     "ndpi__pop3.pcap",
		password: true,
		others: "nDPI: six POP3 flows; 143.225.229.181:35287 with User cicciopernacchio@mail.com and Pwd pippozzo; " +
			"the five 192.168.0.4 flows of zeek__pop3",
		check: func(t *testing.T, g *goldenRun) {
			evs := g.conn(t, 35287)
			want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": "cicciopernacchio@mail.com", "summary.password": "pippozzo"})
			dl := one(t, evs, TypeDownload)
			want(t, dl, map[string]string{"subject": "Mail importante"})
			if !hasAddress(dl, event.RoleUser, "cicciopernacchio@mail.com") {
				t.Errorf("addresses %v; want the user", dl.Addresses)
			}
			if n := len(byType(g.evs, TypeLogoff)); n != 6 {
				t.Errorf("%d logoff events; want one per nDPI flow (6)", n)
			}
		},
	},
	{
		file:    "ndpi__pop3_stls.pcap",
		others:  "nDPI: POPS (STLS, then TLS with SNI pop.lavabit.com)",
		differs: "nDPI names the flow after the TLS it turns into; sdnli records the plaintext part and stops where TLS begins",
		check: func(t *testing.T, g *goldenRun) {
			lo := one(t, g.evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.stls": "accepted", "summary.end_reason": "parser-done"})
			if !strings.HasPrefix(lo.Summary.Get("greeting").(string), "+OK lavad") {
				t.Errorf("greeting %v", lo.Summary.Get("greeting"))
			}
		},
	},
	{
		file:    "ndpi__pops.pcapng",
		others:  "nDPI: POPS on port 995 (implicit TLS, SNI pop.secureserver.net)",
		differs: "nothing to parse: sdnli's POP3 detector turns TLS down and records no event",
		check: func(t *testing.T, g *goldenRun) {
			if len(g.evs) != 0 {
				t.Errorf("events %s; want none", types(g.evs))
			}
		},
	},
	{
		file: "suricata-verify__pop3-02-bug-7709__input.pcap",
		others: "Suricata 8: two pop3 flows; PASS answered +OK once and -ERR 'the password incorrect' once; LIST '5 21639' with " +
			"'1 247' … '5 6668'; UIDL with test.tt.com.cmailserver.1 … 5; QUIT +OK twice",
		differs: "sdnli also restores the message of RETR 5 (its UID from the UIDL listing) and ignores the third flow, one stray packet",
		check: func(t *testing.T, g *goldenRun) {
			bad := g.conn(t, 38571)
			want(t, one(t, bad, TypeLogonFailure), map[string]string{"summary.user": "test@tt.com", "summary.reply": "the password incorrect", "summary.status": "-ERR"})
			want(t, one(t, bad, TypeLogoff), map[string]string{"summary.quit_reply": "+OK bye"})
			good := g.conn(t, 38572)
			want(t, one(t, good, TypeLogon), map[string]string{"summary.user": "test", "summary.status": "+OK"})
			dl := one(t, good, TypeDownload)
			want(t, dl, map[string]string{"summary.message": "5", "summary.uid": "test.tt.com.cmailserver.5", "summary.announced_octets": "6668",
				"subject": "回复: 回复: 测试1下"})
			lo := one(t, good, TypeLogoff)
			want(t, lo, map[string]string{"summary.listed": "5", "summary.stat": "5 21639", "summary.quit": "true"})
			wantLog(t, lo, "USER test +OK welcome here", "PASS ******** +OK", "STAT +OK 5 21639", "LIST +OK 5 21639", "UIDL +OK", "RETR 5 +OK 6668 octets", "QUIT +OK bye")
			if n := len(byType(g.evs, TypeLogoff)); n != 2 {
				t.Errorf("%d sessions; want Suricata's two pop3 flows", n)
			}
		},
	},
	{
		file: "suricata-verify__pop3-auth-01__input.pcap",
		others: "Suricata 8: CAPA with USER, RESP-CODES, EXPIRE 0, LOGIN-DELAY 300, TOP, UIDL, X-GOOGLE-RICO, SASL PLAIN XOAUTH2 OAUTHBEARER; " +
			"AUTH XOAUTH2, SASL data answered 'Welcome.'; STAT '1 308661'; LIST '1 messages (308661 bytes)' with '1 308661'; UIDL '1 GmailId123456789'; QUIT",
		differs: "the capture has no server greeting, which sdnli reports; it decodes the XOAUTH2 user (joe.speedboat)",
		check: func(t *testing.T, g *goldenRun) {
			want(t, one(t, g.evs, TypeLogon), map[string]string{"summary.mechanism": "XOAUTH2", "summary.user": "joe.speedboat", "summary.reply": "Welcome."})
			lo := one(t, g.evs, TypeLogoff)
			want(t, lo, map[string]string{
				"summary.capabilities": "[USER RESP-CODES EXPIRE 0 LOGIN-DELAY 300 TOP UIDL X-GOOGLE-RICO SASL PLAIN XOAUTH2 OAUTHBEARER]",
				"summary.stat":         "1 308661",
				"summary.listed":       "1",
			})
			wantLog(t, lo, "CAPA +OK Capability list follows", "AUTH XOAUTH2 +OK Welcome.", "STAT +OK 1 308661", "LIST +OK 1 messages (308661 bytes)", "UIDL +OK", "QUIT none")
			wantAnomaly(t, lo, "no server greeting seen")
		},
	},
	{
		file: "suricata-verify__pop3__input.pcap",
		others: "Suricata 8: 56 pop3 events: the greeting 'POP server ready H mieueus020 1Mw7UO-1j88qA02mS-00sOH0', USER moises.nunez@ingenierianumar.com " +
			"('password required for user …'), PASS, STAT, LIST, RSET, UIDL once each and TOP 49 times, all successful",
		differs: "sdnli keeps each TOP answer as a partial download with its decoded header",
		check: func(t *testing.T, g *goldenRun) {
			tops := byType(g.evs, TypePartialDownload)
			if len(tops) != 49 {
				t.Fatalf("%d email-partial-download; want Suricata's 49 TOP", len(tops))
			}
			lo := one(t, g.evs, TypeLogoff)
			want(t, lo, map[string]string{
				"summary.greeting":      "+OK POP server ready H mieueus020 1Mw7UO-1j88qA02mS-00sOH0",
				"summary.user":          "moises.nunez@ingenierianumar.com",
				"summary.command_count": "55", // with the greeting, Suricata's 56 events
				"summary.top":           "49",
			})
			log := commandLog(t, lo)
			if log[0] != `USER moises.nunez@ingenierianumar.com +OK password required for user "moises.nunez@ingenierianumar.com"` {
				t.Errorf("first command %q", log[0])
			}
			for _, l := range log {
				if !strings.Contains(l, " +OK") {
					t.Errorf("command %q not successful; Suricata: all successful", l)
				}
			}
			for _, e := range tops {
				if e.Summary.Get("part") == nil || len(e.Artifacts) != 1 || e.Artifacts[0].Kind != event.KindFile || !hasAddress(e, event.RoleUser, "moises.nunez@ingenierianumar.com") {
					t.Errorf("TOP event %v: want a part, one file artifact and the user", e.Summary)
				}
			}
		},
	},
	{
		file:   "zeek__pop3-starttls.pcap",
		others: "Zeek conn.log: service pop3,ssl (STLS then TLS)",
		check: func(t *testing.T, g *goldenRun) {
			lo := one(t, g.evs, TypeLogoff)
			want(t, lo, map[string]string{"summary.stls": "accepted", "summary.apop_offered": "true",
				"summary.greeting": "+OK ladymacbeth.local Cyrus POP3 v2.3.16 server ready <15125655727712503824.1400173552@ladymacbeth.local>"})
			wantLog(t, lo, "STLS +OK Begin TLS negotiation now")
		},
	},
	{
		file: "zeek__pop3.pcap",
		others: "Zeek basic output: five sessions with their requests and replies (CAPA/QUIT; AUTH -ERR, CAPA, AUTH PLAIN -ERR 'authentication failed'; " +
			"AUTH PLAIN +OK 'mailbox … has 3 messages'; STAT 3 19191, LIST, UIDL, RETR 1-3, QUIT); two rejected connections without service",
		differs: "Zeek logs the AUTH PLAIN continuation as part of the exchange; sdnli also decodes its user and restores the three messages",
		check: func(t *testing.T, g *goldenRun) {
			wantLog(t, one(t, g.conn(t, 26272), TypeLogoff), "CAPA +OK Capability list follows", "QUIT +OK POP server signing off")
			fail := g.conn(t, 26284)
			wantLog(t, one(t, fail, TypeLogoff), "AUTH -ERR 1 argument required", "CAPA +OK Capability list follows", "AUTH PLAIN -ERR authentication failed")
			want(t, one(t, fail, TypeLogonFailure), map[string]string{"summary.user": "digitalinvestigator@networksims.com"})
			full := g.conn(t, 26383)
			wantLog(t, one(t, full, TypeLogoff), "AUTH -ERR 1 argument required", "CAPA +OK Capability list follows",
				`AUTH PLAIN +OK mailbox "digitalinvestigator@networksims.com" has 3 messages (19191 octets) H mimap15`,
				"STAT +OK 3 19191", "LIST +OK", "UIDL +OK", "RETR 1 +OK", "RETR 2 +OK", "RETR 3 +OK", "QUIT +OK POP server signing off")
			dls := byType(full, TypeDownload)
			if len(dls) != 3 {
				t.Fatalf("events %s; want three email-download", types(full))
			}
			for i, subj := range []string{"A message from 1&1 Internet", "Testing", "RE: Testing"} {
				want(t, dls[i], map[string]string{"subject": subj, "summary.message": strconv.Itoa(i + 1)})
			}
			if n := len(byType(g.evs, TypeLogoff)); n != 5 {
				t.Errorf("%d sessions; want Zeek's five pop3 connections", n)
			}
		},
	},
}

// checkArtifacts requires every artifact an event names to be stored as
// the event says, and a message event's sha256 to be its .eml's.
func checkArtifacts(t *testing.T, g *goldenRun) {
	t.Helper()
	g.res.CheckArtifacts(t)
	for _, ev := range g.evs {
		if len(ev.Artifacts) > 0 && ev.Summary.Get("sha256") != ev.Artifacts[0].SHA256 {
			t.Errorf("%s summary sha256 %v; want the first artifact's %s", ev.Type, ev.Summary.Get("sha256"), ev.Artifacts[0].SHA256)
		}
	}
}

// TestGolden runs the whole IRS pipeline over every public POP3 capture,
// compares the events with testdata/golden, checks the facts other tools
// published and that the restored files hash to what the events say.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "pop3")
	known := map[string]bool{}
	for _, tc := range goldenCases {
		known[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			reg := parser.NewRegistry()
			reg.Add(Detector{})
			opts := parser.DefaultOptions()
			opts.RecordPasswords = tc.password
			res := golden.Run(t, reg, opts, filepath.Join(dir, tc.file))
			if res.Err != nil {
				t.Fatalf("engine: %v", res.Err)
			}
			golden.Check(t, strings.TrimSuffix(strings.TrimSuffix(tc.file, ".pcapng"), ".pcap"), res.Events)
			g := &goldenRun{res: res, evs: res.Events}
			checkArtifacts(t, g)
			tc.check(t, g)
		})
	}
	golden.CheckCovered(t, dir, known)
}
