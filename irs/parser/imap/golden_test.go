package imap

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// The public captures in ../shared/pcaps/imap (next to the repository)
// run through the whole IRS pipeline. The events are compared with
// testdata/golden/<capture>.json (regenerate with
// `go test ./irs/parser/imap -run Golden -update` and review the diff),
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

// distinct returns the sorted distinct values of f over the events.
func distinct(evs []*event.Event, f func(*event.Event) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range evs {
		for _, v := range f(e) {
			if v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

func addrs(role string) func(*event.Event) []string {
	return func(e *event.Event) []string {
		var l []string
		for _, a := range byRole(e, role) {
			l = append(l, a.Address)
		}
		return l
	}
}

// arkimeSubjects are the subjects Arkime published for the Exchange
// session; Arkime keeps the first line of a folded Subject.
var arkimeSubjects = []string{"Fwd: Check this out!!", "Fwd: Fw: A new John 3:16", "Fwd: Jokes.com Joke Mail.", "Novell connection problems this morning",
	"RE: pipes implementation of bkupexec agent", "RE: remote re-install of hp workstation", "RE: we should upgrade to bind 8.2.2p3... ",
	"Re: The problem with NDS userids and bindery logins sometimes wor", "Re: how to add/commit sample ethereal captures?",
	"Testing of backups on UMR-CC-FS3", "Veteran's Day", "ghost 5.1b can't use a 5.1d image"}

// checkExchangeSession checks the Exchange 5.5 session that Arkime
// (arkime__imap) and Suricata (imap-detection) published.
func checkExchangeSession(t *testing.T, g *goldenRun) {
	t.Helper()
	evs := g.evs
	want(t, one(t, evs, TypeLogon), map[string]string{"summary.user": "neulingern", "summary.tag": "a0001"})
	parts := byType(evs, TypePartialDownload)
	if len(parts) != 25 {
		t.Errorf("%d email-partial-download; want 25 (FETCH 1:13 and 1:12 of BODY.PEEK[HEADER.FIELDS (...)])", len(parts))
	}
	dl := one(t, evs, TypeDownload)
	want(t, dl, map[string]string{"summary.item": "RFC822", "summary.message": "12", "summary.mailbox": "INBOX", "summary.tag": "a0007"})
	subjects := distinct(evs, func(e *event.Event) []string {
		if e.Type == TypeLogon || e.Type == TypeLogoff {
			return nil
		}
		return []string{e.Subject}
	})
	if len(subjects) != len(arkimeSubjects) {
		t.Errorf("%d distinct subjects %q; want Arkime's %d", len(subjects), subjects, len(arkimeSubjects))
	}
	for _, w := range arkimeSubjects {
		found := false
		for _, s := range subjects {
			found = found || strings.HasPrefix(s, strings.TrimSpace(w))
		}
		if !found {
			t.Errorf("subjects %q lack Arkime's %q", subjects, w)
		}
	}
	from := distinct(evs, addrs(event.RoleFrom))
	if got := strings.Join(from, ","); got != "gram@xiexie.org,hardcase_890@yahoo.com,hinze@umr.edu,hunt84jh@hotmail.com,jedg@umr.edu,obrennan@umr.edu,turner@umr.edu,uetrecht@umr.edu" {
		t.Errorf("from addresses %s; want Arkime's email.src", got)
	}
	to := distinct(evs, func(e *event.Event) []string { return append(addrs(event.RoleTo)(e), addrs(event.RoleCc)(e)...) })
	for _, w := range []string{"bonehead83_98@yahoo.com", "cc-nt@umr.edu", "cc-pgmr@umr.edu", "dmadrid@semo.net", "lsmsde@cs.com", "nneul@umr.edu",
		"rwa@umr.edu", "scentryk9@aol.com", "silverdazees@hotmail.com", "vbkay02_2000@yahoo.com"} {
		if i := sort.SearchStrings(to, w); i >= len(to) || to[i] != w {
			t.Errorf("to/cc addresses lack Arkime's email.dst %s", w)
		}
	}
	lo := one(t, evs, TypeLogoff)
	want(t, lo, map[string]string{"summary.mailboxes": "[INBOX]", "summary.command_count": "26", "summary.status_counts": "map[OK:26]",
		"summary.greeting": "* OK Microsoft Exchange IMAP4rev1 server version 5.5.2650.23 (umr-mail02) ready"})
}

var goldenCases = []goldenCase{
	{
		file: "arkime__imap.pcap",
		others: "Arkime: folder INBOX; 12 subjects; email.src gram@xiexie.org, hardcase_890@yahoo.com, hinze@umr.edu, hunt84jh@hotmail.com, jedg@umr.edu, " +
			"obrennan@umr.edu, turner@umr.edu, uetrecht@umr.edu; email.dst bonehead83_98@yahoo.com … vbkay02_2000@yahoo.com (10)",
		differs: "Arkime keeps the first line of a folded Subject ('… sometimes wor'); sdnli unfolds it (RFC 5322 2.2.3: '… sometimes wor king.....') " +
			"and trims the trailing space of 'RE: we should upgrade to bind 8.2.2p3... '. " +
			"Arkime lists 10 recipients; sdnli names every To and Cc address of the 26 fetched headers (Arkime's among them)",
		check: checkExchangeSession,
	},
	{
		file:    "suricata-verify__imap-detection__input.pcap",
		others:  "Suricata 8: one imap flow 131.151.32.21:4167 → 131.151.37.122:143 (detection test; the same Exchange session as arkime__imap)",
		differs: "Suricata checks the detection only; sdnli records the session as for arkime__imap",
		check: func(t *testing.T, g *goldenRun) {
			if n := len(byType(g.evs, TypeLogoff)); n != 1 || g.evs[0].Client.String() != "131.151.32.21:4167" || g.evs[0].Server.String() != "131.151.37.122:143" {
				t.Errorf("sessions %d, first %v → %v; want Suricata's one flow", n, g.evs[0].Client, g.evs[0].Server)
			}
			checkExchangeSession(t, g)
		},
	},
	{
		file:     "ndpi__imap.pcap",
		password: true,
		others:   "nDPI: IMAP, User samir, Pwd pfres",
		differs:  "sdnli also restores the header the client fetched (UID FETCH 1:* BODY.PEEK[HEADER]) with its addresses",
		check: func(t *testing.T, g *goldenRun) {
			want(t, one(t, g.evs, TypeLogon), map[string]string{"summary.user": "samir", "summary.password": "pfres", "summary.mechanism": "LOGIN"})
			part := one(t, g.evs, TypePartialDownload)
			want(t, part, map[string]string{"subject": "coucou", "summary.item": "BODY[HEADER]", "summary.uid": "10", "summary.command": "UID FETCH",
				"summary.peek": "true", "summary.mailbox": "INBOX", "summary.rfc822_size": "698", "summary.size": "666", "artifacts.0.name": "part-HEADER.txt"})
			for _, w := range []event.Address{{Address: "employe@ent2.com", Role: event.RoleFrom}, {Address: "samir@ent2.com", Role: event.RoleTo},
				{Address: "administrator@ent2.com", Role: event.RoleCc}, {Address: "samir", Role: event.RoleUser}} {
				if !hasAddress(part, w.Role, w.Address) {
					t.Errorf("addresses %v; want %s/%s", part.Addresses, w.Address, w.Role)
				}
			}
			want(t, one(t, g.evs, TypeLogoff), map[string]string{"summary.capabilities": "[IMAP4rev1 IDLE AUTH=LOGIN AUTH=PLAIN AUTH=CRAM-MD5]"})
		},
	},
	{
		file:    "ndpi__imap-starttls.pcap",
		others:  "nDPI: IMAPS (STARTTLS, then TLS)",
		differs: "nDPI names the flow after the TLS it turns into; sdnli records the plaintext part and stops where TLS begins",
		check:   checkStartTLS,
	},
	{
		file:   "zeek__imap-starttls.pcap",
		others: "Zeek: 'Tls started for connection'; conn.log service imap,ssl",
		check:  checkStartTLS,
	},
	{
		file:    "ndpi__imaps.pcap",
		others:  "nDPI: two IMAPS flows on port 993 (implicit TLS, SNI mail.ntop.org and imap.asia.secureserver.net)",
		differs: "nothing to parse: sdnli's IMAP detector turns TLS down and records no event",
		check: func(t *testing.T, g *goldenRun) {
			if len(g.evs) != 0 {
				t.Errorf("events %s; want none", types(g.evs))
			}
		},
	},
}

// checkStartTLS checks the GMX session of ndpi__imap-starttls and
// zeek__imap-starttls: CAPABILITY, STARTTLS accepted, then TLS.
func checkStartTLS(t *testing.T, g *goldenRun) {
	t.Helper()
	lo := one(t, g.evs, TypeLogoff)
	want(t, lo, map[string]string{"summary.starttls": "accepted", "summary.end_reason": "parser-done", "summary.command_count": "2",
		"summary.commands.1.command": "STARTTLS", "summary.commands.1.tag": ".", "summary.commands.1.reply": "Begin TLS negotiation now"})
	if c, _ := lo.Summary.Get("capabilities").([]string); len(c) == 0 || c[0] != "IMAP4rev1" {
		t.Errorf("capabilities %v", lo.Summary.Get("capabilities"))
	}
	if len(lo.Anomalies) != 0 {
		t.Errorf("anomalies %q; want none", lo.Anomalies)
	}
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

// TestGolden runs the whole IRS pipeline over every public IMAP capture,
// compares the events with testdata/golden, checks the facts other tools
// published and that the restored files hash to what the events say.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "imap")
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
