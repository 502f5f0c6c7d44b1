package ssh

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/parser"
	"github.com/sdnli/sdnli/irs/parser/parsertest"
)

// OpenSSH 9.2's name-lists, as its client and server send them.
var (
	cliKex = kexLists{
		kex:  "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ext-info-c",
		host: "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512,rsa-sha2-256",
		enc:  "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		mac:  "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		cmp:  "none,zlib@openssh.com,zlib",
	}
	srvKex = kexLists{
		kex:  "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
		host: "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
		enc:  "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		mac:  "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		cmp:  "none,zlib@openssh.com",
	}
)

type kexLists struct{ kex, host, enc, mac, cmp string }

// kexInitPayload builds a KEXINIT payload with the same lists both ways.
func kexInitPayload(l kexLists, cookie byte) []byte {
	p := []byte{msgKexInit}
	for i := 0; i < 16; i++ {
		p = append(p, cookie+byte(i))
	}
	for _, s := range []string{l.kex, l.host, l.enc, l.enc, l.mac, l.mac, l.cmp, l.cmp, "", ""} {
		p = binary.BigEndian.AppendUint32(p, uint32(len(s)))
		p = append(p, s...)
	}
	return append(p, 0, 0, 0, 0, 0) // first_kex_packet_follows, reserved
}

// packet frames a cleartext binary packet (block size 8, no MAC).
func packet(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

// handshake is the clear part of an OpenSSH session: version lines,
// KEXINITs, a stand-in key exchange and NEWKEYS both ways.
func handshake(cli, srv kexLists) []parsertest.Segment {
	return []parsertest.Segment{
		parsertest.S("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
		parsertest.C("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
		{Dir: parser.ClientToServer, Data: packet(kexInitPayload(cli, 0x10))},
		{Dir: parser.ServerToClient, Data: packet(kexInitPayload(srv, 0x80))},
		{Dir: parser.ClientToServer, Data: packet(append([]byte{30}, make([]byte, 36)...))},
		{Dir: parser.ServerToClient, Data: append(packet(append([]byte{31}, make([]byte, 300)...)), packet([]byte{msgNewKeys})...)},
		{Dir: parser.ClientToServer, Data: packet([]byte{msgNewKeys})},
	}
}

// step is one encrypted chunk of a synthetic session, at a time offset.
type step struct {
	dir  parser.Direction
	size int
	at   time.Duration
}

// feed runs the handshake and then the encrypted steps through a new
// parser, each chunk a separate call with its own timestamp.
func feed(steps []step) (*parsertest.Env, *conn) {
	c := parsertest.Conn(22)
	env := parsertest.NewEnv()
	p := Detector{}.New(c, env).(*conn)
	ts := c.Start
	for _, s := range handshake(cliKex, srvKex) {
		ts = ts.Add(time.Millisecond)
		p.ProcessPacket(s.Dir, s.Data, ts)
	}
	base := ts
	for _, s := range steps {
		ts = base.Add(s.at)
		p.ProcessPacket(s.dir, make([]byte, s.size), ts)
	}
	p.EndProcess(parser.EndClosed, ts.Add(time.Millisecond))
	return env, p
}

// opensshAuth is OpenSSH 9.2's publickey authentication under
// chacha20-poly1305 as captured: SERVICE_REQUEST/ACCEPT, the "none"
// probe, the key query and PK_OK, the signed request, SUCCESS (28), then
// the session channel and its requests.
func opensshAuth(at time.Duration) ([]step, time.Duration) {
	c, s := parser.ClientToServer, parser.ServerToClient
	sizes := []struct {
		d parser.Direction
		n int
	}{{s, 200}, {c, 44}, {s, 44}, {c, 60}, {s, 44}, {c, 140}, {s, 100}, {c, 308}, {s, 28},
		{c, 112}, {s, 288}, {s, 216}, {c, 180}, {s, 108}, {c, 44}, {s, 44}, {s, 332}, {s, 60}}
	var l []step
	for _, x := range sizes {
		at += 2 * time.Millisecond
		l = append(l, step{x.d, x.n, at})
	}
	return l, at
}

// typing adds n keystrokes every gap, each echoed 1 ms later.
func typing(at time.Duration, n, size int, gap time.Duration) ([]step, time.Duration) {
	var l []step
	for i := 0; i < n; i++ {
		at += gap
		l = append(l, step{parser.ClientToServer, size, at}, step{parser.ServerToClient, size, at + time.Millisecond})
	}
	return l, at + time.Millisecond
}

// bulk adds n full segments one way, 0.1 ms apart, with an ack-sized
// window adjust the other way every 20.
func bulk(at time.Duration, dir parser.Direction, n int) ([]step, time.Duration) {
	var l []step
	for i := 0; i < n; i++ {
		at += 100 * time.Microsecond
		l = append(l, step{dir, 1448, at})
		if i%20 == 19 {
			l = append(l, step{dir.Reverse(), 36, at})
		}
	}
	return l, at
}

func concat(parts ...[]step) []step {
	var l []step
	for _, p := range parts {
		l = append(l, p...)
	}
	return l
}

// cutSummary drops the fields that count calls, which depend on how the
// stream was cut.
func cutSummary(js string) string {
	var out []string
	for _, line := range strings.Split(js, "\n") {
		if strings.Contains(line, `"packets_`) || strings.Contains(line, `"encrypted_packets_`) {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
