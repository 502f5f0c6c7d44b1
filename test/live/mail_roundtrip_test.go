//go:build integration

package live

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/netlab"
	"github.com/sdnli/sdnli/internal/testdb"
)

// mailServerDir is mailServer that also returns the server's private
// directory, whose mail/<user>/Maildir holds what Postfix delivered.
func mailServerDir(t *testing.T, h netlab.Host, clientNet string) string {
	t.Helper()
	script := filepath.Join(golden.RepoRoot(t), "topologies", "servers", "mail.sh")
	// Not t.TempDir: its parent is private to root, and Postfix's daemons
	// run as their own users and must reach the queue.
	dir, err := os.MkdirTemp("", "sdnli-mail-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t.Cleanup(func() { _, _ = h.Run(context.Background(), script, "stop", dir) })
	if out, err := h.Run(ctx, script, "start", dir, h.Addr, clientNet); err != nil {
		t.Fatalf("mail server: %v\n%s", err, out)
	}
	return dir
}

// fetchMail runs curl in host a against the mail server and returns what
// it printed (the message, for a POP3 RETR or an IMAP FETCH).
func fetchMail(t *testing.T, a netlab.Host, url string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := a.Command(ctx, "curl", "-sS", "--max-time", "20", url, "-u", "bob:secret")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %s: %v\n%s", url, err, errb.String())
	}
	return out.Bytes()
}

// storedMessage waits for the one message Postfix delivers to user's
// Maildir and returns its bytes.
func storedMessage(t *testing.T, dir, user string) []byte {
	t.Helper()
	var files []string
	waitFor(t, 30*time.Second, "the delivery to "+user+"'s Maildir", func() bool {
		files, _ = filepath.Glob(filepath.Join(dir, "mail", user, "Maildir", "new", "*"))
		cur, _ := filepath.Glob(filepath.Join(dir, "mail", user, "Maildir", "cur", "*"))
		files = append(files, cur...)
		return len(files) > 0
	})
	if len(files) != 1 {
		t.Fatalf("%d messages in %s's Maildir; want 1: %v", len(files), user, files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// crlf turns LF line ends into CRLF, as Dovecot does when it serves a
// Maildir file (Postfix stores messages with LF).
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// mailEvent waits for the one event of protocol and type whose subject is
// subject, and returns its id.
func mailEvent(t *testing.T, db *sql.DB, protocol, typ, subject string) int64 {
	t.Helper()
	var id int64
	waitFor(t, 30*time.Second, "the "+protocol+" "+typ+" event", func() bool {
		return db.QueryRow(`SELECT id FROM events WHERE protocol=? AND type=? AND subject=?`, protocol, typ, subject).Scan(&id) == nil
	})
	if n := countRows(t, db, `SELECT COUNT(*) FROM events WHERE protocol=? AND type=? AND subject=?`, protocol, typ, subject); n != 1 {
		t.Errorf("%d %s %s events; want 1", n, protocol, typ)
	}
	return id
}

// emlOf returns the eml artifact of an event: its SHA-256, and its bytes
// read from the IRS data directory (checked against that SHA-256).
func emlOf(t *testing.T, db *sql.DB, dataDir string, eventID int64) (string, []byte) {
	t.Helper()
	var sha, path string
	if err := db.QueryRow(`SELECT sha256, path FROM artifacts WHERE event_id=? AND kind='eml'`, eventID).Scan(&sha, &path); err != nil {
		t.Fatalf("eml artifact of event %d: %v", eventID, err)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, path))
	if err != nil {
		t.Fatalf("eml of event %d: %v", eventID, err)
	}
	if got := sha256Hex(b); got != sha {
		t.Errorf("eml of event %d on disk hashes to %s; the database says %s", eventID, got, sha)
	}
	return sha, b
}

// TestLiveMailRoundTrip: one message with an attachment, CRLF line ends,
// sent through a real Postfix over SMTP and fetched from a real Dovecot
// over POP3 (curl pop3://B/1) and over IMAP (curl 'imap://B/INBOX;UID=1'),
// with `sdnli irs` capturing on the server's interface into MariaDB. Three
// events with restored .eml files: the SMTP one is the file sent; the
// POP3 and IMAP ones are the message as Postfix stored it (with its
// Return-Path, Delivered-To and Received headers) and as Dovecot serves
// it, the same bytes for both; the attachment inside is the one sent; a
// search by the sender's address finds all three.
func TestLiveMailRoundTrip(t *testing.T) {
	for _, tool := range []string{"curl", "postfix", "dovecot"} {
		if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
			if _, err2 := os.Stat("/usr/bin/" + tool); err2 != nil {
				t.Fatalf("%s is not installed (apt-get install -y curl postfix dovecot-imapd dovecot-pop3d)", tool)
			}
		}
	}
	p := netlab.NewPair(t)
	mailDir := mailServerDir(t, p.B, p.Subnet)
	db, dsn := testdb.Shared(t)
	dataDir := t.TempDir()
	startIRS(t, p.B, db, dsn, dataDir, "irs-live-mail")

	const from = "alice@example.org"
	const subject = "Round trip through SMTP, POP3 and IMAP"
	msg, att := testMail(t, subject, from, "bob@example.test")
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("test message has bare LF line ends; want CRLF only")
	}
	sendMail(t, p.A, p.B.Addr, from, msg, "bob@example.test")

	// SMTP: the eml is the file curl sent.
	smtpID := mailEvent(t, db, "smtp", "email-send", subject)
	smtpSHA, _ := emlOf(t, db, dataDir, smtpID)
	if want := sha256Hex(msg); smtpSHA != want {
		t.Errorf("SMTP eml SHA-256 %s; want %s (the sent file)", smtpSHA, want)
	}

	stored := storedMessage(t, mailDir, "bob")
	served := crlf(stored)
	t.Logf("Maildir file: %d bytes (%d with CRLF line ends), SHA-256 %s (%s with CRLF)", len(stored), len(served), sha256Hex(stored), sha256Hex(served))

	popOut := fetchMail(t, p.A, "pop3://"+p.B.Addr+"/1")
	imapOut := fetchMail(t, p.A, "imap://"+p.B.Addr+"/INBOX;UID=1")

	popID := mailEvent(t, db, "pop3", "email-download", subject)
	imapID := mailEvent(t, db, "imap", "email-download", subject)
	popSHA, popEML := emlOf(t, db, dataDir, popID)
	imapSHA, imapEML := emlOf(t, db, dataDir, imapID)

	// POP3 and IMAP deliver the stored message: the same bytes.
	if popSHA != imapSHA {
		t.Errorf("POP3 eml SHA-256 %s, IMAP eml %s; want the same message", popSHA, imapSHA)
	}
	// The Maildir file has LF line ends (Postfix writes UNIX text);
	// Dovecot serves it with CRLF, which is what went over the wire.
	if want := sha256Hex(served); popSHA != want || imapSHA != want {
		t.Errorf("POP3/IMAP eml SHA-256 %s / %s; want %s, the Maildir file %s with CRLF line ends", popSHA, imapSHA, want, sha256Hex(stored))
	}
	// And it is what the clients received.
	if !bytes.Equal(bytes.ReplaceAll(popOut, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(popEML, []byte("\r\n"), []byte("\n"))) {
		t.Errorf("POP3 eml differs from what curl received (%d and %d bytes)", len(popEML), len(popOut))
	}
	if !bytes.Equal(imapOut, imapEML) {
		t.Errorf("IMAP eml differs from what curl received (%d and %d bytes)", len(imapEML), len(imapOut))
	}
	// Postfix added its trace headers; the original message follows
	// them unchanged.
	for _, h := range []string{"Return-Path: <alice@example.org>", "Delivered-To: bob@example.test", "Received: from "} {
		if !bytes.Contains(popEML, []byte(h)) {
			t.Errorf("POP3 eml lacks the %q header Postfix adds", h)
		}
	}
	if !bytes.HasSuffix(popEML, msg) {
		t.Errorf("POP3 eml does not end with the message as sent")
	}
	b64 := base64.StdEncoding.EncodeToString(att)
	if !bytes.Contains(bytes.ReplaceAll(imapEML, []byte("\r\n"), nil), []byte(b64)) {
		t.Errorf("IMAP eml does not hold the attachment as sent")
	}

	// Each event's attachment is the original bytes, under its eml.
	for _, ev := range []struct {
		proto string
		id    int64
		eml   string
	}{{"smtp", smtpID, smtpSHA}, {"pop3", popID, popSHA}, {"imap", imapID, imapSHA}} {
		var sha, name, parent string
		if err := db.QueryRow(`SELECT sha256, name, parent_sha256 FROM artifacts WHERE event_id=? AND kind='attachment'`, ev.id).Scan(&sha, &name, &parent); err != nil {
			t.Errorf("%s attachment: %v", ev.proto, err)
			continue
		}
		if name != "report.bin" || sha != sha256Hex(att) || parent != ev.eml {
			t.Errorf("%s attachment %q %s under %s; want report.bin %s under the eml %s", ev.proto, name, sha, parent, sha256Hex(att), ev.eml)
		}
	}

	// A search by the sender's address finds the three events.
	rows, err := db.Query(`SELECT DISTINCT e.protocol, e.type FROM event_addresses a JOIN events e ON e.id = a.event_id
		WHERE a.address = ? AND e.subject = ? ORDER BY e.protocol`, "Alice@Example.ORG", subject)
	if err != nil {
		t.Fatalf("search by address: %v", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var proto, typ string
		if err := rows.Scan(&proto, &typ); err != nil {
			t.Fatal(err)
		}
		found = append(found, proto+" "+typ)
	}
	if got := strings.Join(found, ", "); got != "imap email-download, pop3 email-download, smtp email-send" {
		t.Errorf("search by the sender's address finds %q; want the SMTP, POP3 and IMAP events", got)
	}
	// The mailbox owner is on the downloads too.
	for _, id := range []int64{popID, imapID} {
		if n := countRows(t, db, `SELECT COUNT(*) FROM event_addresses WHERE event_id=? AND address='bob' AND role='user'`, id); n != 1 {
			t.Errorf("event %d: user bob %d times in event_addresses; want 1", id, n)
		}
	}
	// And the logins.
	for _, proto := range []string{"pop3", "imap"} {
		if n := countRows(t, db, `SELECT COUNT(*) FROM events WHERE protocol=? AND type='logon' AND subject='bob'`, proto); n != 1 {
			t.Errorf("%s logon events for bob: %d; want 1", proto, n)
		}
	}
}
