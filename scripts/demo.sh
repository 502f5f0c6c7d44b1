#!/usr/bin/env bash
# The sdnli live demo: the whole system on a Mininet network of three
# Open vSwitch switches, with real servers and real clients.
#
#   h1 ─┐                         ┌─ h3: Postfix + Dovecot, web server,
#   h2 ─┴─ s1 ──── s2 ──── s3 ─┐  │      vsftpd, dnsmasq (10.77.0.3)
#                  └───────────┼──┘
#                              └─ irs: sdnli irs (mirror port, VLAN 4094)
#
# 1. scripts/setup.sh installs and starts what is missing (MariaDB, Open
#    vSwitch, Mininet, servers); sdnli is built into bin/sdnli.
# 2. `sdnli controller` programs the switches (OpenFlow 1.3) to copy SMTP,
#    POP3, IMAP, HTTP, FTP, DNS and ICMP to the IRS port on s3; FTP data
#    connections are mirrored on the IRS's request.
# 3. `sdnli irs` captures on the IRS host's switch port; its API and its
#    requests to the controller use a management link (172.31.254.0/30).
# 4. `sdnli analyzer` serves the API and web UI on 127.0.0.1:8080 (or the
#    next free port) with a demo account whose random password is printed.
# 5. h1 and h2 talk to h3 with curl (SMTP, POP3, IMAP, HTTP, FTP), ping and
#    dig, one round every few seconds; the events are printed as they come.
#
# Ctrl-C or SIGTERM stops everything and removes the network, processes
# and files of the run; events stay in the MariaDB database sdnli_demo.
# DEMO_ROUNDS=N stops by itself after N rounds. A run killed hard is
# cleaned up by the next one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=/usr/bin/python3 # Mininet's interpreter

[ "$(id -u)" = 0 ] || { echo "demo: must run as root (Mininet, Open vSwitch, servers)" >&2; exit 1; }
bash scripts/setup.sh
echo "demo: building sdnli"
go build -o bin/sdnli ./cmd/sdnli
sdnli=$root/bin/sdnli

work=/tmp/sdnli-demo     # everything of the run: configs, server files, IRS data, pids
prefix=sdemo             # switch and link names: sdemos1, sdemos1-eth1, sdemomg0
subnet=10.77.0
mgmt_root=172.31.254.1 mgmt_irs=172.31.254.2
db=sdnli_demo
dsn="root@unix(/run/mysqld/mysqld.sock)/$db"
user=demo
rounds=${DEMO_ROUNDS:-0}

# --- cleanup -----------------------------------------------------------

# killpid FILE: stops the process whose pid FILE holds, if it is still
# the one this demo started (its command line names the run's directory
# or the demo's binary).
killpid() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
     tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qE "$work|$sdnli|mininet:|$prefix|listen-address=$subnet"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# teardown removes everything of a run, the current one or one killed hard.
teardown() {
  [ -d "$work" ] || return 0
  for p in analyzer irs dns ftp web controller; do killpid "$work/$p.pid"; done
  [ -f "$work/mail/conf/main.cf" ] && bash "$root/topologies/servers/mail.sh" stop "$work/mail" >/dev/null 2>&1 || true
  # Mininet: on SIGTERM the driver runs net.stop() (switches, links, host
  # shells), which takes a while on the userspace datapath.
  if [ -f "$work/mininet.pid" ]; then
    local pid; pid=$(cat "$work/mininet.pid")
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "prefix $prefix"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$work/mininet.pid"
  fi
  # Whatever a hard kill left: host shells, bridges, links of the prefix.
  for f in "$work"/host-*.pid; do [ -e "$f" ] && killpid "$f"; done
  for br in $(ovs-vsctl list-br 2>/dev/null | grep "^$prefix" || true); do ovs-vsctl --if-exists del-br "$br"; done
  for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$prefix" || true); do ip link del "$l" 2>/dev/null || true; done
  for pid in $(pgrep -f "mininet:$prefix" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

stopping=""
cleanup() {
  [ -n "$stopping" ] && return
  stopping=1
  set +e
  trap - EXIT INT TERM
  echo
  echo "demo: stopping"
  teardown
  echo "demo: cleaned up (network, servers, sdnli processes, $work)."
  echo "demo: the events stay in the MariaDB database $db (drop it with: mariadb -e 'DROP DATABASE $db')"
}

if [ -d "$work" ]; then
  echo "demo: removing what a previous run left behind"
  (set +e; teardown)
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -m 755 "$work"

freeport() { # freeport N: N or the first port above it nobody listens on
  local p=$1
  while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done
  echo "$p"
}
waitfor() { # waitfor SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "demo: timed out after ${secs}s waiting for $what" >&2
  return 1
}

# --- network ------------------------------------------------------------

of_port=$(freeport 6653)
ctl_port=$(freeport 8181)
echo "demo: starting the Mininet network (s1-s2-s3, hosts h1 h2 h3, IRS on s3)"
# Driver mode keeps the network while its standard input stays open: a
# FIFO the driver itself holds open for writing never ends.
mkfifo "$work/mininet.in"
"$py" topologies/multi_switch.py --controller "127.0.0.1:$of_port" --prefix "$prefix" --subnet "$subnet" \
  --dpid-base 0x5de00 <>"$work/mininet.in" >"$work/mininet.out" 2>"$work/mininet.err" &
echo $! >"$work/mininet.pid"
waitfor 120 "the Mininet network" grep -qx ready "$work/mininet.out" || { cat "$work/mininet.err" >&2; exit 1; }

# The description: shell variables for hosts (pid, address), the IRS port.
eval "$("$py" - "$work/mininet.out" <<'EOF'
import json, sys
d = json.loads(next(l for l in open(sys.argv[1]) if l.startswith('{')))
for h in d['hosts']:
    print('%s_pid=%d %s_ip=%s' % (h['name'], h['pid'], h['name'], h['ip']))
i = d['irs']
print('irs_pid=%d irs_if=%s irs_dpid=%s irs_port=%s' % (i['pid'], i['intf'], i['dpid'], i['port_name']))
EOF
)"
for h in h1 h2 h3 irs; do pid=${h}_pid; echo "${!pid}" >"$work/host-$h.pid"; done
in_host() { local pid=${1}_pid; shift; nsenter -t "${!pid}" -n -- "$@"; }
# Long-lived processes run through nsenter directly (not a function,
# which would fork a shell) so that $! is the process itself.

# Management link between this machine and the IRS host.
ip link add "${prefix}mg0" type veth peer name "${prefix}mg1" netns "$irs_pid"
ip addr add "$mgmt_root/30" dev "${prefix}mg0"; ip link set "${prefix}mg0" up
in_host irs ip addr add "$mgmt_irs/30" dev "${prefix}mg1"
in_host irs ip link set "${prefix}mg1" up

# --- controller ---------------------------------------------------------

cat >"$work/controller.json" <<EOF
{
  "lldp_interval": "2s",
  "check_interval": "10s",
  "irs": [{"name": "demo-irs", "dpid": "$irs_dpid", "port": "$irs_port"}],
  "protocols": {
    "smtp": {"enabled": true}, "pop3": {"enabled": true}, "imap": {"enabled": true},
    "http": {"enabled": true, "ports": [{"transport": "tcp", "port": 80}]},
    "ftp": {"enabled": true}, "dns": {"enabled": true}, "icmp": {"enabled": true}
  }
}
EOF
echo "demo: starting sdnli controller (OpenFlow 127.0.0.1:$of_port, API $mgmt_root:$ctl_port)"
"$sdnli" controller --listen "127.0.0.1:$of_port" --api "$mgmt_root:$ctl_port" --config "$work/controller.json" \
  --log-level warn >"$work/controller.log" 2>&1 &
echo $! >"$work/controller.pid"
programmed() {
  curl -sf "http://$mgmt_root:$ctl_port/api/v1/topology" | "$py" -c '
import json, sys
t = json.load(sys.stdin)
sys.exit(0 if len(t["switches"]) == 3 and len(t["links"]) == 2 and t["irs"][0]["resolved"] else 1)'
}
waitfor 60 "the switches and links" programmed || { cat "$work/controller.log" >&2; exit 1; }

# --- servers on h3 ------------------------------------------------------

echo "demo: starting the servers on h3 ($h3_ip): Postfix + Dovecot, web, vsftpd, dnsmasq"
in_host h3 bash topologies/servers/mail.sh start "$work/mail" "$h3_ip" "$subnet.0/24"
mkdir -p "$work/www"
nsenter -t "$h3_pid" -n -- "$py" topologies/servers/web.py "$work/www" "$h3_ip" 80 >"$work/web.log" 2>&1 &
echo $! >"$work/web.pid"
# One passive port: after the first transfer the IRS's dynamic mirror of
# it is in place, so later transfers are caught from their first byte.
nsenter -t "$h3_pid" -n -- bash topologies/servers/ftp.sh "$work/ftp" "$h3_ip" 30000 30000 >"$work/ftp.log" 2>&1 &
echo $! >"$work/ftp.pid"
dns=""
if command -v dnsmasq >/dev/null; then
  nsenter -t "$h3_pid" -n -- dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
    --listen-address="$h3_ip" --pid-file= --log-facility=- \
    --address=/mail.example.test/"$h3_ip" --address=/www.example.test/"$h3_ip" \
    --address=/ftp.example.test/"$h3_ip" >"$work/dnsmasq.log" 2>&1 &
  echo $! >"$work/dns.pid"
  dns=1
fi
listening() { in_host h3 ss -Hltn | grep -q "$h3_ip:80 " && in_host h3 ss -Hltn | grep -q "$h3_ip:21 "; }
waitfor 20 "the web and FTP servers" listening

# --- IRS and analyzer ---------------------------------------------------

mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS $db"
"$sdnli" migrate --db "$dsn" >/dev/null
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
echo "demo: starting sdnli irs on the IRS host's $irs_if (data in $work/irs, events in database $db)"
nsenter -t "$irs_pid" -n -- "$sdnli" irs --iface "$irs_if" --db "$dsn" --data-dir "$work/irs" --name demo-irs \
  --api "$mgmt_irs:8099" --api-url "http://$mgmt_irs:8099" --api-token "$token" \
  --controller "http://$mgmt_root:$ctl_port" --heartbeat 5s --log-level warn >"$work/irs.log" 2>&1 &
echo $! >"$work/irs.pid"

# A demo-only account with a random password: the product has no default one.
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
if "$sdnli" user list --db "$dsn" 2>/dev/null | awk '{print $1}' | grep -qx "$user"; then
  printf '%s\n' "$password" | "$sdnli" user passwd --db "$dsn" --name "$user" >/dev/null
  "$sdnli" user enable --db "$dsn" --name "$user" >/dev/null 2>&1 || true
else
  printf '%s\n' "$password" | "$sdnli" user add --db "$dsn" --name "$user" --role admin >/dev/null
fi
ui_port=$(freeport 8080)
"$sdnli" analyzer --listen "127.0.0.1:$ui_port" --db "$dsn" --controller "http://$mgmt_root:$ctl_port" \
  --irs-token "$token" --log-level warn >"$work/analyzer.log" 2>&1 &
echo $! >"$work/analyzer.pid"
waitfor 30 "the analyzer" curl -sf "http://127.0.0.1:$ui_port/api/v1/health" || { cat "$work/analyzer.log" >&2; exit 1; }

cat <<EOF

  sdnli demo is running.
    web UI:    http://127.0.0.1:$ui_port/
    login:     $user
    password:  $password      (demo account of this run only; a new password every run)
    hosts:     h1 $h1_ip, h2 $h2_ip (clients), h3 $h3_ip (servers); IRS on s3
    switches:  ovs-ofctl -O OpenFlow13 dump-flows ${prefix}s1
  Ctrl-C stops the demo and cleans up.

EOF

# --- traffic ------------------------------------------------------------

mkmail() { # mkmail N SENDER FILE: a mail with an attachment, CRLF line ends
  local n=$1 from=$2 f=$3
  {
    printf 'From: %s\r\nTo: Bob <bob@example.test>\r\nSubject: demo message %s\r\n' "$from" "$n"
    printf 'Message-ID: <demo-%s-%s@example.org>\r\nMIME-Version: 1.0\r\n' "$n" "$RANDOM"
    printf 'Content-Type: multipart/mixed; boundary="xx"\r\n\r\n--xx\r\n'
    printf 'Content-Type: text/plain\r\n\r\nHello Bob, message %s, the report is attached.\r\n--xx\r\n' "$n"
    printf 'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="report-%s.bin"\r\n' "$n"
    printf 'Content-Transfer-Encoding: base64\r\n\r\n'
    head -c 4000 /dev/urandom | base64 -w 76 | sed 's/$/\r/'
    printf -- '--xx--\r\n'
  } >"$f"
}
ok() { if "$@" >/dev/null 2>&1; then echo ok; else echo FAIL; fi }

senders=("alice@example.org" "carol@example.org" "mallory@example.net")
last=$(mariadb -uroot "$db" --batch --skip-column-names -e "SELECT IFNULL(MAX(id),0) FROM events")
i=0
echo "demo: traffic from h1 and h2 to h3, one round every 5 s"
while :; do
  i=$((i + 1))
  from=${senders[$((i % ${#senders[@]}))]}
  mkmail "$i" "$from" "$work/mail-$i.eml"
  head -c $((50000 + RANDOM)) /dev/urandom >"$work/www/report-$i.bin"
  head -c $((20000 + RANDOM)) /dev/urandom >"$work/upload-$i.bin"
  head -c $((40000 + RANDOM)) /dev/urandom >"$work/ftp/root/pub/data-$i.bin"
  chmod 644 "$work/www/report-$i.bin" "$work/ftp/root/pub/data-$i.bin"

  r_ping=$(in_host h1 ping -c 3 -i 0.2 -q "$h3_ip" | awk -F', ' '/received/ {print $2}' || true)
  r_dns=-
  [ -n "$dns" ] && r_dns=$(ok in_host h2 dig +short +time=2 +tries=1 "@$h3_ip" www.example.test)
  r_smtp=$(ok in_host h1 curl -sS --max-time 20 "smtp://$h3_ip" --mail-from "$from" --mail-rcpt bob@example.test -T "$work/mail-$i.eml")
  sleep 0.5
  # Bob's newest message: one is delivered per round.
  r_pop3=$(ok in_host h2 curl -sS --max-time 20 "pop3://$h3_ip/$i" -u bob:secret -o /dev/null)
  r_imap=$(ok in_host h2 curl -sS --max-time 20 "imap://$h3_ip/INBOX;UID=$i" -u bob:secret -o /dev/null)
  r_get=$(ok in_host h1 curl -sS --max-time 20 --limit-rate 4M -o /dev/null "http://$h3_ip/report-$i.bin")
  r_post=$(ok in_host h2 curl -sS --max-time 20 --limit-rate 4M -H 'Content-Type: application/octet-stream' \
    --data-binary "@$work/upload-$i.bin" "http://$h3_ip/upload/upload-$i.bin")
  r_retr=$(ok in_host h1 curl -sS --max-time 20 --limit-rate 4M -o /dev/null "ftp://$h3_ip/pub/data-$i.bin")
  r_stor=$(ok in_host h2 curl -sS --max-time 20 --limit-rate 4M -T "$work/upload-$i.bin" "ftp://$h3_ip/upload/upload-$i.bin")
  printf 'round %-4s ping %s  dns %s  smtp %s (%s)  pop3 %s  imap %s  http get %s post %s  ftp retr %s stor %s\n' \
    "$i" "${r_ping:-0 received}" "$r_dns" "$r_smtp" "$from" "$r_pop3" "$r_imap" "$r_get" "$r_post" "$r_retr" "$r_stor"

  sleep 2
  mariadb -uroot "$db" --batch --skip-column-names -e "
    SELECT e.id, DATE_FORMAT(e.start_ts, '%H:%i:%s'), e.protocol, e.type, e.client_ip, e.server_ip,
           LEFT(IFNULL(e.subject,''), 40), (SELECT COUNT(*) FROM artifacts a WHERE a.event_id = e.id)
    FROM events e WHERE e.id > $last AND e.type NOT IN ('logon', 'logoff') ORDER BY e.id LIMIT 20" |
  while IFS=$'\t' read -r id ts proto type cip sip subj arts; do
    printf '  event %-6s %s %-5s %-16s %s -> %s  %-40s %s files\n' "$id" "$ts" "$proto" "$type" "$cip" "$sip" "$subj" "$arts"
  done
  last=$(mariadb -uroot "$db" --batch --skip-column-names -e "SELECT IFNULL(MAX(id),0) FROM events")
  if [ "$rounds" -gt 0 ] && [ "$i" -ge "$rounds" ]; then break; fi
  rm -f "$work/mail-$i.eml" "$work/upload-$i.bin"
  sleep 3 & wait $!
done
