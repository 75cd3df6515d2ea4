#!/usr/bin/env bash
# What a flood of abandoned TLS handshakes costs the proxy. One loop (--threads 1) terminates TLS with an
# RSA-2048 certificate (a signature costs about a millisecond). N clients, PAR at a time, each send a real
# TLS 1.3 ClientHello and then, by MODE:
#   rst  - reset the connection at once (a flood of hello-and-leave clients);
#   stay - wait for the server's first flight, then reset (the server did the whole first step for each).
# Prints the proxy's CPU-seconds (user+sys, /proc) spent on the flood, per hello, and how many clients it saw
# leave mid-handshake (epollproxy_tls_handshake_failures_total{reason="client-closed"}). Compare the two
# modes, or one mode on two builds (EPOLL_PROXY_JAR=...): a client gone before its task's turn should cost
# no key exchange and no signature, so rst should cost well under stay.
# Usage: bench/tls-hello-flood.sh [N] [PAR] [MODE]        (defaults: 2000 32 rst)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
PAR=${2:-32}
MODE=${3:-rst}
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/k.pem" -out "$dir/c.pem" -days 1 -subj /CN=bench.test 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tls_port=$(free_port); stats_port=$(free_port); backend_port=$(free_port)
bin/epoll-proxy --threads 1 --quiet --stats "127.0.0.1:$stats_port" -L "$tls_port:127.0.0.1:$backend_port" \
    --tls-cert "$tls_port:$dir/c.pem:$dir/k.pem" >/dev/null 2>"$dir/proxy.err" &
proxy=$!
pids+=($proxy)
cpu() { awk '{print $14 + $15}' "/proc/$proxy/stat"; }
metric() { # the sum of the samples of $1 whose line contains $2
  curl -s "http://127.0.0.1:$stats_port/metrics" | awk -v m="$1" -v f="$2" 'index($0, m) == 1 && index($0, f) {s += $NF} END {print s + 0}'
}
python3 - "$tls_port" <<'PY'
import socket, sys, time
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); break
    except OSError: time.sleep(0.1)
PY
flood() {
python3 - "$tls_port" "$1" "$2" "$3" <<'PY'
import socket, ssl, struct, sys, threading
port, n, par, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def hello():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname="bench.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()
left = [n]
lock = threading.Lock()
def worker():
    while True:
        with lock:
            if left[0] == 0: return
            left[0] -= 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(hello())
            if mode == "stay":
                s.recv(1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass
ts = [threading.Thread(target=worker) for _ in range(par)]
for t in ts: t.start()
for t in ts: t.join()
PY
}
settle() { # until the proxy's CPU stops moving for a second: its task pool has drained
  local a b
  a=$(cpu); sleep 1; b=$(cpu)
  while [ "$a" != "$b" ]; do a=$b; sleep 1; b=$(cpu); done
}
flood 200 8 stay # warm-up: the JIT compiles the handshake path first, so the flood measures work, not compilation
settle
tick=$(getconf CLK_TCK)
before=$(cpu)
closed_before=$(metric epollproxy_tls_handshake_failures_total 'reason="client-closed"')
flood "$N" "$PAR" "$MODE"
settle
after=$(cpu)
closed_after=$(metric epollproxy_tls_handshake_failures_total 'reason="client-closed"')
awk -v n="$N" -v par="$PAR" -v mode="$MODE" -v t="$tick" -v c="$((after - before))" -v left="$((closed_after - closed_before))" 'BEGIN {
  printf "%d hellos (%s, %d at a time): proxy CPU %.2f s, %.3f ms per hello; clients seen leaving mid-handshake: %d\n",
    n, mode, par, c / t, c / t * 1000 / n, left }'
echo "load: $(uptime)"
