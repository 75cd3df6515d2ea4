#!/usr/bin/env bash
# Does memory go back after a burst? The proxy's RSS before, at the peak of, and after a burst of
# slow readers: N clients (default 2,000) connect through the proxy to a backend that sends each of
# them 256 KiB, and never read (receive buffer 4 KiB), so every pair ends up holding a forwarding
# buffer of 64 KiB; once all do (or after HOLD seconds) they all close, and RSS is read AFTER seconds later.
#
#   bench/memory-return.sh                       # 2,000 readers, held until each pair holds a buffer (60 s at most), 30 s after
#   MEMRET_CLIENTS=500 MEMRET_AFTER=15 bench/memory-return.sh
#   MEMRET_ROUNDS=3 bench/memory-return.sh       # three bursts in the same process, one line each
#
# Prints the load average next to the numbers (the machine is shared). Loopback only; every phase is
# bounded in time; stops exactly the processes it started, by PID. Needs python3 and the built jar
# (mvn -B -q package -DskipTests -Dfuzz.skip).
#
# It runs in a network namespace of its own (unshare -n, so it needs root) where the TCP send buffer
# may grow to 64 KiB only (net.ipv4.tcp_wmem max; the host default is 4 MiB and is not touched). On
# loopback the kernel otherwise grows the proxy's send buffer toward each slow reader to 4 MiB, so
# 2,000 readers would pin about 6 GB of kernel memory before the proxy had to hold a single buffer of
# its own; with 64 KiB each pair holds one pool buffer after 256 KiB from the backend, as a real slow
# client on a real network makes it do.
set -euo pipefail
if [ -z "${MEMRET_IN_NETNS:-}" ]; then
    exec unshare -n env MEMRET_IN_NETNS=1 "$0" "$@"
fi
ip link set lo up
sysctl -q -w net.ipv4.tcp_wmem="4096 16384 65536"

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N="${MEMRET_CLIENTS:-2000}"
HOLD="${MEMRET_HOLD:-60}"
AFTER="${MEMRET_AFTER:-30}"
ROUNDS="${MEMRET_ROUNDS:-1}"
JAR="${MEMRET_JAR:-$root/java/target/epoll-proxy.jar}"
need_jar "$JAR" || exit 2
ulimit -n 20000

# Backend: sends 256 KiB to each client, then holds the connection until the client closes.
cat > "$work/backend.py" <<'PY'
import asyncio, socket
async def handle(r, w):
    w.get_extra_info('socket').setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    try:
        for _ in range(4):
            w.write(b'x' * 65536)
            await w.drain()
        await r.read()  # until the proxy closes
    except Exception:
        pass
    finally:
        w.close()
async def main():
    srv = await asyncio.start_server(handle, '127.0.0.1', 0, backlog=4096)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
PY
# Slow readers: connect N clients with a 4 KiB receive buffer, never read; close all when the file
# RELEASE appears (every pair holds its buffer) or after HOLD s at most.
cat > "$work/readers.py" <<'PY'
import os, socket, sys, time
port, n, hold, release = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
socks = []
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(('127.0.0.1', port))
    socks.append(s)
print("connected", len(socks), flush=True)
end = time.time() + hold
while time.time() < end and not os.path.exists(release):
    time.sleep(0.1)
for s in socks:
    s.close()
print("closed", flush=True)
PY

python3 "$work/backend.py" > "$work/backend.out" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/backend.out" ] && break; sleep 0.1; done
bport="$(head -1 "$work/backend.out")"

# bin/epoll-proxy: the JVM flags an operator gets (it ends in exec, so $proxy is the JVM).
start_proxy "$JAR" -L "0:127.0.0.1:$bport" --stats 0 || exit 1

rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$proxy/status"; }
metric() { curl -s -m 5 "http://127.0.0.1:$sport/metrics" | awk -v m="$1" '$1 ~ "^"m"[{ ]" || $1 == m {s += $2} END {printf "%.0f", s}'; }

sleep 3 # let the JVM settle before the first sample
echo "memory-return: $N slow readers, held until each pair holds a buffer (at most ${HOLD} s), RSS ${AFTER} s after; epoll-proxy $(basename "$JAR"), $(nproc) cores"
printf '%-6s %10s %10s %10s %12s %12s  %s\n' round before_MB peak_MB after_MB peak_bufs after_buf_MB "load (1/5/15 min)"
for round in $(seq "$ROUNDS"); do
    before="$(rss_mb)"
    rm -f "$work/release"
    python3 "$work/readers.py" "$pport" "$N" "$HOLD" "$work/release" > "$work/readers.out" &
    readers=$!
    pids+=($readers)
    peak="$before"; bufs=0
    deadline=$((SECONDS + HOLD + 60))
    while kill -0 "$readers" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
        r="$(rss_mb)"; [ "$r" -gt "$peak" ] && peak="$r"
        b="$(metric epollproxy_loop_buffers_in_use)"; [ -n "$b" ] && [ "$b" -gt "$bufs" ] && bufs="$b"
        [ "$bufs" -ge "$N" ] && touch "$work/release" # every pair holds its buffer: the burst is at its peak
        sleep 0.5
    done
    wait "$readers" || { echo "the readers failed:"; cat "$work/readers.out"; exit 1; }
    sleep "$AFTER"
    after="$(rss_mb)"
    afterbuf="$(metric epollproxy_loop_buffer_memory_bytes)"
    printf '%-6s %10s %10s %10s %12s %12.1f  %s\n' "$round" "$before" "$peak" "$after" "$bufs" "$(echo "$afterbuf / 1048576" | bc -l)" "$(load_average)"
done
