#!/usr/bin/env bash
# The JDK's SSLEngine alone, without sockets or proxy (bench/tls-engine/TlsEngineCost.java): server CPU per
# full TLS 1.3 handshake (ECDSA P-256) and per MiB of AES-128-GCM records wrapped/unwrapped, with direct and
# heap buffers, on each JDK in JDKS (default: `java` on PATH, and JDK 25 if installed). The summary is the
# median of the second half of the rounds (warmed up). Usage: bench/tls-engine.sh [HANDSHAKES] [MIB] [ROUNDS]
# (defaults 300 200 8: about 1 minute per JDK on a quiet 2-core machine).
set -euo pipefail
cd "$(dirname "$0")"
N=${1:-300}
MIB=${2:-200}
ROUNDS=${3:-8}
if [ -z "${JDKS+x}" ]; then
  JDKS="default"
  [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] && JDKS="$JDKS /usr/lib/jvm/temurin-25-jdk-amd64"
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/k.pem" -out "$dir/c.pem" -days 1 \
    -subj /CN=bench.test 2>/dev/null
openssl pkcs12 -export -in "$dir/c.pem" -inkey "$dir/k.pem" -out "$dir/ks.p12" -passout pass:bench -name k
echo "tls-engine: $(date -u '+%F %H:%M') UTC, $N handshakes and $MIB MiB per round, $ROUNDS rounds, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for jdk in $JDKS; do
  java=java
  [ "$jdk" != default ] && java="$jdk/bin/java"
  "$java" -XX:+UseSerialGC tls-engine/TlsEngineCost.java "$dir/ks.p12" bench "$N" "$MIB" "$ROUNDS" 2>&1 | grep -v '^WARNING' | tee "$dir/out"
  awk -v rounds="$ROUNDS" '
    /^JDK/ { jdk = $2 }
    /full handshake/ { r = $2 + 0; if (r > rounds / 2) hs[++nh] = $5 }
    /direct buffers/ { r = $2 + 0; if (r > rounds / 2) { dw[++nd] = $6; du[nd] = $9 } }
    /heap   buffers|heap buffers/ { r = $2 + 0; if (r > rounds / 2) { hw[++nhp] = $6; hu[nhp] = $9 } }
    function med(v, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
    END { printf "summary JDK %s: full handshake %.2f ms; per MiB direct wrap %.2f unwrap %.2f ms, heap wrap %.2f unwrap %.2f ms\n",
      jdk, med(hs, nh), med(dw, nd), med(du, nd), med(hw, nhp), med(hu, nhp) }' "$dir/out"
done
