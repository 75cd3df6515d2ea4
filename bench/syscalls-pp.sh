#!/usr/bin/env bash
# Syscalls and CPU per round trip on 100 connections (pp100: closed-loop 64-byte ping-pong), epoll-proxy
# against haproxy (nbthread 1), the per-round-trip twin of bench/syscalls.sh (which counts per connection).
# Each forwarder sits in front of the C echo backend (bench/native/echoserver.c; SYSCALLS_TOOLS=java for the
# Java one and the Java client); the load client runs its warm-up, then
# `perf stat -e syscalls:sys_enter_NAME,... -p PID -- sleep N` counts the forwarder's syscalls over N
# seconds in the middle of the measured window, divided by the round trips of those N seconds (the
# client's sends, counted by the same perf). The client also reports the forwarder's CPU per round trip (utime and
# stime from /proc/PID/stat over its whole measured window). Prints one table: syscall x forwarder,
# then the CPU lines. Rows starting with "~" are not syscalls: ~net_dev_xmit counts the packets sent on
# loopback in the forwarder's context, ~sched_switch its context switches.
#
#   bench/syscalls-pp.sh                                   # epoll-proxy and haproxy: 5 s warm-up, 5 s counted
#   SYSCALLS_BASELINE_JAR=/path/old/epoll-proxy.jar bench/syscalls-pp.sh   # and another build, as epoll-proxy-baseline
#   SYSCALLS_SECONDS=10 SYSCALLS_CONNS=100 bench/syscalls-pp.sh
#   SYSCALLS_ONLY="epoll-proxy epoll-proxy-baseline" bench/syscalls-pp.sh   # a subset, in that order
#   SYSCALLS_TOOLS=java bench/syscalls-pp.sh               # the Java echo backend and client instead of the C ones
#
# A syscall a forwarder never makes shows as "-". Counts per round trip barely depend on the machine's
# load, epoll_wait's aside: a busy machine lets more events gather per wait. CPU per round trip does
# depend on it: on a shared machine repeat the run and compare medians. Needs perf and the syscalls
# tracepoints (root, or perf_event_paranoid <= -1). Loopback only; stops exactly the processes it started,
# by PID.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
cd "$root"

COUNTED="${SYSCALLS_SECONDS:-5}"
WARMUP="${SYSCALLS_WARMUP:-5}"
CONNS="${SYSCALLS_CONNS:-100}"
need_jar java/target/epoll-proxy.jar
command -v perf >/dev/null || { echo "syscalls-pp.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "syscalls-pp.sh: needs haproxy" >&2; exit 2; }

TOOLS="${SYSCALLS_TOOLS:-c}"
bench_tools "$TOOLS" || exit 2 # sets echo_server and load
base=$((27000 + (RANDOM % 300) * 10))
ECHO_PORT=$base F_ECHO=$((base + 1))
start_echo_backend "$ECHO_PORT" "$work/echo.log"

forwarders=(epoll-proxy haproxy)
[ -n "${SYSCALLS_BASELINE_JAR:-}" ] && forwarders=(epoll-proxy epoll-proxy-baseline haproxy)
[ -n "${SYSCALLS_ONLY:-}" ] && read -r -a forwarders <<<"$SYSCALLS_ONLY"

# The syscalls a forwarder may make on a round trip, named one by one (lib.sh).
events="$(syscall_events)"
# Not syscalls, the kernel work behind them: packets put on loopback in the forwarder's context (its data
# segments, pure ACKs, and what the receiving socket answers at once inside its send) and its context
# switches (each sleep in epoll_wait, and each preemption by a thread its send woke).
events="$events,net:net_dev_xmit,sched:sched_switch"

for f in "${forwarders[@]}"; do
  start_echo_forwarder "$f" "$F_ECHO" "$ECHO_PORT" "$work/$f.log" "${SYSCALLS_BASELINE_JAR:-}"
  # A first run of its own warms the forwarder's JIT (as compare.sh's warm-up does), then the measured one.
  "${load[@]}" pingpong "$F_ECHO" "$CONNS" "$WARMUP" 1 >/dev/null
  # The client measures 1 s after its own warm-up of 1 s, then COUNTED + 3 s; perf counts COUNTED s starting
  # 2.5 s into its run, so connects and the client's final closes fall outside the count.
  CPU_PIDS="$fwd" "${load[@]}" pingpong "$F_ECHO" "$CONNS" "$((COUNTED + 3))" 1 >"$work/$f.pp" &
  client=$!
  sleep 2.5
  # One perf for both processes, thread by thread, so both counts cover the same window: the forwarder's
  # syscalls, and the round trips of exactly that window, the client's sends (one per request: a write(2)
  # from the Java client's SocketChannel.write, a sendto(2) from the C client's send; neither makes another). The client's average rate times N was off by up
  # to 25% on a loaded machine, and two perf processes started apart by a few ms still differed by 5%.
  ls "/proc/$client/task" >"$work/$f.client-tids"
  perf stat --per-thread -x, -e "$events" -p "$fwd,$client" -o "$work/$f.perf" -- sleep "$COUNTED"
  wait "$client"
  # Lines: "COMM-TID,COUNT,,EVENT,...". The client's threads are those listed above; all others are the forwarder's.
  awk -F, -v tids="$(tr '\n' ' ' <"$work/$f.client-tids")" '
    BEGIN { n = split(tids, t, " "); for (i = 1; i <= n; i++) client[t[i]] = 1 }
    NF > 3 { tid = $1; sub(/.*-/, "", tid); c = $2 + 0; if (tid in client) cl[$4] += c; else fw[$4] += c }
    END {
      rt = cl["syscalls:sys_enter_write"] + cl["syscalls:sys_enter_sendto"]
      if (rt == 0) { print "syscalls-pp.sh: no round trips counted (did perf attach to the client?)" > "/dev/stderr"; exit 1 }
      print "round_trips " rt > "/dev/stderr"
      for (e in fw) if (fw[e] > 0) { name = e; sub("syscalls:sys_enter_", "", name); sub(/^(net|sched):/, "~", name); printf "%s %.3f\n", name, fw[e] / rt }
    }' "$work/$f.perf" >"$work/$f.per" 2>"$work/$f.rt" || { cat "$work/$f.rt" >&2; exit 1; }
  echo "== $f: $(cat "$work/$f.pp") counted_$(cat "$work/$f.rt")" >&2
  stop_pids "$fwd"
  sleep 1
done

echo "# syscalls-pp.sh $(date -u +%Y-%m-%dT%H:%MZ): per round trip (64 B there and back) on $CONNS connections, ${COUNTED} s counted after ${WARMUP} s warm-up, tools $TOOLS; load $(cut -d' ' -f1-3 /proc/loadavg)"
{
  printf 'syscall'
  for f in "${forwarders[@]}"; do printf '\t%s' "$f"; done
  printf '\n'
  cat "$work"/*.per | awk '{ print $1 }' | LC_ALL=C sort -u | while read -r s; do
    printf '%s' "$s"
    for f in "${forwarders[@]}"; do v="$(awk -v s="$s" '$1 == s { print $2 }' "$work/$f.per")"; printf '\t%s' "${v:--}"; done
    printf '\n'
  done
  printf 'total_syscalls'
  for f in "${forwarders[@]}"; do printf '\t%s' "$(awk '$1 !~ /^~/ { t += $2 } END { printf "%.3f", t }' "$work/$f.per")"; done
  printf '\n'
} | column -t
for f in "${forwarders[@]}"; do
  p="$(cat "$work/$f.pp")"
  printf '%s: round_trips_per_s=%s cpu_us_per_rt=%s user=%s sys=%s\n' "$f" \
    "$(sed -n 's/.*\bround_trips_per_s=\([^ ]*\).*/\1/p' <<<"$p")" "$(sed -n 's/.*\bcpu_us_per_op=\([^ ]*\).*/\1/p' <<<"$p")" \
    "$(sed -n 's/.*\bcpu_user_us_per_op=\([^ ]*\).*/\1/p' <<<"$p")" "$(sed -n 's/.*\bcpu_sys_us_per_op=\([^ ]*\).*/\1/p' <<<"$p")"
done
