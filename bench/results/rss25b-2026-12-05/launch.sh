#!/usr/bin/env bash
# launch.sh JAR CACHEDIR: the proxy through bin/epoll-proxy on JDK 25, with that jar and cache directory
exec env -u EPOLL_PROXY_CDS_ARCHIVE JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 EPOLL_PROXY_JAR="$1" EPOLL_PROXY_CACHE_DIR="$2" bash "$ROOT/bin/epoll-proxy" -L 127.0.0.1:0:127.0.0.1:9
