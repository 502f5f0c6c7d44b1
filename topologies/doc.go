// Package topologies holds the Mininet topologies of sdnli (one_switch.py,
// multi_switch.py, and sdnli_net.py which both use) and, in its
// integration tests, the drivers that run them against the sdnli
// controller binary with real traffic: ping, HTTP (python3 -m
// http.server, curl) and SMTP (Postfix from servers/mail.sh, curl),
// counted with tcpdump at the senders and at the IRS host. See
// README.md.
package topologies
