#!/bin/sh
# tls_certs.sh DIR: make the TLS tests' certificates in DIR (net/test_tls.c):
# ca.pem (a CA), server.pem/server.key (localhost and 127.0.0.1, signed
# by that CA), other-ca.pem (a CA that signed nothing here), expired.pem
# (below). EC keys, so
# it is quick.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 \
    -subj /CN=corio-test-ca 2>/dev/null
openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days 2 \
    -subj /CN=corio-other-ca 2>/dev/null
openssl req $ec -keyout server.key -out server.csr -subj /CN=localhost \
    2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
# expired.pem/expired.key: localhost, signed by ca.pem, expired yesterday.
openssl req $ec -keyout expired.key -out expired.csr -subj /CN=localhost \
    2>/dev/null
openssl x509 -req -in expired.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out expired.pem -days -1 -extfile ext.cnf 2>/dev/null
