#!/usr/bin/env bash
# Counts the classes a plain -L forward loads, with the flags JarProcess/bin/epoll-proxy use:
# start, one connection to a refused backend (logged), SIGTERM. Usage: classload.sh JAR_DIR OUT_LOG
set -euo pipefail
dir=$1; log=$2
jv=$(java -XshowSettings:properties -version 2>&1 | awk '/java.version =/{print $3}')
args=(-XX:+UseSerialGC -Xmx128m)
[ -f "$dir/epoll-proxy-jdk$jv.jsa" ] && args+=(-XX:SharedArchiveFile="$dir/epoll-proxy-jdk$jv.jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
[ -d "$dir/epoll-proxy-native" ] && args+=(-Depollproxy.native="$dir/epoll-proxy-native")
refused=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
out=$(mktemp); errf=$(mktemp)
LC_ALL=C.UTF-8 java "${args[@]}" -Xlog:class+load=info:file="$log" -jar "$dir/epoll-proxy.jar" -L 127.0.0.1:0:127.0.0.1:$refused >"$out" 2>"$errf" &
pid=$!
for i in $(seq 600); do grep -q '^listening' "$out" && break; sleep 0.1; done
port=$(sed -n 's/^listening tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$out")
python3 -c "import socket;s=socket.create_connection(('127.0.0.1',$port));s.settimeout(30);
try: s.recv(1)
except Exception: pass"
for i in $(seq 600); do grep -q ' end=' "$errf" && break; sleep 0.1; done
kill -TERM $pid; wait $pid; echo "exit=$?"
echo "classes loaded: $(grep -c . "$log")  (from the archive: $(grep -c 'shared objects file' "$log"))"
rm -f "$out" "$errf"
