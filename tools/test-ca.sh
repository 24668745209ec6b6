#!/usr/bin/env bash
# A throwaway test CA and a server certificate for the TLS simulator, made
# with the openssl CLI at test time (never committed): DIR/ca.pem (trust this,
# e.g. PERFAGG_CA_FILE for the development enclave), DIR/server.pem and
# DIR/server.key (binance_sim.py --tls-cert/--tls-key). The server
# certificate names localhost and 127.0.0.1 and lives one day.
# Usage: tools/test-ca.sh DIR
set -euo pipefail
dir=${1:?usage: test-ca.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=perfagg test CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
cat >server.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
  -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 644 ca.pem server.pem
