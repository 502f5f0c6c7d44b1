// Package e2e holds the end-to-end test of the whole system: the
// several-switch Mininet topology with real mail, web and FTP servers,
// the sdnli controller, an IRS node and the analyzer, all driven through
// the analyzer's HTTP API as a user would. It needs root, Open vSwitch,
// Mininet, MariaDB, Postfix, Dovecot, vsftpd, curl and tshark, and runs
// only with the integration build tag.
package e2e
