#!/usr/bin/env bash
# Side by side with the tools an operator would otherwise run: the same backends on loopback, each
# forwarder started in turn, driven by iperf3 (bulk) and by the project's load clients (ping-pong,
# connection rate, 5,000 open connections and the forwarder's memory). Prints one table of
# scenario x forwarder with the ratio to direct, and keeps the raw figures in $OUT.
#
#   bench/compare.sh                 # all forwarders, 5 s per measurement (about 20 minutes)
#   COMPARE_ONLY="direct epoll-proxy haproxy" bench/compare.sh
#                                    # about 8 minutes: ends with the goals table, warmed up, epoll-proxy /
#                                    # haproxy: CPU per connection and per round trip on 100 connections
#                                    # (goal <= 0.85x), throughput with the forwarder near one core (>= 1.1x)
#   COMPARE_COLD_SECONDS=0 bench/compare.sh   # without the runs from a cold start (below), a third shorter
#   COMPARE_SECONDS=10 bench/compare.sh
#   COMPARE_ONLY="direct epoll-proxy haproxy" bench/compare.sh
#   COMPARE_ONLY="direct epoll-proxy epoll-proxy-2t haproxy" bench/compare.sh   # also --threads 2
#   COMPARE_ROUNDS=1 bench/compare.sh  # one round instead of three (the table shows the median)
#   COMPARE_SCENARIOS="pp100 conn" COMPARE_ONLY="epoll-proxy haproxy" bench/compare.sh
#                                    # only the scenarios named (of bulk pp1 pp100 conn hold; all by default):
#                                    # the two figures of the CPU-per-operation goal, about 1 minute per round
#   COMPARE_ONLY="direct epoll-proxy epoll-proxy-16k epoll-proxy-32k haproxy" bench/compare.sh   # buffer size
#   COMPARE_ONLY="direct epoll-proxy-splice epoll-proxy-splice-256k haproxy-splice" bench/compare.sh  # pipes
#   COMPARE_BASELINE_JAR=/path/old/epoll-proxy.jar COMPARE_ONLY="direct epoll-proxy epoll-proxy-baseline" bench/compare.sh
#                                    # this build against another build's jar (its CDS archive is made first)
#   COMPARE_TOOLS=java bench/compare.sh   # the Java echo backend and load client, as results before 2026-12-05
#   COMPARE_SCENARIOS=pp100 COMPARE_ONLY="haproxy epoll-proxy c-epoll c-uring" COMPARE_ROUNDS=3 bench/compare.sh
#                                    # CPU per round trip with the I/O interface alone changed: a minimal C
#                                    # forwarder over epoll and over io_uring next to haproxy and the proxy
#                                    # (COMPARE_CPU_WITH_BACKEND=1: the echo backend's CPU added to each figure)
#
# Tools: the echo backend is bench/native/echoserver.c and ping-pong and the connection rate are driven by
# bench/native/loadclient.c (built with cmake when missing): C, one epoll thread each for the backend and
# the ping-pong client, so on two shared cores the JIT, GC and threads of a Java client and backend do not
# take CPU from the forwarder that is measured. The 5,000-connection hold and the memory readings use the
# Java LoadClient (no C equivalent; they measure memory, not speed).
#
# Forwarders: direct, epoll-proxy (defaults), epoll-proxy-16k / -32k / -64k / -128k (--buffer-size),
# epoll-proxy-c1 (JAVA_EXTRA_OPTS=-XX:TieredStopAtLevel=1: the smaller JVM floor, at what CPU cost),
# epoll-proxy-baseline (defaults, the jar COMPARE_BASELINE_JAR names: did a change slow forwarding?),
# epoll-proxy-uring (--io-uring), epoll-proxy-2t (--threads 2), epoll-proxy-splice (--splice), epoll-proxy-splice-256k (--splice
# --pipe-size 256k --buffer-size 256k), socat, rinetd, haproxy (nbthread 1), haproxy-2t (nbthread 2),
# haproxy-splice (nbthread 1, option splice-auto), c-epoll, c-uring and c-uring-unlinked (bench/native/cforward.c:
# a minimal single-threaded C forwarder, the proxy's shape of I/O over epoll, or over io_uring with the send
# and the next recv linked or not; not in the default list, they answer a question about the interface).
#
# Warmed up and from a cold start: before its warmed-up runs, each forwarder is started once more for each
# scenario alone and measured from its listening line for COMPARE_COLD_SECONDS (2 by default) with no
# warm-up, the seconds a restart or an upgrade serves (JIT, first allocations, empty pools included).
#
# Next to every throughput figure: the forwarder's CPU (utime + stime from /proc/PID/stat over the
# measured window, as cores and per operation), since on two shared cores throughput says as much
# about the client as about the forwarder. Ratios between forwarders (epoll-proxy vs haproxy, ...) are
# computed within each round and the table shows their median, so load that moves between rounds
# does not decide them. The load average is printed before and after.
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
. "$here/lib.sh"
cd "$root"

RUN_SECONDS="${COMPARE_SECONDS:-5}"
WARMUP_SECONDS="${COMPARE_WARMUP:-2}"
# From a cold start: each scenario once more on a forwarder started for it alone, measured from its
# listening line for COLD_SECONDS with no warm-up (the first seconds a restart or an upgrade serves).
# COMPARE_COLD_SECONDS=0 leaves these runs out.
COLD_SECONDS="${COMPARE_COLD_SECONDS:-2}"
HOLD_COUNT="${COMPARE_HOLD:-5000}"
ROUNDS="${COMPARE_ROUNDS:-3}"
CONNRATE_THREADS="${COMPARE_CONNRATE_THREADS:-4}"
OUT="${OUT:-$root/bench/results/compare}"
ALL="direct epoll-proxy epoll-proxy-32k epoll-proxy-2t epoll-proxy-splice socat rinetd haproxy haproxy-2t haproxy-splice"
ONLY="${COMPARE_ONLY:-$ALL}"
SCENARIOS=" ${COMPARE_SCENARIOS:-bulk pp1 pp100 conn hold} "
runs() { [[ "$SCENARIOS" == *" $1 "* ]]; }

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
TOOLS="${COMPARE_TOOLS:-c}"
bench_tools "$TOOLS" || exit 2 # sets echo_server and load (ping-pong, connection rate)
java_load=("$java_bin" -XX:+UseSerialGC -Xmx512m -cp "$bench_jar" org.epollproxy.bench.LoadClient) # hold, memory

# ---- processes we start, stopped by PID (bench/lib.sh: pids, stop_pids, wait_listening) ----
tmp="$work"

# Ports below the ephemeral range (32768+), so client connections never collide with them.
base=$((20000 + (RANDOM % 400) * 20))
IPERF_PORT=$base
ECHO_PORT=$((base + 1))
F_BULK=$((base + 2))
F_ECHO=$((base + 3))

iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >"$tmp/iperf-server.log" 2>&1 &
pids+=($!)
"${echo_server[@]}" "$ECHO_PORT" >"$tmp/echo.log" 2>&1 &
pids+=($!)
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
    epoll-proxy-16k|epoll-proxy-32k|epoll-proxy-64k|epoll-proxy-128k)
      bin/epoll-proxy --quiet --buffer-size "${1#epoll-proxy-}" -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    epoll-proxy-c1)
      JAVA_EXTRA_OPTS="-XX:TieredStopAtLevel=1" bin/epoll-proxy --quiet -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    epoll-proxy-baseline)
      EPOLL_PROXY_JAR="$COMPARE_BASELINE_JAR" bin/epoll-proxy --quiet -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    epoll-proxy-splice-256k)
      bin/epoll-proxy --quiet --splice --pipe-size 256k --buffer-size 256k -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    epoll-proxy-uring)
      bin/epoll-proxy --quiet --io-uring -L "$F_BULK:127.0.0.1:$IPERF_PORT" -L "$F_ECHO:127.0.0.1:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
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
    c-epoll|c-uring|c-uring-unlinked)
      [ -n "${cforward:-}" ] || native_forwarder || return 1
      "$cforward" "${1#c-}" "$F_BULK:$IPERF_PORT" "$F_ECHO:$ECHO_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    rinetd)
      printf '127.0.0.1 %s 127.0.0.1 %s\n127.0.0.1 %s 127.0.0.1 %s\n' \
        "$F_BULK" "$IPERF_PORT" "$F_ECHO" "$ECHO_PORT" >"$tmp/rinetd.conf"
      rinetd -f -c "$tmp/rinetd.conf" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    haproxy|haproxy-2t|haproxy-splice)
      # With splice haproxy also reserves fds for pipes (maxpipes = maxconn / 4, two fds each) and
      # refuses to start past the fd limit: 7000 still holds the 5,000 connections of the hold.
      threads=1 splice="" maxconn=9000
      [ "$1" = haproxy-2t ] && threads=2
      [ "$1" = haproxy-splice ] && splice="option splice-auto" maxconn=7000
      cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread $threads
    maxconn $maxconn
defaults
    mode tcp
    $splice
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
  wait_listening "$F_BULK" "$F_ECHO" || { cat "$tmp/$1"*.log >&2; return 1; }
}

# "key=value ..." -> value of key
field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

# utime + stime + cutime + cstime of the processes, in ticks (USER_HZ), from /proc/PID/stat.
proc_ticks() {
  local fields="$1" sum=0 pid
  shift
  for pid in "$@"; do
    sum=$((sum + $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk "{ print $fields }" || echo 0)))
  done
  echo "$sum"
}
cpu_ticks() { proc_ticks '$12 + $13 + $14 + $15' "$@"; }
# utime + cutime alone: the forwarder's own code, without the kernel's work for it.
user_ticks() { proc_ticks '$12 + $14' "$@"; }
hz="$(getconf CLK_TCK)"
# CPU seconds per GB moved: $1 ticks over the bulk run of $bulk MB/s for RUN_SECONDS.
per_gb() { awk -v t="$1" -v hz="$hz" -v mb="$bulk" -v s="$RUN_SECONDS" 'BEGIN { printf "%.3f", t / hz / (mb * s / 1000) }'; }
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$OUT"
results="$OUT/compare.tsv"
printf 'forwarder\tbulk_MBps\tpp1_rtps\tpp1_p99_us\tpp100_rtps\tpp100_p99_us\tconn_per_s\tconn_failed\theld_served\tidle_rss_kb\trss_per_conn_B\tpss_per_conn_B\tbulk_cores\tbulk_cpu_s_per_GB\tpp1_cores\tpp1_cpu_us\tpp100_cores\tpp100_cpu_us\tconn_cores\tconn_cpu_us\tbulk_user_s_per_GB\tbulk_sys_s_per_GB\tpp1_user_us\tpp1_sys_us\tpp100_user_us\tpp100_sys_us\tconn_user_us\tconn_sys_us\tround\tcold_bulk_MBps\tcold_bulk_cpu_s_per_GB\tcold_bulk_user_s_per_GB\tcold_bulk_sys_s_per_GB\tcold_pp1_rtps\tcold_pp1_cpu_us\tcold_pp1_user_us\tcold_pp1_sys_us\tcold_pp100_rtps\tcold_pp100_cpu_us\tcold_pp100_user_us\tcold_pp100_sys_us\tcold_conn_per_s\tcold_conn_cpu_us\tcold_conn_user_us\tcold_conn_sys_us\n' >"$results"

# Each round runs the forwarders in its own shuffled order (seeded by the round's number, so a re-run
# repeats it). In a fixed order the forwarder listed after `direct` always ran right after direct's
# 50,000-connection run (tens of thousands of TIME_WAIT sockets) and came out 10-25% behind the same
# binary with another --buffer-size on 64-byte ping-pong, which no buffer size can change; rotating the
# list kept that neighbour, a shuffle does not.
read -r -a forwarders <<<"$ONLY"
if [[ " ${forwarders[*]} " == *" epoll-proxy-baseline "* ]]; then
  if [ -z "${COMPARE_BASELINE_JAR:-}" ] || [ ! -f "$COMPARE_BASELINE_JAR" ]; then
    echo "compare: epoll-proxy-baseline needs COMPARE_BASELINE_JAR=/path/to/epoll-proxy.jar (another build's jar)" >&2
    exit 2
  fi
  COMPARE_BASELINE_JAR="$(readlink -f "$COMPARE_BASELINE_JAR")"
  # Its class data archive where bin/epoll-proxy looks for it, so both start the same way.
  v="$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$(dirname "$(readlink -f "$(command -v "$java_bin")")")/../release")"
  bash packaging/cds-archive.sh "$java_bin" "$COMPARE_BASELINE_JAR" "${COMPARE_BASELINE_JAR%.jar}-jdk$v.jsa" >&2
fi
# One scenario ($2) on forwarder $1 started for it alone, from its listening line, for COLD_SECONDS with
# no warm-up; sets COLD to its figures, tab-separated: throughput, CPU per operation, user, system ("-"
# where there is none: direct has no start, and a scenario not run).
cold_run() {
  local fwd="$1" sc="$2" out t0 t1 u0 u1 mb
  COLD="-\t-\t-\t-"
  [ "$COLD_SECONDS" -gt 0 ] && [ "$fwd" != direct ] && runs "$sc" || return 0
  start_forwarder "$fwd" || return 0
  local cpu_pids="${FWD_PIDS[*]}"
  case "$sc" in
    bulk)
      u0="$(user_ticks "${FWD_PIDS[@]}")" t0="$(cpu_ticks "${FWD_PIDS[@]}")"
      timeout $((COLD_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$F_BULK" -t "$COLD_SECONDS" --bidir -f m >"$tmp/iperf-cold-$fwd.txt" 2>&1 || true
      t1="$(cpu_ticks "${FWD_PIDS[@]}")" u1="$(user_ticks "${FWD_PIDS[@]}")"
      mb="$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") s += $i } END { printf "%.0f", s / 8 }' "$tmp/iperf-cold-$fwd.txt")"
      if [ "${mb:-0}" -gt 0 ]; then
        COLD="$mb"
        for ticks in $((t1 - t0)) $((u1 - u0)) $((t1 - t0 - u1 + u0)); do
          COLD+="\t$(awk -v t="$ticks" -v hz="$hz" -v mb="$mb" -v s="$COLD_SECONDS" 'BEGIN { printf "%.3f", t / hz / (mb * s / 1000) }')"
        done
      fi ;;
    pp1|pp100)
      out="$(CPU_PIDS="$cpu_pids" timeout 120 "${load[@]}" pingpong "$F_ECHO" "${sc#pp}" "$COLD_SECONDS" 0 || echo failed)"
      COLD="$(field "$out" round_trips_per_s)\t$(field "$out" cpu_us_per_op)\t$(field "$out" cpu_user_us_per_op)\t$(field "$out" cpu_sys_us_per_op)" ;;
    conn)
      out="$(CPU_PIDS="$cpu_pids" timeout 120 "${load[@]}" connrate "$F_ECHO" "$CONNRATE_THREADS" "$COLD_SECONDS" 0 || echo failed)"
      COLD="$(field "$out" connections_per_s)\t$(field "$out" cpu_us_per_op)\t$(field "$out" cpu_user_us_per_op)\t$(field "$out" cpu_sys_us_per_op)" ;;
  esac
  echo "   cold $sc: $(printf '%b' "$COLD" | tr '\t' ' ')" >&2
  stop_pids "${FWD_PIDS[@]}"
  sleep 1 # TIME_WAIT of a connection-rate run must not spill into the next start
}

for round in $(seq "$ROUNDS"); do
mapfile -t order < <(printf '%s\n' "${forwarders[@]}" | awk -v seed="$round" 'BEGIN { srand(seed) } { printf "%.9f\t%s\n", rand(), $0 }' | sort -n | cut -f2)
echo "== round $round/$ROUNDS order: ${order[*]}" >&2
for fwd in "${order[@]}"; do
  if [ "$fwd" = epoll-proxy-splice ] && ! has_splice; then
    echo "== $fwd: skipped (bin/epoll-proxy has no --splice option)" >&2
    continue
  fi
  echo "== round $round/$ROUNDS: $fwd" >&2
  cold=""
  for sc in bulk pp1 pp100 conn; do
    cold_run "$fwd" "$sc"
    cold+="\t$COLD"
  done
  start_forwarder "$fwd"
  bulk_port=$F_BULK echo_port=$F_ECHO
  if [ "$fwd" = direct ]; then bulk_port=$IPERF_PORT echo_port=$ECHO_PORT; fi

  idle_kb="-"
  if [ ${#FWD_PIDS[@]} -gt 0 ] && runs hold; then
    sleep 1
    m="$("${java_load[@]}" memory "${FWD_PIDS[@]}")"
    idle_kb="$(field "$m" rss_kb)"
  fi

  # Bulk: iperf3, both directions at once; the sum of what both receivers got.
  # The iperf3 server serves one test at a time and sometimes still winds the last one down: one retry.
  bulk=0 bulk_cores="-" bulk_cpu="-" bulk_user="-" bulk_sys="-"
  for attempt in 1 2; do
    runs bulk || break
    u0="$(user_ticks "${FWD_PIDS[@]+"${FWD_PIDS[@]}"}")"
    t0="$(cpu_ticks "${FWD_PIDS[@]+"${FWD_PIDS[@]}"}")" w0="$(date +%s%N)"
    timeout $((RUN_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$bulk_port" -t "$RUN_SECONDS" --bidir -f m >"$tmp/iperf-$fwd.txt" 2>&1 || true
    bulk="$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($(i+1) == "Mbits/sec") s += $i } END { printf "%.0f", s / 8 }' "$tmp/iperf-$fwd.txt")"
    t1="$(cpu_ticks "${FWD_PIDS[@]+"${FWD_PIDS[@]}"}")" w1="$(date +%s%N)"
    u1="$(user_ticks "${FWD_PIDS[@]+"${FWD_PIDS[@]}"}")"
    if [ "${bulk:-0}" -gt 0 ]; then
      if [ ${#FWD_PIDS[@]} -gt 0 ]; then
        # CPU over the iperf3 client's whole run (connect to report): cores, and CPU seconds per GB moved.
        bulk_cores="$(awk -v t=$((t1 - t0)) -v hz="$hz" -v w=$((w1 - w0)) 'BEGIN { printf "%.3f", t / hz / (w / 1e9) }')"
        bulk_cpu="$(per_gb $((t1 - t0)))" bulk_user="$(per_gb $((u1 - u0)))" bulk_sys="$(per_gb $((t1 - t0 - u1 + u0)))"
      fi
      break
    fi
    sleep 2
  done
  [ "${bulk:-0}" -gt 0 ] || bulk="-"
  runs bulk && echo "   bulk ${bulk} MB/s, forwarder ${bulk_cores} cores, ${bulk_cpu} CPU s/GB" >&2

  export CPU_PIDS="${FWD_PIDS[*]+"${FWD_PIDS[*]}"}"
  # COMPARE_CPU_WITH_BACKEND=1: the ping-pong and connection-rate CPU figures add the echo backend's, to see
  # whether a forwarder saves CPU or only moves the kernel's work to the process at the other end.
  [ "${COMPARE_CPU_WITH_BACKEND:-0}" = 1 ] && CPU_PIDS="${CPU_PIDS:+$CPU_PIDS }${pids[1]}"
  pp1="-" pp100="-" conn="-"
  if runs pp1; then
    pp1="$(timeout 120 "${load[@]}" pingpong "$echo_port" 1 "$RUN_SECONDS" "$WARMUP_SECONDS" || echo failed)"
    echo "   $pp1" >&2
  fi
  if runs pp100; then
    pp100="$(timeout 120 "${load[@]}" pingpong "$echo_port" 100 "$RUN_SECONDS" "$WARMUP_SECONDS" || echo failed)"
    echo "   $pp100" >&2
  fi
  if runs conn; then
    conn="$(timeout 120 "${load[@]}" connrate "$echo_port" "$CONNRATE_THREADS" "$RUN_SECONDS" "$WARMUP_SECONDS" || echo failed)"
    echo "   $conn" >&2
  fi
  held="-" rss_pc="-" pss_pc="-"
  if [ "$round" -lt "$ROUNDS" ] || ! runs hold; then
    : # the hold runs in the last round only
  elif [ ${#FWD_PIDS[@]} -gt 0 ]; then
    hold="$(timeout 180 "${java_load[@]}" hold "$echo_port" "$HOLD_COUNT" 90 "${FWD_PIDS[@]}" || echo failed)"
    echo "   $hold" >&2
    held="$(field "$hold" served)" rss_pc="$(field "$hold" rss_per_conn_bytes)" pss_pc="$(field "$hold" pss_per_conn_bytes)"
  else
    hold="$(timeout 180 "${java_load[@]}" hold "$echo_port" "$HOLD_COUNT" 90 "${pids[1]}" || echo failed)"
    echo "   $hold" >&2
    held="$(field "$hold" served)"
  fi

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$fwd" "$bulk" \
    "$(field "$pp1" round_trips_per_s)" "$(field "$pp1" p99_us)" \
    "$(field "$pp100" round_trips_per_s)" "$(field "$pp100" p99_us)" \
    "$(field "$conn" connections_per_s)" "$(field "$conn" failed)" \
    "$held" "$idle_kb" "$rss_pc" "$pss_pc" >>"$results"
  printf '\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$bulk_cores" "$bulk_cpu" \
    "$(field "$pp1" cpu_cores)" "$(field "$pp1" cpu_us_per_op)" "$(field "$pp100" cpu_cores)" "$(field "$pp100" cpu_us_per_op)" \
    "$(field "$conn" cpu_cores)" "$(field "$conn" cpu_us_per_op)" >>"$results"
  printf '\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$bulk_user" "$bulk_sys" \
    "$(field "$pp1" cpu_user_us_per_op)" "$(field "$pp1" cpu_sys_us_per_op)" \
    "$(field "$pp100" cpu_user_us_per_op)" "$(field "$pp100" cpu_sys_us_per_op)" \
    "$(field "$conn" cpu_user_us_per_op)" "$(field "$conn" cpu_sys_us_per_op)" "$round" >>"$results"
  printf '%b\n' "$cold" >>"$results" # the cold figures after the round, each behind a tab

  stop_pids "${FWD_PIDS[@]+"${FWD_PIDS[@]}"}"
  # TIME_WAIT from the connection-rate run must not spill into the next forwarder's run.
  sleep 2
done
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "# compare.sh $(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS rounds (medians), ${RUN_SECONDS} s per run after ${WARMUP_SECONDS} s warm-up, ${COLD_SECONDS} s from a cold start per scenario, $HOLD_COUNT held connections"
  echo "# $(nproc) cores, $(uname -r), $("$java_bin" -version 2>&1 | head -1); load average (1, 5, 15 min) $load_before before, $load_after after"
  echo "# echo backend and ping-pong/connection-rate client: $TOOLS (COMPARE_TOOLS)"
} >"$OUT/compare.meta"
{
  cat "$OUT/compare.meta"
  echo
  "$java_bin" -cp "$bench_jar" org.epollproxy.bench.CompareTable "$results" "$OUT/compare-ratios.dat"
} | tee "$OUT/compare.md"
"$here/plot.sh" "$OUT/compare-ratios.dat" "$OUT/ratios-compare.png" \
  "compare.sh, forwarders as processes: performance relative to direct (1 = no forwarder)" || true
