#!/usr/bin/env bash
# The first seconds after start: connections per second, second by second, from the moment a freshly
# started forwarder answers, side by side with haproxy. A restarted or upgraded proxy takes traffic at
# once, so its first second matters as much as its steady state.
#
#   bench/first-seconds.sh                      # 3 rounds, 8 one-second windows each
#   FIRST_ROUNDS=5 FIRST_WINDOWS=10 bench/first-seconds.sh
#   FIRST_ONLY="epoll-proxy haproxy" bench/first-seconds.sh
#
# Forwarders: epoll-proxy (the JDK that runs `java`, with the build's class archive), epoll-proxy-jdk25
# (JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64, its archive made by the launcher at the first exit:
# one unmeasured start first), epoll-proxy-nowarm (--warmup 0: no warm-up before listening), haproxy.
#
# For each round and forwarder: the load client (bench LoadClient, 4 threads of connect, 64 bytes
# there and back, close) first warms its own JIT against the echo backend directly for 3 s, then the
# forwarder is started and the client counts completed connections in each second from the first one
# that goes through. So the client is at full speed before the forwarder exists: the curve is the
# forwarder's (the time to its `listening` line is bench/jvm-floor.sh's). Rounds interleave the
# forwarders. Loopback only; every process is stopped by PID; bounded in time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

ROUNDS="${FIRST_ROUNDS:-3}"
WINDOWS="${FIRST_WINDOWS:-8}"
THREADS="${FIRST_THREADS:-4}"
JDK25="${FIRST_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
ONLY="${FIRST_ONLY:-epoll-proxy epoll-proxy-nowarm epoll-proxy-jdk25 haproxy}"
OUT="${OUT:-$root/bench/results/first-seconds}"

if [ ! -f java/target/epoll-proxy.jar ] || [ ! -f bench/target/benchmarks.jar ]; then
  echo "building the jars (mvn -B -q -DskipTests package)" >&2
  mvn -B -q -DskipTests package >&2
fi
command -v haproxy >/dev/null || { echo "first-seconds: haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }

bench_jar="$root/bench/target/benchmarks.jar"
load=(java -XX:+UseSerialGC -Xmx256m -cp "$bench_jar" org.epollproxy.bench.LoadClient)
tmp="$(mktemp -d)"
started=()
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
stop() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

base=$((20000 + (RANDOM % 400) * 20))
ECHO_PORT=$base
F_PORT=$((base + 1))
java -XX:+UseSerialGC -cp "$bench_jar" org.epollproxy.bench.EchoServer "$ECHO_PORT" >"$tmp/echo.log" 2>&1 &
started+=($!)
for _ in $(seq 200); do [ -n "$(ss -Hltn "sport = :$ECHO_PORT")" ] && break; sleep 0.1; done

export EPOLL_PROXY_CACHE_DIR="$tmp/cache"
start_forwarder() {
  case "$1" in
    epoll-proxy) bin/epoll-proxy --quiet -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-nowarm) bin/epoll-proxy --quiet --warmup 0 -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-jdk25) JAVA_HOME="$JDK25" bin/epoll-proxy --quiet -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    haproxy)
      printf 'global\n    nbthread 1\n    maxconn 9000\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\nlisten echo\n    bind 127.0.0.1:%s\n    server echo 127.0.0.1:%s\n' \
        "$F_PORT" "$ECHO_PORT" >"$tmp/haproxy.cfg"
      haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/fwd.log" 2>&1 & ;;
    *) echo "unknown forwarder $1" >&2; return 1 ;;
  esac
  FWD_PID=$!
  started+=("$FWD_PID")
}

# The JDK 25 row's archive comes from a first, unmeasured start (as an operator's second start would).
if [[ " $ONLY " == *" epoll-proxy-jdk25 "* ]]; then
  [ -x "$JDK25/bin/java" ] || { echo "first-seconds: no JDK at $JDK25 (FIRST_JDK25)" >&2; exit 1; }
  start_forwarder epoll-proxy-jdk25
  for _ in $(seq 300); do grep -q '^listening' "$tmp/fwd.log" && break; sleep 0.1; done
  stop "$FWD_PID"
fi

mkdir -p "$OUT"
results="$OUT/first-seconds.tsv"
printf 'forwarder\tround\tper_second\tfailed\n' >"$results"
{ echo "date: $(date -u +%FT%TZ)"; echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; echo "rounds: $ROUNDS, windows: $WINDOWS, threads: $THREADS"; echo "java: $(java -version 2>&1 | head -1)"; } >"$OUT/first-seconds.meta"

for round in $(seq "$ROUNDS"); do
  for fwd in $ONLY; do
    "${load[@]}" curve "$ECHO_PORT" "$F_PORT" "$THREADS" "$WINDOWS" 3 >"$tmp/client.out" 2>"$tmp/client.err" &
    client=$!
    started+=("$client")
    for _ in $(seq 600); do grep -q '^warm' "$tmp/client.out" && break; kill -0 "$client" 2>/dev/null || break; sleep 0.05; done
    start_forwarder "$fwd"
    wait "$client" || { cat "$tmp/client.err" >&2; exit 1; }
    stop "$FWD_PID"
    line="$(grep '^curve' "$tmp/client.out")"
    rates="$(sed -n 's/.*per_second=\([^ ]*\).*/\1/p' <<<"$line")"
    failed="$(sed -n 's/.*failed=\([^ ]*\).*/\1/p' <<<"$line")"
    printf '%s\t%s\t%s\t%s\n' "$fwd" "$round" "$rates" "$failed" >>"$results"
    echo "round $round $fwd: per second: $rates (failed $failed)" >&2
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/first-seconds.meta"

# Per forwarder: the median of each window over the rounds, and the first second against the median of
# the last three (the warmed rate). mawk has no sort: sorted by insertion.
awk -F'\t' '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR > 1 { if (!($1 in cnt)) name[++k] = $1; cnt[$1]++; runs[$1, cnt[$1]] = $3 }
  END {
    printf "| forwarder | connections in each second from the first, median of %d rounds | first second / warmed |\n|---|---|---|\n", cnt[name[1]]
    for (i = 1; i <= k; i++) {
      f = name[i]; line = ""
      w = split(runs[f, 1], r, ",")
      for (j = 1; j <= w; j++) {
        for (x = 1; x <= cnt[f]; x++) { split(runs[f, x], r, ","); v[x] = r[j] + 0 }
        med[j] = median(v, cnt[f]); line = line (j > 1 ? ", " : "") med[j]
      }
      l3[1] = med[w - 2]; l3[2] = med[w - 1]; l3[3] = med[w]
      printf "| %s | %s | %.2f |\n", f, line, med[1] / median(l3, 3)
    }
  }' "$results" | tee "$OUT/first-seconds.md"
cat "$OUT/first-seconds.meta"
