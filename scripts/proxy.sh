#!/usr/bin/env bash
# Runs nginx in front of perfagg-server in the foreground (deploy/nginx).
# Usage: scripts/proxy.sh VAR_DIR LISTEN UPSTREAM CERT KEY
#   VAR_DIR   directory for nginx.conf, its pid file, logs and temp files
#   LISTEN    what nginx listens on, e.g. 127.0.0.1:3443
#   UPSTREAM  perfagg-server's host:port, e.g. 127.0.0.1:3000
#   CERT KEY  PEM certificate (chain) and private key for TLS
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 5 ] || { echo "usage: $0 VAR_DIR LISTEN UPSTREAM CERT KEY" >&2; exit 2; }
var=$(mkdir -p "$1" && cd "$1" && pwd)
for v in "$2" "$3" "$4" "$5"; do
  # the values land in nginx's configuration: no spaces, quotes or ';'
  case $v in *[[:space:]\;\'\"\{\}]*) echo "proxy.sh: refusing \"$v\"" >&2; exit 2;; esac
done
sed -e "s|@VAR@|$var|g" -e "s|@LISTEN@|$2|g" -e "s|@UPSTREAM@|$3|g" \
    -e "s|@CERT@|$4|g" -e "s|@KEY@|$5|g" "$root/deploy/nginx/perfagg.conf.in" > "$var/nginx.conf"
exec /usr/sbin/nginx -e "$var/nginx-error.log" -p "$var" -c "$var/nginx.conf"
