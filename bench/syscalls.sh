#!/usr/bin/env bash
# Syscalls per connection, epoll-proxy against haproxy (nbthread 1): each forwarder in front of the
# project's echo server (bench/native/echoserver.c), warmed up with the C load client's connection-rate
# run (bench/native/loadclient.c: connect, 64 bytes there and back, close; 4 threads), then counted with `perf stat -e syscalls:sys_enter_NAME,... -p PID` over one
# more run, and divided by the connections that run made. Prints one table: syscall x forwarder.
#
#   bench/syscalls.sh                                  # epoll-proxy and haproxy, 5 s counted after 5 s warm-up
#   SYSCALLS_BASELINE_JAR=/path/old/epoll-proxy.jar bench/syscalls.sh   # and another build, as epoll-proxy-baseline
#   SYSCALLS_SECONDS=10 bench/syscalls.sh
#   SYSCALLS_TOOLS=java bench/syscalls.sh              # the Java echo backend and client, as results before 2026-12-05
#
# A syscall a forwarder never makes shows as "-" (haproxy's fcntl and clock_gettime, for instance: on
# this VM's kvm-clock its clock_gettime is a real syscall, the JVM's are not).
#
# Counts do not depend on the machine's load the way times do (a busy machine batches more events per
# epoll_wait, so epoll_wait and accept4's EAGAIN per connection drop a little under load). Needs perf
# and the syscalls tracepoints (root, or perf_event_paranoid <= -1). Loopback only; stops exactly the
# processes it started, by PID.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
cd "$root"

SECONDS_COUNTED="${SYSCALLS_SECONDS:-5}"
WARMUP="${SYSCALLS_WARMUP:-5}"
THREADS="${SYSCALLS_THREADS:-4}"
need_jar java/target/epoll-proxy.jar
command -v perf >/dev/null || { echo "syscalls.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "syscalls.sh: needs haproxy" >&2; exit 2; }

TOOLS="${SYSCALLS_TOOLS:-c}"
bench_tools "$TOOLS" || exit 2 # sets echo_server and load
base=$((24000 + (RANDOM % 300) * 10))
ECHO_PORT=$base F_ECHO=$((base + 1))
start_echo_backend "$ECHO_PORT" "$work/echo.log"

forwarders=(epoll-proxy haproxy)
[ -n "${SYSCALLS_BASELINE_JAR:-}" ] && forwarders=(epoll-proxy epoll-proxy-baseline haproxy)


# The syscalls a forwarder may make per connection, named one by one.
events="$(syscall_events)"

for f in "${forwarders[@]}"; do
  start_echo_forwarder "$f" "$F_ECHO" "$ECHO_PORT" "$work/$f.log" "${SYSCALLS_BASELINE_JAR:-}"
  "${load[@]}" connrate "$F_ECHO" "$THREADS" "$WARMUP" 0 >/dev/null
  # perf counts from before the load client's first connection to after its last; the client runs outside
  # perf (with the client as perf's own command, perf stat counted the client's syscalls too in some runs).
  perf stat -x, -e "$events" -p "$fwd" -o "$work/$f.perf" &
  stat_pid=$!
  sleep 1
  "${load[@]}" connrate "$F_ECHO" "$THREADS" "$SECONDS_COUNTED" 0 >"$work/$f.conn"
  kill -INT "$stat_pid"
  wait "$stat_pid" || true
  ok="$(sed -n 's/.*\bok=\([0-9]*\).*/\1/p' "$work/$f.conn")"
  echo "== $f: $(cat "$work/$f.conn")" >&2
  # "count,,syscalls:sys_enter_NAME,..." -> "NAME per-connection"
  awk -F, -v ok="$ok" '$3 ~ /^syscalls:sys_enter_/ && $1 + 0 > 0 { sub("syscalls:sys_enter_", "", $3); printf "%s %.2f\n", $3, $1 / ok }' \
    "$work/$f.perf" >"$work/$f.per"
  stop_pids "$fwd"
  sleep 2 # the TIME_WAIT of this run must not weigh on the next
done

echo "# syscalls.sh $(date -u +%Y-%m-%dT%H:%MZ): per connection (connect, 64 B echo, close), $THREADS client threads, ${SECONDS_COUNTED} s counted after ${WARMUP} s warm-up, tools $TOOLS; load $(cut -d' ' -f1-3 /proc/loadavg)"
{
  printf 'syscall'
  for f in "${forwarders[@]}"; do printf '\t%s' "$f"; done
  printf '\n'
  cat "$work"/*.per | awk '{ print $1 }' | sort -u | while read -r s; do
    printf '%s' "$s"
    # "-" for a syscall a forwarder did not make: column -t merges empty cells, which moved the next
    # forwarder's figure into this one's column.
    for f in "${forwarders[@]}"; do v="$(awk -v s="$s" '$1 == s { print $2 }' "$work/$f.per")"; printf '\t%s' "${v:--}"; done
    printf '\n'
  done
  printf 'total'
  for f in "${forwarders[@]}"; do printf '\t%s' "$(awk '{ t += $2 } END { printf "%.2f", t }' "$work/$f.per")"; done
  printf '\n'
} | column -t
