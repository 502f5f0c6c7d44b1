//go:build integration

package live

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/netlab"
	"github.com/sdnli/sdnli/internal/testdb"
)

// testMail builds a MIME message with a binary attachment, CRLF line ends
// (so that what curl sends over SMTP is byte for byte the file) and
// returns it with the attachment's bytes.
func testMail(t *testing.T, subject, from string, to ...string) (msg, attachment []byte) {
	t.Helper()
	attachment = make([]byte, 24<<10)
	if _, err := rand.Read(attachment); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(attachment)
	var body strings.Builder
	for len(b64) > 76 {
		body.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	body.WriteString(b64 + "\r\n")
	m := strings.Join([]string{
		"From: Alice Example <" + from + ">",
		"To: " + strings.Join(to, ", "),
		"Subject: " + subject,
		"Date: Sat, 21 Nov 2026 10:00:00 +0000",
		"Message-ID: <" + fmt.Sprintf("%x", attachment[:8]) + "@example.org>",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="b1"`,
		"",
		"--b1",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"Hello Bob, the report is attached.",
		"--b1",
		`Content-Type: application/octet-stream; name="report.bin"`,
		`Content-Disposition: attachment; filename="report.bin"`,
		"Content-Transfer-Encoding: base64",
		"",
		strings.TrimSuffix(body.String(), "\r\n"),
		"--b1--",
		"",
	}, "\r\n")
	return []byte(m), attachment
}

// sendMail sends msg from host a to the mail server on b with curl.
func sendMail(t *testing.T, a netlab.Host, server, from string, msg []byte, to ...string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "mail.eml")
	if err := os.WriteFile(f, msg, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-sS", "--max-time", "20", "smtp://" + server, "--mail-from", from}
	for _, r := range to {
		args = append(args, "--mail-rcpt", r)
	}
	args = append(args, "-T", f)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := a.Run(ctx, "curl", args...); err != nil {
		t.Fatalf("curl smtp: %v\n%s", err, out)
	}
}

// startIRS runs `sdnli irs` on host h's interface and waits for its first
// heartbeat in irs_nodes.
func startIRS(t *testing.T, h netlab.Host, db *sql.DB, dsn, dataDir, name string) {
	t.Helper()
	h.Start(t, sdnliBinary(t), "irs", "--iface", h.Iface, "--db", dsn, "--data-dir", dataDir,
		"--name", name, "--heartbeat", "1s", "--workers", "2")
	waitFor(t, 30*time.Second, "the IRS heartbeat", func() bool {
		return countRows(t, db, "SELECT COUNT(*) FROM irs_nodes WHERE name = ?", name) == 1
	})
}

// TestLiveSMTPCapture: a real Postfix in one namespace, curl sending a
// mail with an attachment from another, `sdnli irs` capturing on the
// server's interface. The event must be in MariaDB with its addresses,
// and the restored .eml and attachment must hash to what was sent.
func TestLiveSMTPCapture(t *testing.T) {
	p := netlab.NewPair(t)
	mailServer(t, p.B, p.Subnet)
	db, dsn := testdb.Shared(t)
	dataDir := t.TempDir()
	startIRS(t, p.B, db, dsn, dataDir, "irs-live-smtp")

	const from = "alice@example.org"
	to := []string{"bob@example.test", "Carol@Example.TEST"}
	msg, att := testMail(t, "Quarterly report", from, to...)
	sendMail(t, p.A, p.B.Addr, from, msg, to...)

	var eventID int64
	waitFor(t, 30*time.Second, "the email-send event", func() bool {
		err := db.QueryRow(`SELECT id FROM events WHERE protocol='smtp' AND type='email-send' AND subject=?`, "Quarterly report").Scan(&eventID)
		return err == nil
	})

	// The restored message is byte-identical to the file curl sent.
	var emlSHA, emlPath string
	if err := db.QueryRow(`SELECT sha256, path FROM artifacts WHERE event_id=? AND kind='eml'`, eventID).Scan(&emlSHA, &emlPath); err != nil {
		t.Fatalf("eml artifact: %v", err)
	}
	if want := sha256Hex(msg); emlSHA != want {
		t.Errorf("eml SHA-256 in the database = %s, want %s (the sent file)", emlSHA, want)
	}
	if got := fileSHA256(t, filepath.Join(dataDir, emlPath)); got != emlSHA {
		t.Errorf("eml on disk hashes to %s, database says %s", got, emlSHA)
	}

	// The attachment, decoded, is the original bytes.
	var attSHA, attName string
	if err := db.QueryRow(`SELECT sha256, name FROM artifacts WHERE event_id=? AND kind='attachment'`, eventID).Scan(&attSHA, &attName); err != nil {
		t.Fatalf("attachment artifact: %v", err)
	}
	if attName != "report.bin" || attSHA != sha256Hex(att) {
		t.Errorf("attachment = %q %s, want report.bin %s", attName, attSHA, sha256Hex(att))
	}

	// Search by address finds it, whatever the case the address was written in.
	for _, a := range []struct{ addr, role string }{
		{"alice@example.org", "mail"}, {"bob@example.test", "rcpt"}, {"carol@example.test", "rcpt"}, {"alice@example.org", "from"},
	} {
		if n := countRows(t, db, `SELECT COUNT(*) FROM event_addresses WHERE event_id=? AND address=? AND role=?`, eventID, a.addr, a.role); n != 1 {
			t.Errorf("event_addresses %s/%s: %d rows, want 1", a.addr, a.role, n)
		}
	}

	// The session pcap is in the data directory and is a pcap.
	var rawRef string
	if err := db.QueryRow(`SELECT raw_ref FROM events WHERE id=?`, eventID).Scan(&rawRef); err != nil || rawRef == "" {
		t.Fatalf("raw_ref: %q, %v", rawRef, err)
	}
	raw, err := os.ReadFile(filepath.Join(dataDir, rawRef))
	if err != nil {
		t.Fatalf("session pcap: %v", err)
	}
	if len(raw) < 24+16 || (string(raw[:4]) != "\xd4\xc3\xb2\xa1" && string(raw[:4]) != "\x4d\x3c\xb2\xa1") {
		t.Errorf("session pcap %s: %d bytes, not a pcap", rawRef, len(raw))
	}
}

// TestLiveDatabaseOutage: the IRS's database stops while mail keeps
// flowing, then starts again. Every event arrives, none twice.
func TestLiveDatabaseOutage(t *testing.T) {
	p := netlab.NewPair(t)
	mailServer(t, p.B, p.Subnet)
	inst := testdb.Private(t)
	db, tcpDSN := inst.Database(t)
	dsn := unixDSN(t, tcpDSN, inst.Socket()) // the IRS runs in a namespace of its own
	dataDir := t.TempDir()
	startIRS(t, p.B, db, dsn, dataDir, "irs-live-outage")

	const from = "alice@example.org"
	send := func(i int) {
		msg, _ := testMail(t, fmt.Sprintf("outage test %d", i), from, "bob@example.test")
		sendMail(t, p.A, p.B.Addr, from, msg, "bob@example.test")
	}
	sends := func() int {
		return countRows(t, db, `SELECT COUNT(*) FROM events WHERE type='email-send' AND subject LIKE 'outage test %'`)
	}
	send(1)
	waitFor(t, 30*time.Second, "the first event", func() bool { return sends() == 1 })

	inst.Stop()
	for i := 2; i <= 6; i++ {
		send(i)
	}
	time.Sleep(2 * time.Second) // the IRS notices the outage and spools
	inst.Start()

	waitFor(t, 60*time.Second, "all six events after the database came back", func() bool { return sends() >= 6 })
	time.Sleep(3 * time.Second) // a replay that doubled something would show by now
	if n := sends(); n != 6 {
		t.Fatalf("email-send events = %d, want exactly 6", n)
	}
	if n := countRows(t, db, `SELECT COUNT(DISTINCT subject) FROM events WHERE type='email-send' AND subject LIKE 'outage test %'`); n != 6 {
		t.Errorf("distinct subjects = %d, want 6", n)
	}
	// No child row doubled by a replay: each message has one eml and one
	// envelope recipient.
	if n := countRows(t, db, `SELECT COUNT(*) FROM artifacts a JOIN events e ON e.id=a.event_id WHERE e.subject LIKE 'outage test %' AND a.kind='eml'`); n != 6 {
		t.Errorf("eml artifacts = %d, want 6", n)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM event_addresses a JOIN events e ON e.id=a.event_id WHERE e.subject LIKE 'outage test %' AND a.role='rcpt'`); n != 6 {
		t.Errorf("rcpt addresses = %d, want 6", n)
	}
}
