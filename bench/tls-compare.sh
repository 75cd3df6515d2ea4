#!/usr/bin/env bash
# epoll-proxy, haproxy and stunnel4 terminating the same TLS (TLS 1.3, ECDSA P-256 certificate) in front of
# the same plain backend, one after the other, each with one worker thread/process, in one table:
#   full handshakes per second and resumed ones (openssl s_time -new / -reuse, PAR clients for SECS seconds),
#   bulk through the tunnel (MB MiB sent by the backend, read by one openssl s_client),
#   and the terminator's CPU per handshake and per MiB, user + sys, from /proc/PID/stat ticks.
# Each terminator runs the same two passes in the same process: "cold" (right after start: for the JVM that
# includes the JIT compiling the TLS code) and "warm" (the same rows again). For epoll-proxy the JIT column is
# the part of the CPU spent by the C1/C2 compiler threads (/proc/PID/task/*/stat).
# epoll-proxy runs once per JDK in JDKS (default: the `java` on PATH, and JDK 25 if
# /usr/lib/jvm/temurin-25-jdk-amd64 exists); bin/epoll-proxy picks it through JAVA_HOME.
#
# ONLY=epoll-proxy skips haproxy and stunnel4 (to compare two builds: EPOLL_PROXY_JAR=other.jar picks the jar).
# Usage: bench/tls-compare.sh [SECS] [PAR] [MB]       (defaults: 10 4 200)
# Takes about 2 x (2 x SECS + the bulk transfer) + 5 s per terminator: with the defaults, 4 terminators,
# about 4 minutes on a quiet 2-core machine (more on a loaded one; each bulk transfer is capped at 120 s).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
PAR=${2:-4}
MB=${3:-200}
if [ -z "${JDKS+x}" ]; then
  JDKS="default"
  [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] && JDKS="$JDKS /usr/lib/jvm/temurin-25-jdk-amd64"
fi
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/k.pem" -out "$dir/c.pem" -days 1 \
    -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
cat "$dir/c.pem" "$dir/k.pem" > "$dir/both.pem"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
backend=$(free_port)
# The backend: answers each connection with MB MiB if the client says "bulk\n", else with a few bytes.
python3 - "$backend" "$MB" <<'PY' & pids+=($!)
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(256)
block = b"x" * (1 << 20)
def serve(c):
    try:
        first = c.recv(64)
        if first.startswith(b"bulk"):
            for _ in range(int(sys.argv[2])): c.sendall(block)
        else:
            c.sendall(b"ok\n")
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# "user sys jit" ticks of PID: the whole process (threads that ended included), and its JIT compiler threads.
# A thread's name may hold spaces: fields are counted after the ") " that ends it.
cpu_ticks() {
  local jit=0 t
  for t in /proc/"$1"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in
      C1\ Compiler*|C2\ Compiler*) jit=$((jit + $(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}'))) ;;
    esac
  done
  echo "$(sed 's/.*) //' "/proc/$1/stat" | awk '{print $12, $13}') $jit"
}
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
hz=$(getconf CLK_TCK)
# "ms" of CPU per unit: user+sys (user/sys[, jit]) from two cpu_ticks readings and a count of units.
per_unit() { # BEFORE AFTER UNITS SHOWJIT
  awk -v b="$1" -v a="$2" -v n="$3" -v hz="$hz" -v j="$4" 'BEGIN { split(b, x, " "); split(a, y, " ");
    if (n <= 0) { print "-"; exit } u = (y[1] - x[1]) * 1000 / hz / n; s = (y[2] - x[2]) * 1000 / hz / n; c = (y[3] - x[3]) * 1000 / hz / n
    if (j) printf "%.2f ms (%.2f/%.2f, JIT %.2f)", u + s, u, s, c; else printf "%.2f ms (%.2f/%.2f)", u + s, u, s }'
}
# One pass over a terminator: prints a markdown table row.
pass() { # NAME PORT PID PASSNAME SHOWJIT
  local name=$1 port=$2 pid=$3 label=$4 jit=$5 row="| $1 | $4 |"
  for mode in -new -reuse; do
    local c0 c1 n loads=()
    c0=$(cpu_ticks "$pid")
    for i in $(seq "$PAR"); do
      openssl s_time -connect "127.0.0.1:$port" $mode -time "$SECS" >"$dir/load.$i" 2>&1 & loads+=($!)
    done
    for l in "${loads[@]}"; do wait "$l" || true; done
    c1=$(cpu_ticks "$pid")
    n=$(cat "$dir"/load.* | awk '/connections in [0-9.]+s;/ {n += $1} END {print n + 0}')
    rm -f "$dir"/load.*
    row="$row $(awk -v n="$n" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }') | $(per_unit "$c0" "$c1" "$n" "$jit") |"
  done
  local c0 c1 t0 t1 got
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s.%N)
  printf 'bulk\n' > "$dir/bulk.in"
  got=$(timeout 120 openssl s_client -connect "127.0.0.1:$port" -quiet <"$dir/bulk.in" 2>/dev/null | wc -c) # -quiet: stdin's end closes nothing
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$pid")
  local mib; mib=$(awk -v b="$got" 'BEGIN { printf "%.3f", b / 1048576 }')
  row="$row $(awk -v m="$mib" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", m / (t1 - t0) }') | $(per_unit "$c0" "$c1" "$mib" "$jit") |"
  [ "$got" -ne $((MB * 1048576)) ] && row="$row short: $got bytes"
  echo "$row"
}
both_passes() { # NAME PORT PID SHOWJIT
  wait_port "$2"
  pass "$1" "$2" "$3" cold "$4"
  pass "$1" "$2" "$3" warm "$4"
}
echo "tls-compare: $(date -u '+%F %H:%M') UTC, SECS=$SECS PAR=$PAR MB=$MB, load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo
echo "| terminator | pass | full/s | CPU per full (user/sys) | resumed/s | CPU per resumed (user/sys) | bulk MiB/s | CPU per MiB (user/sys) |"
echo "|---|---|---|---|---|---|---|---|"
for jdk in $JDKS; do
  p=$(free_port)
  if [ "$jdk" = default ]; then jv=$(java -version 2>&1 | awk -F'"' 'NR == 1 {print $2}'); else jv=$("$jdk/bin/java" -version 2>&1 | awk -F'"' 'NR == 1 {print $2}'); fi
  ( [ "$jdk" != default ] && export JAVA_HOME="$jdk"
    exec bin/epoll-proxy --threads 1 --quiet -L "$p:127.0.0.1:$backend" --tls-cert "$p:$dir/c.pem:$dir/k.pem" >/dev/null 2>"$dir/ep.err" ) & pe=$!
  pids+=($pe)
  both_passes "epoll-proxy (JDK $jv${EPOLL_PROXY_JAR:+, $(basename "$EPOLL_PROXY_JAR")})" "$p" "$pe" 1
  kill "$pe"
done
if [ "${ONLY:-}" != epoll-proxy ]; then
p=$(free_port)
printf 'global\n  maxconn 2000\n  nbthread 1\ndefaults\n  mode tcp\n  timeout connect 10s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind 127.0.0.1:%s ssl crt %s\n  default_backend b\nbackend b\n  server s 127.0.0.1:%s\n' \
    "$p" "$dir/both.pem" "$backend" > "$dir/haproxy.cfg"
haproxy -db -f "$dir/haproxy.cfg" >/dev/null 2>&1 & ph=$!; pids+=($ph)
both_passes "haproxy $(haproxy -v | awk 'NR == 1 {print $3}') (OpenSSL)" "$p" "$ph" ""; kill "$ph"
p=$(free_port)
printf 'foreground = yes\npid =\n[t]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\nkey = %s\n' "$p" "$backend" "$dir/c.pem" "$dir/k.pem" > "$dir/stunnel.conf"
stunnel4 "$dir/stunnel.conf" >/dev/null 2>&1 & ps_=$!; pids+=($ps_)
both_passes "stunnel4 (OpenSSL)" "$p" "$ps_" ""; kill "$ps_"
fi
echo
echo "CPU is the terminator's whole process per handshake or per MiB; JIT: the part spent by the JVM's compiler threads."
