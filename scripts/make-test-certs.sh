#!/usr/bin/env bash
# Makes a throwaway PKI for TLS tests and local trials (openssl, EC P-256, valid 30 days):
#   ca.crt / ca.key          the cluster CA
#   node.crt / node.key      signed by it; SANs localhost, 127.0.0.1-6 and ::1 (serves clients and peers)
#   client.crt / client.key  signed by it (for --tls-auth-clients)
#   rogue-ca.crt, rogue.crt / rogue.key   a second CA and a node certificate it signed (must be refused)
#   scripts/make-test-certs.sh DIR
set -euo pipefail
dir="${1:?usage: make-test-certs.sh DIR}"
mkdir -p "$dir"
cd "$dir"
sans="subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3,IP:127.0.0.4,IP:127.0.0.5,IP:127.0.0.6,IP:::1"
ca() { # name subject
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -keyout "$1.key" -out "$1.crt" -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # name subject ca extensions
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf '%s\n' "$4" "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth,clientAuth" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 30 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
ca ca "/CN=kvbench test CA"
leaf node "/CN=kvnode" ca "$sans"
leaf client "/CN=kvbench client" ca "subjectAltName=DNS:client"
ca rogue-ca "/CN=someone else's CA"
leaf rogue "/CN=kvnode" rogue-ca "$sans"
rm -f ./*.srl
echo "test certificates in $dir"
