package ftp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// parsePASV reads h1,h2,h3,h4,p1,p2 from a 227 reply text, in or out of
// parentheses (servers differ).
func parsePASV(text string) (netip.AddrPort, error) {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && isDigit(text[i-1])) {
			continue
		}
		if ep, ok := sixNumbers(text[i:]); ok {
			return ep, nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("ftp: PASV reply %q: no address", clip(text, 80))
}

// parsePort reads the h1,h2,h3,h4,p1,p2 argument of PORT.
func parsePort(arg string) (netip.AddrPort, error) {
	if ep, ok := sixNumbers(strings.TrimSpace(arg)); ok {
		return ep, nil
	}
	return netip.AddrPort{}, fmt.Errorf("ftp: PORT argument %q: not h1,h2,h3,h4,p1,p2", clip(arg, 80))
}

func sixNumbers(s string) (netip.AddrPort, bool) {
	var n [6]int
	for k := 0; k < 6; k++ {
		j := 0
		for j < len(s) && j < 4 && isDigit(s[j]) {
			j++
		}
		if j == 0 || j > 3 {
			return netip.AddrPort{}, false
		}
		v, _ := strconv.Atoi(s[:j])
		if v > 255 {
			return netip.AddrPort{}, false
		}
		n[k] = v
		s = s[j:]
		if k < 5 {
			if len(s) == 0 || s[0] != ',' {
				return netip.AddrPort{}, false
			}
			s = strings.TrimLeft(s[1:], " ")
		}
	}
	if len(s) > 0 && isDigit(s[0]) {
		return netip.AddrPort{}, false
	}
	a := netip.AddrFrom4([4]byte{byte(n[0]), byte(n[1]), byte(n[2]), byte(n[3])})
	return netip.AddrPortFrom(a, uint16(n[4]<<8|n[5])), true
}

// parseEPSV reads the port of a 229 reply: "(|||6446|)"; any delimiter.
func parseEPSV(text string) (uint16, error) {
	i := strings.IndexByte(text, '(')
	j := strings.LastIndexByte(text, ')')
	if i < 0 || j < i+5 {
		return 0, fmt.Errorf("ftp: EPSV reply %q: no (|||port|)", clip(text, 80))
	}
	f := text[i+1 : j]
	d := f[:1]
	parts := strings.Split(f, d)
	if len(parts) != 5 {
		return 0, fmt.Errorf("ftp: EPSV reply %q: malformed", clip(text, 80))
	}
	p, err := strconv.ParseUint(parts[3], 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("ftp: EPSV reply %q: bad port", clip(text, 80))
	}
	return uint16(p), nil
}

// parseEPRT reads "|1|132.235.1.2|6275|" or "|2|::1|6275|" (RFC 2428).
func parseEPRT(arg string) (netip.AddrPort, error) {
	arg = strings.TrimSpace(arg)
	if len(arg) < 7 {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q too short", arg)
	}
	parts := strings.Split(arg, arg[:1])
	if len(parts) != 5 {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: malformed", clip(arg, 80))
	}
	a, err := netip.ParseAddr(parts[2])
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: address: %w", clip(arg, 80), err)
	}
	if (parts[1] == "1" && !a.Is4()) || (parts[1] == "2" && !a.Is6()) {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: address family %s mismatch", clip(arg, 80), parts[1])
	}
	p, err := strconv.ParseUint(parts[3], 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("ftp: EPRT argument %q: bad port", clip(arg, 80))
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}
