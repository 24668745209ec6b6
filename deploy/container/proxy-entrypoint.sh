#!/bin/sh
# nginx in front of perfagg-server (deploy/nginx), for the compose file: a
# local certificate for localhost made on every start (tools/test-ca.sh; trust
# the ca.pem it prints the path of), or PROXY_CERT/PROXY_KEY when mounted.
set -eu
var=/run/proxy
if [ -n "${PROXY_CERT:-}" ] && [ -n "${PROXY_KEY:-}" ]; then
  cert=$PROXY_CERT key=$PROXY_KEY
else
  /opt/perfagg/tools/test-ca.sh "$var/tls" >/dev/null
  cert=$var/tls/server.pem key=$var/tls/server.key
  echo "proxy: local certificate for localhost; CA at $var/tls/ca.pem (docker compose cp proxy:$var/tls/ca.pem .)" >&2
fi
exec /opt/perfagg/scripts/proxy.sh "$var/nginx" "0.0.0.0:3443" "${UPSTREAM:-server:3000}" "$cert" "$key"
