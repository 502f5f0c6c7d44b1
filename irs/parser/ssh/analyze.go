package ssh

import (
	"math"
	"strconv"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// Auth results.
const (
	AuthSuccess = "success"
	AuthFailure = "failure"
	AuthUnknown = "unknown"
)

// authResult is what the encrypted sizes say about authentication.
type authResult struct {
	Result   string
	Attempts int
	Evidence string
	At       time.Duration
}

// inferAuth reads the start of the encrypted phase. The client's first
// packet is SERVICE_REQUEST; each USERAUTH_REQUEST that follows is one
// attempt; the server answers FAILURE or PK_OK (at least a name-list or a
// key blob) or SUCCESS, whose payload is the single message byte and
// which is therefore the smallest packet the server's cipher can make.
func (t *traffic) inferAuth() authResult {
	r := authResult{Result: AuthUnknown}
	if !t.sz.ok {
		r.Evidence = "cipher sizes unknown"
		return r
	}
	if t.exact {
		r.Result, r.At, r.Attempts = AuthSuccess, t.exactAt, t.exactAttempts
		r.Evidence = "packets framed by their cleartext length: the server sent one of the smallest size its cipher allows (" +
			strconv.Itoa(t.sz.min[1]) + " bytes), SSH_MSG_USERAUTH_SUCCESS, after " + strconv.Itoa(t.exactAttempts+1) + " client packets"
		return r
	}
	clients := 0
	for _, x := range t.early {
		if x.dir == parser.ClientToServer {
			clients++
			continue
		}
		if clients > 0 && x.size == t.sz.min[1] {
			r.Result, r.At = AuthSuccess, x.at
			r.Attempts = max(clients-1, 1)
			r.Evidence = "server sent a packet of the smallest size its cipher allows (" + strconv.Itoa(x.size) +
				" bytes): SSH_MSG_USERAUTH_SUCCESS, after " + strconv.Itoa(clients) + " client packets"
			return r
		}
	}
	r.Attempts = max(clients-1, 0)
	after := t.total[0] + t.total[1]
	switch {
	case t.keys >= 5 || t.bulk[0]+t.bulk[1] >= 64<<10 || after >= 60:
		r.Result = AuthSuccess
		r.Evidence = "no USERAUTH_SUCCESS-sized packet seen (coalesced), but session traffic followed: " + strconv.Itoa(after) + " encrypted chunks"
	case clients >= 2 && t.total[1] >= 2:
		r.Result = AuthFailure
		r.Evidence = "the connection ended after " + strconv.Itoa(r.Attempts) + " authentication requests without a USERAUTH_SUCCESS-sized answer or session traffic"
	default:
		r.Evidence = "too little encrypted traffic to tell"
	}
	return r
}

// setup is what the channel set-up after authentication revealed.
type setup struct {
	sftp         bool // SSH_FXP_INIT answered by a VERSION with extensions
	x11Req       bool
	serverOpen   bool // the server opened a channel (x11, forwarded-tcpip, agent)
	innerHello   bool // an inner version line then KEXINIT-sized packets both ways
	innerHelloAt time.Duration
}

func (t *traffic) inferSetup(auth authResult) setup {
	var s setup
	if !t.sz.ok {
		return s
	}
	s.x11Req = t.x11Req
	e := t.early
	from := 0
	for i, x := range e {
		if x.at >= auth.At && x.dir == parser.ServerToClient && x.size == t.sz.min[1] {
			from = i + 1
			break
		}
	}
	if auth.Result != AuthSuccess || from == 0 {
		return s
	}
	for i := from; i < len(e); i++ {
		x := e[i]
		// sftp: FXP_INIT, answered first by the server's VERSION with
		// its extension list (OpenSSH: ~300 bytes).
		if x.dir == parser.ClientToServer && x.size == t.sz.fxpInit && i-from < 12 {
			for j := i + 1; j < len(e) && j <= i+4; j++ {
				if e[j].dir == parser.ServerToClient {
					if e[j].size >= t.sz.ks[1]+64 && e[j].size < bulkChunk {
						s.sftp = true
					}
					break
				}
			}
		}
		// A server-initiated channel: a server chunk answered at once by
		// a client CHANNEL_OPEN_CONFIRMATION, past the set-up.
		if x.dir == parser.ServerToClient && i-from >= 4 && i+1 < len(e) && e[i+1].dir == parser.ClientToServer &&
			e[i+1].size == t.sz.openConfirm && e[i+1].at-x.at < 500*time.Millisecond &&
			x.size >= t.sz.x11Open[0] && x.size <= t.sz.x11Open[1] {
			s.serverOpen = true
		}
		// Inner SSH: a client chunk the size of a version line inside
		// CHANNEL_DATA, then KEXINIT-sized chunks both ways.
		if !s.innerHello && x.dir == parser.ClientToServer && x.size >= t.sz.nestedBanner[0] && x.size <= t.sz.nestedBanner[1] {
			var big [2]bool
			for j := i + 1; j < len(e) && j <= i+8; j++ {
				if e[j].size >= bulkChunk {
					big[e[j].dir] = true
				}
			}
			if big[0] && big[1] {
				s.innerHello, s.innerHelloAt = true, x.at
			}
		}
	}
	return s
}

// verdict is the session's classification.
type verdict struct {
	Kind         string
	Confidence   float64
	FileProtocol string
	Evidence     event.Fields
	Activities   []Activity
}

// evidenceKeys is the number of keys classify can put in Evidence.
const evidenceKeys = 25

// classify decides the session's main verdict from the counters.
func (t *traffic) classify(auth authResult, st setup) verdict {
	t.closeWindow()
	t.win = window{}
	v := verdict{Activities: t.acts}
	if t.total[0]+t.total[1] == 0 {
		v.Kind, v.Confidence = KindNone, 0.5
		v.Evidence = event.Fields{{Key: "reason", Value: "no encrypted traffic after NEWKEYS"}}
		return v
	}
	if !t.sz.ok {
		v.Kind = KindUnknown
		v.Evidence = event.Fields{{Key: "reason", Value: "the negotiated cipher or MAC is unknown, compression (zlib) is on from the start, or the session is not SSH-2: packet sizes cannot be interpreted"}}
		return v
	}
	// Sized for the fields set below (17 to 23 on the shared captures),
	// so that it is not grown.
	v.Evidence = make(event.Fields, 0, evidenceKeys)
	ev := &v.Evidence
	ev.Set("keystroke_size_c2s", t.sz.ks[0])
	ev.Set("smallest_packet_s2c", t.sz.min[1])
	ev.Set("keystrokes", t.keys)
	ev.Set("keystrokes_human_paced", t.keyHuman)
	ev.Set("keystrokes_echoed", t.keyEchoed)
	ev.Set("nested_keystrokes", t.nested)
	ev.Set("nested_keystrokes_human_paced", t.nestHuman)
	ev.Set("nested_keystrokes_echoed", t.nestEcho)
	if len(t.nestedSize) > 0 {
		best, bn := 0, 0
		for k, n := range t.nestedSize {
			if n > bn || n == bn && k < best {
				best, bn = k, n
			}
		}
		ev.Set("nested_keystroke_size", best)
		ev.Set("nested_size_excess", best-t.sz.ks[0])
	}
	if m := medianMS(t.keyGaps[0]); m >= 0 {
		ev.Set("keystroke_interval_median_ms", m)
	}
	if m := medianMS(t.keyGaps[1]); m >= 0 {
		ev.Set("nested_keystroke_interval_median_ms", m)
	}
	if m := medianMS(t.echoDelays); m >= 0 {
		ev.Set("echo_delay_median_ms", m)
	}
	// typed: a person typed at a shell, echoed key by key. Window
	// adjusts share the keystroke size but come fast and unanswered
	// during a transfer, so only human-paced, echoed ones count.
	typed := t.keyHuman >= 5 && t.keyEchoed >= 5 && t.keyEchoed*2 >= t.keyHuman
	if typed {
		// The sftp client edits its command line locally and sends no
		// keystrokes; "shell" is a request of FXP_INIT's size, and a
		// prompt or motd can follow it as VERSION would.
		st.sftp = false
	}
	ev.Set("bulk_bytes_c2s", t.bulk[0])
	ev.Set("bulk_bytes_s2c", t.bulk[1])
	ev.Set("sftp_init_seen", st.sftp)
	ev.Set("x11_request_seen", st.x11Req)
	ev.Set("server_opened_channel", st.serverOpen)
	ev.Set("inner_handshake_seen", st.innerHello)
	dur := (t.last - t.first).Seconds()
	if dur > 0 {
		ev.Set("rate_c2s_bytes_per_s", math.Round(float64(t.bytes[0])/dur))
		ev.Set("rate_s2c_bytes_per_s", math.Round(float64(t.bytes[1])/dur))
	}
	total := t.bytes[0] + t.bytes[1]
	setupOnly := t.total[0]+t.total[1] <= 12+setupChunks && total < 4096
	if setupOnly || auth.Result == AuthFailure {
		v.Kind, v.Confidence = KindNone, 0.6
		ev.Set("reason", "no traffic beyond authentication and channel set-up")
		return v
	}
	up, down := t.bulk[0], t.bulk[1]
	file := func() bool {
		big := max(up, down)
		return big >= 256<<10 && float64(big) >= 0.8*float64(total)
	}
	// X11: the server opened an x11-sized channel (answered at once)
	// and either X11 was requested or bulk went both ways; or X11 was
	// requested and bulk went both ways without anyone typing. (The
	// x11-req can hide in a segment shared with the exec request.)
	bothBulk := t.bulk[0] >= 16<<10 && t.bulk[1] >= 16<<10
	x11 := st.serverOpen && (st.x11Req || bothBulk) || st.x11Req && bothBulk && !typed
	switch {
	case t.nested >= 5 && t.nestHuman >= 3 && t.nested > t.keys && t.nestEcho*2 >= t.nested:
		// Echoed: a forwarded connection's CHANNEL_OPEN or request
		// can have the same size, but is not answered in kind.
		v.Kind = KindNested
		v.Confidence = 0.7
		if st.innerHello {
			v.Confidence += 0.2
		}
		ev.Set("reason", "keystroke-paced client packets of a constant size larger than this session's own keystroke packet: keystrokes of an inner SSH session, padded twice")
	case x11:
		// Many clients request X11 on every session (ForwardX11 yes):
		// the request alone is not X11 traffic.
		v.Kind, v.Confidence = KindX11, 0.55
		if st.serverOpen {
			v.Confidence += 0.1
			if st.x11Req {
				v.Confidence += 0.1
			}
		}
		ev.Set("reason", "an x11-req sized channel request during set-up and/or an x11-sized channel opened by the server, with X11 traffic both ways")
	case st.innerHello && !st.x11Req && t.keys < 5:
		v.Kind, v.Confidence = KindNested, 0.5
		ev.Set("reason", "an inner version line and KEXINIT-sized packets both ways inside the session")
	case file() && !typed:
		if up > down {
			v.Kind = KindUpload
		} else {
			v.Kind = KindDownload
		}
		v.Confidence = 0.7
		v.FileProtocol = "scp"
		if st.sftp {
			v.FileProtocol = "sftp"
			v.Confidence = 0.85
		}
		ev.Set("reason", "sustained full-size segments one way carrying most of the session's bytes")
	case t.keys >= 5 && t.keyHuman >= 3:
		// Before or after a bulk transfer: a person typing at a shell
		// that then printed or received much (cat, base64) is still an
		// interactive session; the transfer is one of its activities.
		v.Kind = KindInteractive
		v.Confidence = 0.6
		if t.keyEchoed*2 >= t.keys {
			v.Confidence += 0.2
		}
		if t.keyHuman*2 >= t.keys {
			v.Confidence += 0.1
		}
		ev.Set("reason", "client packets of the one-byte CHANNEL_DATA size at human typing pace, each echoed by the server")
	default:
		var post [2]int
		for _, a := range t.acts {
			post[0] += a.Bytes[0]
			post[1] += a.Bytes[1]
		}
		ev.Set("post_setup_bytes_c2s", post[0])
		ev.Set("post_setup_bytes_s2c", post[1])
		switch {
		case post[0] >= forwardMin && post[1] >= forwardMin:
			v.Kind, v.Confidence = KindForwarding, 0.45
			ev.Set("reason", "traffic both ways after set-up that is neither keystrokes nor a one-way transfer: request/response exchanges of a forwarded connection")
		default:
			v.Kind, v.Confidence = KindCommand, 0.4
			ev.Set("reason", "a short exchange after set-up without keystrokes or bulk data: a remote command, or a session closed soon after it opened")
		}
	}
	if v.Kind == KindX11 {
		// Windows were labelled while the X11 evidence was incomplete:
		// traffic both ways in an X11 session is the X11 channel's.
		for i := range v.Activities {
			if v.Activities[i].Kind == KindForwarding {
				v.Activities[i].Kind = KindX11
			}
		}
	}
	if t.sz.compressed {
		// Delayed compression changes every size after authentication.
		v.Confidence *= 0.6
		ev.Set("compressed", true)
	}
	v.Confidence = math.Round(math.Min(v.Confidence, 0.95)*100) / 100
	return v
}
