#!/usr/bin/env bash
# A bounded soak of the packaged proxy on loopback: RSS, fds, CPU and throughput over time, so a slow
# leak is visible as a column that keeps growing. Not part of `mvn verify` (it takes minutes).
#
#   bench/soak.sh [MINUTES] [CLIENTS] [INTERVAL_S]      (defaults: 3 8 10)
#
# Builds the jars if they are missing, then runs org.epollproxy.bench.Soak, which starts the proxy as
# its own child in front of an in-process echo backend and stops it (by pid) at the end. Exit 1 if any
# echoed byte differed or a client failed.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-3}"
clients="${2:-8}"
interval="${3:-10}"
jar="$PWD/java/target/epoll-proxy.jar"
bench="$PWD/bench/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ ! -f "$bench" ]; then
  mvn -B -q -DskipTests package
fi
exec java -cp "$bench" org.epollproxy.bench.Soak "$jar" "$minutes" "$clients" "$interval"
