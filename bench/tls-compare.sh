#!/usr/bin/env bash
# epoll-proxy, haproxy and stunnel4 terminating the same TLS (TLS 1.3, ECDSA P-256 certificate) in front of
# the same plain backend, one after the other, each with one worker thread/process: full handshakes per
# second and resumed handshakes per second (openssl s_time, PAR clients for SECS seconds), and bulk through the
# tunnel (MB bytes sent by the backend, read by openssl s_client), with the terminator's CPU time per
# handshake and per MiB (from /proc/PID/stat). Usage: bench/tls-compare.sh [SECS] [PAR] [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
PAR=${2:-4}
MB=${3:-200}
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
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
hz=$(getconf CLK_TCK)
run_one() { # NAME PORT PID
  local name=$1 port=$2 pid=$3
  wait_port "$port"
  for mode in -new -reuse; do
    local c0; c0=$(cpu_ticks "$pid")
    local loads=()
    for i in $(seq "$PAR"); do
      openssl s_time -connect "127.0.0.1:$port" $mode -time "$SECS" >"$dir/load.$i" 2>&1 & loads+=($!)
    done
    for l in "${loads[@]}"; do wait "$l" || true; done
    local c1; c1=$(cpu_ticks "$pid")
    local n; n=$(cat "$dir"/load.* | awk '/connections in [0-9.]+s;/ {n += $1} END {print n + 0}')
    rm -f "$dir"/load.*
    awk -v name="$name" -v mode="$mode" -v n="$n" -v s="$SECS" -v cpu=$((c1 - c0)) -v hz="$hz" 'BEGIN {
      printf "%-12s %-7s %8.0f handshakes/s  %6.2f ms CPU each\n", name, mode == "-new" ? "full" : "resumed", n / s, n ? cpu * 1000 / hz / n : 0 }'
  done
  local c0; c0=$(cpu_ticks "$pid")
  local t0; t0=$(date +%s.%N)
  printf 'bulk\n' > "$dir/bulk.in"
  local got; got=$(timeout 300 openssl s_client -connect "127.0.0.1:$port" -quiet <"$dir/bulk.in" 2>/dev/null | wc -c) # -quiet: stdin's end closes nothing
  local t1; t1=$(date +%s.%N)
  local c1; c1=$(cpu_ticks "$pid")
  awk -v name="$name" -v b="$got" -v t="$(echo "$t1 - $t0" | bc)" -v cpu=$((c1 - c0)) -v hz="$hz" 'BEGIN {
    printf "%-12s bulk    %8.0f MiB/s        %6.2f ms CPU per MiB (%d MiB)\n", name, b / 1048576 / t, cpu * 1000 / hz / (b / 1048576), b / 1048576 }'
}
p1=$(free_port)
bin/epoll-proxy --threads 1 --quiet -L "$p1:127.0.0.1:$backend" --tls-cert "$p1:$dir/c.pem:$dir/k.pem" >/dev/null 2>"$dir/ep.err" & pe=$!; pids+=($pe)
wait_port "$p1"; run_one epoll-proxy "$p1" "$(pgrep -P "$pe" java || echo "$pe")"; kill "$pe"
p2=$(free_port)
printf 'global\n  maxconn 2000\n  nbthread 1\ndefaults\n  mode tcp\n  timeout connect 10s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind 127.0.0.1:%s ssl crt %s\n  default_backend b\nbackend b\n  server s 127.0.0.1:%s\n' \
    "$p2" "$dir/both.pem" "$backend" > "$dir/haproxy.cfg"
haproxy -db -f "$dir/haproxy.cfg" >/dev/null 2>&1 & ph=$!; pids+=($ph)
run_one haproxy "$p2" "$ph"; kill "$ph"
p3=$(free_port)
printf 'foreground = yes\npid =\n[t]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\nkey = %s\n' "$p3" "$backend" "$dir/c.pem" "$dir/k.pem" > "$dir/stunnel.conf"
stunnel4 "$dir/stunnel.conf" >/dev/null 2>&1 & ps_=$!; pids+=($ps_)
run_one stunnel4 "$p3" "$ps_"; kill "$ps_"
