#!/usr/bin/env bash
# launchx.sh "EXTRA JVM FLAGS": the proxy through bin/epoll-proxy on JDK 25 (this branch's jar and cache), JAVA_EXTRA_OPTS set
exec env -u EPOLL_PROXY_CDS_ARCHIVE JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 EPOLL_PROXY_JAR="$ROOT/java/target/epoll-proxy.jar" EPOLL_PROXY_CACHE_DIR="$W/cache-after" JAVA_EXTRA_OPTS="$1" bash "$ROOT/bin/epoll-proxy" -L 127.0.0.1:0:127.0.0.1:9
