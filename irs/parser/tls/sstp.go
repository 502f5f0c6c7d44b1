package tls

import (
	"fmt"
	"slices"

	"github.com/sdnli/sdnli/internal/ascii"
)

// sstpThreshold is the confidence from which a TLS session is reported
// as possible SSTP.
const sstpThreshold = 0.5

// sstpEvidence weighs what hints at SSTP inside this TLS session. SSTP
// (MS-SSTP) runs PPP frames over one long HTTPS connection to port 443:
// after the SSTP_DUPLEX_POST request every SSTP packet (PPP frame plus a
// 4-byte header) becomes one application record, many of them small
// (LCP, IPCP, keep-alive echo) and both ways.
//
// Most sessions score below the threshold: with explain false the
// confidence is computed without the evidence's text.
func (s *conn) sstpEvidence(explain bool) (float64, []string) {
	conf := 0.0
	var ev []string
	if n, ok := s.nameWith("sstp"); ok {
		conf += 0.35
		if explain {
			ev = append(ev, fmt.Sprintf("name %q says sstp", n))
		}
	} else if n, ok := s.nameWith("vpn"); ok {
		conf += 0.2
		if explain {
			ev = append(ev, fmt.Sprintf("name %q says vpn", n))
		}
	}
	if s.c.Server.Port() == 443 {
		conf += 0.1
		if explain {
			ev = append(ev, "server port 443 (SSTP's only port)")
		}
	}
	if d := s.end.Sub(s.start); d.Seconds() >= 60 {
		conf += 0.15
		if explain {
			ev = append(ev, fmt.Sprintf("long-lived session (%.0f s)", d.Seconds()))
		}
	}
	c2s, s2c := s.s[0].appRecords(), s.s[1].appRecords()
	if c2s >= 20 && s2c >= 20 {
		small := func(sd *side) float64 {
			if sd.nAppSizes == 0 {
				return 0
			}
			m := sd.appSizes // a copy, sorted
			l := m[:sd.nAppSizes]
			slices.Sort(l)
			return float64(l[len(l)/2])
		}
		m0, m1 := small(&s.s[0]), small(&s.s[1])
		if m0 > 0 && m0 < 300 && m1 > 0 && m1 < 300 {
			conf += 0.2
			if explain {
				ev = append(ev, fmt.Sprintf("%d/%d application records each way, median sizes %.0f/%.0f bytes (PPP-like)", c2s, s2c, m0, m1))
			}
		}
	}
	if s.ch != nil {
		for _, a := range s.ch.alpn {
			if a == "h2" {
				conf -= 0.2 // SSTP clients speak HTTP/1.1 only
				if explain {
					ev = append(ev, "client offers h2 (SSTP clients do not)")
				}
				break
			}
		}
	}
	if conf > 0.95 {
		conf = 0.95 // heuristics never prove SSTP
	}
	return float64(int(conf*100+0.5)) / 100, ev
}

// nameWith returns the first of the SNI and the certificate's names that
// holds word (lower-case ASCII) in any case. Comparing ASCII letters
// folded is strings.Contains(strings.ToLower(name), word) without the
// lowered copy: of the non-ASCII letters only U+0130 and U+212A lower to
// ASCII ('i', 'k'), which no word here holds.
func (s *conn) nameWith(word string) (string, bool) {
	if s.ch != nil && s.ch.sni != "" && ascii.ContainsFold(s.ch.sni, word) {
		return s.ch.sni, true
	}
	if s.cert != nil {
		for _, n := range s.cert.names {
			if ascii.ContainsFold(n, word) {
				return n, true
			}
		}
	}
	return "", false
}
