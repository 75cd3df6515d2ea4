#!/usr/bin/env bash
# What hostile stats clients cost the proxy. Starts it with one UDP forward to a backend that never
# answers (its sessions fill /connections cheaply: one entry per client port) and --stats, then
#  1. opens SESSIONS UDP sessions (default 5,000: a /connections answer of about 1.5 MB);
#  2. READERS clients (default 300) ask /connections one after the other and never read past the status
#     line: how many got 200 and how many 503 busy, the proxy's RSS before and after, and 20 /healthz
#     meanwhile (curl's time_total, max);
#  3. IDLE connections (default 1,200: more than the 1,088 slots) that send nothing, then 20 /healthz.
# Prints the proxy's RSS, the machine's kernel TCP memory (socket buffers), the proxy's CPU seconds
# (utime+stime) per step and the load average (the machine is shared).
#
#   bench/stats-hostile.sh
#   HOSTILE_SESSIONS=10000 HOSTILE_READERS=1000 bench/stats-hostile.sh
#   HOSTILE_JAR=/path/to/other/epoll-proxy.jar bench/stats-hostile.sh
#
# Loopback only; bounded in time; stops exactly the processes it started, by PID. Needs python3, curl and
# the built jar.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SESSIONS="${HOSTILE_SESSIONS:-5000}"
READERS="${HOSTILE_READERS:-300}"
IDLE="${HOSTILE_IDLE:-1200}"
JAR="${HOSTILE_JAR:-$root/java/target/epoll-proxy.jar}"
need_jar "$JAR" || exit 2
ulimit -n 20000

# The backend: a UDP socket that takes datagrams and never answers (a closed port would answer with ICMP
# port unreachable, which ends each session at once).
cat > "$work/backend.py" <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print("backend", s.getsockname()[1], flush=True)
time.sleep(100000)
PY
python3 "$work/backend.py" > "$work/backend.out" &
pids+=($!)
wait_line "$work/backend.out" '^backend'
bport="$(cut -d' ' -f2 "$work/backend.out")"

start_proxy "$JAR" -U "0:127.0.0.1:$bport" --udp-max-sessions "$SESSIONS" --udp-timeout 600 --stats 0 || exit 1
uport="$(announced_port "$work/proxy.out" udp)"
[ -n "$uport" ] || { echo "no udp port announced" >&2; exit 1; }

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$proxy/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$proxy/stat"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# Kernel memory of every TCP socket on the machine (sockstat counts pages): what an answer held in socket
# buffers costs, which RSS does not show. Machine-wide: read the difference across a step.
tcp_mem_kb() { awk -v p="$(getconf PAGESIZE)" '/^TCP:/ { for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1) * p / 1024 }' /proc/net/sockstat; }
healthz_max_ms() { # N: the slowest of N /healthz (ms), and how many were not 200
    local worst=0 fails=0 t
    for _ in $(seq "$1"); do
        if t="$(curl -s -o /dev/null -m 20 -w '%{http_code} %{time_total}' "http://127.0.0.1:$sport/healthz")" && [ "${t%% *}" = 200 ]; then
            worst="$(awk -v a="$worst" -v b="${t#* }" 'BEGIN { b *= 1000; print (b > a ? b : a) }')"
        else
            fails=$((fails + 1))
        fi
    done
    echo "max ${worst} ms, ${fails} not 200"
}

cat > "$work/sessions.py" <<'PY'
import socket, sys, time, urllib.request
uport, sport, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
for s in socks:
    s.bind(('127.0.0.1', 0))
deadline = time.time() + 120
while time.time() < deadline:
    for s in socks:  # a datagram lost to a full socket buffer is simply sent again
        s.sendto(b'x', ('127.0.0.1', uport))
    m = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % sport, timeout=30).read().decode()
    active = sum(float(l.split()[-1]) for l in m.splitlines() if l.startswith('epollproxy_connections_active{') and 'proto="udp"' in l)
    if active >= n:
        break
print("sessions", int(active), flush=True)
time.sleep(100000)
PY
python3 "$work/sessions.py" "$uport" "$sport" "$SESSIONS" > "$work/sessions.out" &
pids+=($!)
wait_line "$work/sessions.out" '^sessions' 150
body="$(curl -s -m 30 "http://127.0.0.1:$sport/connections" | wc -c)"
echo "$(cat "$work/sessions.out"); /connections is $body bytes; RSS $(rss_kb) kB, CPU $(cpu_s) s  (load $(load))"

cat > "$work/readers.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks, codes = [], {}
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(('127.0.0.1', port))
    s.sendall(b'GET /connections HTTP/1.1\r\nHost: x\r\n\r\n')
    code = s.recv(12)[9:12].decode() or 'closed'
    codes[code] = codes.get(code, 0) + 1
    socks.append(s)  # and never read more
print("readers", " ".join("%s:%d" % kv for kv in sorted(codes.items())), flush=True)
time.sleep(100000)
PY
cpu0="$(cpu_s)"
mem0="$(tcp_mem_kb)"
python3 "$work/readers.py" "$sport" "$READERS" > "$work/readers.out" &
readers=$!
pids+=($readers)
wait_line "$work/readers.out" '^readers' 120
echo "$READERS readers of /connections that do not read: $(cut -d' ' -f2- "$work/readers.out"); RSS $(rss_kb) kB;" \
    "kernel TCP memory +$(( $(tcp_mem_kb) - mem0 )) kB;" \
    "/healthz meanwhile: $(healthz_max_ms 20); CPU +$(awk -v a="$cpu0" -v b="$(cpu_s)" 'BEGIN { printf "%.2f", b - a }') s  (load $(load))"
stop_pids "$readers"

cat > "$work/idle.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = [socket.create_connection(('127.0.0.1', port), timeout=30) for _ in range(n)]
print("idle", len(socks), flush=True)
time.sleep(100000)
PY
python3 "$work/idle.py" "$sport" "$IDLE" > "$work/idle.out" &
idle=$!
pids+=($idle)
wait_line "$work/idle.out" '^idle' 120
echo "$IDLE idle connections on the stats port: /healthz $(healthz_max_ms 20)  (load $(load))"
stop_pids "$idle"
