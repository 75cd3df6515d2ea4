#!/usr/bin/env bash
# How long does a readiness probe take while the stats port serves 1,000 scrapes at once? Starts the proxy
# with --stats in front of a backend that holds HELD connections open (default 400, so /connections is
# expensive), then ROUNDS times (default 5): connects SCRAPES clients (default 1,000) to the stats port,
# sends each a GET (alternately /metrics and /connections), and while they are in flight times PROBES
# (default 20) /healthz requests one after the other; then reads every scrape's answer.
# Prints, per round and over all rounds, the probe latency (p50, p99, max) and the scrapes answered.
#
#   bench/healthz-under-load.sh
#   HZ_SCRAPES=2000 HZ_HELD=1000 HZ_ROUNDS=10 bench/healthz-under-load.sh
#   HZ_JAR=/path/to/other/epoll-proxy.jar bench/healthz-under-load.sh
#   HZ_VERBOSE=1 bench/healthz-under-load.sh     # also every probe's time, in order
#
# Prints the load average next to the numbers (the machine may be shared). Loopback only; bounded in
# time; stops exactly the processes it started, by PID. Needs python3 and the built jar.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SCRAPES="${HZ_SCRAPES:-1000}"
HELD="${HZ_HELD:-400}"
ROUNDS="${HZ_ROUNDS:-5}"
PROBES="${HZ_PROBES:-20}"
JAR="${HZ_JAR:-$root/java/target/epoll-proxy.jar}"
need_jar "$JAR" || exit 2
ulimit -n 20000

cat > "$work/backend.py" <<'PY'
import socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 0))
srv.listen(4096)
print("backend", srv.getsockname()[1], flush=True)
held = []
srv.settimeout(1)
end = time.time() + 600
while time.time() < end:
    try:
        c, _ = srv.accept()
        held.append(c)
    except socket.timeout:
        pass
PY
python3 "$work/backend.py" > "$work/backend.out" &
pids+=($!)
wait_line "$work/backend.out" '^backend' || exit 1
bport="$(cut -d' ' -f2 "$work/backend.out")"

start_proxy "$JAR" -L 127.0.0.1:0:127.0.0.1:"$bport" --stats 0 || exit 1

cat > "$work/load.py" <<'PY'
import socket, sys, time
sport, pport, scrapes, held, rounds, probes = (int(a) for a in sys.argv[1:7])
keep = [socket.create_connection(('127.0.0.1', pport), timeout=10) for _ in range(held)]
time.sleep(1)  # let the proxy connect them to the backend before the first round

def probe():
    t0 = time.perf_counter()
    s = socket.create_connection(('127.0.0.1', sport), timeout=30)
    s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    data = b''
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return (time.perf_counter() - t0) * 1000, data.startswith(b'HTTP/1.1 200') and data.endswith(b'ok\n')

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]

everything, bad = [], 0
for r in range(rounds):
    socks = [socket.create_connection(('127.0.0.1', sport), timeout=60) for _ in range(scrapes)]
    for i, s in enumerate(socks):
        s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' if i % 2 == 0 else b'GET /connections HTTP/1.1\r\nHost: x\r\n\r\n')
    times = []
    for _ in range(probes):
        ms, ok = probe()
        times.append(ms)
        bad += 0 if ok else 1
    answered = 0
    for s in socks:
        data = b''
        try:
            while True:
                chunk = s.recv(262144)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        answered += data.startswith(b'HTTP/1.1 200')
        s.close()
    if len(sys.argv) > 7: print(" ".join("%.0f" % t for t in times))
    everything += times
    print("round %d: /healthz p50 %.1f ms, max %.1f ms; %d of %d scrapes answered 200" % (
        r + 1, pct(times, 0.5), max(times), answered, scrapes), flush=True)
print("all %d probes under %d concurrent scrapes (%d connections open): p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d not 200 ok" % (
    len(everything), scrapes, held, pct(everything, 0.5), pct(everything, 0.99), max(everything), bad))
PY
timeout 600 python3 "$work/load.py" "$sport" "$pport" "$SCRAPES" "$HELD" "$ROUNDS" "$PROBES" ${HZ_VERBOSE:+v}
echo "load $(load_average)"
