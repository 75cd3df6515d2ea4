#!/usr/bin/env bash
# Scans a TLS-terminating epoll-proxy listener with testssl.sh (Debian's `testssl`) and fails if any finding
# is rated HIGH or CRITICAL. The listener has an ECDSA P-256 and an RSA-2048 certificate (made here, for
# localhost) in front of a plain HTTP server. Usage: bench/testssl.sh [OUTPUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp --suffix=.json)}
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/ec.key" -out "$dir/ec.pem" -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/rsa.key" -out "$dir/rsa.pem" -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
web=$(free_port); tls=$(free_port)
cp java/target/epoll-proxy.jar "$dir/epoll-proxy.jar" # a rebuild meanwhile does not pull the jar from under the scan
python3 -m http.server "$web" --bind 127.0.0.1 --directory "$dir" >/dev/null 2>&1 & pids+=($!)
EPOLL_PROXY_JAR="$dir/epoll-proxy.jar" bin/epoll-proxy --quiet -L "$tls:127.0.0.1:$web" --tls-cert "$tls:$dir/ec.pem:$dir/ec.key" --tls-cert "$tls:$dir/rsa.pem:$dir/rsa.key" \
    --tls-alpn "$tls:http/1.1" >/dev/null 2>"$dir/proxy.err" & pids+=($!)
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$tls") 2>/dev/null && break; sleep 0.1; done
rm -f "$out"
testssl --quiet --color 0 --warnings off --jsonfile "$out" "localhost:$tls" >"$dir/testssl.txt" 2>&1 || true
tail -n 40 "$dir/testssl.txt"
python3 - "$out" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
# The certificate is made here: self-signed, valid for 2 days, no CRL or OCSP URI. testssl rates that HIGH or
# CRITICAL (cert_chain_of_trust, cert_expirationStatus, cert_notAfter, cert_revocation); those findings are about
# this throwaway certificate, not the proxy, and are shown apart. Everything else must be below HIGH.
own_cert = ("cert_chain_of_trust", "cert_expirationStatus", "cert_notAfter", "cert_revocation")
for f in findings:
    if f.get("severity") in ("HIGH", "CRITICAL") and f["id"].startswith(own_cert):
        print("(the script's own certificate) %s %s: %s" % (f["severity"], f["id"], f["finding"]))
bad = [f for f in findings if f.get("severity") in ("HIGH", "CRITICAL") and not f["id"].startswith(own_cert)]
count = {}
for f in findings: count[f.get("severity")] = count.get(f.get("severity"), 0) + 1
print("severities:", ", ".join("%s=%d" % kv for kv in sorted(count.items())))
for f in bad: print("%s %s: %s" % (f["severity"], f["id"], f["finding"]))
sys.exit(1 if bad else 0)
PY
