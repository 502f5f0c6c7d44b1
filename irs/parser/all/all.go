// Package all links every protocol parser into the binary: importing it
// runs each parser's init(), which registers its detector. Adding a
// protocol adds one line here.
package all

import (
	_ "github.com/sdnli/sdnli/irs/parser/dns"
	_ "github.com/sdnli/sdnli/irs/parser/ftp"
	_ "github.com/sdnli/sdnli/irs/parser/http"
	_ "github.com/sdnli/sdnli/irs/parser/icmp"
	_ "github.com/sdnli/sdnli/irs/parser/imap"
	_ "github.com/sdnli/sdnli/irs/parser/ipsec"
	_ "github.com/sdnli/sdnli/irs/parser/l2tp"
	_ "github.com/sdnli/sdnli/irs/parser/openvpn"
	_ "github.com/sdnli/sdnli/irs/parser/pop3"
	_ "github.com/sdnli/sdnli/irs/parser/pptp"
	_ "github.com/sdnli/sdnli/irs/parser/smtp"
	_ "github.com/sdnli/sdnli/irs/parser/ssh"
	_ "github.com/sdnli/sdnli/irs/parser/sstp"
	_ "github.com/sdnli/sdnli/irs/parser/tls"
	_ "github.com/sdnli/sdnli/irs/parser/tunnel"
	_ "github.com/sdnli/sdnli/irs/parser/wireguard"
)
