#!/usr/bin/env bash
# ROOT: the repository; W: a scratch directory (default /tmp/rss)
# run.sh CACHE|- "jvm flags" : the proxy as the launcher runs it (jar, flags), with that cache
c="$1"; jf="$2"; shift 2
J25=/usr/lib/jvm/temurin-25-jdk-amd64; jar=${JAR:-$ROOT/java/target/epoll-proxy.jar}
F="-XX:+UseSerialGC -Xms4m -Xmx256m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:MaxMetaspaceSize=64m -Xss512k -XX:-UsePerfData --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -XX:TrimNativeHeapInterval=5000 -Depollproxy.native=$ROOT/java/target/epoll-proxy-native"
a=""; [ "$c" != - ] && a="-XX:AOTMode=on -XX:AOTCache=$c -Xlog:aot=off -Xlog:cds=off"
export MALLOC_ARENA_MAX=2
exec $J25/bin/java $F $jf $a -jar $jar -L 127.0.0.1:0:127.0.0.1:9
