#!/usr/bin/env bash
# Side by side with the tools an operator would otherwise run: the same backends on loopback, each
# forwarder started in turn, driven by iperf3 (bulk) and by the project's load client (ping-pong,
# connection rate, 5,000 open connections and the forwarder's memory). Prints one table of
# scenario x forwarder with the ratio to direct, and keeps the raw figures in $OUT.
#
#   bench/compare.sh                 # all forwarders, 5 s per measurement
#   COMPARE_SECONDS=10 bench/compare.sh
#   COMPARE_ONLY="direct epoll-proxy haproxy" bench/compare.sh
#   COMPARE_ONLY="direct epoll-proxy epoll-proxy-2t haproxy" bench/compare.sh   # also --threads 2
#   COMPARE_ROUNDS=1 bench/compare.sh  # one round instead of three (the table shows the median)
#
# The machine is shared, so every forwarder is measured COMPARE_ROUNDS times, the forwarders taking
# turns within each round, and the table shows the median per figure: a burst of someone else's load
# hits one round of one forwarder, not all of its figures. The 5,000-connection hold runs once, in
# the last round.
#
# Installs socat, rinetd, haproxy and iperf3 with apt-get when missing (needs root). Loopback only;
# every run is bounded in time; stops exactly the processes it started, by PID.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

RUN_SECONDS="${COMPARE_SECONDS:-5}"
WARMUP_SECONDS="${COMPARE_WARMUP:-2}"
HOLD_COUNT="${COMPARE_HOLD:-5000}"
ROUNDS="${COMPARE_ROUNDS:-3}"
CONNRATE_THREADS="${COMPARE_CONNRATE_THREADS:-4}"
OUT="${OUT:-$root/bench/results/compare}"
ALL="direct epoll-proxy epoll-proxy-splice socat rinetd haproxy"
ONLY="${COMPARE_ONLY:-$ALL}"

# 5,000 connections through a proxy: 5,000 fds in the client, 10,000 in the forwarder.
ulimit -n 20000

# ---- tools ----
missing=()
for tool in socat rinetd haproxy iperf3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi
if [ ! -f java/target/epoll-proxy.jar ] || [ ! -f bench/target/benchmarks.jar ]; then
  echo "building the jars (mvn -B -q -DskipTests package)" >&2
  mvn -B -q -DskipTests package >&2
fi

java_bin="java"
[ -n "${JAVA_HOME:-}" ] && java_bin="$JAVA_HOME/bin/java"
bench_jar="$root/bench/target/benchmarks.jar"
load=("$java_bin" -XX:+UseSerialGC -Xmx512m -cp "$bench_jar" org.epollproxy.bench.LoadClient)

# ---- processes we start, stopped by PID ----
tmp="$(mktemp -d)"
started=()
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

stop() {
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# Waits (at most 20 s) until something listens on each port, without connecting to it.
wait_listening() {
  for port in "$@"; do
    for _ in $(seq 200); do
      [ -n "$(ss -Hltn "sport = :$port")" ] && continue 2
      sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$port after 20 s" >&2
    return 1
  done
}

# Ports below the ephemeral range (32768+), so client connections never collide with them.
base=$((20000 + (RANDOM % 400) * 20))
IPERF_PORT=$base
ECHO_PORT=$((base + 1))
F_BULK=$((base + 2))
F_ECHO=$((base + 3))

iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >"$tmp/iperf-server.log" 2>&1 &
started+=($!)
"$java_bin" -XX:+UseSerialGC -cp "$bench_jar" org.epollproxy.bench.EchoServer "$ECHO_PORT" >"$tmp/echo.log" 2>&1 &
started+=($!)
wait_listening "$IPERF_PORT" "$ECHO_PORT"

has_splice() { bin/epoll-proxy --help 2>&1 | grep -q -- '--splice'; }

# Starts forwarder $1 on F_BULK -> iperf3 and F_ECHO -> echo; sets FWD_PIDS (empty for direct).
start_forwarder() {
  FWD_PIDS=()
  case "$1" in
    direct)
      return 0 ;;
    epoll-proxy)
      bin/epoll-proxy --quiet -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    epoll-proxy-2t)
      bin/epoll-proxy --quiet --threads 2 -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    epoll-proxy-splice)
      bin/epoll-proxy --quiet --splice -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    socat)
      socat "TCP-LISTEN:$F_BULK,bind=127.0.0.1,fork,reuseaddr,backlog=1024" "TCP:127.0.0.1:$IPERF_PORT" >"$tmp/$1-bulk.log" 2>&1 &
      FWD_PIDS+=($!)
      socat "TCP-LISTEN:$F_ECHO,bind=127.0.0.1,fork,reuseaddr,backlog=1024" "TCP:127.0.0.1:$ECHO_PORT" >"$tmp/$1-echo.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    rinetd)
      printf '127.0.0.1 %s 127.0.0.1 %s\n127.0.0.1 %s 127.0.0.1 %s\n' \
        "$F_BULK" "$IPERF_PORT" "$F_ECHO" "$ECHO_PORT" >"$tmp/rinetd.conf"
      rinetd -f -c "$tmp/rinetd.conf" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    haproxy)
      cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 9000
defaults
    mode tcp
    maxconn 9000
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen bulk
    bind 127.0.0.1:$F_BULK
    server iperf 127.0.0.1:$IPERF_PORT
listen echo
    bind 127.0.0.1:$F_ECHO
    server echo 127.0.0.1:$ECHO_PORT
EOF
      haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    *)
      echo "unknown forwarder $1" >&2; return 1 ;;
  esac
  wait_listening "$F_BULK" "$F_ECHO"
}

# "key=value ..." -> value of key
field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

mkdir -p "$OUT"
results="$OUT/compare.tsv"
printf 'forwarder\tbulk_MBps\tpp1_rtps\tpp1_p99_us\tpp100_rtps\tpp100_p99_us\tconn_per_s\tconn_failed\theld_served\tidle_rss_kb\trss_per_conn_B\tpss_per_conn_B\n' >"$results"

for round in $(seq "$ROUNDS"); do
for fwd in $ONLY; do
  if [ "$fwd" = epoll-proxy-splice ] && ! has_splice; then
    echo "== $fwd: skipped (bin/epoll-proxy has no --splice option)" >&2
    continue
  fi
  echo "== round $round/$ROUNDS: $fwd" >&2
  start_forwarder "$fwd"
  bulk_port=$F_BULK echo_port=$F_ECHO
  if [ "$fwd" = direct ]; then bulk_port=$IPERF_PORT echo_port=$ECHO_PORT; fi

  idle_kb="-"
  if [ ${#FWD_PIDS[@]} -gt 0 ]; then
    sleep 1
    m="$("${load[@]}" memory "${FWD_PIDS[@]}")"
    idle_kb="$(field "$m" rss_kb)"
  fi

  # Bulk: iperf3, both directions at once; the sum of what both receivers got.
  # The iperf3 server serves one test at a time and sometimes still winds the last one down: one retry.
  for attempt in 1 2; do
    timeout $((RUN_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$bulk_port" -t "$RUN_SECONDS" --bidir -f m >"$tmp/iperf-$fwd.txt" 2>&1 || true
    bulk="$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") s += $i } END { printf "%.0f", s / 8 }' "$tmp/iperf-$fwd.txt")"
    [ "${bulk:-0}" -gt 0 ] && break
    sleep 2
  done
  [ "${bulk:-0}" -gt 0 ] || bulk="-"
  echo "   bulk ${bulk} MB/s" >&2

  pp1="$(timeout 120 "${load[@]}" pingpong "$echo_port" 1 "$RUN_SECONDS" "$WARMUP_SECONDS" || echo failed)"
  echo "   $pp1" >&2
  pp100="$(timeout 120 "${load[@]}" pingpong "$echo_port" 100 "$RUN_SECONDS" "$WARMUP_SECONDS" || echo failed)"
  echo "   $pp100" >&2
  conn="$(timeout 120 "${load[@]}" connrate "$echo_port" "$CONNRATE_THREADS" "$RUN_SECONDS" "$WARMUP_SECONDS" || echo failed)"
  echo "   $conn" >&2
  held="-" rss_pc="-" pss_pc="-"
  if [ "$round" -lt "$ROUNDS" ]; then
    : # the hold runs in the last round only
  elif [ ${#FWD_PIDS[@]} -gt 0 ]; then
    hold="$(timeout 180 "${load[@]}" hold "$echo_port" "$HOLD_COUNT" 90 "${FWD_PIDS[@]}" || echo failed)"
    echo "   $hold" >&2
    held="$(field "$hold" served)" rss_pc="$(field "$hold" rss_per_conn_bytes)" pss_pc="$(field "$hold" pss_per_conn_bytes)"
  else
    hold="$(timeout 180 "${load[@]}" hold "$echo_port" "$HOLD_COUNT" 90 "${started[1]}" || echo failed)"
    echo "   $hold" >&2
    held="$(field "$hold" served)"
  fi

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$fwd" "$bulk" \
    "$(field "$pp1" round_trips_per_s)" "$(field "$pp1" p99_us)" \
    "$(field "$pp100" round_trips_per_s)" "$(field "$pp100" p99_us)" \
    "$(field "$conn" connections_per_s)" "$(field "$conn" failed)" \
    "$held" "$idle_kb" "$rss_pc" "$pss_pc" >>"$results"

  stop "${FWD_PIDS[@]+"${FWD_PIDS[@]}"}"
  # TIME_WAIT from the connection-rate run must not spill into the next forwarder's run.
  sleep 2
done
done

{
  echo "# compare.sh $(date -u +%Y-%m-%dT%H:%MZ), ${RUN_SECONDS} s per run after ${WARMUP_SECONDS} s warm-up, $HOLD_COUNT held connections"
  echo "# $(nproc) cores, $(uname -r), $("$java_bin" -version 2>&1 | head -1)"
} >"$OUT/compare.meta"
"$java_bin" -cp "$bench_jar" org.epollproxy.bench.CompareTable "$results" "$OUT/compare-ratios.dat" | tee "$OUT/compare.md"
"$here/plot.sh" "$OUT/compare-ratios.dat" "$OUT/ratios-compare.png" \
  "compare.sh, forwarders as processes: performance relative to direct (1 = no forwarder)" || true
