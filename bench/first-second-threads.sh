#!/usr/bin/env bash
# Where a fresh proxy's first seconds go, thread by thread: the CPU of each of its threads (the event
# loop, the JIT's compiler threads, GC, ...) per connection, in each of its first seconds under load.
# bench/first-seconds.sh says how much the first second costs; this says whether it is the compiler.
#
#   bench/first-second-threads.sh                         # the proxy without a warm-up, 3 starts
#   bench/first-second-threads.sh --warmup auto           # any proxy options (the forward is added)
#   THREADS_SECONDS=4 THREADS_STARTS=5 bench/first-second-threads.sh --warmup 1s
#   THREADS_TOOLS=java bench/first-second-threads.sh      # the Java echo backend, as results before 2026-12-05
#
# The echo backend (bench/native/echoserver.c: C, so no JIT of its own takes CPU from the proxy's first
# seconds; THREADS_TOOLS=java for the Java EchoServer) is warmed first; then per start: the proxy is
# started, and from its listening line the C load client (bench/native/loadclient.c, 4 threads of connect, 64 bytes there
# and back, close) runs one-second spells, with /proc/PID/task/*/stat read between them. Prints, per start
# and second: the connections, and each thread's µs of CPU per connection (threads of one name summed).
# Loopback only; every process stopped by PID.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

SECONDS_N="${THREADS_SECONDS:-3}"
STARTS="${THREADS_STARTS:-3}"
need_jar java/target/epoll-proxy.jar
native_tools || exit 2 # the client is C whatever the backend: a JVM started per one-second spell would count its start
bench_tools "${THREADS_TOOLS:-c}" || exit 2 # echo_server

# name|ticks per thread name of process $1 (utime + stime, fields 14 and 15 after the name)
threads_cpu() {
  local t s name rest
  for t in /proc/"$1"/task/*; do
    s="$(cat "$t/stat" 2>/dev/null)" || continue
    name="${s#*(}"; name="${name%)*}"; rest="${s##*) }"
    # shellcheck disable=SC2086
    set -- $rest
    echo "$name|$((${12} + ${13}))"
  done | awk -F'|' '{ a[$1] += $2 } END { for (k in a) print k "|" a[k] }' | sort
}

base=$((10000 + (RANDOM % 400) * 20)) # below the ephemeral ports (32768-), which the clients fill
echo_port=$base
fwd_port=$((base + 1))
"${echo_server[@]}" "$echo_port" >"$work/echo.log" 2>&1 &
pids+=($!)
wait_line "$work/echo.log" "^echo" 60 || { cat "$work/echo.log" >&2; exit 1; }
"$loadclient" connrate "$echo_port" 4 3 0 >/dev/null # the backend warm (a Java one's JIT), before any proxy

for start in $(seq "$STARTS"); do
  bin/epoll-proxy --quiet "$@" -L "$fwd_port:127.0.0.1:$echo_port" >"$work/proxy.log" 2>&1 &
  proxy=$!
  pids+=("$proxy")
  wait_line "$work/proxy.log" '^listening' 120
  threads_cpu "$proxy" >"$work/cpu.0"
  for s in $(seq "$SECONDS_N"); do
    n="$("$loadclient" connrate "$fwd_port" 4 1 0 | sed -n 's/.*ok=\([0-9]*\).*/\1/p')"
    threads_cpu "$proxy" >"$work/cpu.$s"
    printf 'start %d, second %d: %s connections; µs per connection:' "$start" "$s" "$n"
    # a thread name only in the later reading (a compiler thread HotSpot added) counts from 0
    awk -F'|' -v n="$n" '
      FNR == NR { before[$1] = $2; next }
      { d = $2 - before[$1]; total += d; if (d > 0) printf " %s %.1f,", $1, d * 1e6 / 100 / n }
      END { printf " all %.1f\n", total * 1e6 / 100 / n }' "$work/cpu.$((s - 1))" "$work/cpu.$s"
  done
  grep 'warm-up' "$work/proxy.log" | sed 's/^/  /' || true
  stop_pids "$proxy"
done
