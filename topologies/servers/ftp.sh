#!/usr/bin/env bash
# ftp.sh — a private anonymous FTP server for tests and the demo: vsftpd
# with its configuration, files and log under DIR, serving DIR/root
# (downloads from DIR/root/pub, uploads into DIR/root/upload) with passive
# mode on ports PASV_MIN..PASV_MAX. Runs vsftpd in the foreground (stop it
# by killing its PID); run it inside the network namespace (or Mininet
# host) that should serve.
#
#   ftp.sh DIR LISTEN_ADDR [PASV_MIN [PASV_MAX]]
set -euo pipefail

dir=${1:?usage: ftp.sh DIR LISTEN_ADDR [PASV_MIN [PASV_MAX]]}
addr=${2:?missing LISTEN_ADDR}
pmin=${3:-30000} pmax=${4:-30099}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)

# vsftpd refuses an anonymous root the ftp user can write: root owns it,
# only upload/ is the ftp user's.
mkdir -p "$dir"/{root/pub,root/upload,empty}
chown root:root "$dir/root" "$dir/empty"
chmod 755 "$dir/root" "$dir/root/pub" "$dir/empty"
chown ftp:ftp "$dir/root/upload"
chmod 755 "$dir/root/upload"

cat >"$dir/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=$addr
background=NO
anonymous_enable=YES
no_anon_password=YES
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_umask=022
anon_root=$dir/root
ftp_username=ftp
pasv_enable=YES
pasv_min_port=$pmin
pasv_max_port=$pmax
port_enable=YES
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
secure_chroot_dir=$dir/empty
xferlog_enable=YES
vsftpd_log_file=$dir/vsftpd.log
dual_log_enable=NO
CONF
exec vsftpd "$dir/vsftpd.conf"
