#!/usr/bin/env bash
# The first seconds after start: connections per second, second by second, from the moment a freshly
# started forwarder answers, side by side with haproxy. A restarted or upgraded proxy takes traffic at
# once, so its first second matters as much as its steady state.
#
#   bench/first-seconds.sh                      # 3 rounds x 6 forwarders x 8 one-second windows: about 5 minutes
#   FIRST_ROUNDS=5 FIRST_WINDOWS=10 bench/first-seconds.sh
#   FIRST_ONLY="epoll-proxy haproxy" bench/first-seconds.sh
#   FIRST_ONLY="epoll-proxy epoll-proxy-cts epoll-proxy-c1 haproxy" bench/first-seconds.sh   # JIT settings
#   FIRST_TOOLS=java FIRST_CLIENT=c bench/first-seconds.sh   # the Java echo backend, as results before 2026-12-05
#
# Forwarders (the default set is the first six):
#   epoll-proxy             the JDK that runs `java` (the build's), with the build's class archive
#   epoll-proxy-warm        the same, --warmup 1s: a second of connections through a private forward
#                           before listening
#   epoll-proxy-auto        the same, --warmup auto: until the JIT is quiet, in two rounds
#   epoll-proxy-jdk25-warm  JAVA_HOME=$FIRST_JDK25 (Temurin 25): the launcher's ahead-of-time cache with
#                           the hot path's profiles, made by its training run in one unmeasured start
#                           first, and --warmup 1s
#   epoll-proxy-jdk25-auto  the same, and --warmup auto
#   haproxy                 nbthread 1
#   epoll-proxy-jdk25       JDK 25 with the cache, no warm-up
#   epoll-proxy-jdk25-none  JDK 25 with no archive or cache at all (EPOLL_PROXY_CDS_ARCHIVE=""): what the
#                           cache is measured against
#   epoll-proxy-cts         the build's JDK, -XX:CompileThresholdScaling=0.1 (compile after a tenth of
#                           the usual calls)
#   epoll-proxy-c1          the build's JDK, -XX:TieredStopAtLevel=1 (C1 only)
#
# For each round and forwarder: the load client (bench/native/loadclient.c, 4 threads of connect, 64
# bytes there and back, close) first runs against the echo backend directly for 3 s, then the forwarder
# is started and the client counts completed connections in each second from the first one that goes
# through. Client and echo backend (bench/native/echoserver.c) are C, so neither has a JIT to warm nor
# takes a JIT's CPU from the forwarder in its first seconds: the curve, and the first second's rate
# against the warmed one, are the forwarder's (haproxy's first second should be at its warmed rate).
# FIRST_TOOLS=java runs the Java EchoServer and LoadClient instead, FIRST_CLIENT (c or java, FIRST_TOOLS
# by default) the client alone: the Java client's own warm-up shaped the curves of the first runs, and
# the Java backend's JIT still took CPU from the forwarders' first seconds with the C client (haproxy's
# first second at 0.89 of its warmed rate on a quiet run). "start to first, ms" is from the forwarder's launch to the first answered connection
# (within about 50 ms: the script polls for the client's "warm"): what --warmup and a training run add
# to a start. Next to each window's rate, the forwarder's CPU (utime + stime of all its threads, the
# JIT compiler's included) per connection in that window: a busy machine slows the rate, but changes the
# CPU one connection costs much less. Rounds interleave the forwarders. Loopback only; every process is
# stopped by PID; bounded in time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh" # root, work, pids (stopped at exit), haproxy_echo_cfg, bench_tools
cd "$root"

ROUNDS="${FIRST_ROUNDS:-3}"
WINDOWS="${FIRST_WINDOWS:-8}"
THREADS="${FIRST_THREADS:-4}"
JDK25="${FIRST_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
TOOLS="${FIRST_TOOLS:-c}"
CLIENT="${FIRST_CLIENT:-$TOOLS}"
ONLY="${FIRST_ONLY:-epoll-proxy epoll-proxy-warm epoll-proxy-auto epoll-proxy-jdk25-warm epoll-proxy-jdk25-auto haproxy}"
OUT="${OUT:-$root/bench/results/first-seconds}"

if [ ! -f java/target/epoll-proxy.jar ] || [ ! -f bench/target/benchmarks.jar ]; then
  echo "building the jars (mvn -B -q -DskipTests package)" >&2
  mvn -B -q -DskipTests package >&2
fi
command -v haproxy >/dev/null || { echo "first-seconds: haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }

# the echo backend from FIRST_TOOLS, the client from FIRST_CLIENT (bench_tools sets echo_server and load)
bench_tools "$CLIENT" || exit 2
client_load=("${load[@]}")
bench_tools "$TOOLS" || exit 2
load=("${client_load[@]}")
tmp="$work"
stop() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

base=$((20000 + (RANDOM % 400) * 20))
ECHO_PORT=$base
F_PORT=$((base + 1))
"${echo_server[@]}" "$ECHO_PORT" >"$tmp/echo.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -n "$(ss -Hltn "sport = :$ECHO_PORT")" ] && break; sleep 0.1; done

export EPOLL_PROXY_CACHE_DIR="$tmp/cache"
start_forwarder() {
  case "$1" in
    epoll-proxy) bin/epoll-proxy --quiet -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-warm) bin/epoll-proxy --quiet --warmup 1000 -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-auto) bin/epoll-proxy --quiet --warmup auto -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-jdk25-auto) JAVA_HOME="$JDK25" bin/epoll-proxy --quiet --warmup auto -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-jdk25) JAVA_HOME="$JDK25" bin/epoll-proxy --quiet -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-jdk25-warm) JAVA_HOME="$JDK25" bin/epoll-proxy --quiet --warmup 1000 -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-jdk25-none) JAVA_HOME="$JDK25" EPOLL_PROXY_CDS_ARCHIVE="" bin/epoll-proxy --quiet -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-cts) JAVA_EXTRA_OPTS="-XX:CompileThresholdScaling=0.1" bin/epoll-proxy --quiet -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    epoll-proxy-c1) JAVA_EXTRA_OPTS="-XX:TieredStopAtLevel=1" bin/epoll-proxy --quiet -L "$F_PORT:127.0.0.1:$ECHO_PORT" >"$tmp/fwd.log" 2>&1 & ;;
    haproxy)
      haproxy_echo_cfg "$F_PORT" "$ECHO_PORT" "$tmp/haproxy.cfg"
      haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/fwd.log" 2>&1 & ;;
    *) echo "unknown forwarder $1" >&2; return 1 ;;
  esac
  FWD_PID=$!
  pids+=("$FWD_PID")
  echo "$FWD_PID" >"$tmp/fwd.pid" # for the client's CPU readings (the launcher execs java: same PID)
}

# The JDK 25 rows' cache comes from a first, unmeasured start (as an operator's second start would):
# the launcher's training run, then the proxy.
if [[ " $ONLY " == *" epoll-proxy-jdk25"* ]]; then
  [ -x "$JDK25/bin/java" ] || { echo "first-seconds: no JDK at $JDK25 (FIRST_JDK25)" >&2; exit 1; }
  start_forwarder epoll-proxy-jdk25
  for _ in $(seq 1200); do grep -q '^listening' "$tmp/fwd.log" && break; sleep 0.1; done
  stop "$FWD_PID"
  ls "$EPOLL_PROXY_CACHE_DIR"/*.aot >/dev/null 2>&1 || { echo "first-seconds: the launcher made no cache:" >&2; cat "$tmp/fwd.log" >&2; exit 1; }
fi

mkdir -p "$OUT"
results="$OUT/first-seconds.tsv"
printf 'forwarder\tround\tper_second\tfailed\tfirst_ms\tcpu_us_per_conn\n' >"$results"
{ echo "date: $(date -u +%FT%TZ)"; echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; echo "rounds: $ROUNDS, windows: $WINDOWS, threads: $THREADS, echo backend: $TOOLS, client: $CLIENT"; echo "java: $(java -version 2>&1 | head -1)"; } >"$OUT/first-seconds.meta"

for round in $(seq "$ROUNDS"); do
  for fwd in $ONLY; do
    rm -f "$tmp/fwd.pid"
    CURVE_PID_FILE="$tmp/fwd.pid" "${load[@]}" curve "$ECHO_PORT" "$F_PORT" "$THREADS" "$WINDOWS" 3 >"$tmp/client.out" 2>"$tmp/client.err" &
    client=$!
    pids+=("$client")
    for _ in $(seq 600); do grep -q '^warm' "$tmp/client.out" && break; kill -0 "$client" 2>/dev/null || break; sleep 0.05; done
    start_forwarder "$fwd"
    wait "$client" || { cat "$tmp/client.err" >&2; exit 1; }
    stop "$FWD_PID"
    line="$(grep '^curve' "$tmp/client.out")"
    rates="$(sed -n 's/.*per_second=\([^ ]*\).*/\1/p' <<<"$line")"
    failed="$(sed -n 's/.*failed=\([^ ]*\).*/\1/p' <<<"$line")"
    first="$(sed -n 's/.*first_ms=\([^ ]*\).*/\1/p' <<<"$line")"
    cpu="$(sed -n 's/.*cpu_us_per_conn=\([^ ]*\).*/\1/p' <<<"$line")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$fwd" "$round" "$rates" "$failed" "$first" "${cpu:--}" >>"$results"
    echo "round $round $fwd: per second: $rates (failed $failed, first after $first ms); CPU us per connection: $cpu" >&2
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
  NR > 1 { if (!($1 in cnt)) name[++k] = $1; cnt[$1]++; runs[$1, cnt[$1]] = $3; firsts[$1, cnt[$1]] = $5; cpus[$1, cnt[$1]] = $6 }
  END {
    printf "| forwarder | start to first, ms | connections in each second from the first, median of %d rounds | first second / warmed (median of the last 3) | CPU per connection in each second, µs (all threads) | first second / warmed, CPU per connection |\n|---|--:|---|--:|---|--:|\n", cnt[name[1]]
    for (i = 1; i <= k; i++) {
      f = name[i]; line = ""
      w = split(runs[f, 1], r, ",")
      for (j = 1; j <= w; j++) {
        for (x = 1; x <= cnt[f]; x++) { split(runs[f, x], r, ","); v[x] = r[j] + 0 }
        med[j] = median(v, cnt[f]); line = line (j > 1 ? ", " : "") med[j]
      }
      l3[1] = med[w - 2]; l3[2] = med[w - 1]; l3[3] = med[w]
      for (x = 1; x <= cnt[f]; x++) v[x] = firsts[f, x] + 0
      fm = median(v, cnt[f]); ratio = med[1] / median(l3, 3)
      cline = ""; cw = split(cpus[f, 1], r, ",")
      for (j = 1; j <= cw; j++) {
        for (x = 1; x <= cnt[f]; x++) { split(cpus[f, x], r, ","); v[x] = r[j] + 0 }
        cm[j] = median(v, cnt[f]); cline = cline (j > 1 ? ", " : "") cm[j]
      }
      if (cw >= 3) { c3[1] = cm[cw - 2]; c3[2] = cm[cw - 1]; c3[3] = cm[cw]; cr = sprintf("%.2f", cm[1] / median(c3, 3)) } else cr = "-"
      printf "| %s | %d | %s | %.2f | %s | %s |\n", f, fm, line, ratio, (cw >= 1 && cpus[f, 1] != "-") ? cline : "-", cr
    }
  }' "$results" | tee "$OUT/first-seconds.md"
cat "$OUT/first-seconds.meta"
