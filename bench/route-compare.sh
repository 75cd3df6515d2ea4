#!/usr/bin/env bash
# Routing by TLS server name (SNI) side by side: epoll-proxy --route, nginx stream with ssl_preread, haproxy
# with req.ssl_sni, each choosing between two backends by the name in a real ClientHello, never terminating
# TLS. Measures, through the SNI route:
#   connrate  connections per second: connect, send a 1.4 KB ClientHello (SNI bench.example, GREASE, ALPN, a
#             post-quantum sized key share), get it echoed back, close; 4 client threads
#   bulk      MB/s of one stream: the ClientHello, then 2 GiB, into a sink (socat), timed end to end
# and, for epoll-proxy, the same bulk through a plain -L forward (no route): what routing costs a stream.
#
#   bench/route-compare.sh                         # one round, 5 s per connrate
#   ROUNDS=3 SECONDS_PER_RUN=10 bench/route-compare.sh
#   ONLY="epoll-proxy-route haproxy-sni" bench/route-compare.sh
#   WARMUP_SECONDS=5 bench/route-compare.sh        # a longer warm-up before each connrate window (default 1)
#
# Needs: the built jars (mvn -B -q -DskipTests package), nginx with libnginx-mod-stream, haproxy, socat,
# python3 (to write the ClientHello). Loopback only; stops exactly the processes it started, by PID.
# Prints one line per forwarder and round, and the load average before and after.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

ROUNDS="${ROUNDS:-1}"
RUN_SECONDS="${SECONDS_PER_RUN:-5}"
BULK_BYTES="${BULK_BYTES:-2147483648}"
ONLY="${ONLY:-epoll-proxy-route epoll-proxy-plain nginx-preread haproxy-sni}"
NGINX_STREAM_MODULE="${NGINX_STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so}"

for tool in nginx haproxy socat python3; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "route-compare.sh: $tool is missing" >&2; exit 1; }
done
[ -f "$NGINX_STREAM_MODULE" ] || { echo "route-compare.sh: no $NGINX_STREAM_MODULE (apt-get install libnginx-mod-stream)" >&2; exit 1; }
[ -f java/target/epoll-proxy.jar ] && [ -f bench/target/benchmarks.jar ] || { echo "build first: mvn -B -q -DskipTests package" >&2; exit 1; }

java_bin="java"
[ -n "${JAVA_HOME:-}" ] && java_bin="$JAVA_HOME/bin/java"
bench_jar="$root/bench/target/benchmarks.jar"
load=("$java_bin" -XX:+UseSerialGC -Xmx512m -cp "$bench_jar" org.epollproxy.bench.LoadClient)

# haproxy's maxconn 4000 needs about 8,000 fds.
ulimit -n 20000

tmp="$work"
FWD_PIDS=()
# The forwarder under test too, if the script stops while one runs.
trap 'stop_pids "${FWD_PIDS[@]}"; bench_cleanup' EXIT

# A browser-like ClientHello for bench.example: GREASE, SNI, groups, ALPN h2+http/1.1, a 1,250-byte key share.
python3 - "$tmp/hello.bin" <<'PY'
import struct, sys
def ext(t, d): return struct.pack('>HH', t, len(d)) + d
name = b'bench.example'
sni = ext(0, struct.pack('>H', len(name) + 3) + b'\0' + struct.pack('>H', len(name)) + name)
protos = b''.join(bytes([len(p)]) + p for p in (b'h2', b'http/1.1'))
alpn = ext(16, struct.pack('>H', len(protos)) + protos)
exts = ext(0x0a0a, b'') + sni + ext(10, b'\x00\x06\x11\xec\x00\x1d\x00\x17') + alpn + ext(51, b'\x00' * 1250) + ext(43, b'\x02\x03\x04')
body = b'\x03\x03' + b'\x11' * 32 + b'\x20' + b'\x22' * 32 + struct.pack('>H', 6) + b'\x0a\x0a\x13\x01\xc0\x2f' + b'\x01\x00' \
    + struct.pack('>H', len(exts)) + exts
msg = b'\x01' + struct.pack('>I', len(body))[1:] + body
open(sys.argv[1], 'wb').write(b'\x16\x03\x01' + struct.pack('>H', len(msg)) + msg)
PY

base=$((20000 + (RANDOM % 400) * 20))
ECHO_PORT=$base        # the SNI route's backend for connrate (echoes the hello back)
SINK_PORT=$((base + 1)) # the SNI route's backend for bulk (reads and drops)
OTHER_PORT=$((base + 2)) # the default route's backend: nothing listens, a misroute fails loudly
F_CONN=$((base + 3))
F_BULK=$((base + 4))

"$java_bin" -XX:+UseSerialGC -cp "$bench_jar" org.epollproxy.bench.EchoServer "$ECHO_PORT" >"$tmp/echo.log" 2>&1 &
pids+=($!)
socat -u "TCP-LISTEN:$SINK_PORT,bind=127.0.0.1,fork,reuseaddr,backlog=128" OPEN:/dev/null &
pids+=($!)
wait_listening "$ECHO_PORT" "$SINK_PORT"

start_forwarder() {
  FWD_PIDS=()
  case "$1" in
    epoll-proxy-route)
      bin/epoll-proxy --quiet -L "$F_CONN:127.0.0.1:$OTHER_PORT" --route "$F_CONN:sni:bench.example=127.0.0.1:$ECHO_PORT" \
        -L "$F_BULK:127.0.0.1:$OTHER_PORT" --route "$F_BULK:sni:bench.example=127.0.0.1:$SINK_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    epoll-proxy-plain)
      bin/epoll-proxy --quiet -L "$F_CONN:127.0.0.1:$ECHO_PORT" -L "$F_BULK:127.0.0.1:$SINK_PORT" >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    nginx-preread)
      mkdir -p "$tmp/nginx/logs"
      cat >"$tmp/nginx/nginx.conf" <<NGX
load_module $NGINX_STREAM_MODULE;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 8192; }
stream {
  map \$ssl_preread_server_name \$conn_up { bench.example 127.0.0.1:$ECHO_PORT; default 127.0.0.1:$OTHER_PORT; }
  map \$ssl_preread_server_name \$bulk_up { bench.example 127.0.0.1:$SINK_PORT; default 127.0.0.1:$OTHER_PORT; }
  server { listen 127.0.0.1:$F_CONN; ssl_preread on; proxy_pass \$conn_up; }
  server { listen 127.0.0.1:$F_BULK; ssl_preread on; proxy_pass \$bulk_up; }
}
NGX
      nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    haproxy-sni)
      cat >"$tmp/haproxy.cfg" <<HAP
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend conn
  bind 127.0.0.1:$F_CONN
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
  use_backend echo if { req.ssl_sni -i bench.example }
  default_backend other
frontend bulk
  bind 127.0.0.1:$F_BULK
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
  use_backend sink if { req.ssl_sni -i bench.example }
  default_backend other
backend echo
  server s 127.0.0.1:$ECHO_PORT
backend sink
  server s 127.0.0.1:$SINK_PORT
backend other
  server s 127.0.0.1:$OTHER_PORT
HAP
      haproxy -f "$tmp/haproxy.cfg" -db >"$tmp/$1.log" 2>&1 &
      FWD_PIDS+=($!) ;;
    *) echo "unknown forwarder $1" >&2; exit 2 ;;
  esac
  wait_listening "$F_CONN" "$F_BULK" || { cat "$tmp/$1.log" >&2; exit 1; }
  # nginx forwards in its worker: count the master's children too
  for pid in "${FWD_PIDS[@]}"; do FWD_PIDS+=($(pgrep -P "$pid" || true)); done
}

bulk() { # MB/s (10^6) of the hello + BULK_BYTES through $1
  local t0 t1
  t0=$(date +%s.%N)
  { cat "$tmp/hello.bin"; head -c "$BULK_BYTES" /dev/zero; } | timeout 300 socat -u -b 65536 - "TCP:127.0.0.1:$1"
  t1=$(date +%s.%N)
  python3 -c "print(f'{$BULK_BYTES / ($t1 - $t0) / 1e6:.0f}')"
}

echo "# route-compare.sh $(date -u +%Y-%m-%dT%H:%MZ) rounds=$ROUNDS seconds=$RUN_SECONDS bulk_bytes=$BULK_BYTES"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %5s %12s %8s %10s  %s\n' forwarder round conn_per_s failed bulk_MB_s 'forwarder CPU during connrate'
for round in $(seq "$ROUNDS"); do
  for fwd in $ONLY; do
    start_forwarder "$fwd"
    export CPU_PIDS="${FWD_PIDS[*]}"
    conn="$(timeout 120 "${load[@]}" connrate "$F_CONN" 4 "$RUN_SECONDS" "${WARMUP_SECONDS:-1}" "$tmp/hello.bin" || echo failed)"
    unset CPU_PIDS
    rate="$(echo "$conn" | sed -n 's/.*connections_per_s=\([0-9.]*\).*/\1/p')"
    failed="$(echo "$conn" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')"
    cpu="$(echo "$conn" | grep -o 'cpu_cores=[0-9.]*' || true)"
    [ -n "$rate" ] || rate="($conn)"
    mbs="$(bulk "$F_BULK")"
    printf '%-20s %5s %12s %8s %10s  %s\n' "$fwd" "$round" "$rate" "${failed:-?}" "$mbs" "$cpu"
    stop_pids "${FWD_PIDS[0]}"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
