//go:build integration

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller/client"
	"github.com/sdnli/sdnli/controller/ovslab"
	"github.com/sdnli/sdnli/internal/mnlab"
	"github.com/sdnli/sdnli/internal/testdb"
)

// bulkRate limits the clients' file transfers: a burst at veth speed
// through the userspace datapath loses a copy now and then on its way
// across two switches to the IRS (a TCP gap in the restored file).
const bulkRate = "4M"

// ftpDataPort is vsftpd's only passive port. The IRS asks the controller
// to mirror a data connection when it sees the 227/229 reply, and curl
// connects at once: the first transfer to a new endpoint races the flow
// installation and is often not (wholly) seen. With one passive port,
// later transfers reuse an endpoint that is already mirrored.
const ftpDataPort = "30000"

// lab is the running system: the network, its servers, the sdnli
// daemons and a logged-in administrator of the analyzer.
type lab struct {
	n              *mnlab.Network
	h1, h2, h3     *ovslab.Host
	ctl            *client.Client
	api            *analyst
	work, www, ftp string
	procs          []*mnlab.Proc
}

// startLab brings the whole system up on multi_switch.py: h1 and h2 on
// s1, the servers on h3 (s2), the IRS alone on s3.
func startLab(t *testing.T) *lab {
	t.Helper()
	for _, tool := range []string{"curl", "tshark", "vsftpd", "postfix", "dovecot", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run scripts/setup.sh", tool)
		}
	}
	bin := mnlab.Binary(t)
	_, dsn := testdb.Shared(t)
	root := mnlab.RepoRoot(t)
	ofAddr := mnlab.FreeAddr(t)
	n := mnlab.StartNetwork(t, "multi_switch.py", ofAddr, e2eNet)
	rootIP, irsIP := mgmtLink(t, n)
	l := &lab{n: n, h1: n.Host(t, "h1"), h2: n.Host(t, "h2"), h3: n.Host(t, "h3")}
	l.work = mnlab.TempDir(t, "sdnli-e2e-")

	// Controller: the mail protocols, HTTP, FTP control and ICMP; FTP
	// data connections only by the IRS's dynamic requests.
	cfg := fmt.Sprintf(`{"lldp_interval": "1s", "check_interval": "2s",
  "irs": [{"name": "e2e-irs", "dpid": %q, "port": %q}],
  "protocols": {"smtp": {"enabled": true}, "pop3": {"enabled": true}, "imap": {"enabled": true},
    "http": {"enabled": true, "ports": [{"transport": "tcp", "port": 80}]},
    "ftp": {"enabled": true}, "icmp": {"enabled": true}}}`, n.IRS.DPID, n.IRS.PortName)
	cfgFile := filepath.Join(l.work, "controller.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctlAPI := fmt.Sprintf("%s:%d", rootIP, mnlab.FreePort(t))
	ctl := mnlab.StartProc(t, "controller", exec.Command(bin, "controller", "--listen", ofAddr, "--api", ctlAPI,
		"--config", cfgFile, "--db", dsn, "--echo-interval", "1s", "--log-level", "warn"))
	l.ctl = client.New("http://" + ctlAPI)
	l.waitProgrammed(t, ctl)

	// Servers on h3: Postfix + Dovecot, a web server, vsftpd.
	mailSh := filepath.Join(root, "topologies", "servers", "mail.sh")
	mailDir := filepath.Join(l.work, "mail")
	t.Cleanup(func() { _, _ = l.h3.Run("bash", mailSh, "stop", mailDir) })
	l.h3.Must("bash", mailSh, "start", mailDir, l.h3.Addr, n.Subnet+".0/24")
	l.www = filepath.Join(l.work, "www")
	if err := os.MkdirAll(l.www, 0o755); err != nil {
		t.Fatal(err)
	}
	web := mnlab.StartProc(t, "web", l.h3.Command(mnlab.Python, filepath.Join(root, "topologies", "servers", "web.py"), l.www, l.h3.Addr, "80"))
	l.ftp = filepath.Join(l.work, "ftp")
	ftp := mnlab.StartProc(t, "ftp", l.h3.Command("bash", filepath.Join(root, "topologies", "servers", "ftp.sh"), l.ftp, l.h3.Addr, ftpDataPort, ftpDataPort))

	// The IRS in the IRS host: capture on its switch port, API and
	// controller requests over the management link.
	token := ovslab.ID(16)
	irsHost := n.Host(t, "irs")
	irs := mnlab.StartProc(t, "irs", irsHost.Command(bin, "irs", "--iface", n.IRS.Intf, "--db", dsn,
		"--data-dir", filepath.Join(l.work, "irs"), "--name", "e2e-irs",
		"--api", irsIP+":8099", "--api-url", "http://"+irsIP+":8099", "--api-token", token,
		"--controller", "http://"+ctlAPI, "--heartbeat", "1s", "--log-level", "info"))

	// The analyzer and its first administrator.
	password := "e2e-" + ovslab.ID(12)
	add := exec.Command(bin, "user", "add", "--db", dsn, "--name", "e2e-admin", "--role", "admin")
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("sdnli user add: %v\n%s", err, out)
	}
	anaAddr := mnlab.FreeAddr(t)
	ana := mnlab.StartProc(t, "analyzer", exec.Command(bin, "analyzer", "--listen", anaAddr, "--db", dsn,
		"--controller", "http://"+ctlAPI, "--irs-token", token, "--log-level", "warn"))
	base := "http://" + anaAddr
	l.procs = []*mnlab.Proc{ctl, web, ftp, irs, ana}
	mnlab.WaitFor(t, 30*time.Second, "the analyzer to answer", func() bool { return ping(base) }, l.procs...)
	l.api = login(t, base, "e2e-admin", password)

	// Servers listening, the IRS node known to the analyzer.
	mnlab.WaitFor(t, 20*time.Second, "the web and FTP servers to listen", func() bool {
		out, _ := l.h3.Run("ss", "-ltn")
		return strings.Contains(out, l.h3.Addr+":80 ") && strings.Contains(out, l.h3.Addr+":21 ")
	}, l.procs...)
	mnlab.WaitFor(t, 30*time.Second, "the IRS node to report to the analyzer", func() bool {
		code, body := l.api.do("GET", "/api/v1/nodes", nil)
		return code == http.StatusOK && strings.Contains(string(body), "e2e-irs") && strings.Contains(string(body), irsIP)
	}, l.procs...)
	return l
}

// waitProgrammed waits until every switch has its flows and the
// controller found both links and the IRS port.
func (l *lab) waitProgrammed(t *testing.T, ctl *mnlab.Proc) {
	t.Helper()
	ctx := context.Background()
	mnlab.WaitFor(t, 60*time.Second, "every switch programmed and every link found", func() bool {
		topo, err := l.ctl.Topology(ctx)
		if err != nil || len(topo.Switches) != len(l.n.Switches) || len(topo.Links) != len(l.n.Switches)-1 ||
			len(topo.IRS) != 1 || !topo.IRS[0].Resolved {
			return false
		}
		fl, err := l.ctl.Flows(ctx)
		if err != nil || len(fl) != len(l.n.Switches) {
			return false
		}
		for _, s := range fl {
			if len(s.Missing) > 0 || len(s.Unexpected) > 0 ||
				!slices.ContainsFunc(s.Desired, func(f string) bool { return strings.Contains(f, "priority=210,icmp ") }) {
				return false
			}
		}
		return true
	}, ctl)
}

// run runs a command in a host and fails the test when it fails.
func run(t *testing.T, h *ovslab.Host, name string, args ...string) string {
	t.Helper()
	out, err := h.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// randomFile writes n random bytes to path and returns their SHA-256.
func randomFile(t *testing.T, path string, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return sha(b)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// mail writes a multipart mail with an attachment, CRLF line ends, from
// sender to bob@example.test, and returns its SHA-256.
func mail(t *testing.T, path, sender, subject string) string {
	t.Helper()
	att := make([]byte, 6000)
	_, _ = rand.Read(att)
	enc := base64.StdEncoding.EncodeToString(att)
	var lines []string
	for len(enc) > 76 {
		lines = append(lines, enc[:76])
		enc = enc[76:]
	}
	lines = append(lines, enc)
	text := "From: Alice <" + sender + ">\r\nTo: Bob <bob@example.test>\r\nSubject: " + subject + "\r\n" +
		"Message-ID: <" + ovslab.ID(8) + "@example.org>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob, the figures are attached.\r\n" +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"figures.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + strings.Join(lines, "\r\n") + "\r\n--b1--\r\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return sha([]byte(text))
}

// sendMail sends the mail file from host h to bob@example.test on h3.
func (l *lab) sendMail(t *testing.T, h *ovslab.Host, file, sender string) {
	t.Helper()
	run(t, h, "curl", "-sS", "--max-time", "20", "smtp://"+l.h3.Addr, "--mail-from", sender,
		"--mail-rcpt", "bob@example.test", "-T", file)
}

// waitEvents polls the search until pick finds what it wants in the
// answer, and returns the events pick returned.
func (l *lab) waitEvents(t *testing.T, what, query string, pick func([]eventItem) []eventItem) []eventItem {
	t.Helper()
	var got []eventItem
	mnlab.WaitFor(t, 60*time.Second, what, func() bool {
		got = pick(l.api.with(t).search(query))
		return len(got) > 0
	}, l.procs...)
	return got
}

func byProtocol(proto string) func([]eventItem) []eventItem {
	return func(evs []eventItem) []eventItem {
		var out []eventItem
		for _, e := range evs {
			if e.Protocol == proto {
				out = append(out, e)
			}
		}
		return out
	}
}

// artifactOf returns the event's artifact of kind (and name suffix,
// when set), failing the test when there is none.
func artifactOf(t *testing.T, e event, kind string) artifact {
	t.Helper()
	for _, a := range e.Artifacts {
		if a.Kind == kind {
			return a
		}
	}
	t.Fatalf("event %d (%s %s) has no %s artifact; it has %+v", e.ID, e.Protocol, e.Type, kind, e.Artifacts)
	return artifact{}
}

// fileEvent finds, among the events of protocol, one with a restored
// file whose SHA-256 is want, and downloads it through the analyzer.
func (l *lab) fileEvent(t *testing.T, protocol, want string) (event, []byte) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			api := l.api.with(t)
			for _, it := range api.search("protocol=" + protocol) {
				e := api.event(it.ID)
				t.Logf("%s event %d %s %q summary %v artifacts %+v", protocol, e.ID, e.Type, e.Subject, e.Summary, e.Artifacts)
			}
		}
	})
	var found event
	var art artifact
	api := l.api.with(t)
	mnlab.WaitFor(t, 60*time.Second, protocol+" event with a file of SHA-256 "+want, func() bool {
		for _, it := range api.search("protocol=" + protocol) {
			e := api.event(it.ID)
			for _, a := range e.Artifacts {
				if a.Kind == "file" && a.SHA256 == want {
					found, art = e, a
					return true
				}
			}
		}
		return false
	}, l.procs...)
	body := api.download(fmt.Sprintf("/api/v1/artifacts/%d", art.ID))
	return found, body
}

// TestEndToEnd drives the whole system through the analyzer's API as an
// analyst and an administrator would.
func TestEndToEnd(t *testing.T) {
	l := startLab(t)
	dir := l.work

	var smtpEvent event
	t.Run("mail sent over SMTP and fetched over POP3 and IMAP", func(t *testing.T) {
		api := l.api.with(t)
		sender := "alice-" + ovslab.ID(3) + "@example.org"
		file := filepath.Join(dir, "mail1.eml")
		want := mail(t, file, sender, "quarterly figures")
		l.sendMail(t, l.h1, file, sender)
		// Delivered before it is fetched.
		mnlab.WaitFor(t, 20*time.Second, "delivery to bob's Maildir", func() bool {
			m, _ := filepath.Glob(filepath.Join(dir, "mail", "mail", "bob", "Maildir", "new", "*"))
			return len(m) > 0
		})
		run(t, l.h2, "curl", "-sS", "--max-time", "20", "pop3://"+l.h3.Addr+"/1", "-u", "bob:secret", "-o", filepath.Join(dir, "pop3.eml"))
		run(t, l.h2, "curl", "-sS", "--max-time", "20", "imap://"+l.h3.Addr+"/INBOX;UID=1", "-u", "bob:secret", "-o", filepath.Join(dir, "imap.eml"))

		evs := l.waitEvents(t, "SMTP, POP3 and IMAP events naming "+sender, "email="+sender, func(evs []eventItem) []eventItem {
			var seen []string
			for _, e := range evs {
				seen = append(seen, e.Protocol)
			}
			if slices.Contains(seen, "smtp") && slices.Contains(seen, "pop3") && slices.Contains(seen, "imap") {
				return evs
			}
			return nil
		})
		emls := map[string]string{}
		for _, it := range evs {
			e := api.event(it.ID)
			a := artifactOf(t, e, "eml")
			body := api.download(fmt.Sprintf("/api/v1/artifacts/%d", a.ID))
			if got := sha(body); got != a.SHA256 {
				t.Errorf("%s event %d: downloaded .eml has SHA-256 %s; the event says %s", e.Protocol, e.ID, got, a.SHA256)
			}
			emls[e.Protocol] = sha(body)
			if e.Protocol == "smtp" {
				smtpEvent = e
			}
		}
		if emls["smtp"] != want {
			t.Errorf("SMTP .eml SHA-256 = %s; want %s (the file sent)", emls["smtp"], want)
		}
		if emls["pop3"] == "" || emls["pop3"] != emls["imap"] {
			t.Errorf("POP3 .eml SHA-256 %q and IMAP .eml SHA-256 %q; want equal", emls["pop3"], emls["imap"])
		}
		if fetched, err := os.ReadFile(filepath.Join(dir, "pop3.eml")); err != nil || sha(fetched) != emls["pop3"] {
			t.Errorf("POP3 .eml restored with SHA-256 %s; the client fetched %s (%v)", emls["pop3"], sha(fetched), err)
		}
	})

	t.Run("session pcap opens in tshark", func(t *testing.T) {
		api := l.api.with(t)
		if smtpEvent.ID == 0 {
			t.Fatal("no SMTP event from the mail step")
		}
		if !smtpEvent.HasPcap {
			t.Fatalf("SMTP event %d: has_pcap false", smtpEvent.ID)
		}
		// The IRS writes a session's pcap through a buffer until the
		// connection is forgotten (TCP closed timeout, 10 s): until then
		// a download may end in the middle of a packet.
		pcap := filepath.Join(dir, "smtp.pcap")
		var out []byte
		var err error
		mnlab.WaitFor(t, 40*time.Second, "a complete session pcap of the SMTP event", func() bool {
			if werr := os.WriteFile(pcap, api.download(fmt.Sprintf("/api/v1/events/%d/pcap", smtpEvent.ID)), 0o644); werr != nil {
				t.Fatal(werr)
			}
			out, err = exec.Command("tshark", "-r", pcap, "-Y", "smtp").CombinedOutput()
			return err == nil
		}, l.procs...)
		var smtp int
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, " SMTP ") {
				smtp++
			}
		}
		if smtp < 8 || !strings.Contains(string(out), "DATA") || !strings.Contains(string(out), "QUIT") {
			t.Errorf("tshark shows %d SMTP packets in the session pcap; want the whole session (greeting to QUIT):\n%s", smtp, out)
		}
	})

	t.Run("SMTP mirroring off and on through the analyzer", func(t *testing.T) {
		api := l.api.with(t)
		toggle := func(on bool) {
			t.Helper()
			code, body := api.do("PUT", "/api/v1/mirror/smtp", map[string]bool{"enabled": on})
			if code != http.StatusOK {
				t.Fatalf("PUT /api/v1/mirror/smtp enabled=%v: got %d %s, want 200", on, code, body)
			}
		}
		toggle(false)
		quiet := "carol-" + ovslab.ID(3) + "@example.org"
		file := filepath.Join(dir, "mail-off.eml")
		mail(t, file, quiet, "not intercepted")
		l.sendMail(t, l.h1, file, quiet)
		// The IRS is alive and past that mail once a later HTTP request
		// is recorded.
		marker := "alive-" + ovslab.ID(4) + ".txt"
		if err := os.WriteFile(filepath.Join(l.www, marker), []byte("alive\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, l.h1, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "http://"+l.h3.Addr+"/"+marker)
		l.waitEvents(t, "the HTTP event of "+marker, "protocol=http&subject="+marker, byProtocol("http"))
		if got := api.search("email=" + quiet); len(got) != 0 {
			t.Errorf("mail from %s sent with SMTP mirroring off was recorded: %+v", quiet, got)
		}
		toggle(true)
		loud := "dave-" + ovslab.ID(3) + "@example.org"
		file = filepath.Join(dir, "mail-on.eml")
		want := mail(t, file, loud, "intercepted again")
		l.sendMail(t, l.h1, file, loud)
		evs := l.waitEvents(t, "the SMTP event of "+loud, "email="+loud, byProtocol("smtp"))
		e := api.event(evs[0].ID)
		if got := artifactOf(t, e, "eml").SHA256; got != want {
			t.Errorf("SMTP .eml after mirroring on: SHA-256 %s, want %s", got, want)
		}
		if got := api.search("email=" + quiet); len(got) != 0 {
			t.Errorf("mail from %s (mirroring off) shows up later: %+v", quiet, got)
		}
	})

	t.Run("HTTP download and upload restored", func(t *testing.T) {
		get := randomFile(t, filepath.Join(l.www, "report.bin"), 300_000)
		up := randomFile(t, filepath.Join(dir, "upload.bin"), 200_000)
		out := filepath.Join(dir, "report.got")
		run(t, l.h1, "curl", "-sS", "--max-time", "20", "--limit-rate", bulkRate, "-o", out, "http://"+l.h3.Addr+"/report.bin")
		run(t, l.h2, "curl", "-sS", "--max-time", "20", "--limit-rate", bulkRate, "-H", "Content-Type: application/octet-stream",
			"--data-binary", "@"+filepath.Join(dir, "upload.bin"), "http://"+l.h3.Addr+"/upload/upload.bin")
		for _, f := range []struct{ path, want string }{{out, get}, {filepath.Join(l.www, "upload", "upload.bin"), up}} {
			if b, err := os.ReadFile(f.path); err != nil || sha(b) != f.want {
				t.Fatalf("the transfer itself failed: %s has SHA-256 %s (%v), want %s", f.path, sha(b), err, f.want)
			}
		}
		for _, c := range []struct{ name, sha string }{{"GET", get}, {"POST", up}} {
			t.Run(c.name, func(t *testing.T) {
				_, body := l.fileEvent(t, "http", c.sha)
				if got := sha(body); got != c.sha {
					t.Errorf("downloaded %s body: SHA-256 %s, want %s", c.name, got, c.sha)
				}
			})
		}
	})

	t.Run("FTP passive download and upload restored through dynamic mirrors", func(t *testing.T) {
		api := l.api.with(t)
		get := randomFile(t, filepath.Join(l.ftp, "root", "pub", "data.bin"), 250_000)
		up := randomFile(t, filepath.Join(dir, "ftp-up.bin"), 150_000)
		first := randomFile(t, filepath.Join(l.ftp, "root", "pub", "first.bin"), 100_000)
		// First transfers from each client: they make the IRS request the
		// dynamic mirrors; whether their own data was caught is a race.
		run(t, l.h1, "curl", "-sS", "--max-time", "20", "--limit-rate", bulkRate, "-o", "/dev/null", "ftp://"+l.h3.Addr+"/pub/first.bin")
		run(t, l.h2, "curl", "-sS", "--max-time", "20", "--limit-rate", bulkRate, "-T", filepath.Join(l.ftp, "root", "pub", "first.bin"), "ftp://"+l.h3.Addr+"/upload/first.bin")
		mnlab.WaitFor(t, 20*time.Second, "dynamic FTP mirrors for h1 and h2", func() bool {
			dyn, err := l.ctl.DynamicFlows(context.Background())
			if err != nil {
				return false
			}
			n := 0
			for _, f := range dyn.Flows {
				if f.Protocol == "ftp" && f.B == l.h3.Addr+":"+ftpDataPort && (f.A == l.h1.Addr+":0" || f.A == l.h2.Addr+":0") {
					n++
				}
			}
			return n == 2
		}, l.procs...)
		run(t, l.h1, "curl", "-sS", "--max-time", "20", "--limit-rate", bulkRate, "-o", filepath.Join(dir, "ftp.got"), "ftp://"+l.h3.Addr+"/pub/data.bin")
		run(t, l.h2, "curl", "-sS", "--max-time", "20", "--limit-rate", bulkRate, "-T", filepath.Join(dir, "ftp-up.bin"), "ftp://"+l.h3.Addr+"/upload/up.bin")
		t.Cleanup(func() {
			restored := 0
			for _, it := range api.search("protocol=ftp") {
				for _, a := range api.event(it.ID).Artifacts {
					if a.SHA256 == first {
						restored++
					}
				}
			}
			t.Logf("first transfers (racing the dynamic mirror's installation): %d of 2 restored whole", restored)
		})
		// Only port 21 is in the static policy: the data connections
		// were mirrored because the IRS asked the controller for them.
		cfg, err := l.ctl.Mirror(context.Background())
		if err != nil {
			t.Fatalf("GET /api/v1/mirror: %v", err)
		}
		for _, p := range cfg {
			for _, port := range p.Ports {
				if fmt.Sprint(port.Port) == ftpDataPort {
					t.Errorf("the static policy of %s names port %s; want FTP data mirrored only by dynamic requests", p.Name, ftpDataPort)
				}
			}
		}
		for _, c := range []struct{ name, sha string }{{"RETR", get}, {"STOR", up}} {
			t.Run(c.name, func(t *testing.T) {
				_, body := l.fileEvent(t, "ftp", c.sha)
				if got := sha(body); got != c.sha {
					t.Errorf("downloaded %s file: SHA-256 %s, want %s", c.name, got, c.sha)
				}
			})
		}
	})
}
