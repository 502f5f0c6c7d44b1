// Package live holds end-to-end tests of the sdnli binary on live traffic:
// real servers and clients in network namespaces, `sdnli irs` capturing on
// a real interface, a real MariaDB. They carry the integration build tag
// and need root.
package live
