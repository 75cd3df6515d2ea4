#!/usr/bin/env bash
# ROOT: the repository; W: a scratch directory (default /tmp/rss)
# train.sh OUT "extra jvm flags" proxy args... : a training run like the launcher's
out="$1"; jf="$2"; shift 2
J25=/usr/lib/jvm/temurin-25-jdk-amd64; jar=${JAR:-$ROOT/java/target/epoll-proxy.jar}
F="-XX:+UseSerialGC -Xms4m -Xmx256m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:MaxMetaspaceSize=64m -Xss512k -XX:-UsePerfData --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -XX:TrimNativeHeapInterval=5000 -Depollproxy.native=$ROOT/java/target/epoll-proxy-native"
rm -f $out
fifo=$(mktemp -u); mkfifo $fifo
MALLOC_ARENA_MAX=2 $J25/bin/java $F $jf -XX:AOTCacheOutput=$out -jar $jar "$@" >$fifo 2>&1 &
pid=$!
exec 3<$fifo
while IFS= read -r -t 60 line <&3; do echo "$line"; case "$line" in listening*) break;; esac; done
[ -n "${CONNECT:-}" ] && { port=$(echo "$line" | sed -n 's/.*127.0.0.1:\([0-9]*\) .*/\1/p'); (exec 3<>/dev/tcp/127.0.0.1/$port; sleep 0.5) 2>/dev/null; sleep 0.5; }
kill -TERM $pid
cat <&3 | tail -3
wait $pid; rm -f $fifo; ls -la $out
