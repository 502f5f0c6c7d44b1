package ssh

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
)

func TestParseKexInit(t *testing.T) {
	k, err := parseKexInit(kexInitPayload(cliKex, 0x10))
	if err != nil {
		t.Fatal(err)
	}
	if k.Cookie != "101112131415161718191a1b1c1d1e1f" {
		t.Errorf("cookie %s; want 101112…1f", k.Cookie)
	}
	if got, want := strings.Join(k.Kex, ","), cliKex.kex; got != want {
		t.Errorf("kex %s; want %s", got, want)
	}
	if got := strings.Join(k.CmpS2C, ","); got != cliKex.cmp {
		t.Errorf("compression s2c %s; want %s", got, cliKex.cmp)
	}
	if len(k.LangC2S) != 0 || k.FirstKexFollows {
		t.Errorf("languages %v, first_kex_follows %v; want none, false", k.LangC2S, k.FirstKexFollows)
	}
	good := kexInitPayload(cliKex, 0)
	for _, tc := range []struct {
		name string
		p    []byte
	}{
		{"empty", nil},
		{"no lists", good[:17]},
		{"cut in a list", good[:60]},
		{"no first_kex_packet_follows", good[:len(good)-5]},
		{"list beyond message", append(append([]byte{}, good[:17]...), 0xff, 0xff, 0xff, 0xff)},
		{"binary in a list", append(append([]byte{}, good[:17]...), 0, 0, 0, 2, 0x01, 0x02)},
		{"wrong type", append([]byte{21}, good[1:]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if k, err := parseKexInit(tc.p); err == nil {
				t.Errorf("parsed %+v; want an error", k)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		name        string
		client, srv []string
		want        string
	}{
		{"client order wins", []string{"a", "b", "c"}, []string{"c", "b"}, "b"},
		{"first common", []string{"x", "c"}, []string{"a", "b", "c"}, "c"},
		{"none in common", []string{"x"}, []string{"y"}, ""},
		{"empty client", nil, []string{"y"}, ""},
		{"pseudo-algorithms never match", []string{"ext-info-c", "curve25519-sha256"}, []string{"curve25519-sha256", "kex-strict-s-v00@openssh.com"}, "curve25519-sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := negotiate(tc.client, tc.srv); got != tc.want {
				t.Errorf("negotiate(%v, %v) = %q; want %q", tc.client, tc.srv, got, tc.want)
			}
		})
	}
}

func TestHASSH(t *testing.T) {
	k, err := parseKexInit(kexInitPayload(cliKex, 0))
	if err != nil {
		t.Fatal(err)
	}
	str, sum := k.hassh(false)
	want := cliKex.kex + ";" + cliKex.enc + ";" + cliKex.mac + ";" + cliKex.cmp
	if str != want {
		t.Errorf("hassh string %q; want %q", str, want)
	}
	m := md5.Sum([]byte(want))
	if sum != hex.EncodeToString(m[:]) {
		t.Errorf("hassh %s; want md5 of the string", sum)
	}
	// Suricata's ssh-hassh test: the server's string ends with its
	// compression list "none,zlib@openssh.com".
	s, _ := parseKexInit(kexInitPayload(srvKex, 0))
	if str, _ := s.hassh(true); !strings.HasSuffix(str, ";none,zlib@openssh.com") {
		t.Errorf("hassh-server string %q; want it to end with the s2c compression list", str)
	}
}

func TestCipherSizes(t *testing.T) {
	for _, tc := range []struct {
		enc, mac      string
		mode          string
		block, macLen int
		smallest, key int // USERAUTH_SUCCESS, one-byte CHANNEL_DATA
	}{
		// OpenSSH 9.2 captured: SUCCESS 28, keystroke 36.
		{"chacha20-poly1305@openssh.com", "umac-64-etm@openssh.com", lenSeparate, 8, 16, 28, 36},
		{"aes128-gcm@openssh.com", "hmac-sha2-256", lenClear, 16, 16, 36, 36},
		// Zeek's captures: aes128-ctr + hmac-md5 smallest 32.
		{"aes128-ctr", "hmac-md5", lenEncrypted, 16, 16, 32, 48},
		{"aes128-ctr", "hmac-sha2-256", lenEncrypted, 16, 32, 48, 64},
		{"aes256-ctr", "hmac-sha2-256-etm@openssh.com", lenClear, 16, 32, 52, 52},
		{"aes128-ctr", "umac-64-etm@openssh.com", lenClear, 16, 8, 28, 28},
		{"aes128-cbc", "hmac-sha1", lenEncrypted, 16, 20, 36, 52},
		{"arcfour256", "hmac-md5-etm@openssh.com", lenClear, 8, 16, 28, 36},
		{"3des-cbc", "hmac-sha1-96", lenEncrypted, 8, 12, 28, 36},
	} {
		t.Run(tc.enc+"+"+tc.mac, func(t *testing.T) {
			ci := describe(tc.enc, tc.mac)
			if !ci.Known || ci.LengthMode != tc.mode || ci.Block != tc.block || ci.MacLen != tc.macLen {
				t.Errorf("describe = %+v; want mode %s block %d mac %d", ci, tc.mode, tc.block, tc.macLen)
			}
			if got := ci.packetSize(1); got != tc.smallest {
				t.Errorf("smallest packet %d; want %d", got, tc.smallest)
			}
			if got := ci.packetSize(10); got != tc.key {
				t.Errorf("keystroke packet %d; want %d", got, tc.key)
			}
		})
	}
	if ci := describe("twofish-cbc-unknown-x", "hmac-whatever"); ci.Known {
		t.Errorf("unknown MAC described as known: %+v", ci)
	}
}
