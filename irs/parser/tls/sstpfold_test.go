package tls

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/internal/ascii"
)

// TestContainsFoldASCII: the folded search answers as
// strings.Contains(strings.ToLower(s), word) for the words sstpEvidence
// looks for, on names with upper case, non-ASCII letters that lower to
// ASCII, and invalid UTF-8.
func TestContainsFoldASCII(t *testing.T) {
	cases := []string{
		"", "s", "sstp", "SSTP", "vpn.example.com", "VPN.example", "my-SsTp-gw", "sst", "ssTP.",
		"vpn", "v-p-n", "xvpnx", "ssstp", "vpN", "\u212avpn", "\u0130VPN", "s\u0130stp", "v\u212an",
		"\xffvpn", "vp\xffn", "ss\xc3tp", "ΣΣΤΠ", "ſstp", "\u017fSTP",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"s", "S", "t", "T", "p", "P", "v", "V", "n", "N", "-", ".", "\u0130", "\u212a", "ſ", "\xff"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(9) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, word := range []string{"sstp", "vpn"} {
		for _, s := range cases {
			want := strings.Contains(strings.ToLower(s), word)
			if got := ascii.ContainsFold(s, word); got != want {
				t.Errorf("ascii.ContainsFold(%q, %q) = %v; want %v", s, word, got, want)
			}
		}
	}
}
