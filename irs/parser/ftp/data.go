package ftp

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/bufpool"
)

// transfer is what the control and data parsers share about one data
// connection. The first to learn the last missing part emits the event.
type transfer struct {
	mu sync.Mutex

	// control side
	mode      string         // PASV, EPSV, PORT, EPRT
	endpoint  netip.AddrPort // the announced listening end
	verb, arg string         // RETR, STOR, LIST... and its argument
	bound     bool           // verb known
	ctlEnded  bool           // the control parser ended
	user      string
	ctlClient netip.AddrPort
	ctlServer netip.AddrPort
	rest      int64 // REST offset before the transfer
	announced int64 // size given in the 150 reply, if any
	reply     int   // final reply to the transfer command
	replyText string

	// data side
	dataDone      bool
	dataClient    netip.AddrPort
	dataServer    netip.AddrPort
	start, end    time.Time
	size          int64
	art           *event.Artifact
	truncated     bool
	incomplete    bool
	dataAnoms     []string
	fromServerIP  bool // the bytes came from the control server's host
	bothDirs      bool
	peerUnexpect  string
	emitted       bool
	artifactError string
}

// kind names the event a transfer becomes.
func (x *transfer) kind() string {
	switch x.verb {
	case "RETR":
		return TypeDownload
	case "STOR", "STOU", "APPE":
		return TypeUpload
	case "LIST", "NLST", "MLSD":
		return TypeListing
	}
	if x.fromServerIP {
		return TypeDownload
	}
	return TypeUpload
}

// fileName is the restored file's name.
func (x *transfer) fileName() string {
	if x.kind() == TypeListing {
		return "listing.txt"
	}
	if n := parser.SafeFileName(x.arg); n != "" {
		return n
	}
	return "ftp-data"
}

// readyLocked reports whether the event can be emitted (the data is in,
// and the command's final reply is known or the control connection is
// over), marking it emitted. Callers hold x.mu.
func (x *transfer) readyLocked() bool {
	if x.emitted || !x.dataDone || !(x.bound && x.reply != 0 || x.ctlEnded) {
		return false
	}
	x.emitted = true
	return true
}

// eventLocked builds the transfer event. Callers hold x.mu.
func (x *transfer) eventLocked() *event.Event {
	ev := &event.Event{Protocol: protocol, Type: x.kind(), Transport: "tcp", Start: x.start, End: x.end,
		Client: x.ctlClient, Server: x.ctlServer, Summary: event.Fields{}}
	s := &ev.Summary
	name := x.fileName()
	ev.Subject = x.arg
	if ev.Subject == "" {
		ev.Subject = name
	}
	if x.verb != "" {
		s.Set("command", x.verb)
	} else {
		ev.Anomalies = append(ev.Anomalies, "transfer command not seen on the control connection")
	}
	if x.arg != "" {
		s.Set("path", x.arg)
	}
	s.Set("filename", name)
	s.Set("size", x.size)
	s.Set("mode", x.mode)
	s.Set("data_client", x.dataClient.String())
	s.Set("data_server", x.dataServer.String())
	if x.user != "" {
		s.Set("user", x.user)
		ev.Addresses = append(ev.Addresses, event.Address{Address: x.user, Role: event.RoleUser})
	}
	if x.rest > 0 {
		s.Set("rest_offset", x.rest)
		ev.Anomalies = append(ev.Anomalies, fmt.Sprintf("transfer resumed at offset %d: the file is partial", x.rest))
	}
	if x.announced > 0 {
		s.Set("announced_size", x.announced)
		if x.announced != x.size && x.rest == 0 && !x.truncated {
			ev.Anomalies = append(ev.Anomalies, fmt.Sprintf("%d bytes seen, %d announced", x.size, x.announced))
		}
	}
	if x.reply != 0 {
		s.Set("reply_code", x.reply)
		s.Set("reply", x.replyText)
		if x.reply >= 400 {
			ev.Anomalies = append(ev.Anomalies, fmt.Sprintf("server answered the transfer with %d: the file may be incomplete", x.reply))
		}
	}
	if x.truncated {
		s.Set("truncated", true)
	}
	if x.incomplete {
		s.Set("incomplete", true)
	}
	if x.art != nil {
		a := *x.art
		a.Name = name
		ev.Artifacts = append(ev.Artifacts, a)
		s.Set("sha256", a.SHA256)
	}
	if x.bothDirs {
		ev.Anomalies = append(ev.Anomalies, "data connection carried bytes in both directions; the larger kept")
	}
	if x.peerUnexpect != "" {
		ev.Anomalies = append(ev.Anomalies, x.peerUnexpect)
	}
	if x.artifactError != "" {
		ev.Anomalies = append(ev.Anomalies, x.artifactError)
	}
	ev.Anomalies = append(ev.Anomalies, x.dataAnoms...)
	return ev
}

// data parses one data connection: it only collects bytes.
type data struct {
	c     *parser.Conn
	env   parser.Env
	x     *transfer
	max   int
	buf   [2][]byte
	n     [2]int64
	trunc [2]bool
	anoms parser.Anomalies
	inc   bool
	start time.Time
	end   time.Time
	seen  bool
	ended bool
}

func newData(c *parser.Conn, env parser.Env, x *transfer) *data {
	max := env.Options().MaxArtifactBytes
	if max <= 0 {
		max = parser.DefaultOptions().MaxArtifactBytes
	}
	return &data{c: c, env: env, x: x, max: max, start: c.Start}
}

func (d *data) ProcessPacket(dir parser.Direction, p []byte, ts time.Time) {
	if d.ended || dir > parser.ServerToClient || len(p) == 0 {
		return
	}
	if !d.seen {
		d.seen, d.start = true, ts
	}
	d.end = ts
	d.add(dir, p)
}

func (d *data) add(dir parser.Direction, p []byte) {
	d.n[dir] += int64(len(p))
	b := d.buf[dir]
	room := d.max - len(b)
	if len(p) > room {
		p = p[:max(room, 0)]
		d.trunc[dir] = true
	}
	if len(p) == 0 {
		return
	}
	if b == nil {
		// the size a 150 reply announced, when it came first, sizes
		// the buffer (a lying one cannot reserve much)
		d.x.mu.Lock()
		n := d.x.announced
		d.x.mu.Unlock()
		b = takeBuffer(int(min(n, int64(d.max), maxReserve)))
	}
	if len(b)+len(p) > cap(b) {
		// doubled, not grown by append's quarter for large slices: a
		// file costs about twice its size in copies instead of five
		// times
		b = slices.Grow(b, min(max(len(p), cap(b), 4096), room))
	}
	d.buf[dir] = append(b, p...)
}

// dataBuffers holds the buffers of files saved (most transfers are
// small), up to 256 KiB each.
var dataBuffers = bufpool.New(256 << 10)

// maxReserve caps the buffer an announced size reserves: a capture often
// holds only the start of a big file.
const maxReserve = 64 << 10

// takeBuffer returns an empty buffer of capacity at least n (0: any).
func takeBuffer(n int) []byte { return dataBuffers.Take(n) }

// releaseBuffer hands buf over for reuse by takeBuffer. The caller must
// not touch buf again.
func releaseBuffer(buf []byte) { dataBuffers.Release(buf) }

// Gap keeps offsets with zeros when the size is known.
func (d *data) Gap(dir parser.Direction, n int, ts time.Time) {
	if d.ended || dir > parser.ServerToClient {
		return
	}
	d.inc = true
	if n <= 0 {
		d.anoms.Add("unknown number of bytes missing (capture gap); the file is incomplete")
		return
	}
	d.anoms.Addf("%d bytes missing (capture gap); filled with zeros", n)
	var zeros [4096]byte
	for n > 0 {
		k := min(n, len(zeros))
		d.add(dir, zeros[:k])
		n -= k
	}
}

func (d *data) IsContinue() bool { return !d.ended }

// EndProcess stores the file and emits the event if the control side
// already named it.
func (d *data) EndProcess(reason parser.EndReason, ts time.Time) {
	if d.ended {
		return
	}
	d.ended = true
	dir := parser.ServerToClient
	if d.n[parser.ClientToServer] > d.n[parser.ServerToClient] {
		dir = parser.ClientToServer
	}
	if !d.seen {
		d.start, d.end = d.c.Start, ts
	}
	x := d.x
	x.mu.Lock()
	name := x.fileName()
	ctlServer := x.ctlServer.Addr()
	x.mu.Unlock()

	var art *event.Artifact
	var artErr string
	if d.n[dir] > 0 {
		a, err := d.env.SaveArtifact(event.KindFile, name, "", d.buf[dir])
		if err != nil {
			artErr = fmt.Sprintf("ftp: saving data of %s: %v", name, err)
		} else {
			art = &a
		}
	}
	sender := d.c.Server
	if dir == parser.ClientToServer {
		sender = d.c.Client
	}
	if reason == parser.EndIdle || reason == parser.EndEvicted {
		d.anoms.Add("data connection ended by " + reason.String() + ", not by its own close")
	}

	x.mu.Lock()
	x.dataDone = true
	x.dataClient, x.dataServer = d.c.Client, d.c.Server
	x.start, x.end = d.start, d.end
	x.size = d.n[dir]
	x.art = art
	x.artifactError = artErr
	x.truncated = d.trunc[dir]
	x.incomplete = d.inc
	x.dataAnoms = d.anoms.Out()
	x.fromServerIP = sender.Addr() == ctlServer
	x.bothDirs = d.n[0] > 0 && d.n[1] > 0
	var ev *event.Event
	if x.readyLocked() {
		ev = x.eventLocked()
	}
	x.mu.Unlock()
	// the file lives in the artifact store now
	releaseBuffer(d.buf[0])
	releaseBuffer(d.buf[1])
	d.buf = [2][]byte{}
	if ev != nil {
		d.env.Emit(ev)
	}
}
