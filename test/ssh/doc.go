// Package ssh holds end-to-end tests of the SSH parser on fresh traffic:
// a real OpenSSH server and client in two network namespaces, tcpdump on
// the server's interface, and the whole IRS pipeline over the capture.
// They carry the integration build tag and need root, iproute2, tcpdump,
// OpenSSH (server and client), xauth and socat.
package ssh
