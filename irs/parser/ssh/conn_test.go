package ssh

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

func session(t *testing.T, evs []*event.Event) *event.Event {
	t.Helper()
	var s *event.Event
	for _, e := range evs {
		if e.Type == TypeSession {
			if s != nil {
				t.Fatal("two ssh-session events for one connection")
			}
			s = e
		}
	}
	if s == nil {
		t.Fatalf("no ssh-session event among %d", len(evs))
	}
	return s
}

// TestHandshake checks what the clear part yields: versions, KEXINITs,
// the negotiated algorithms per direction and what they imply.
func TestHandshake(t *testing.T) {
	_, evs := parsertest.Run(Detector{}, parsertest.Conn(22), handshake(cliKex, srvKex), parsertest.Whole, 0)
	ev := session(t, evs)
	s := ev.Summary
	for k, want := range map[string]any{
		"client_software": "OpenSSH_9.2p1", "client_comments": "Debian-2+deb12u3", "server_proto": "2.0",
		"kex_alg": "sntrup761x25519-sha512@openssh.com", "host_key_alg": "ssh-ed25519",
		"cipher_c2s": "chacha20-poly1305@openssh.com", "cipher_s2c": "chacha20-poly1305@openssh.com",
		"mac_c2s": "umac-64-etm@openssh.com", "compression_c2s": "none", "compression_s2c": "none",
		"aead_c2s": true, "length_c2s": lenSeparate, "smallest_packet_s2c": 28, "block_size_c2s": 8,
		"newkeys_c2s": true, "newkeys_s2c": true, "version": 2,
	} {
		if fmt.Sprint(s.Get(k)) != fmt.Sprint(want) {
			t.Errorf("%s = %v; want %v", k, s.Get(k), want)
		}
	}
	ck, _ := s.Get("client_kexinit").(event.Fields)
	if ck == nil || ck.Get("cookie") != "101112131415161718191a1b1c1d1e1f" || ck.Get("compression_s2c") != cliKex.cmp {
		t.Errorf("client_kexinit %v; want cookie 1011…1f and every list", ck)
	}
	if s.Get("hassh") == nil || s.Get("hassh_server") == nil || s.Get("hassh") == s.Get("hassh_server") {
		t.Errorf("hassh %v, hassh_server %v; want both, different", s.Get("hassh"), s.Get("hassh_server"))
	}
	if ev.Protocol != "ssh" || ev.Subject != "OpenSSH_9.2p1 → OpenSSH_9.2p1 → no-session" {
		t.Errorf("protocol %q subject %q", ev.Protocol, ev.Subject)
	}
}

// TestNegotiationPerDirection: the two directions negotiate apart.
func TestNegotiationPerDirection(t *testing.T) {
	srv := srvKex
	srv.enc = "aes256-gcm@openssh.com,aes128-ctr"
	srv.mac = "hmac-sha2-256-etm@openssh.com"
	cli := cliKex
	cli.enc = "aes128-ctr,aes256-gcm@openssh.com"
	_, evs := parsertest.Run(Detector{}, parsertest.Conn(22), handshake(cli, srv), parsertest.Whole, 0)
	s := session(t, evs).Summary
	if s.Get("cipher_c2s") != "aes128-ctr" || s.Get("mac_c2s") != "hmac-sha2-256-etm@openssh.com" || s.Get("length_c2s") != lenClear || s.Get("etm_c2s") != true {
		t.Errorf("c2s %v %v %v; want aes128-ctr with ETM, length in clear", s.Get("cipher_c2s"), s.Get("mac_c2s"), s.Get("length_c2s"))
	}
	if s.Get("smallest_packet_c2s") != 52 {
		t.Errorf("smallest_packet_c2s %v; want 52", s.Get("smallest_packet_c2s"))
	}
	srv.enc = "aes256-cbc"
	_, evs = parsertest.Run(Detector{}, parsertest.Conn(22), handshake(cliKex, srv), parsertest.Whole, 0)
	ev := session(t, evs)
	if ev.Summary.Get("cipher_c2s") != "" || !strings.Contains(strings.Join(ev.Anomalies, ";"), "no common cipher client to server") {
		t.Errorf("cipher %v anomalies %v; want none negotiated and an anomaly", ev.Summary.Get("cipher_c2s"), ev.Anomalies)
	}
}

// TestSplitInvariance: the clear part gives the same events whole, one
// byte per call, or cut at random (only the call counts differ).
func TestSplitInvariance(t *testing.T) {
	convs := map[string][]parsertest.Segment{
		"openssh":          handshake(cliKex, srvKex),
		"pre-banner lines": append([]parsertest.Segment{parsertest.S("hello there\r\nsecond line\n")}, handshake(cliKex, srvKex)...),
		"ssh-1":            {parsertest.S("SSH-1.99-OpenSSH_3.4\r\n"), parsertest.C("SSH-1.5-OpenSSH_6.2\n"), parsertest.S("\x00\x00\x01\x04binary")},
		"refusal":          {parsertest.S("SSH-2.0-OpenSSH_7.4\r\n"), parsertest.C("\r\n"), parsertest.S("Protocol mismatch.\n")},
	}
	for name, segs := range convs {
		t.Run(name, func(t *testing.T) {
			_, whole := parsertest.Run(Detector{}, parsertest.Conn(22), segs, parsertest.Whole, 0)
			want := cutSummary(parsertest.Normalize(whole))
			_, bytes := parsertest.Run(Detector{}, parsertest.Conn(22), segs, parsertest.Bytes, 0)
			if got := cutSummary(parsertest.Normalize(bytes)); got != want {
				t.Errorf("one byte per call differs:\n got %s\nwant %s", got, want)
			}
			for seed := int64(1); seed <= 20; seed++ {
				_, rnd := parsertest.Run(Detector{}, parsertest.Conn(22), segs, parsertest.Random, seed)
				if got := cutSummary(parsertest.Normalize(rnd)); got != want {
					t.Fatalf("random split %d differs:\n got %s\nwant %s", seed, got, want)
				}
			}
		})
	}
}

// TestClassify runs synthetic encrypted sessions with the sizes and
// timings OpenSSH 9.2 produced under chacha20-poly1305.
func TestClassify(t *testing.T) {
	c, s := parser.ClientToServer, parser.ServerToClient
	auth, at := opensshAuth(0)
	keys, end := typing(at, 30, 36, 150*time.Millisecond)
	nested, _ := typing(at, 30, 76, 180*time.Millisecond)
	up, _ := bulk(at, c, 2000)
	down, _ := bulk(at, s, 2000)
	fast, _ := typing(at, 30, 36, 2*time.Millisecond) // a script, not a person
	sftp := []step{{c, 44, at + time.Millisecond}, {s, 356, at + 2*time.Millisecond}}
	down2, _ := bulk(at+3*time.Millisecond, s, 2000)
	x11 := []step{{c, 108, at - 30*time.Millisecond}}
	var burst []step
	bt := at + 300*time.Millisecond
	burst = append(burst, step{s, 68, bt}, step{c, 44, bt + time.Millisecond})
	for i := 0; i < 200; i++ {
		bt += 5 * time.Millisecond
		burst = append(burst, step{s, 1448, bt}, step{c, 1448, bt + time.Millisecond})
	}
	var fwd []step
	ft := at
	for i := 0; i < 20; i++ {
		ft += 200 * time.Millisecond
		fwd = append(fwd, step{c, 420, ft}, step{s, 900, ft + 20*time.Millisecond})
	}
	failAuth := []step{{s, 200, 1}, {c, 44, 2}, {s, 44, 3}, {c, 60, 4}, {s, 52, 5}, {c, 140, 6}, {s, 52, 7}, {c, 140, 8}, {s, 52, 9}}
	for _, tc := range []struct {
		name, verdict, auth, proto string
		steps                      []step
	}{
		{"interactive", KindInteractive, AuthSuccess, "", concat(auth, keys)},
		{"upload", KindUpload, AuthSuccess, "scp", concat(auth, up)},
		{"download", KindDownload, AuthSuccess, "scp", concat(auth, down)},
		{"sftp download", KindDownload, AuthSuccess, "sftp", concat(auth, sftp, down2)},
		{"nested", KindNested, AuthSuccess, "", concat(auth, nested)},
		{"scripted keys are not a person", KindForwarding, AuthSuccess, "", concat(auth, fast, fwd)},
		{"x11", KindX11, AuthSuccess, "", concat(auth[:len(auth)-4], x11, auth[len(auth)-4:], burst)},
		{"x11 request hidden in a shared segment", KindX11, AuthSuccess, "", concat(auth, burst)},
		{"port forwarding", KindForwarding, AuthSuccess, "", concat(auth, fwd)},
		{"auth failure", KindNone, AuthFailure, "", failAuth},
		{"no session", KindNone, AuthSuccess, "", auth},
		{"interactive then bulk output", KindInteractive, AuthSuccess, "", concat(auth, keys, shift(down, end-at))},
		// "shell" has FXP_INIT's size, and the server's answer can
		// share a segment with the motd: typing says it was a shell.
		{"shell request and motd are not sftp", KindInteractive, AuthSuccess, "", concat(auth, sftp, keys, shift(down2, end-at))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := feed(tc.steps)
			ev := session(t, env.Events)
			sm := ev.Summary
			if sm.Get("verdict") != tc.verdict || sm.Get("auth") != tc.auth {
				b, _ := json.MarshalIndent(sm.Get("evidence"), "", " ")
				t.Errorf("verdict %v auth %v; want %s %s\nevidence %s", sm.Get("verdict"), sm.Get("auth"), tc.verdict, tc.auth, b)
			}
			if tc.proto != "" && sm.Get("file_protocol") != tc.proto {
				t.Errorf("file_protocol %v; want %s", sm.Get("file_protocol"), tc.proto)
			}
			if sftp := sm.Get("evidence").(event.Fields).Get("sftp_init_seen"); sftp != nil && sftp != (tc.proto == "sftp") {
				t.Errorf("sftp_init_seen %v; want %v", sftp, tc.proto == "sftp")
			}
			if c, _ := sm.Get("confidence").(float64); c <= 0 || c > 1 {
				t.Errorf("confidence %v; want in (0, 1]", sm.Get("confidence"))
			}
		})
	}
}

func shift(l []step, d time.Duration) []step {
	out := make([]step, len(l))
	for i, s := range l {
		s.at += d
		out[i] = s
	}
	return out
}

// TestActivities: a session that is typed in, then downloads, lists both
// activities with their spans, and emits one ssh-activity per activity.
func TestActivities(t *testing.T) {
	auth, at := opensshAuth(0)
	keys, end := typing(at, 30, 36, 150*time.Millisecond)
	down, _ := bulk(end+20*time.Second, parser.ServerToClient, 2000)
	env, _ := feed(concat(auth, keys, down))
	var kinds []string
	for _, e := range env.Events {
		if e.Type == TypeActivity {
			kinds = append(kinds, fmt.Sprint(e.Summary.Get("kind")))
			if !e.End.After(e.Start) {
				t.Errorf("activity %v spans %v to %v", e.Summary.Get("kind"), e.Start, e.End)
			}
		}
	}
	if got := strings.Join(kinds, ","); got != "interactive,file-download" {
		t.Errorf("activities %s; want interactive,file-download", got)
	}
}

// TestBounds: hostile input never makes the parser hold more than its
// caps, and it holds nothing after EndProcess.
func TestBounds(t *testing.T) {
	big := strings.Repeat("A", 200000)
	for _, tc := range []struct {
		name string
		segs []parsertest.Segment
	}{
		{"endless line", []parsertest.Segment{parsertest.S(big)}},
		{"endless lines", []parsertest.Segment{parsertest.S(strings.Repeat("x\n", 100000))}},
		{"huge packet length", []parsertest.Segment{parsertest.S("SSH-2.0-x\r\n\x7f\xff\xff\xff" + big)}},
		{"packet at the cap", []parsertest.Segment{parsertest.S("SSH-2.0-x\r\n\x00\x00\xff\xfb" + big)}},
		{"long version", []parsertest.Segment{parsertest.S("SSH-2.0-" + big + "\r\n")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := parsertest.NewEnv()
			p := Detector{}.New(parsertest.Conn(22), env).(*conn)
			ts := time.Unix(1700000000, 0)
			for _, s := range tc.segs {
				for d := s.Data; len(d) > 0; {
					n := min(len(d), 1448)
					p.ProcessPacket(s.Dir, d[:n], ts)
					d = d[n:]
					if b := p.buffered(); b > bufferBound {
						t.Fatalf("holds %d bytes; bound %d", b, bufferBound)
					}
				}
			}
			p.EndProcess(parser.EndClosed, ts)
			p.EndProcess(parser.EndClosed, ts)
			if b := p.buffered(); b != 0 {
				t.Errorf("holds %d bytes after EndProcess", b)
			}
			if len(env.Events) != 1 {
				t.Errorf("%d events; want 1 (EndProcess twice must emit once)", len(env.Events))
			}
		})
	}
}

// etmPacket builds an encrypted packet as it travels under aes128-ctr
// with hmac-sha2-256-etm: the length in clear, a body of n bytes (a
// multiple of the block size), a 32-byte MAC.
func etmPacket(n int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	return append(b, make([]byte, n+32)...)
}

// TestFraming: with the packet length in clear, packets are framed
// across and within segments, USERAUTH_SUCCESS is found even when it
// shares a segment, and an impossible length stops the framing.
func TestFraming(t *testing.T) {
	etm := cliKex
	etm.enc, etm.mac = "aes128-ctr", "hmac-sha2-256-etm@openssh.com"
	cat := func(ps ...[]byte) []byte {
		var b []byte
		for _, p := range ps {
			b = append(b, p...)
		}
		return b
	}
	req := etmPacket(32)
	// PK_OK, then SUCCESS (body 16: 52 bytes) and a global request in
	// one segment.
	coalesced := cat(etmPacket(96), etmPacket(16), etmPacket(448))
	segs := append(handshake(etm, etm),
		parsertest.Segment{Dir: parser.ClientToServer, Data: cat(req, req[:10])},
		parsertest.Segment{Dir: parser.ClientToServer, Data: req[10:]},
		parsertest.Segment{Dir: parser.ServerToClient, Data: coalesced},
	)
	for _, split := range []parsertest.Split{parsertest.Whole, parsertest.Bytes, parsertest.Random} {
		_, evs := parsertest.Run(Detector{}, parsertest.Conn(22), segs, split, 3)
		s := session(t, evs).Summary
		if s.Get("auth") != AuthSuccess || !strings.HasPrefix(fmt.Sprint(s.Get("auth_evidence")), "packets framed") || s.Get("auth_attempts") != 1 {
			t.Errorf("split %d: auth %v (%v), attempts %v; want a framed success after 1 attempt", split, s.Get("auth"), s.Get("auth_evidence"), s.Get("auth_attempts"))
		}
		if s.Get("ssh_packets_c2s") != 2 || s.Get("ssh_packets_s2c") != 3 {
			t.Errorf("split %d: ssh_packets %v/%v; want 2/3", split, s.Get("ssh_packets_c2s"), s.Get("ssh_packets_s2c"))
		}
	}
	bad := append(handshake(etm, etm), parsertest.Segment{Dir: parser.ServerToClient, Data: etmPacket(17)})
	_, evs := parsertest.Run(Detector{}, parsertest.Conn(22), bad, parsertest.Whole, 0)
	ev := session(t, evs)
	if _, ok := ev.Summary.Lookup("ssh_packets_s2c"); ok || !strings.Contains(strings.Join(ev.Anomalies, ";"), "framing given up") {
		t.Errorf("length 17 under a 16-byte block: ssh_packets_s2c %v, anomalies %v; want framing given up", ev.Summary.Get("ssh_packets_s2c"), ev.Anomalies)
	}
}

// TestGaps: a gap before NEWKEYS ends the clear reading of that
// direction (anomaly, no KEXINIT from then on); a gap after it only
// stops the framing.
func TestGaps(t *testing.T) {
	hs := handshake(cliKex, srvKex)
	before := append([]parsertest.Segment{hs[0], hs[1], {Dir: parser.ServerToClient, Gap: 100}}, hs[2:]...)
	_, evs := parsertest.Run(Detector{}, parsertest.Conn(22), before, parsertest.Whole, 0)
	ev := session(t, evs)
	if ev.Summary.Get("server_kexinit") != nil || ev.Summary.Get("gaps_s2c") != 1 || !strings.Contains(strings.Join(ev.Anomalies, ";"), "gap of 100 bytes before NEWKEYS") {
		t.Errorf("server_kexinit %v gaps %v anomalies %v; want no server KEXINIT, one gap, an anomaly", ev.Summary.Get("server_kexinit"), ev.Summary.Get("gaps_s2c"), ev.Anomalies)
	}
	if ev.Summary.Get("client_kexinit") == nil {
		t.Error("the client's KEXINIT, before no gap, is lost")
	}
	after := append(append([]parsertest.Segment{}, hs...), parsertest.Segment{Dir: parser.ClientToServer, Gap: -1}, parsertest.Segment{Dir: parser.ClientToServer, Data: make([]byte, 36)})
	_, evs = parsertest.Run(Detector{}, parsertest.Conn(22), after, parsertest.Whole, 0)
	ev = session(t, evs)
	if ev.Summary.Get("gaps_c2s") != 1 || ev.Summary.Get("encrypted_bytes_c2s") != uint64(36) || len(ev.Anomalies) != 0 {
		t.Errorf("gaps %v encrypted %v anomalies %v; want 1 gap, 36 bytes, no anomaly", ev.Summary.Get("gaps_c2s"), ev.Summary.Get("encrypted_bytes_c2s"), ev.Anomalies)
	}
}
