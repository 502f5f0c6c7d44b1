#!/usr/bin/env bash
# The sdnli live demo. Installs and starts what is missing (scripts/setup.sh),
# builds sdnli, then:
#   - creates two network namespaces, "sdnli-client" and "sdnli-mail", joined
#     by a veth pair (10.66.0.1 and 10.66.0.2);
#   - runs a real mail server in sdnli-mail (Postfix for SMTP, Dovecot for
#     POP3 and IMAP; topologies/servers/mail.sh);
#   - runs `sdnli irs` capturing on the mail server's interface, writing
#     events to the MariaDB database "sdnli_demo";
#   - sends mails with attachments from sdnli-client with curl and fetches
#     them back over POP3 and IMAP, in a loop, printing the events as the
#     IRS records them.
# Ctrl-C stops everything and removes the namespaces, processes and files.
# DEMO_ROUNDS=N stops by itself after N rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh
echo "demo: building sdnli"
go build -o bin/sdnli ./cmd/sdnli

work=$(mktemp -d /tmp/sdnli-demo.XXXXXX)
chmod 755 "$work"
db=sdnli_demo
dsn="root@unix(/run/mysqld/mysqld.sock)/$db"
cli=sdnli-client srv=sdnli-mail
irs_pid=""

cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo: stopping"
  [ -n "$irs_pid" ] && kill -INT "$irs_pid" 2>/dev/null && wait "$irs_pid" 2>/dev/null || true
  ip netns exec "$srv" "$root/topologies/servers/mail.sh" stop "$work/mail" >/dev/null 2>&1 || true
  ip netns del "$cli" 2>/dev/null || true
  ip netns del "$srv" 2>/dev/null || true
  rm -rf "$work"
  echo "demo: cleaned up (namespaces, servers, $work); events stay in database $db"
}
trap cleanup EXIT INT TERM

# A previous run that was killed hard may have left its namespaces.
ip netns del "$cli" 2>/dev/null || true
ip netns del "$srv" 2>/dev/null || true
ip netns add "$cli"; ip netns add "$srv"
ip link add vdemo-c type veth peer name vdemo-s
ip link set vdemo-c netns "$cli"; ip link set vdemo-s netns "$srv"
ip -n "$cli" addr add 10.66.0.1/24 dev vdemo-c
ip -n "$srv" addr add 10.66.0.2/24 dev vdemo-s
for pair in "$cli vdemo-c" "$srv vdemo-s"; do
  set -- $pair
  ip -n "$1" link set lo up; ip -n "$1" link set "$2" up
  ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null
done

echo "demo: starting the mail server (Postfix + Dovecot) in $srv"
ip netns exec "$srv" "$root/topologies/servers/mail.sh" start "$work/mail" 10.66.0.2 10.66.0.0/24

mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS $db"
bin/sdnli migrate --db "$dsn" >/dev/null
echo "demo: starting sdnli irs on vdemo-s (data in $work/irs, events in database $db)"
ip netns exec "$srv" "$root/bin/sdnli" irs --iface vdemo-s --db "$dsn" --data-dir "$work/irs" \
  --name demo-irs --heartbeat 10s --log-level warn &
irs_pid=$!
sleep 2

mkmail() { # mkmail N FILE: a mail with a small attachment, CRLF line ends
  local n=$1 f=$2 att
  att=$(head -c 3000 /dev/urandom | base64 -w 76)
  {
    printf 'From: Alice <alice@example.org>\r\nTo: Bob <bob@example.test>\r\n'
    printf 'Subject: demo message %s\r\nMIME-Version: 1.0\r\n' "$n"
    printf 'Content-Type: multipart/mixed; boundary="xx"\r\n\r\n--xx\r\n'
    printf 'Content-Type: text/plain\r\n\r\nHello Bob, message %s, see the attachment.\r\n--xx\r\n' "$n"
    printf 'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="data-%s.bin"\r\n' "$n"
    printf 'Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--xx--\r\n' "$(printf '%s' "$att" | sed 's/$/\r/')"
  } >"$f"
}

rounds=${DEMO_ROUNDS:-0}
i=0
last=0
echo "demo: sending mail from 10.66.0.1 every 5 s (Ctrl-C to stop)"
while :; do
  i=$((i + 1))
  mkmail "$i" "$work/mail-$i.eml"
  ip netns exec "$cli" curl -sS --max-time 20 smtp://10.66.0.2 --mail-from alice@example.org \
    --mail-rcpt bob@example.test -T "$work/mail-$i.eml" || echo "demo: curl smtp failed"
  sleep 1
  ip netns exec "$cli" curl -sS --max-time 20 "pop3://10.66.0.2/1" -u bob:secret -o /dev/null || true
  ip netns exec "$cli" curl -sS --max-time 20 "imap://10.66.0.2/INBOX;UID=1" -u bob:secret -o /dev/null || true
  sleep 2
  mariadb -uroot "$db" --batch --skip-column-names -e "
    SELECT e.id, DATE_FORMAT(e.start_ts, '%H:%i:%s'), e.protocol, e.type, e.client_ip, e.server_ip,
           IFNULL(e.subject,''), (SELECT COUNT(*) FROM artifacts a WHERE a.event_id = e.id)
    FROM events e WHERE e.id > $last ORDER BY e.id" |
  while IFS=$'\t' read -r id ts proto type cip sip subj arts; do
    printf 'event %-5s %s %-5s %-14s %s -> %s  %-22s %s files\n' "$id" "$ts" "$proto" "$type" "$cip" "$sip" "$subj" "$arts"
  done
  last=$(mariadb -uroot "$db" --batch --skip-column-names -e "SELECT IFNULL(MAX(id),0) FROM events")
  if [ "$rounds" -gt 0 ] && [ "$i" -ge "$rounds" ]; then break; fi
  sleep 2
done
