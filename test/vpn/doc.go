// Package vpn holds the end-to-end tests of the VPN and tunnel parsers:
//
//   - TestNDPIGroundTruth (plain go test) compares sdnli's verdict on
//     every flow of the public nDPI captures in ../shared/pcaps with
//     nDPI's published classification, prints the confusion table and
//     fails on any disagreement the table of known differences does not
//     explain;
//   - TestNoPanics (plain go test) runs every parser over every public
//     capture of every protocol folder;
//   - the integration tests (build tag integration; root, iproute2,
//     tcpdump, ethtool and the software: wireguard-go and wg, OpenVPN,
//     strongSwan's charon and swanctl, xl2tpd, pptpd and pptp, openssl
//     and curl; scripts/setup.sh installs them) run real software in two
//     network namespaces named vpA…/vpB… on 10.60-69.x.x, capture with
//     tcpdump on the server side and check the pipeline's verdicts:
//     TestWireGuardLive, TestOpenVPNLive, TestIPsecLive, TestL2TPLive,
//     TestPPTPLive, TestTLSLive. Every namespace and process they start
//     is removed in t.Cleanup.
package vpn
