#!/usr/bin/env bash
# Installs and starts what sdnli's tests and demo need on a Debian machine
# with no services running: MariaDB, Open vSwitch (userspace datapath),
# Mininet, packet tools, mail/FTP/HTTP servers for live traffic, Chromium
# for browser tests. Safe to run any number of times: it installs only what
# is missing and starts only what is not running.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "setup: must run as root (installs packages, starts services)" >&2; exit 1; }

packages=(
  mariadb-server mariadb-client
  openvswitch-switch openvswitch-common mininet
  tcpdump tshark tcpreplay ethtool iproute2 iputils-ping curl dnsutils
  libndpi-bin
  postfix dovecot-imapd dovecot-pop3d vsftpd dnsmasq-base
  openssh-server openssh-client socat xauth python3
  openvpn wireguard-go wireguard-tools strongswan-charon strongswan-swanctl libcharon-extra-plugins xl2tpd pptpd pptp-linux
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# MariaDB without systemd.
if ! mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1; then
  echo "setup: starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  start-stop-daemon --start --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do
    mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --protocol=socket -uroot ping >/dev/null || { echo "setup: MariaDB did not start" >&2; exit 1; }
fi

# Open vSwitch: userspace only (no kernel module on these machines).
if ! { ovs-vsctl --timeout=2 show && ovs-appctl -t ovs-vswitchd version; } >/dev/null 2>&1; then
  echo "setup: starting Open vSwitch"
  /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random >/dev/null 2>&1 || true
  ovs-appctl -t ovs-vswitchd version >/dev/null || { echo "setup: Open vSwitch did not start" >&2; exit 1; }
fi

echo "setup: ready (MariaDB, Open vSwitch)"
