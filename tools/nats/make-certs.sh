#!/usr/bin/env sh
# Makes a private CA, a NATS server certificate and a client certificate for the Baton services, for
# development, tests and as a template for production (where your own PKI should issue them).
#
#   tools/nats/make-certs.sh <dir> [server host name...]
#
# The server certificate names 127.0.0.1, localhost and every host name given (the NATS nodes'
# names, e.g. nats-1 nats-2 nats-3 for docker-compose.yml). It is valid for client authentication
# too, because cluster routes authenticate with it in both directions. Writes ca.pem, server.pem,
# server-key.pem, client.pem and client-key.pem (keys readable by the owner only); ca-key.pem
# stays beside them: keep it somewhere safe, or delete it once the certificates are made.
# Needs OpenSSL 1.1.1 or later. DAYS sets the validity (default 365).
set -eu

out=${1:?usage: tools/nats/make-certs.sh <dir> [server host name...]}
shift
days=${DAYS:-365}
san="IP:127.0.0.1,DNS:localhost"
for name in "$@"; do
  san="$san,DNS:$name"
done

mkdir -p "$out"
cd "$out"
umask 077

key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# issue <name> <subject> <extensions>: a key and a certificate signed by the CA
issue() {
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr"
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

key ca-key.pem
openssl req -x509 -new -key ca-key.pem -subj "/CN=Baton NATS CA" -days "$days" -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem

issue server "/CN=nats" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san"

issue client "/CN=baton-service" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

chmod 644 ca.pem server.pem client.pem
echo "certificates written to $out: ca.pem server.pem server-key.pem client.pem client-key.pem (CA key: ca-key.pem)"
