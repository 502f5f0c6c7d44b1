package ssh

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// The public captures in ../shared/pcaps/ssh (next to the repository) run
// through the whole IRS pipeline; the events are compared with
// testdata/golden/<capture>.json (regenerate with
// `go test ./irs/parser/ssh -run Golden -update` and review the diff),
// and the facts Zeek, Suricata, nDPI, Arkime and tcpdump published for
// each capture are checked connection by connection below.

// facts are what the other tools say about one connection, keyed by the
// client port; an empty field is not checked.
type facts struct {
	port                 uint16
	client, server       string // full version lines
	proto                int    // Zeek's "version": 1 or 2
	auth                 string // AuthSuccess, AuthFailure, AuthUnknown
	cipher, mac, cmp     string // client to server, as Zeek's cipher_alg, mac_alg, compression_alg
	kex, hostKey         string
	hassh, hasshServer   string
	verdict              string // sdnli's own classification, pinned
	anomaly              string // a substring one anomaly must hold
	reverse, newkeysSeen bool
	// zeekAttempts is Zeek's auth_attempts; sdnli counts every
	// USERAUTH_REQUEST, so its count is never lower.
	zeekAttempts int
}

type goldenCase struct {
	file    string
	others  string // what the other tools published
	differs string // where sdnli differs and why ("" when it agrees)
	conns   []facts
	// sessions is the number of ssh-session events expected.
	sessions int
}

const (
	ctr     = "aes128-ctr"
	md5mac  = "hmac-md5"
	gex256  = "diffie-hellman-group-exchange-sha256"
	gex1    = "diffie-hellman-group-exchange-sha1"
	chacha  = "chacha20-poly1305@openssh.com"
	sha512e = "hmac-sha2-512-etm@openssh.com"
	ecdh256 = "ecdh-sha2-nistp256"
	rsa     = "ssh-rsa"
	v1599   = "SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2"
)

// sshv1 is one of the SSH-1 connections of zeek__ssh.pcap.
func sshv1(port uint16, client string) facts {
	return facts{port: port, client: client, server: v1599, proto: 1, auth: "", verdict: KindUnknown}
}

var goldenCases = []goldenCase{
	{
		file: "zeek__ssh.pcap",
		others: "Zeek ssh.log: 22 connections with version, auth_success, client, server, cipher_alg, mac_alg, " +
			"compression_alg, kex_alg, host_key_alg (all checked here); Suricata 7: the same version strings",
		differs: "51880: Zeek leaves auth_success unset; sdnli infers failure (7 encrypted chunks each way, no " +
			"USERAUTH_SUCCESS-sized answer, closed after 6 s). SSH-1 connections: Zeek leaves auth unset, sdnli " +
			"reports auth unknown and verdict unknown. auth_attempts differ: sdnli counts every client " +
			"USERAUTH_REQUEST including OpenSSH's 'none' probe and public-key queries, Zeek only some answers",
		sessions: 22,
		conns: []facts{
			{port: 51880, client: "SSH-2.0-OpenSSH_5.9", server: "SSH-2.0-OpenSSH_5.8", proto: 2, auth: AuthFailure,
				cipher: ctr, mac: md5mac, cmp: "zlib@openssh.com", kex: ecdh256, hostKey: "ecdsa-sha2-nistp256", verdict: KindNone},
			{port: 40184, zeekAttempts: 1, client: "SSH-2.0-OpenSSH_6.6", server: "SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1.1", proto: 2, auth: AuthSuccess,
				cipher: ctr, mac: md5mac, cmp: "none", kex: ecdh256, hostKey: rsa},
			{port: 57189, zeekAttempts: 3, client: "SSH-2.0-OpenSSH_6.2", server: v1599, proto: 2, auth: AuthSuccess,
				cipher: ctr, mac: "hmac-md5-etm@openssh.com", cmp: "none", kex: gex256, hostKey: rsa},
			sshv1(57191, "SSH-1.5-OpenSSH_6.2"),
			{port: 55179, zeekAttempts: 1, client: "SSH-2.0-OpenSSH_6.2", server: "SSH-2.0-paramiko_1.15.2", proto: 2, auth: AuthSuccess,
				cipher: ctr, mac: md5mac, cmp: "none", kex: gex1, hostKey: rsa},
			sshv1(56594, "SSH-1.5-OpenSSH_5.3"),
			sshv1(56821, "SSH-1.5-OpenSSH_6.2"),
			sshv1(56837, "SSH-1.5-OpenSSH_6.2"),
			sshv1(56845, "SSH-1.5-OpenSSH_6.2"),
			sshv1(56875, "SSH-1.5-OpenSSH_6.2"),
			sshv1(56878, "SSH-1.5-OpenSSH_6.2"),
			sshv1(56940, "SSH-1.5-OpenSSH_6.2"),
			sshv1(57831, "SSH-1.5-OpenSSH_6.2"),
			{port: 59246, zeekAttempts: 2, client: "SSH-2.0-OpenSSH_6.2", server: v1599, proto: 2, auth: AuthSuccess,
				cipher: "arcfour256", mac: "hmac-md5-etm@openssh.com", cmp: "none", kex: gex256, hostKey: rsa},
			{port: 41164, zeekAttempts: 5, client: "SSH-2.0-OpenSSH_6.6p1-hpn14v4", server: "SSH-1.99-OpenSSH_3.4+p1+gssapi+OpenSSH_3.7.1buf_fix+2006100301",
				proto: 2, auth: AuthSuccess, cipher: "aes128-cbc", mac: md5mac, cmp: "none", kex: gex1, hostKey: rsa},
			{port: 33910, zeekAttempts: 1, client: "SSH-2.0-OpenSSH_6.6p1-hpn14v4", server: "SSH-2.0-OpenSSH_5.3", proto: 2, auth: AuthSuccess,
				cipher: ctr, mac: md5mac, cmp: "none", kex: gex256, hostKey: rsa},
			{port: 41268, zeekAttempts: 6, client: "SSH-2.0-OpenSSH_6.6", server: "SSH-1.99-OpenSSH_3.4+p1+gssapi+OpenSSH_3.7.1buf_fix+2006100301",
				proto: 2, auth: AuthFailure, cipher: "aes128-cbc", mac: md5mac, cmp: "none", kex: gex1, hostKey: rsa, verdict: KindNone},
			{port: 52294, zeekAttempts: 2, client: "SSH-2.0-OpenSSH_6.7", server: "SSH-2.0-OpenSSH_6.7", proto: 2, auth: AuthSuccess,
				cipher: chacha, mac: sha512e, cmp: "none", kex: "curve25519-sha256@libssh.org", hostKey: "ssh-ed25519-cert-v01@openssh.com"},
			{port: 51489, zeekAttempts: 3, client: "SSH-2.0-OpenSSH_6.7", server: "SSH-2.0-OpenSSH_6.7", proto: 2, auth: AuthSuccess,
				cipher: chacha, mac: sha512e, cmp: "none", kex: "curve25519-sha256@libssh.org", hostKey: "ssh-ed25519-cert-v01@openssh.com"},
			{port: 58641, zeekAttempts: 1, client: "SSH-2.0-OpenSSH_6.7", server: "SSH-2.0-OpenSSH_5.3", proto: 2, auth: AuthFailure,
				cipher: ctr, mac: "umac-64@openssh.com", cmp: "none", kex: gex256, hostKey: rsa, verdict: KindNone},
			{port: 58646, zeekAttempts: 1, client: "SSH-2.0-OpenSSH_6.7", server: "SSH-2.0-OpenSSH_5.3", proto: 2, auth: AuthSuccess,
				cipher: ctr, mac: "umac-64@openssh.com", cmp: "none", kex: gex256, hostKey: rsa},
			{port: 58649, zeekAttempts: 1, client: "SSH-2.0-OpenSSH_6.7", server: "SSH-2.0-OpenSSH_5.3", proto: 2, auth: AuthSuccess,
				cipher: ctr, mac: "umac-64@openssh.com", cmp: "none", kex: gex256, hostKey: rsa},
		},
	},
	{
		file:     "zeek__ssh_kex_curve25519.pcap",
		others:   "Zeek ssh.log: OpenSSH_7.4 → OpenSSH_7.5, auth_success T, chacha20-poly1305, hmac-sha2-512-etm, curve25519-sha256, ssh-ed25519-cert-v01",
		sessions: 1,
		conns: []facts{{port: 60906, zeekAttempts: 2, client: "SSH-2.0-OpenSSH_7.4", server: "SSH-2.0-OpenSSH_7.5", proto: 2, auth: AuthSuccess,
			cipher: chacha, mac: sha512e, cmp: "none", kex: "curve25519-sha256", hostKey: "ssh-ed25519-cert-v01@openssh.com"}},
	},
	{
		file:     "zeek__reverse-ssh.pcap",
		others:   "Zeek: \"Detected an ECC INIT not from the TCP client\" (the TCP client is the SSH server: reverse SSH)",
		sessions: 1,
		conns: []facts{{port: 48020, client: "SSH-2.0-dropbear_2018.76", server: "SSH-2.0-AsyncSSH_2.8.1", proto: 2,
			kex: "curve25519-sha256", reverse: true, anomaly: "reverse SSH"}},
	},
	{
		file:     "zeek__ssh-on-port-80.pcap",
		others:   "Zeek finds SSH on port 80 by content; Suricata 7: OpenSSH_5.2 → OpenSSH_5.8p1",
		sessions: 1,
		conns:    []facts{{port: 49656, client: "SSH-2.0-OpenSSH_5.2", server: "SSH-2.0-OpenSSH_5.8p1 Debian-1ubuntu3", proto: 2, auth: AuthSuccess}},
	},
	{
		file:     "zeek__ssh1-ssh2-fingerprints.pcap",
		others:   "Zeek: an SSH-2 session on port 22 and an SSH-1 session on port 2222 (host key fingerprints, not parsed here); Suricata 7: proto 2.0 and 1.5",
		differs:  "sdnli does not decode host keys (KEX replies), so it reports no fingerprints",
		sessions: 2,
		conns: []facts{
			{port: 57388, client: "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.1", server: "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.1", proto: 2, cipher: chacha},
			{port: 37524, client: "SSH-1.5-OpenSSH_6.6", server: "SSH-1.5-OpenSSH_6.6", proto: 1, verdict: KindUnknown},
		},
	},
	{
		file:     "zeek__sshguess.pcap",
		others:   "Zeek notice: 192.168.56.1 appears to be guessing SSH passwords (seen in 10 connections) against 192.168.56.103",
		sessions: 11,
		conns: func() []facts {
			var l []facts
			for p := uint16(55470); p <= 55480; p++ {
				l = append(l, facts{port: p, client: "SSH-2.0-OpenSSH_6.2", server: "SSH-2.0-OpenSSH_6.7p1 Debian-3", proto: 2,
					auth: AuthFailure, hassh: "1f120ecfc2c57fbdeaf66b93a3bf26ee", verdict: KindNone})
			}
			return l
		}(),
	},
	{
		file:     "zeek__wstunnel-ssh.pcap",
		others:   "Zeek: SSH (OpenSSH_8.9p1 → 8.2p1, auth F then T) carried inside WebSocket frames over HTTP",
		differs:  "sdnli's SSH parser reads SSH on TCP; SSH inside WebSocket frames is not unwrapped, so no ssh-session event",
		sessions: 0,
	},
	{
		file: "ndpi__ssh.pcap",
		others: "nDPI: two SSH flows, HASSH-C 21B457A3… HASSH-S B1C6C0D5… (port 22) and HASSH-C C11B2008… HASSH-S CA6DD86B… " +
			"(port 8000, APACHE-SSHD-2.5.0), arcfour128 offered; Suricata 7: OpenSSH_5.6 → OpenSSH_5.3",
		differs: "on the port 22 flow nDPI prints the server's version as Hostname and the client's as Server; sdnli " +
			"follows the TCP roles as Suricata does (client OpenSSH_5.6)",
		sessions: 2,
		conns: []facts{
			{port: 58395, client: "SSH-2.0-OpenSSH_5.6", server: "SSH-2.0-OpenSSH_5.3", proto: 2, auth: AuthSuccess,
				hassh: "21b457a327ce7a2d4fce5ef2c42400bd", hasshServer: "b1c6c0d56317555b85c7005a3de29325", verdict: KindInteractive},
			{port: 58496, client: "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11", server: "SSH-2.0-APACHE-SSHD-2.5.0", proto: 2,
				hassh: "c11b200866cf918393e62ea25d851d90", hasshServer: "ca6dd86b2d9a44e4a3f1a55c53e6b0fa", mac: "hmac-sha2-256-etm@openssh.com"},
		},
	},
	{
		file:     "ndpi__ssh_unidirectional.pcap",
		others:   "nDPI: SSH (server banner OpenSSH_7.4p1 Debian-10+deb9u7); the client sent no version line",
		differs:  "sdnli reports the server's version and its \"Protocol mismatch.\" refusal, verdict unknown",
		sessions: 1,
		conns:    []facts{{port: 50306, server: "SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7", verdict: KindUnknown, anomaly: "Protocol mismatch."}},
	},
	{
		file:     "suricata-verify__ssh-hassh__input.pcap",
		others:   "Suricata: ssh.client.hassh.hash 2dd6531c7e89d3c925db9214711be76a, ssh.server.hassh.hash 6832f1ce43d4397c2c0a3e2f8c94334e",
		sessions: 1,
		conns: []facts{{port: 54634, client: "SSH-2.0-OpenSSH_for_Windows_7.7", server: "SSH-2.0-OpenSSH_7.4", proto: 2,
			hassh: "2dd6531c7e89d3c925db9214711be76a", hasshServer: "6832f1ce43d4397c2c0a3e2f8c94334e"}},
	},
	{
		file:     "suricata-verify__ssh-banner-only__input.pcap",
		others:   "Suricata: client proto 2.0 software OpenSSH_for_Windows_7.7, server proto 2.0 software OpenSSH_7.4",
		sessions: 1,
		conns:    []facts{{port: 54634, client: "SSH-2.0-OpenSSH_for_Windows_7.7", server: "SSH-2.0-OpenSSH_7.4", proto: 2}},
	},
	{
		file:     "suricata-verify__ssh-newkeys__input.pcap",
		others:   "Suricata: client software libssh-0.7.2; a NEWKEYS record header from the client; \"curve\" in a KEX record",
		sessions: 1,
		conns: []facts{{port: 60063, client: "SSH-2.0-libssh-0.7.2", server: "SSH-2.0-OpenSSH_7.4", proto: 2,
			kex: "curve25519-sha256@libssh.org", newkeysSeen: true}},
	},
	{
		file:     "suricata-verify__bypass-ssh-enabled__input.pcap",
		others:   "Suricata: an SSH session it bypasses after the handshake (Suricata 7: client proto 1.99 Cisco-1.25, server Cisco-1.25)",
		sessions: 1,
		conns:    []facts{{port: 64333, client: "SSH-1.99-Cisco-1.25", server: "SSH-2.0-Cisco-1.25", proto: 2, auth: AuthSuccess}},
	},
	{
		file:     "arkime__ssh2.pcap",
		others:   "Arkime: ssh hassh 21b457a327ce7a2d4fce5ef2c42400bd, hasshServer f430cd6761697a6a658ee1d45ed22e49; Suricata 7: OpenSSH_5.3 → OpenSSH_3.9p1",
		sessions: 1,
		conns: []facts{{port: 61672, client: "SSH-2.0-OpenSSH_5.3", server: "SSH-1.99-OpenSSH_3.9p1", proto: 2,
			hassh: "21b457a327ce7a2d4fce5ef2c42400bd", hasshServer: "f430cd6761697a6a658ee1d45ed22e49"}},
	},
	{
		file:     "tcpdump__ssh.pcap",
		others:   "tcpdump: SSH: SSH-2.0-OpenSSH_7.8 (client), SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3 (server)",
		sessions: 1,
		conns:    []facts{{port: 62146, client: "SSH-2.0-OpenSSH_7.8", server: "SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3", proto: 2, cipher: chacha}},
	},
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (f facts) check(t *testing.T, ev *event.Event) {
	t.Helper()
	s := ev.Summary
	eq := func(field, want string, got any) {
		t.Helper()
		if want != "" && str(got) != want {
			t.Errorf("port %d: %s = %q; want %q", f.port, field, str(got), want)
		}
	}
	eq("client_version", f.client, s.Get("client_version"))
	eq("server_version", f.server, s.Get("server_version"))
	if f.proto != 0 {
		eq("version", fmt.Sprint(f.proto), s.Get("version"))
	}
	eq("auth", f.auth, s.Get("auth"))
	eq("cipher_c2s", f.cipher, s.Get("cipher_c2s"))
	eq("mac_c2s", f.mac, s.Get("mac_c2s"))
	eq("compression_c2s", f.cmp, s.Get("compression_c2s"))
	eq("kex_alg", f.kex, s.Get("kex_alg"))
	eq("host_key_alg", f.hostKey, s.Get("host_key_alg"))
	eq("hassh", f.hassh, s.Get("hassh"))
	eq("hassh_server", f.hasshServer, s.Get("hassh_server"))
	eq("verdict", f.verdict, s.Get("verdict"))
	if f.zeekAttempts > 0 {
		if got, _ := s.Get("auth_attempts").(int); got < f.zeekAttempts {
			t.Errorf("port %d: auth_attempts %d; want at least Zeek's %d", f.port, got, f.zeekAttempts)
		}
	}
	if f.reverse && s.Get("reverse_ssh") != true {
		t.Errorf("port %d: reverse_ssh = %v; want true", f.port, s.Get("reverse_ssh"))
	}
	if f.newkeysSeen && s.Get("newkeys_c2s") != true {
		t.Errorf("port %d: newkeys_c2s = %v; want true", f.port, s.Get("newkeys_c2s"))
	}
	if f.anomaly != "" && !strings.Contains(strings.Join(ev.Anomalies, "\n"), f.anomaly) {
		t.Errorf("port %d: anomalies %q; want one with %q", f.port, ev.Anomalies, f.anomaly)
	}
}

// TestGolden runs every public SSH capture through the pipeline.
func TestGolden(t *testing.T) {
	dir := golden.SharedPcaps(t, "ssh")
	covered := map[string]bool{}
	for _, gc := range goldenCases {
		covered[gc.file] = true
		t.Run(gc.file, func(t *testing.T) {
			res := golden.Run(t, nil, parser.Options{}, filepath.Join(dir, gc.file))
			if res.Err != nil {
				t.Fatalf("pipeline: %v", res.Err)
			}
			var ssh []*event.Event
			sessions := map[uint16]*event.Event{}
			for _, ev := range res.Events {
				if ev.Protocol != Name {
					continue
				}
				ssh = append(ssh, ev)
				if ev.Type == TypeSession {
					sessions[ev.Client.Port()] = ev
				}
			}
			if len(sessions) != gc.sessions {
				t.Errorf("%d ssh-session events; want %d", len(sessions), gc.sessions)
			}
			for _, f := range gc.conns {
				ev := sessions[f.port]
				if ev == nil {
					t.Errorf("no ssh-session from client port %d", f.port)
					continue
				}
				f.check(t, ev)
			}
			golden.Check(t, strings.TrimSuffix(gc.file, filepath.Ext(gc.file)), ssh)
		})
	}
	// Every SSH capture has a case.
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var missing []string
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			missing = append(missing, filepath.Base(f))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("captures without a golden case: %v", missing)
	}
}
