package ssh

import (
	"strings"
	"testing"
)

// TestNegotiateList: negotiating on the lists as sent gives what
// negotiate gives on the lists split, empty names and lists included.
func TestNegotiateList(t *testing.T) {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	for _, tc := range []struct {
		name, client, srv, want string
	}{
		{"client order wins", "a,b,c", "c,b", "b"},
		{"first common", "x,c", "a,b,c", "c"},
		{"none in common", "x", "y", ""},
		{"empty client", "", "y", ""},
		{"empty server", "y", "", ""},
		{"prefix is not a name", "aes128", "aes128-ctr,aes", ""},
		{"last of both", "x,y,z", "q,z", "z"},
		{"empty names", "a,,b", ",b", ""},
		{"trailing comma", "x,", "y,", ""},
		{"pseudo-algorithms never match", "ext-info-c,curve25519-sha256", "curve25519-sha256,kex-strict-s-v00@openssh.com", "curve25519-sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := negotiateList(tc.client, tc.srv)
			if got != tc.want {
				t.Errorf("negotiateList(%q, %q) = %q; want %q", tc.client, tc.srv, got, tc.want)
			}
			if split := negotiate(split(tc.client), split(tc.srv)); got != split {
				t.Errorf("negotiateList(%q, %q) = %q; negotiate on the split lists = %q", tc.client, tc.srv, got, split)
			}
		})
	}
}

// TestReadKexInit: the lists read as sent are the split lists joined
// again, and the cookie is the same.
func TestReadKexInit(t *testing.T) {
	for _, tc := range []struct {
		name string
		kex  kexLists
	}{{"client", cliKex}, {"server", srvKex}} {
		t.Run(tc.name, func(t *testing.T) {
			p := kexInitPayload(tc.kex, 0x10)
			k, err := readKexInit(p)
			if err != nil {
				t.Fatal(err)
			}
			full, err := parseKexInit(p)
			if err != nil {
				t.Fatal(err)
			}
			if k.Cookie != full.Cookie || k.Cookie != "101112131415161718191a1b1c1d1e1f" {
				t.Errorf("cookie %q; want %q", k.Cookie, full.Cookie)
			}
			for i, l := range [][]string{full.Kex, full.HostKey, full.EncC2S, full.EncS2C, full.MacC2S, full.MacS2C,
				full.CmpC2S, full.CmpS2C, full.LangC2S, full.LangS2C} {
				if got, want := k.raw[i], strings.Join(l, ","); got != want {
					t.Errorf("list %d: %q; want %q", i, got, want)
				}
			}
		})
	}
}
