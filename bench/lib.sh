# Helpers the bench scripts share: a work directory cleaned up at exit, the processes a script started
# (stopped at exit, by PID), waits for a line or a listening port with a deadline, and the ports the
# proxy announces. Source it near the top of a script, after `set -euo pipefail`:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets: root (the checkout), work (a new temp dir). Every function returns non-zero rather than exit, so
# the caller decides what a failure means.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
pids=()

# Stops every PID in "$@": TERM, then up to 5 s for it to go, then KILL. Reaps each one.
stop_pids() {
    local pid
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

bench_cleanup() {
    stop_pids "${pids[@]}"
    pids=()
    rm -rf "$work"
}
trap bench_cleanup EXIT

# need_jar PATH: the built jar must be there.
need_jar() {
    [ -f "$1" ] && return 0
    echo "no $1: build it first (mvn -B -q package -DskipTests -Dfuzz.skip)" >&2
    return 2
}

# wait_line FILE REGEX [SECONDS]: until a line of FILE matches REGEX (grep -E), 30 s at most.
wait_line() {
    local i
    for i in $(seq $(( ${3:-30} * 10 ))); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no line matching '$2' in $1 after ${3:-30} s" >&2
    return 1
}

# wait_listening PORT...: until something listens on each TCP port, 20 s at most each.
wait_listening() {
    local port
    for port in "$@"; do
        for _ in $(seq 200); do
            [ -n "$(ss -Hltn "sport = :$port")" ] && continue 2
            sleep 0.1
        done
        echo "nothing listens on 127.0.0.1:$port after 20 s" >&2
        return 1
    done
}

# announced_port FILE PROTO: the port of the first `listening PROTO 127.0.0.1:PORT ...` line of the proxy.
announced_port() {
    sed -n "s/^listening $2 127\\.0\\.0\\.1:\\([0-9]*\\) .*/\\1/p" "$1" | head -1
}

# start_proxy JAR ARGS...: bin/epoll-proxy with --quiet, output in $work/proxy.out and proxy.err, waits
# for its stats port (--stats must be among ARGS). Sets proxy (its PID: the launcher ends in exec, so it
# is the JVM), sport (the stats port) and pport (the first TCP forward's port, if any).
start_proxy() {
    local jar="$1"
    shift
    EPOLL_PROXY_JAR="$jar" "$root/bin/epoll-proxy" "$@" --quiet > "$work/proxy.out" 2> "$work/proxy.err" &
    proxy=$!
    pids+=("$proxy")
    wait_line "$work/proxy.out" '^listening http' || true
    sport="$(announced_port "$work/proxy.out" http)"
    pport="$(announced_port "$work/proxy.out" tcp)"
    [ -n "$sport" ] && return 0
    echo "the proxy did not start:" >&2
    cat "$work/proxy.out" "$work/proxy.err" >&2
    return 1
}

# load_average: the 1, 5 and 15 minute load averages, for the line next to a number.
load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# haproxy's config for one TCP forward to an echo backend, as the scripts compare it: one thread (as
# the proxy's one loop), haproxy's defaults otherwise. $1: its port, $2: the echo backend's, $3: the file.
haproxy_echo_cfg() {
  printf 'global\n    nbthread 1\n    maxconn 9000\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\nlisten echo\n    bind 127.0.0.1:%s\n    server echo 127.0.0.1:%s\n' \
    "$1" "$2" >"$3"
}

# native_tools: bench/native's C load client and echo backend, built or brought up to date (cmake, in
# bench/target/jni-build, where the bench module's Maven build puts them). Sets loadclient and echoserver.
native_tools() {
  local dir="$root/bench/target/jni-build" javac_bin
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    # CMakeLists.txt also builds the benchmarks' JNI library, which needs a JDK's include directory
    javac_bin="$(readlink -f "$(command -v javac)")" || { echo "native_tools: no javac (a JDK) on the PATH" >&2; return 2; }
    cmake -S "$root/bench/native" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DJDK_HOME="$(dirname "$(dirname "$javac_bin")")" >/dev/null || return 1
  fi
  cmake --build "$dir" --target loadclient echoserver >/dev/null || return 1
  loadclient="$dir/loadclient" echoserver="$dir/echoserver"
}

# native_forwarder: bench/native's cforward (a minimal C forwarder over epoll or io_uring, compare.sh's
# c-* rows), built or brought up to date with the other tools. Sets cforward.
native_forwarder() {
  native_tools || return
  cmake --build "$root/bench/target/jni-build" --target cforward >/dev/null || {
    echo "native_forwarder: cforward did not build (it needs Linux 6.1+ kernel headers for io_uring)" >&2
    return 1
  }
  cforward="$root/bench/target/jni-build/cforward"
}

# bench_tools c|java: what drives the forwarders. c: the C echo backend and load client (no JIT, no GC,
# little CPU taken from the forwarder on two shared cores); java: the bench jar's EchoServer and
# LoadClient, as every script used before 2026-12-05 (to compare with older results). Sets the arrays
# echo_server (add the port) and load (add the mode and its arguments); both print the same lines.
bench_tools() {
  local java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  case "$1" in
    c) native_tools || return
       echo_server=("$echoserver") load=("$loadclient") ;;
    java) need_jar "$root/bench/target/benchmarks.jar" || return
       echo_server=("$java_bin" -XX:+UseSerialGC -cp "$root/bench/target/benchmarks.jar" org.epollproxy.bench.EchoServer)
       load=("$java_bin" -XX:+UseSerialGC -Xmx512m -cp "$root/bench/target/benchmarks.jar" org.epollproxy.bench.LoadClient) ;;
    *) echo "the tools are c or java, not '$1'" >&2; return 2 ;;
  esac
}

# The perf events of every syscall a forwarder may make on a connection or a round trip, comma-separated
# (bench/syscalls.sh, bench/syscalls-pp.sh).
syscall_events() {
  local s events=""
  for s in accept accept4 socket connect bind setsockopt getsockopt getsockname getpeername recvfrom sendto recvmsg sendmsg \
    read write readv writev splice pipe2 epoll_wait epoll_pwait epoll_ctl poll select shutdown close fcntl ioctl \
    clock_gettime gettimeofday futex sched_yield brk mmap munmap madvise io_uring_enter; do
    events="$events${events:+,}syscalls:sys_enter_$s"
  done
  printf '%s' "$events"
}

# start_echo_backend PORT LOG: the echo backend bench_tools chose, on 127.0.0.1:PORT, its output in LOG;
# waits until it listens.
start_echo_backend() {
  "${echo_server[@]}" "$1" >"$2" 2>&1 &
  pids+=($!)
  wait_listening "$1"
}

# start_echo_forwarder NAME PORT ECHO_PORT LOG [BASELINE_JAR]: forwarder NAME (epoll-proxy, epoll-proxy-baseline
# running BASELINE_JAR, haproxy with nbthread 1, or bench/native's cforward as c-epoll, c-uring, c-uring-unlinked) on 127.0.0.1:PORT in front of the echo backend on
# ECHO_PORT, its output in LOG; waits until it listens. Sets fwd to its PID and adds it to pids.
start_echo_forwarder() {
  case "$1" in
    epoll-proxy) bin/epoll-proxy --quiet -L "$2:127.0.0.1:$3" >"$4" 2>&1 & ;;
    epoll-proxy-baseline) EPOLL_PROXY_JAR="$(readlink -f "$5")" bin/epoll-proxy --quiet -L "$2:127.0.0.1:$3" >"$4" 2>&1 & ;;
    epoll-proxy-uring) bin/epoll-proxy --quiet --io-uring -L "$2:127.0.0.1:$3" >"$4" 2>&1 & ;;
    haproxy)
      haproxy_echo_cfg "$2" "$3" "$4.cfg"
      haproxy -db -f "$4.cfg" >"$4" 2>&1 & ;;
    c-epoll|c-uring|c-uring-unlinked)
      [ -n "${cforward:-}" ] || native_forwarder || return
      "$cforward" "${1#c-}" "$2:$3" >"$4" 2>&1 & ;;
    *) echo "unknown forwarder $1 (epoll-proxy, epoll-proxy-baseline, epoll-proxy-uring, haproxy, c-epoll, c-uring, c-uring-unlinked)" >&2; return 2 ;;
  esac
  fwd=$!
  pids+=("$fwd")
  wait_listening "$2"
}
