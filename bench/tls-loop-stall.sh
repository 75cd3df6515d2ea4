#!/usr/bin/env bash
# Does TLS handshake work stall the loop's other connections? One loop (--threads 1) terminates TLS with an
# RSA-2048 certificate on one port and forwards plain TCP on another; while PAR clients run full handshakes
# (openssl s_time -new) against the TLS port, a plain client times ROUNDS round trips through the plain
# port. Run once with the handshake tasks off the loop (the default) and once on it
# (-Depollproxy.tls.inlineTasks=true). Prints the plain round trip's median and p99 in microseconds.
# Usage: bench/tls-loop-stall.sh [PAR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
PAR=${1:-8}
ROUNDS=${2:-2000}
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/k.pem" -out "$dir/c.pem" -days 1 -subj /CN=bench.test 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
echo_port=$(free_port); tls_port=$(free_port); plain_port=$(free_port); web_port=$(free_port)
python3 - "$echo_port" <<'PY' & pids+=($!)
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
def serve(c):
    try:
        while True:
            b = c.recv(4096)
            if not b: break
            c.sendall(b)
    except OSError:
        pass
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
(cd "$dir" && exec openssl s_server -accept "$web_port" -cert c.pem -key k.pem -www -quiet >/dev/null 2>&1) & pids+=($!)
measure() {
  local extra=$1
  JAVA_EXTRA_OPTS="$extra" bin/epoll-proxy --threads 1 --quiet -L "$tls_port:127.0.0.1:$echo_port" -L "$plain_port:127.0.0.1:$echo_port" \
      --tls-cert "$tls_port:$dir/c.pem:$dir/k.pem" >/dev/null 2>"$dir/proxy.err" &
  local proxy=$!
  pids+=($proxy)
  python3 - "$plain_port" <<'PY'
import socket, sys, time
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); break
    except OSError: time.sleep(0.1)
PY
  local loads=()
  for i in $(seq "$PAR"); do
    openssl s_time -connect "127.0.0.1:$tls_port" -new -time 15 >"$dir/load.$i" 2>&1 & loads+=($!)
  done
  python3 - "$plain_port" "$ROUNDS" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
t = []
for _ in range(int(sys.argv[2])):
    a = time.perf_counter(); s.sendall(b"x"); s.recv(1); t.append((time.perf_counter() - a) * 1e6)
    time.sleep(0.002)
t.sort()
print("plain round trip: median %.0f us, p99 %.0f us, max %.0f us (%d rounds)" % (t[len(t)//2], t[int(len(t)*0.99)], t[-1], len(t)))
PY
  for l in "${loads[@]}"; do wait "$l" 2>/dev/null || true; done
  cat "$dir"/load.* | awk '/connections in [0-9.]+s;/ {n += $1} END {printf "handshakes meanwhile: %d in 15 s (%.0f/s)\n", n, n / 15}'
  rm -f "$dir"/load.*
  kill "$proxy"; wait "$proxy" 2>/dev/null || true
}
echo "tasks off the loop (default):"; measure ""
echo "tasks on the loop (-Depollproxy.tls.inlineTasks=true):"; measure "-Depollproxy.tls.inlineTasks=true"
