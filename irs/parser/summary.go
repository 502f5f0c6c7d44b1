package parser

import "github.com/sdnli/sdnli/irs/event"

// PutDetection writes how a connection was recognised into its summary,
// under the names the VPN and tunnel parsers share: detection (the method:
// "content", "content+port", "port-hint", ...), confidence (0 to 1) and
// evidence (what was seen, in words).
func PutDetection(s *event.Fields, method string, confidence float64, evidence []string) {
	s.Set("detection", method)
	s.Set("confidence", confidence)
	s.Set("evidence", evidence)
}

// PutTraffic writes a flow's packets and bytes each way (indexed by
// Direction) and why it ended into its summary, under the names the VPN
// and tunnel parsers share: packets_to_server, packets_to_client,
// bytes_to_server, bytes_to_client and end_reason.
func PutTraffic(s *event.Fields, packets, bytes [2]int, reason EndReason) {
	s.Set("packets_to_server", packets[ClientToServer])
	s.Set("packets_to_client", packets[ServerToClient])
	s.Set("bytes_to_server", bytes[ClientToServer])
	s.Set("bytes_to_client", bytes[ServerToClient])
	s.Set("end_reason", reason.String())
}
