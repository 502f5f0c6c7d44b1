// Package ftp parses FTP (RFC 959 with the RFC 2428 extensions) for the
// IRS: logins, every command with its reply, and the files and listings
// that cross the separate data connections.
//
// The data connection is the hard part: it is another TCP connection,
// announced on the control connection (PASV/EPSV replies, PORT/EPRT
// commands) and carrying bare file bytes that no content test could
// recognise. The Detector therefore keeps a small, bounded, expiring,
// mutex-guarded table of announced endpoints. The control parser adds an
// entry for every announcement (and asks the controller to mirror that
// connection); IsRelative claims a new connection whose listening end
// matches an entry, whatever its content; the data parser collects the
// bytes and, once both it and the control parser know their part, one
// "file-download", "file-upload" or "listing" event is emitted. Either
// side may finish first: connections may be handled on different worker
// goroutines and in any order.
package ftp

import (
	"bytes"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
)

// Event types.
const (
	TypeLogon        = "logon"
	TypeLogonFailure = "logon-failure"
	TypeDownload     = "file-download"
	TypeUpload       = "file-upload"
	TypeListing      = "listing"
	TypeSession      = "ftp-session"
)

// Limits on hostile input and on the shared table.
const (
	maxLine        = 8 << 10 // one command or reply line
	maxReplyLines  = 256     // lines of one multi-line reply
	maxReplyText   = 1 << 10 // reply text kept
	maxPending     = 64      // commands waiting for a reply
	maxLog         = 256     // commands kept in the session event
	maxExpect      = 4096    // announced data connections remembered
	maxXfers       = 256     // transfers one control connection keeps track of
	expectTTL      = 2 * time.Minute
	mirrorIdle     = 2 * time.Minute
	maxDetectProbe = 512 // bytes of a first line the detector waits for
)

const protocol = "ftp"

func init() { parser.Register(NewDetector()) }

// Detector recognises FTP control connections by their greeting or
// commands, and FTP data connections by the announcements the control
// parsers recorded.
type Detector struct {
	tab *table
}

// NewDetector returns a detector with its own expectation table.
func NewDetector() *Detector { return &Detector{tab: newTable()} }

// Name returns "ftp".
func (*Detector) Name() string { return protocol }

// Transports returns TCP.
func (*Detector) Transports() []parser.Transport { return []parser.Transport{parser.TCP} }

// IsRelative claims announced data connections regardless of content,
// and control connections by content: a greeting or reply a mail server
// would not send, or a command only FTP has. Port 21 breaks ties between
// FTP and the mail protocols that share reply codes and commands.
func (d *Detector) IsRelative(c *parser.Conn, dir parser.Direction, data []byte) parser.Verdict {
	if v := d.tab.match(c); v != parser.No {
		return v
	}
	line, complete := firstLine(data)
	if !complete && len(data) < maxDetectProbe {
		if couldBeFTP(data) {
			return parser.NeedMore
		}
		return parser.No
	}
	port21 := c.Server.Port() == 21 || c.Server.Port() == 2121
	v := classifyLine(line, port21)
	switch {
	case v == lineServer && dir == parser.ServerToClient, v == lineClient && dir == parser.ClientToServer:
		return parser.Yes
	case v == lineServer, v == lineClient:
		return parser.YesReversed
	case v == lineMaybe:
		return parser.NeedMore
	}
	return parser.No
}

// New returns a data parser for a claimed data connection, else a control
// parser.
func (d *Detector) New(c *parser.Conn, env parser.Env) parser.Parser {
	if e := d.tab.claim(c); e != nil {
		if e.peer.IsValid() && c.Client.Addr() != e.peer && c.Server.Addr() != e.peer {
			e.x.mu.Lock()
			e.x.peerUnexpect = fmt.Sprintf("data connection between %s and %s, not with the control connection's host %s",
				c.Client.Addr(), c.Server.Addr(), e.peer)
			e.x.mu.Unlock()
		}
		return newData(c, env, e.x)
	}
	return newControl(c, env, d.tab)
}

func firstLine(data []byte) ([]byte, bool) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return bytes.TrimRight(data[:i], "\r"), true
	}
	if len(data) > maxDetectProbe {
		return data[:maxDetectProbe], true
	}
	return data, false
}

// couldBeFTP: an incomplete first line that may still become a reply or
// a command.
func couldBeFTP(p []byte) bool {
	for i, b := range p {
		switch {
		case i < 3 && isDigit(b), i < 3 && isLetter(b):
		case i == 3 && (b == ' ' || b == '-' || isLetter(b)):
		case i >= 3:
			return true
		default:
			return false
		}
	}
	return true
}

type lineKind uint8

const (
	lineNo     lineKind = iota
	lineServer          // an FTP reply
	lineClient          // an FTP command
	lineMaybe           // may be FTP; more traffic will tell
)

// Reply codes FTP uses and SMTP does not.
var ftpOnlyCodes = map[string]bool{"110": true, "120": true, "125": true, "150": true, "202": true,
	"212": true, "213": true, "215": true, "225": true, "226": true, "227": true, "228": true,
	"229": true, "230": true, "232": true, "257": true, "331": true, "332": true, "350": true,
	"425": true, "426": true, "532": true}

// Commands only FTP has.
var ftpOnlyCmds = map[string]bool{"USER": true, "ACCT": true, "CWD": true, "CDUP": true, "PASV": true,
	"EPSV": true, "PORT": true, "EPRT": true, "TYPE": true, "STRU": true, "MODE": true, "RETR": true,
	"STOR": true, "STOU": true, "APPE": true, "ALLO": true, "REST": true, "RNFR": true, "RNTO": true,
	"ABOR": true, "DELE": true, "RMD": true, "MKD": true, "PWD": true, "LIST": true, "NLST": true,
	"SITE": true, "SYST": true, "FEAT": true, "OPTS": true, "SIZE": true, "MDTM": true, "MLSD": true,
	"MLST": true, "PBSZ": true, "PROT": true, "CCC": true, "CLNT": true, "XPWD": true, "XCWD": true,
	"XMKD": true, "XRMD": true, "LANG": true, "HOST": true}

// Commands of mail protocols.
var mailCmds = map[string]bool{"HELO": true, "EHLO": true, "MAIL": true, "RCPT": true, "DATA": true,
	"STARTTLS": true, "STLS": true, "CAPA": true, "UIDL": true, "APOP": true}

// Commands FTP shares with POP3.
var pop3Cmds = map[string]bool{"USER": true, "PASS": true, "LIST": true, "RETR": true, "DELE": true}

func classifyLine(line []byte, port21 bool) lineKind {
	if len(line) >= 4 && isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) && (line[3] == ' ' || line[3] == '-') {
		code := string(line[:3])
		if code == "220" {
			var buf [256]byte
			low := lowerLine(buf[:0], line)
			switch {
			case bytes.Contains(low, []byte("smtp")):
				return lineNo // "ESMTP" even on a host called ftp.example.org
			case bytes.Contains(low, []byte("ftp")):
				return lineServer
			case bytes.Contains(low, []byte("mail")), bytes.Contains(low, []byte("postfix")),
				bytes.Contains(low, []byte("exim")), bytes.Contains(low, []byte("sendmail")):
				return lineNo
			case port21:
				return lineServer
			}
			return lineMaybe
		}
		if ftpOnlyCodes[code] {
			return lineServer
		}
		if port21 {
			return lineServer
		}
		return lineNo
	}
	verb, arg, _ := bytes.Cut(line, []byte(" "))
	if len(verb) < 3 || len(verb) > 4 {
		return lineNo
	}
	for _, b := range verb {
		if !isLetter(b) {
			return lineNo
		}
	}
	// the verb is 3 or 4 ASCII letters: upper-cased on the stack
	var up [4]byte
	for i, b := range verb {
		if b >= 'a' && b <= 'z' {
			b -= 'a' - 'A'
		}
		up[i] = b
	}
	v := string(up[:len(verb)])
	switch {
	case v == "AUTH":
		a := string(bytes.ToUpper(bytes.TrimSpace(arg)))
		if a == "TLS" || a == "SSL" || a == "TLS-C" || a == "TLS-P" {
			return lineClient
		}
	case pop3Cmds[v]:
		if port21 {
			return lineClient
		}
		return lineMaybe
	case ftpOnlyCmds[v]:
		return lineClient
	case mailCmds[v]:
		return lineNo
	}
	if port21 {
		return lineClient
	}
	return lineNo
}

// lowerLine is bytes.ToLower of a greeting, written into dst's room for
// the usual short ASCII line (where bytes.ToLower folds only A-Z too).
func lowerLine(dst, line []byte) []byte {
	if len(line) > cap(dst) {
		return bytes.ToLower(line)
	}
	dst = dst[:len(line)]
	for i, b := range line {
		if b >= 0x80 {
			return bytes.ToLower(line)
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		dst[i] = b
	}
	return dst
}

func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// table remembers announced data connections, keyed by the listening
// endpoint. It is shared by every connection of the IRS, hence the mutex.
// fifo keeps insertion order so that expiry and eviction of the oldest
// entries cost O(1) each.
type table struct {
	mu   sync.Mutex
	m    map[netip.AddrPort]*expect
	fifo []*expect
}

type expect struct {
	keys    []netip.AddrPort
	peer    netip.Addr // the host expected to connect (unset: any)
	created time.Time
	x       *transfer
}

func newTable() *table { return &table{m: map[netip.AddrPort]*expect{}} }

// live reports whether e is still in the table.
func (t *table) liveLocked(e *expect) bool { return t.m[e.keys[0]] == e }

// add registers an expectation under each of its keys.
func (t *table) add(e *expect) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// drop expired and dead entries from the old end
	for len(t.fifo) > 0 {
		old := t.fifo[0]
		if t.liveLocked(old) && e.created.Sub(old.created) <= expectTTL && len(t.m)+len(e.keys) <= maxExpect {
			break
		}
		t.deleteLocked(old)
		t.fifo[0] = nil
		t.fifo = t.fifo[1:]
	}
	for _, k := range e.keys {
		if prev := t.m[k]; prev != nil {
			t.deleteLocked(prev)
		}
		t.m[k] = e
	}
	t.fifo = append(t.fifo, e)
	if len(t.fifo) > 2*maxExpect {
		live := t.fifo[:0]
		for _, x := range t.fifo {
			if t.liveLocked(x) {
				live = append(live, x)
			}
		}
		clear(t.fifo[len(live):])
		t.fifo = live
	}
}

func (t *table) deleteLocked(e *expect) {
	for _, k := range e.keys {
		if t.m[k] == e {
			delete(t.m, k)
		}
	}
}

// remove drops an expectation (its transfer failed or was replaced).
func (t *table) remove(e *expect) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deleteLocked(e)
}

// lookupLocked finds a live expectation for a connection's listening end.
func (t *table) lookupLocked(c *parser.Conn) (*expect, bool) {
	for i, ep := range []netip.AddrPort{c.Server, c.Client} {
		e := t.m[ep]
		if e == nil {
			continue
		}
		if c.Start.Sub(e.created) > expectTTL {
			continue
		}
		return e, i == 1
	}
	return nil, false
}

// match answers IsRelative for data connections without claiming.
func (t *table) match(c *parser.Conn) parser.Verdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, reversed := t.lookupLocked(c)
	switch {
	case e == nil:
		return parser.No
	case reversed:
		return parser.YesReversed
	}
	return parser.Yes
}

// claim takes the expectation a new data connection answers.
func (t *table) claim(c *parser.Conn) *expect {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, _ := t.lookupLocked(c)
	if e == nil {
		return nil
	}
	t.deleteLocked(e)
	return e
}

// len returns the number of keys held (for tests).
func (t *table) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
