// Package vpn holds the end-to-end tests of the VPN and tunnel parsers:
//
//   - TestNDPIGroundTruth (plain go test) compares sdnli's verdict on
//     every flow of the public nDPI captures in ../shared/pcaps with
//     nDPI's published classification, prints the confusion table and
//     fails on any disagreement the table of known differences does not
//     explain;
//   - the integration tests (build tag integration; root, iproute2,
//     tcpdump and the VPN software) run real VPN software in network
//     namespaces, capture its traffic with tcpdump and check the
//     pipeline's verdicts on it.
package vpn
