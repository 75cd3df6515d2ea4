#!/usr/bin/env bash
# launchc.sh CACHEDIR "EXTRA JVM FLAGS": this branch's jar through bin/epoll-proxy on JDK 25, with its own cache directory
exec env -u EPOLL_PROXY_CDS_ARCHIVE JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 EPOLL_PROXY_JAR="$ROOT/java/target/epoll-proxy.jar" EPOLL_PROXY_CACHE_DIR="$1" JAVA_EXTRA_OPTS="$2" bash "$ROOT/bin/epoll-proxy" -L 127.0.0.1:0:127.0.0.1:9
