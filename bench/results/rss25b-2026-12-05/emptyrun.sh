#!/usr/bin/env bash
export MALLOC_ARENA_MAX=2
exec /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -XX:+UseSerialGC -Xms4m -Xmx256m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:MaxMetaspaceSize=64m -Xss512k -XX:-UsePerfData --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -XX:TrimNativeHeapInterval=5000 "$@"
