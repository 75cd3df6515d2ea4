#!/usr/bin/env bash
# Can the stats endpoint be stalled? Starts the proxy with --stats, then
#  1. holds IDLE clients (default 100) on the stats port, half of them having sent one byte ('G'),
#     and times 100 /healthz requests meanwhile (curl's time_total: p50, p99, max);
#  2. connects SCRAPES clients (default 1,000) at once, then sends each a GET /metrics and reads
#     every answer: how many got 200 and how long the whole lot took.
#
#   bench/stats-stall.sh
#   STALL_IDLE=500 STALL_SCRAPES=2000 bench/stats-stall.sh
#   STALL_JAR=/path/to/other/epoll-proxy.jar bench/stats-stall.sh
#
# Prints the load average next to the numbers (the machine is shared). Loopback only; bounded in time;
# stops exactly the processes it started, by PID. Needs python3, curl and the built jar.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IDLE="${STALL_IDLE:-100}"
SCRAPES="${STALL_SCRAPES:-1000}"
JAR="${STALL_JAR:-$root/java/target/epoll-proxy.jar}"
need_jar "$JAR" || exit 2
ulimit -n 20000

start_proxy "$JAR" -L 0:127.0.0.1:9 --stats 0 || exit 1
curl -s -m 10 "http://127.0.0.1:$sport/metrics" > /dev/null || true # warm up

cat > "$work/idle.py" <<'PY'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    if i % 2 == 0:
        s.send(b'G')
    socks.append(s)
print("idle", len(socks), flush=True)
time.sleep(secs)
PY
python3 "$work/idle.py" "$sport" "$IDLE" 120 > "$work/idle.out" &
idle=$!
pids+=($idle)
for _ in $(seq 300); do grep -q '^idle' "$work/idle.out" 2>/dev/null && break; sleep 0.1; done
: > "$work/times"
fails=0
for _ in $(seq 100); do
    if t="$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' "http://127.0.0.1:$sport/healthz")" && [ "${t%% *}" = 200 ]; then
        echo "${t#* }" >> "$work/times"
    else
        fails=$((fails + 1))
    fi
done
kill "$idle" 2>/dev/null || true
sort -n "$work/times" | awk -v idle="$IDLE" -v fails="$fails" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
    { t[NR] = $1 * 1000 }
    END { printf "/healthz with %d idle clients: %d answered, %d failed; p50 %.1f ms, p99 %.1f ms, max %.1f ms  (load %s)\n",
          idle, NR, fails, t[int(NR * 0.5 + 0.5)], t[int(NR * 0.99 + 0.5)], t[NR], load }'

cat > "$work/scrapes.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
t0 = time.time()
socks = [socket.create_connection(('127.0.0.1', port), timeout=30) for _ in range(n)]
for s in socks:
    s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
ok = 0
for s in socks:
    data = b''
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if data.startswith(b'HTTP/1.1 200'):
        ok += 1
    s.close()
print("%d concurrent scrapes of /metrics: %d answered 200 in %.2f s" % (n, ok, time.time() - t0))
PY
echo "$(timeout 120 python3 "$work/scrapes.py" "$sport" "$SCRAPES")  (load $(cut -d' ' -f1-3 /proc/loadavg))"
