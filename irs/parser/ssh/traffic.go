package ssh

import (
	"math"
	"slices"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
)

// What the parser keeps of the encrypted phase, all bounded: the first
// earlyRecords chunks in order (for the authentication and channel
// set-up analysis), per-second windows merged into at most maxActivities
// activities, and running counters.

// rec is one encrypted chunk: direction, size, offset from the start.
type rec struct {
	dir  parser.Direction
	size int
	at   time.Duration
}

// Classification thresholds, with why.
const (
	windowLen = time.Second
	// bulkChunk: a chunk this large is bulk data (a full TCP segment is
	// ~1448 bytes on Ethernet; a keystroke or echo is under 100).
	bulkChunk = 1000
	// bulkWindow: bytes one way in one window that mean a transfer.
	bulkWindow = 48 << 10
	// humanMin, humanMax: the pause before a keystroke when a person
	// types (people do not type faster than ~20 keys/s; longer pauses
	// are thinking, not typing).
	humanMin = 40 * time.Millisecond
	humanMax = 5 * time.Second
	// echoWithin: a server echo follows the keystroke within this: a
	// round trip across continents, plus a loaded server.
	echoWithin = time.Second
	// maxPending caps the keystrokes awaiting an echo.
	maxPending = 32
	// setupChunks: chunks after USERAUTH_SUCCESS that open the channel
	// and make its requests (pty, x11, env, shell/exec/subsystem).
	setupChunks = 8
	// noAuthWindows: without a visible USERAUTH_SUCCESS, windows start
	// at this chunk, past any authentication exchange.
	noAuthWindows = 40
	// forwardMin: bytes each way after set-up for a port-forwarding
	// verdict; less is a short command.
	forwardMin = 2048
	// maxSamples caps each list of timing samples kept for the evidence.
	maxSamples = 128
	// maxActivities caps the activity list; later ones merge into the last.
	maxActivities = 32
	// idleMerge: windows of the same kind separated by less idle time
	// than this form one activity.
	idleMerge = 10 * time.Second
)

// Activity kinds, also the session verdicts.
const (
	KindInteractive = "interactive"
	KindUpload      = "file-upload"
	KindDownload    = "file-download"
	KindX11         = "x11"
	KindForwarding  = "port-forwarding"
	KindNested      = "nested-ssh"
	KindCommand     = "command"    // a short non-interactive exchange
	KindOther       = "other"      // an activity window of none of the kinds above
	KindNone        = "no-session" // nothing after authentication
	KindUnknown     = "unknown"    // sizes unusable (SSH-1, unknown cipher)
)

// sizes are the packet sizes the negotiated ciphers produce.
type sizes struct {
	ok           bool
	compressed   bool   // zlib@openssh.com: compressed after authentication
	min          [2]int // one-byte payload: USERAUTH_SUCCESS, the smallest packet
	ks           [2]int // CHANNEL_DATA with one byte: a keystroke or its echo
	ksMax        [2]int // CHANNEL_DATA with up to 8 bytes (escape sequences)
	openConfirm  int    // CHANNEL_OPEN_CONFIRMATION (client answering the server)
	x11Req       int    // "x11-req" with a MIT-MAGIC-COOKIE-1 of 32 hex digits
	x11Open      [2]int // server's CHANNEL_OPEN "x11" from an IPv4 originator, min and max
	fxpInit      int    // CHANNEL_DATA with SSH_FXP_INIT (9 bytes)
	nested       nestedSizes
	nestedBanner [2]int // CHANNEL_DATA carrying an inner version line, min and max
}

// innerKeystrokes are the sizes of a one-byte CHANNEL_DATA packet under
// the common ciphers of an inner SSH session: chacha20-poly1305 and
// AES-GCM (36), AES-CTR with hmac-sha2-256 (64) or -512 (96), with ETM
// MACs (52, 84), umac-64 (40/48), hmac-sha1 (52).
var innerKeystrokes = [...]int{36, 40, 44, 48, 52, 56, 64, 68, 84, 96}

// nestedSizes is the set of outer packet sizes that carry an inner
// keystroke: at most one per inner size, so a short array searched in
// place rather than a map made per connection.
type nestedSizes struct {
	n    int
	size [len(innerKeystrokes)]int
}

func (s *nestedSizes) add(n int) {
	if !s.has(n) {
		s.size[s.n] = n
		s.n++
	}
}

func (s *nestedSizes) has(n int) bool {
	for _, x := range s.size[:s.n] {
		if x == n {
			return true
		}
	}
	return false
}

func newSizes(a *algorithms) sizes {
	var s sizes
	if a == nil || !a.Cipher[0].Known || !a.Cipher[1].Known {
		return s
	}
	if a.Cmp[0] == "zlib" || a.Cmp[1] == "zlib" {
		// Compressed from NEWKEYS on: no size means anything.
		return s
	}
	s.ok = true
	s.compressed = a.Cmp[0] == "zlib@openssh.com" || a.Cmp[1] == "zlib@openssh.com"
	for d := 0; d < 2; d++ {
		ci := a.Cipher[d]
		s.min[d] = ci.packetSize(1)
		s.ks[d] = ci.packetSize(9 + 1)
		s.ksMax[d] = ci.packetSize(9 + 8)
	}
	c, sv := a.Cipher[0], a.Cipher[1]
	s.openConfirm = c.packetSize(17)
	s.x11Req = c.packetSize(1 + 4 + 4 + len("x11-req") + 1 + 1 + 4 + len("MIT-MAGIC-COOKIE-1") + 4 + 32 + 4)
	s.fxpInit = c.packetSize(9 + 9)
	// type, "x11", sender channel, window, max packet, originator
	// address (7 to 15 characters) and port.
	s.x11Open = [2]int{sv.packetSize(1 + 4 + 3 + 4 + 4 + 4 + 4 + 7 + 4), sv.packetSize(1 + 4 + 3 + 4 + 4 + 4 + 4 + 15 + 4)}
	for _, k := range innerKeystrokes {
		if n := c.packetSize(9 + k); n != s.ks[0] && n > s.ksMax[0] {
			s.nested.add(n)
		}
	}
	s.nestedBanner = [2]int{c.packetSize(9 + 10), c.packetSize(9 + 255)}
	return s
}

// window counts one second of traffic.
type window struct {
	start        time.Duration
	bytes, n     [2]int
	keys, nested int // client keystroke-sized and nested-keystroke-sized chunks
	nestEcho     int // nested keystrokes the server echoed
}

// Activity is one stretch of the session of one kind.
type Activity struct {
	Kind        string
	Start, End  time.Duration
	Bytes, Recs [2]int
}

// traffic keeps what the classification needs from the encrypted phase.
type traffic struct {
	sz      sizes
	early   []rec
	total   [2]int
	bytes   [2]int64
	bulk    [2]int64 // bytes in chunks of bulkChunk or more
	first   time.Duration
	last    time.Duration
	started bool

	// keystrokes
	keys, keyHuman, keyEchoed   int
	nested, nestHuman, nestEcho int
	nestedSize                  map[int]int
	lastKey                     time.Duration
	pending                     [2][]time.Duration // keystrokes (outer, nested) awaiting their echo
	// samples for the evidence: human-paced gaps before keystrokes
	// (outer, nested) and server echo delays, the first maxSamples
	keyGaps    [2][]time.Duration
	echoDelays []time.Duration

	win  window
	acts []Activity

	// set-up progress, streamed so windows skip the set-up exchange
	init       bool
	clientSeen bool
	authAt     int // index of the USERAUTH_SUCCESS chunk, -1 before
	winFrom    int // windows start at this chunk index
	x11Req     bool

	// framed packets (length in clear)
	framed        [2]int
	exact         bool // a framed USERAUTH_SUCCESS
	exactAt       time.Duration
	exactAttempts int
}

func (t *traffic) add(dir parser.Direction, n int, at time.Duration) {
	if !t.started {
		t.started, t.first = true, at
	}
	if at > t.last {
		t.last = at
	}
	t.total[dir]++
	t.bytes[dir] += int64(n)
	if n >= bulkChunk {
		t.bulk[dir] += int64(n)
	}
	if len(t.early) < earlyRecords {
		if len(t.early) == cap(t.early) {
			t.early = growEarly(t.early)
		}
		t.early = append(t.early, rec{dir, n, at})
	}
	if !t.sz.ok {
		return
	}
	idx := t.total[0] + t.total[1] - 1
	switch {
	case dir == parser.ClientToServer:
		t.clientSeen = true
		if t.authAt >= 0 && idx-t.authAt <= setupChunks && n == t.sz.x11Req {
			t.x11Req = true
		}
	case t.authAt < 0 && t.clientSeen && n == t.sz.min[1]:
		t.authAt = idx
		t.winFrom = idx + setupChunks
	}
	if idx < t.winFrom {
		return
	}
	// Windows.
	if at-t.win.start >= windowLen || t.win.n[0]+t.win.n[1] == 0 {
		t.closeWindow()
		t.win = window{start: at - at%windowLen}
	}
	t.win.bytes[dir] += n
	t.win.n[dir]++
	// Keystrokes and their echoes.
	if dir == parser.ClientToServer {
		kind := 0
		switch {
		case n >= t.sz.ks[0] && n <= t.sz.ksMax[0]:
			kind = 1
			t.keys++
			t.win.keys++
		case t.sz.nested.has(n):
			kind = 2
			t.nested++
			t.win.nested++
			if t.nestedSize == nil {
				t.nestedSize = map[int]int{}
			}
			if len(t.nestedSize) < 16 || t.nestedSize[n] > 0 {
				t.nestedSize[n]++
			}
		}
		if kind != 0 {
			gap := at - t.lastKey
			if t.lastKey > 0 && gap >= humanMin && gap <= humanMax {
				if kind == 1 {
					t.keyHuman++
				} else {
					t.nestHuman++
				}
				if len(t.keyGaps[kind-1]) < maxSamples {
					t.keyGaps[kind-1] = append(t.keyGaps[kind-1], gap)
				}
			}
			t.lastKey = at
			q := &t.pending[kind-1]
			if len(*q) == maxPending {
				*q = append((*q)[:0], (*q)[1:]...)
			}
			*q = append(*q, at)
		}
		return
	}
	// A server chunk: the echo of the oldest keystroke still awaiting
	// one (keys typed faster than the round trip queue up).
	for k := range t.pending {
		q := &t.pending[k]
		i := 0
		for i < len(*q) && at-(*q)[i] > echoWithin {
			i++
		}
		*q = append((*q)[:0], (*q)[i:]...)
	}
	kind := 0
	switch {
	case n >= t.sz.ks[1] && n <= t.sz.ksMax[1] && len(t.pending[0]) > 0:
		kind = 1
	case n > t.sz.ksMax[1] && n <= t.sz.ksMax[1]+160 && len(t.pending[1]) > 0:
		kind = 2
	case n > t.sz.ksMax[1] && n <= t.sz.ksMax[1]+64 && len(t.pending[0]) > 0:
		kind = 1 // an echo with a prompt or colour codes
	}
	if kind == 0 {
		return
	}
	q := &t.pending[kind-1]
	if len(t.echoDelays) < maxSamples {
		t.echoDelays = append(t.echoDelays, at-(*q)[0])
	}
	*q = append((*q)[:0], (*q)[1:]...)
	if kind == 1 {
		t.keyEchoed++
	} else {
		t.nestEcho++
		t.win.nestEcho++
	}
}

// earlyFirst is the first capacity of the early records: a login and
// a short command fit it (an authentication and channel set-up alone
// take some twenty chunks).
const earlyFirst = 32

// growEarly gives the early records room in two steps, earlyFirst then
// all earlyRecords, rather than append's doublings from one.
func growEarly(e []rec) []rec {
	if cap(e) < earlyFirst {
		return make([]rec, 0, earlyFirst)
	}
	return append(make([]rec, 0, earlyRecords), e...)
}

// windowKind labels one window.
func (t *traffic) windowKind(w window, x11 bool) string {
	c, s := w.bytes[0], w.bytes[1]
	switch {
	case c+s == 0:
		return ""
	case x11 && c >= bulkWindow/4 && s >= bulkWindow/4:
		return KindX11
	case c >= bulkWindow && c >= 4*s:
		return KindUpload
	case s >= bulkWindow && s >= 4*c:
		return KindDownload
	case w.nested >= 2 && w.nested > w.keys && w.nestEcho*2 >= w.nested:
		return KindNested
	case w.keys >= 1 && w.keys*2 >= w.n[0]:
		return KindInteractive
	}
	if c >= 512 && s >= 512 {
		return KindForwarding
	}
	return KindOther
}

// closeWindow folds the current window into the activity list.
func (t *traffic) closeWindow() {
	w := t.win
	if w.n[0]+w.n[1] == 0 {
		return
	}
	k := t.windowKind(w, t.x11Req)
	end := w.start + windowLen
	if n := len(t.acts); n > 0 {
		last := &t.acts[n-1]
		if (last.Kind == k && w.start-last.End <= idleMerge) || n >= maxActivities {
			last.End = max(last.End, end)
			for d := 0; d < 2; d++ {
				last.Bytes[d] += w.bytes[d]
				last.Recs[d] += w.n[d]
			}
			return
		}
	}
	t.acts = append(t.acts, Activity{Kind: k, Start: w.start, End: end, Bytes: w.bytes, Recs: w.n})
}

// packet records one framed packet (directions with the length in
// clear). A server packet of the smallest size after the client's
// first packets is USERAUTH_SUCCESS for certain, even when it shares a
// TCP segment with others.
func (t *traffic) packet(dir parser.Direction, size int, at time.Duration) {
	t.framed[dir]++
	if !t.sz.ok || t.exact || dir != parser.ServerToClient || t.framed[parser.ClientToServer] == 0 {
		return
	}
	if size == t.sz.min[1] {
		t.exact, t.exactAt = true, at
		t.exactAttempts = max(t.framed[parser.ClientToServer]-1, 1)
	}
}

// medianMS is the median of samples in milliseconds (rounded to 0.1),
// or -1 when there are none.
func medianMS(samples []time.Duration) float64 {
	if len(samples) == 0 {
		return -1
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return math.Round(float64(m)/float64(time.Millisecond)*10) / 10
}
