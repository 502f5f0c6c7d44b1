#!/usr/bin/env bash
# mail.sh — a private mail server for tests and the demo: Postfix (SMTP)
# delivering to Maildirs that Dovecot serves over POP3 and IMAP. Everything
# (configuration, queue, mailboxes, logs) lives under DIR, so several can
# run side by side and nothing of the system's own mail setup is touched.
# Run it inside the network namespace (or Mininet host) that should serve.
#
#   mail.sh start DIR LISTEN_ADDR CLIENT_NET [DOMAIN]
#   mail.sh stop  DIR
#
# Users: every local part @DOMAIN listed in DIR/conf/vmailbox (alice, bob,
# carol by default), all with the password "secret".
set -euo pipefail

cmd=${1:?usage: mail.sh start|stop DIR [LISTEN_ADDR CLIENT_NET [DOMAIN]]}
dir=${2:?missing DIR}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)

start() {
  local addr=${1:?missing LISTEN_ADDR} net=${2:?missing CLIENT_NET} domain=${3:-example.test}
  mkdir -p "$dir"/{conf,queue,data,mail,dovecot/run,dovecot/state}
  chown postfix "$dir/data"
  chown 65534:65534 "$dir/mail"
  # Postfix as shipped, but no chroot (the queue lives under DIR).
  sed -E 's/^([a-z]+ +(inet|unix|fifo|pass) +[-n] +[-n] +)[-y]/\1n/' /etc/postfix/master.cf >"$dir/conf/master.cf"
  cat >"$dir/conf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file_prefixes = $dir
maillog_file = $dir/postfix.log
inet_interfaces = $addr
inet_protocols = ipv4
myhostname = mail.$domain
mydestination =
mynetworks = $net 127.0.0.0/8
alias_maps =
alias_database =
virtual_mailbox_domains = $domain
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = texthash:$dir/conf/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
default_transport = discard
smtpd_tls_security_level = none
smtp_tls_security_level = none
message_size_limit = 52428800
virtual_mailbox_limit = 104857600
CONF
  : >"$dir/conf/vmailbox"
  for u in alice bob carol; do echo "$u@$domain $u/Maildir/" >>"$dir/conf/vmailbox"; done

  cat >"$dir/dovecot/dovecot.conf" <<CONF
protocols = imap pop3
listen = $addr
base_dir = $dir/dovecot/run
state_dir = $dir/dovecot/state
log_path = $dir/dovecot/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%n/Maildir
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$dir/mail/%n
}
service imap-login {
  chroot =
}
service pop3-login {
  chroot =
}
default_login_user = dovenull
default_internal_user = dovecot
pop3_uidl_format = %08Xu%08Xv
CONF

  # Postfix reports start-up errors on a terminal only; give it one.
  script -qc "postfix -c '$dir/conf' start" /dev/null </dev/null >"$dir/postfix-start.out" 2>&1 || {
    cat "$dir/postfix-start.out" "$dir/postfix.log" >&2 2>/dev/null; exit 1; }
  # Daemons must not keep the caller's stdout open (a caller waiting for
  # EOF would wait forever): their output goes to files under DIR.
  dovecot -c "$dir/dovecot/dovecot.conf" </dev/null >"$dir/dovecot-start.out" 2>&1 || {
    cat "$dir/dovecot-start.out" "$dir/dovecot/dovecot.log" >&2 2>/dev/null; exit 1; }
  # Wait until both listen.
  for _ in $(seq 1 50); do
    if ss -ltn | grep -q "$addr:25 " && ss -ltn | grep -q "$addr:143 " && ss -ltn | grep -q "$addr:110 "; then
      return 0
    fi
    sleep 0.1
  done
  echo "mail.sh: servers did not start listening on $addr" >&2
  ss -ltn >&2
  exit 1
}

stop() {
  [ -f "$dir/conf/main.cf" ] && script -qc "postfix -c '$dir/conf' stop" /dev/null >/dev/null 2>&1 || true
  [ -f "$dir/dovecot/dovecot.conf" ] && doveadm -c "$dir/dovecot/dovecot.conf" stop >/dev/null 2>&1 || true
  # `postfix stop` refuses to run outside the namespace that owns
  # inet_interfaces (and when DIR's host is gone): the master's pid file
  # still names it.
  local pid
  pid=$(tr -dc 0-9 <"$dir/queue/pid/master.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$dir/queue" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # Anything left (a master that did not answer) goes too.
  pkill -f -- "-c $dir/" 2>/dev/null || true
}

case "$cmd" in
  start) shift 2; start "$@" ;;
  stop) stop ;;
  *) echo "usage: mail.sh start|stop DIR ..." >&2; exit 2 ;;
esac
